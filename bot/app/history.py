"""``promobot history MODEL``: every change of a model, newest first in graph order, with the
rejections and verifications that concern each row (reference §9)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any

from bot.app.context import Context, Overview, check_env, check_model_name, overview
from bot.app.records import bringing_commit, verify_check
from bot.core.model import HistoryEntry, Rejection
from bot.core.paths import manifest_path
from bot.errors import UsageError


def history(ctx: Context, model: str, env: str | None = None) -> list[HistoryEntry]:
    """Every change of ``model`` (in ``env``, or in every environment), newest first.

    Newest first means graph order, one ``git log --topo-order`` over all the paths, the
    order rollback picks its target in: commit dates can be skewed, so they never sort.
    Read-only, so it may use the history cache (README: caches).
    """
    check_model_name(model)
    sha = ctx.tip()
    return _history(ctx, sha, overview(ctx, sha), model, env)


def history_rows(
    ctx: Context, model: str, env: str | None = None, *, limit: int | None = None
) -> list[dict[str, Any]]:
    """``history`` as reference §9 rows, each saying whether its version is rejected now; with
    ``limit``, only the newest ``limit`` rows (the same rows as the first of all of them: what
    a row says depends only on newer commits and on the environment's current commit)."""
    check_model_name(model)
    sha = ctx.tip()
    over = overview(ctx, sha)
    if ctx.cache:
        ctx.cache.flush()
    entries = _history(ctx, sha, over, model, env)
    shown = entries if limit is None else entries[: max(limit, 0)]
    return history_json(shown, over.rejected, _verifications(ctx, sha, entries, over, shown))


def _verifications(
    ctx: Context, sha: str, entries: Sequence[HistoryEntry], over: Overview, shown: Sequence[HistoryEntry]
) -> dict[str, dict[str, str]]:
    """``{commit: {"state", "reason"}}``: the ``promobot/verify`` check of each promotion or
    rollback in ``shown`` into an environment with ``verify:`` (one check read per such commit;
    none without verify, so a repository that does not verify pays nothing). ``entries`` is the
    whole history: which commit each environment runs now."""
    envs = set(over.verify)
    if not envs:
        return {}

    current: dict[str, str | None] = {}
    for env in envs:
        brought = bringing_commit([e for e in entries if e.env == env])
        current[env] = brought.sha if brought is not None else None
    found: dict[str, dict[str, str]] = {}
    for entry in shown:
        if entry.env in envs and entry.action in ("promote", "rollback") and entry.sha not in found:
            check = verify_check(ctx, entry.sha)
            if check is None:
                continue
            if check.result == "pending" and current.get(entry.env) != entry.sha:
                # A later version replaced it before it ended: closed, not failed (reference §15).
                found[entry.sha] = {"state": "inactive", "reason": "replaced by a later version"}
            else:
                found[entry.sha] = {"state": check.result, "reason": check.title}
    return found


def _history(ctx: Context, sha: str, over: Overview, model: str, env: str | None) -> list[HistoryEntry]:
    if env is not None and env not in over.names:
        check_env(ctx.policy(sha), env)  # raises, naming the environments
    envs = [env] if env else list(over.names)
    entries = ctx.ws.history_many([manifest_path(name, model) for name in envs], ref=sha, cached=True)
    if not entries and not any(ctx.ws.read(sha, manifest_path(n, model)) for n in envs):
        raise UsageError(
            f"{model} is not in {', '.join(envs)}",
            "check the name with `promobot status`",
        )
    return entries


def history_json(
    entries: list[HistoryEntry],
    rejected: Sequence[Rejection] = (),
    verifications: Mapping[str, Mapping[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """reference §9 history rows; with ``rejected`` (rejected.yaml at the tip), each row also says
    whether the version it brought is rejected: ``{"reason", "by", "at"}`` or None.

    Post-deploy verification (reference §15), beside the rollbacks it caused:
    ``verification`` is the ``promobot/verify`` check of the commit (``verifications``, by
    sha) as ``{"state", "reason", "rolled_back_by"}`` — ``rolled_back_by`` the rollback
    commit that reverted it, or None — or None when the commit has no verification;
    ``caused_by_verification`` is, on a rollback promobot started because a verification
    failed (its ``Promobot-Verification`` trailer), ``{"check", "commit"}`` — the check that
    failed and the commit whose verification it was — or None.
    """
    bad = {(r.model, r.version): r for r in rejected}
    checks = verifications or {}
    reverted_by: dict[str, str] = {}
    for e in entries:
        if e.action == "rollback" and e.rollback_of and e.rollback_of not in reverted_by:
            reverted_by[e.rollback_of] = e.sha  # newest first: keep the newest rollback of a commit

    def rejection(e: HistoryEntry) -> dict[str, str] | None:
        hit = bad.get((e.model, e.version or ""))
        return {"reason": hit.reason, "by": hit.by, "at": hit.at} if hit else None

    def verification(e: HistoryEntry) -> dict[str, str | None] | None:
        check = checks.get(e.sha)
        if check is None:
            return None
        return {"state": check["state"], "reason": check["reason"], "rolled_back_by": reverted_by.get(e.sha)}

    def caused_by(e: HistoryEntry) -> dict[str, str | None] | None:
        if e.action != "rollback" or e.verification is None:
            return None
        words = e.verification.split()
        check = words[1] if len(words) > 1 and words[0].lower() == "failed" else e.verification
        return {"check": check, "commit": e.rollback_of}

    return [
        {
            "sha": e.sha,
            "at": e.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "action": e.action,
            "model": e.model,
            "env": e.env,
            "version": e.version,
            "previous_version": e.previous_version,
            "pr": e.pr,
            "approved_by": list(e.approved_by),
            "rollback_of": e.rollback_of,
            "from": e.from_env,
            "subject": e.subject,
            "author": e.author,
            "rejected": rejection(e),
            "verification": verification(e),
            "caused_by_verification": caused_by(e),
        }
        for e in entries
    ]
