"""Rollback decisions, pure: which version to restore, and the revert-form commit message.

Target selection reads the environment manifest's history (newest first, as
``Workspace.history`` returns it; hand-made commits included, their versions come
from the diff):

- the *current* version is what the manifest says now;
- the *bad* commit is the one that brought the current version: the oldest entry of
  the leading run of entries whose version is the current one (later entries in that
  run are edits that kept the version, e.g. someone scaling ``serving.replicas``);
- the *target* is ``--to VERSION`` (it must appear in the history, i.e. it ran there)
  or else the newest earlier version that is not the current one and not rejected;
- the manifest is restored from the *newest* commit at which it had the target
  version (``restores_sha``).

The rollback commit message is in git's revert form (``Revert "<subject>"``, blank
line, ``This reverts commit <sha>.``), an optional reason paragraph, and the
reference §8 rollback trailers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.core import trailers
from bot.core.manifest import VERSION_RE, apply_promotion
from bot.core.model import HistoryEntry, Rejection
from bot.core.rejected import add_rejection, find_rejection
from bot.core.verify import verification_trailer
from bot.errors import NotApplicable, UsageError

SHA_RE = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
MAX_REASON = 1000


@dataclass(frozen=True, slots=True)
class RollbackTarget:
    """What a rollback of ``model`` in ``env`` restores, and which commit it reverts."""

    model: str
    env: str
    current: str
    """The version the environment runs now (the bad one)."""
    bad_sha: str
    """The commit that brought ``current``."""
    bad_subject: str
    version: str
    """The version to restore."""
    restores_sha: str
    """The newest commit at which the manifest had ``version``."""


def _shown(versions: Sequence[str]) -> str:
    return ", ".join(versions) if versions else "none"


def select_target(
    entries: Sequence[HistoryEntry],
    *,
    model: str,
    env: str,
    current: str,
    to_version: str | None = None,
    rejections: Sequence[Rejection] = (),
) -> RollbackTarget:
    """Choose what to restore from the manifest's history (``entries`` newest first).

    Raises ``UsageError`` (exit 1) when there is nothing to roll back to, when
    ``to_version`` never ran in ``env``, is the current version, or is rejected.
    """
    run_end = 0
    while run_end < len(entries) and entries[run_end].version == current:
        run_end += 1
    if run_end == 0:
        raise UsageError(
            f"the history of {env}/{model}.yaml does not show how {current} got there",
            "commit the manifest first; promobot reads the audit trail from git log",
        )
    bad = entries[run_end - 1]
    older = entries[run_end:]
    ran: list[str] = []
    for entry in older:
        if entry.version is not None and entry.version != current and entry.version not in ran:
            ran.append(entry.version)
    if to_version is not None:
        if to_version == current:
            raise NotApplicable(
                f"{env} already runs {model} {current}",
                f"pick an earlier version ({_shown(ran)})" if ran else "there is nothing to roll back to",
            )
        if to_version not in ran:
            raise UsageError(
                f"{to_version} never ran in {env}; versions that did: {_shown(ran)}",
                "roll back to one of those, or promote the version you want instead",
            )
        hit = find_rejection(rejections, model, to_version)
        if hit is not None:
            raise UsageError(
                f"{model} {to_version} is rejected (by {hit.by or 'someone'} at {hit.at}: "
                f"{' '.join(hit.reason.split())})",
                f"`promobot unreject {model} {to_version}` first, or roll back to another version",
            )
        target = to_version
    else:
        # After a rollback, "roll back again" means further back, never to the version that
        # rollback just removed (that would be a promotion; say so with --to).
        undone = bad.previous_version if bad.action == "rollback" else None
        allowed = [v for v in ran if find_rejection(rejections, model, v) is None and v != undone]
        if not allowed:
            if ran:
                raise NotApplicable(
                    f"nothing to roll back to: every version that ran in {env} before {current} "
                    f"is rejected ({_shown(ran)})",
                    f"`promobot unreject {model} VERSION` one of them, or promote a fixed version",
                )
            raise NotApplicable(
                f"nothing to roll back to: {env} has only ever run {model} {current}",
                "promote a fixed version instead",
            )
        target = allowed[0]
    restores = next(e for e in older if e.version == target)
    return RollbackTarget(
        model=model,
        env=env,
        current=current,
        bad_sha=bad.sha,
        bad_subject=bad.subject,
        version=target,
        restores_sha=restores.sha,
    )


def clean_reason(reason: str | None) -> str | None:
    """One paragraph, no control characters, at most ``MAX_REASON`` characters; None when blank."""
    if reason is None:
        return None
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in reason).split())
    if not text:
        return None
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def revert_subject(bad_subject: str, *, model: str, version: str, env: str) -> str:
    """``Revert "<subject>"`` (git's form); a made-up subject when the original is unknown."""
    subject = " ".join(bad_subject.split()) or f"Promote {model} {version} to {env}"
    return f'Revert "{subject}"'


def rollback_message(
    *,
    model: str,
    env: str,
    version: str,
    bad_version: str,
    bad_sha: str,
    bad_subject: str,
    reason: str | None,
    requester: str | None,
    extra: Sequence[tuple[str, str]] = (),
) -> str:
    """The full commit message of a rollback (subject, revert line, reason, trailers)."""
    body = f"This reverts commit {bad_sha}."
    why = clean_reason(reason)
    if why:
        body += f"\n\n{why}"
    pairs: list[tuple[str, str]] = [
        (trailers.ACTION, "rollback"),
        (trailers.MODEL, model),
        (trailers.TO, env),
        (trailers.VERSION, version),
        (trailers.PREVIOUS_VERSION, bad_version),
        (trailers.ROLLBACK_OF, bad_sha),
    ]
    if requester:
        pairs.append((trailers.REQUESTED_BY, requester))
    pairs.extend(extra)
    verification = verification_trailer(reason)  # a rollback promobot started after a failed verify
    if verification is not None:
        pairs.append(verification)
    return trailers.build_message(
        revert_subject(bad_subject, model=model, version=bad_version, env=env), body, pairs
    )


def reason_from_message(message: str, bad_sha: str) -> str | None:
    """The reason paragraph of a rollback commit message written by ``rollback_message``."""
    paragraphs = [p.strip() for p in message.replace("\r\n", "\n").split("\n\n") if p.strip()]
    marker = f"This reverts commit {bad_sha}."
    for i, paragraph in enumerate(paragraphs):
        if paragraph == marker and i + 2 < len(paragraphs):
            return clean_reason(paragraphs[i + 1])
    return None


def iso_utc(now: datetime) -> str:
    """``2026-11-27T10:00:00Z``: the time format of rejected.yaml."""
    when = now if now.tzinfo else now.replace(tzinfo=UTC)
    return when.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def rejection(
    *, model: str, version: str, reason: str | None, by: str, now: datetime, default_reason: str
) -> Rejection:
    """The rejected.yaml entry a rollback (or ``promobot reject``) adds."""
    if VERSION_RE.fullmatch(version) is None:
        raise UsageError(
            f"{version[:80]!r} is not a valid version", "versions are letters, digits, '.', '_', '+', '-'"
        )
    return Rejection(
        model=model, version=version, reason=clean_reason(reason) or default_reason, by=by, at=iso_utc(now)
    )


def rollback_files(
    *,
    path: str,
    current_text: str,
    restored_text: str,
    local_keys: Sequence[str],
    rejected_path: str,
    rejected_text: str | None,
    reject: Rejection | None,
) -> dict[str, bytes]:
    """The files of the rollback commit: the manifest (restored promoted keys, current local
    keys) and, when ``reject`` is given, rejected.yaml with that entry added."""
    files = {path: apply_promotion(restored_text, current_text, local_keys).encode("utf-8")}
    if reject is not None:
        new = add_rejection(rejected_text, reject)
        if new != rejected_text:
            files[rejected_path] = new.encode("utf-8")
    return files


def is_sha(text: str | None) -> bool:
    return text is not None and SHA_RE.fullmatch(text) is not None
