"""Use cases: roll a model back in one environment, and keep the known-bad list (rejected.yaml).

Both routes of reference §4 step 7 build the same commit (``_prepare``): the manifest with
the restored version's promoted keys and the current local keys, plus rejected.yaml
when ``rollback.reject_version`` is true, with a revert-form message and the rollback
trailers.

- **PR route** (default): branch ``promobot/rollback/<env>/<model>``, labels
  ``promobot:rollback`` and ``promobot:env:<env>``, gates through ``promotion.assess``
  (soak and compare are skipped for rollbacks), approvals per ``rollback.approvals``;
  merged by ``/promote``, ``promobot merge N`` or the environment's ``auto_merge``.
- **Direct route** (``--direct``): only when ``rollback.direct`` is true and the actor
  may ``rollback`` (``commands``); one commit on the default branch's tip, moved with a
  fast-forward compare-and-swap, rebuilt and retried up to 3 times when the tip moved,
  never forced.

``/rollback [VERSION]`` on a merged promotion PR always takes the PR route: a comment
should not be able to skip review, whatever ``rollback.direct`` says.

``reject`` / ``unreject`` edit rejected.yaml in one commit (trailers
``Promobot-Action: reject|unreject``, ``Promobot-Model``, ``Promobot-Version``,
``Promobot-Requested-By``), through a promobot PR on branch
``promobot/rejected/<model>/<version>`` (``promobot/unrejected/…``) with the state marker,
label ``promobot:rollback`` and the three checks (no gates; approvals per
``rollback.approvals``; scope: rejected.yaml only), merged by ``/promote`` or ``promobot
merge N`` like a rollback (no chain), or ``--direct`` (same rules as a direct rollback).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot import sync
from bot.app import REJECTED_PATH, Context, check_env, check_model_name, manifest_path
from bot.core import manifest as manifests
from bot.core import render, trailers
from bot.core import rollback as core
from bot.core.manifest import VERSION_RE
from bot.core.marker import PrState, parse_state, render_record, render_state
from bot.core.model import Manifest, Policy, Rejection
from bot.core.plan import (
    BranchState,
    describe,
    is_branch_version,
    labels_for,
    parse_branch,
    plan_pr_update,
    rejected_branch,
    rollback_branch,
)
from bot.core.rejected import add_rejection, find_rejection, load_rejected, remove_rejection
from bot.errors import BotError, ConflictError, ManifestError, NotAuthorized, UsageError

if TYPE_CHECKING:
    from bot.promotion import MergeResult

logger = logging.getLogger(__name__)

DIRECT_ATTEMPTS = 3

# Commit subjects and reasons seen by ``restored_manifest``, for ``rollback_message``
# called without a context (``promotion.merge`` calls pr_context → restored_manifest
# first). A SHA's subject never changes, so this memo is never stale.
_SUBJECTS: dict[str, str] = {}
_REASONS: dict[str, str] = {}


# --------------------------------------------------------------------------- preparing the commit


@dataclass(frozen=True, slots=True)
class Prepared:
    """One rollback commit, decided but not written."""

    target: core.RollbackTarget
    path: str
    current_text: bytes
    restored: Manifest
    files: dict[str, bytes]
    rejection: Rejection | None
    reason: str | None
    message: str

    @property
    def new_text(self) -> bytes:
        return self.files[self.path]

    @property
    def subject(self) -> str:
        return self.message.splitlines()[0]


def _current_version(raw: bytes, path: str, model: str, entries_version: str | None) -> str:
    try:
        return manifests.load_manifest(raw, path=path, expected_name=model).version
    except ManifestError:
        # A broken release must still be roll-back-able: trust the history's version.
        if entries_version is None:
            raise
        return entries_version


def _prepare(
    ctx: Context,
    *,
    tip: str,
    policy: Policy,
    model: str,
    env: str,
    to_version: str | None,
    reason: str | None,
    actor: str,
    keep_rejection: Rejection | None = None,
) -> Prepared:
    path = manifest_path(env, model)
    current_raw = ctx.ws.read(tip, path)
    if current_raw is None:
        raise UsageError(
            f"{model} is not in {env}, so there is nothing to roll back", "check with `promobot status`"
        )
    entries = ctx.ws.history(path, ref=tip)
    current = _current_version(current_raw, path, model, entries[0].version if entries else None)
    rejections = ctx.rejected(tip)
    target = core.select_target(
        entries, model=model, env=env, current=current, to_version=to_version, rejections=rejections
    )
    restored_raw = ctx.ws.read(target.restores_sha, path)
    if restored_raw is None:  # pragma: no cover - history says the file was there
        raise UsageError(f"{path} is missing at {target.restores_sha[:12]}", "check the repository's history")
    try:
        restored = manifests.load_manifest(restored_raw, path=path, expected_name=model)
    except ManifestError as exc:
        raise UsageError(
            f"the manifest of {model} {target.version} at {target.restores_sha[:12]} does not load: "
            f"{exc.message}",
            "roll back to another version with --to",
        ) from exc
    why = core.clean_reason(reason)
    rejection: Rejection | None = None
    if policy.rollback.reject_version and find_rejection(rejections, model, current) is None:
        rejection = keep_rejection or core.rejection(
            model=model,
            version=current,
            reason=why,
            by=actor,
            now=ctx.now,
            default_reason=f"rolled back in {env} to {target.version}",
        )
    rejected_raw = ctx.ws.read(tip, REJECTED_PATH)
    files = core.rollback_files(
        path=path,
        current_text=current_raw.decode("utf-8"),
        restored_text=restored_raw.decode("utf-8"),
        local_keys=policy.local_keys,
        rejected_path=REJECTED_PATH,
        rejected_text=rejected_raw.decode("utf-8") if rejected_raw is not None else None,
        reject=rejection,
    )
    message = core.rollback_message(
        model=model,
        env=env,
        version=target.version,
        bad_version=current,
        bad_sha=target.bad_sha,
        bad_subject=target.bad_subject,
        reason=why,
        requester=actor,
    )
    _SUBJECTS[target.bad_sha] = target.bad_subject
    return Prepared(target, path, current_raw, restored, files, rejection, why, message)


# --------------------------------------------------------------------------- result


@dataclass
class RollbackResult:
    model: str
    env: str
    version: str
    rolled_back: str
    reverts: str
    reverts_subject: str
    restores: str
    direct: bool
    dry_run: bool
    rejected: bool
    message: str
    pr: int | None = None
    sha: str | None = None
    created: bool = False
    ready: bool = False
    blockers: list[str] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)
    required_approvals: int = 0
    merged: MergeResult | None = None
    registry: sync.FollowResult | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "env": self.env,
            "version": self.version,
            "rolled_back": self.rolled_back,
            "reverts": self.reverts,
            "pr": self.pr,
            "sha": self.sha,
            "direct": self.direct,
            "dry_run": self.dry_run,
            "restores": self.restores,
            "rejected": self.rejected,
            "created": self.created,
            "ready": self.ready,
            "blockers": self.blockers,
            "plan": self.plan,
            "message": self.message,
            "merged": self.merged.to_json() if self.merged else None,
            "registry": self.registry.to_json() if self.registry else None,
        }

    def text(self) -> str:
        lines = [
            f"Rolling back {self.model} in {self.env}: {self.rolled_back} → {self.version}",
            f"Reverts {self.reverts[:12]} ({self.reverts_subject}); "
            f"restores the manifest of {self.restores[:12]}.",
        ]
        if self.rejected:
            when = "would be added" if self.dry_run else "is added" if self.direct else "is added on merge"
            lines.append(f"{self.rolled_back} {when} to {REJECTED_PATH}.")
        if self.dry_run:
            lines.append("Dry run: nothing changed. The plan:")
            lines.extend(f"  - {step}" for step in self.plan)
        elif self.direct:
            lines.append(
                f"Committed {(self.sha or '')[:12]} straight to the default branch (no pull request)."
            )
        else:
            verb = "opened" if self.created else "updated"
            lines.append(f"Rollback pull request #{self.pr} {verb}.")
            if self.merged is not None and self.merged.merged:
                lines.append(f"Merged as {(self.merged.sha or '')[:12]} (auto_merge).")
            elif self.ready:
                lines.append(f"Ready: `promobot merge {self.pr}` (or /promote) merges it.")
            else:
                lines.append("Not ready yet:")
                lines.extend(f"  - {b}" for b in self.blockers)
        return "\n".join(lines)

    def reply(self) -> str:
        """Markdown for the ``/rollback`` reply comment."""
        what = (
            f"rollback of {render.code(self.model)} in {render.code(self.env)}: "
            f"{render.code(self.rolled_back)} → {render.code(self.version)} "
            f"(reverts {render.code(self.reverts[:12])})."
        )
        if self.pr is not None:
            verb = "opened" if self.created else "updated"
            what = f"{verb} #{self.pr}, the {what}"
            if self.merged is not None and self.merged.merged:
                what += " It was merged right away (auto_merge)."
            else:
                what += (
                    f" It needs {self.required_approvals} approval(s); `/promote` on #{self.pr} merges it."
                )
        if self.rejected:
            what += f" {render.code(self.rolled_back)} goes on the rejected list when it merges."
        return what


def _result(p: Prepared, *, direct: bool, dry_run: bool) -> RollbackResult:
    return RollbackResult(
        model=p.target.model,
        env=p.target.env,
        version=p.target.version,
        rolled_back=p.target.current,
        reverts=p.target.bad_sha,
        reverts_subject=p.target.bad_subject,
        restores=p.target.restores_sha,
        direct=direct,
        dry_run=dry_run,
        rejected=REJECTED_PATH in p.files,
        message=p.message,
    )


# --------------------------------------------------------------------------- direct commits


def _require_direct(ctx: Context, policy: Policy, actor: str, what: str, *, by_bot: bool = False) -> None:
    """A person needs ``rollback.direct`` and ``commands.rollback``; promobot itself (``by_bot``,
    a failed verification) needs ``rollback.direct`` and ``rollback.verify_direct`` — its
    authority is the policy's word, never a permission lookup of a login (reference §15)."""
    from bot import commands

    if not policy.rollback.direct:
        raise NotAuthorized(
            f"{what} straight to {ctx.default_branch} is off: "
            "rollback.direct is false in environments/promotion.yaml",
            "drop --direct to go through a pull request",
        )
    if by_bot:
        if not policy.rollback.verify_direct:
            raise NotAuthorized(
                f"promobot's own rollbacks straight to {ctx.default_branch} are off: "
                "rollback.verify_direct is not true in environments/promotion.yaml",
                "promobot opens a rollback PR instead",
            )
        return
    commands.require(ctx, "rollback", actor, policy)


def _commit_direct(ctx: Context, build: Callable[[str], tuple[Mapping[str, bytes | None], str]]) -> str:
    """Commit ``build(tip)`` on the default branch's tip and fast-forward it; retry when it moved."""
    branch = ctx.default_branch
    for attempt in range(1, DIRECT_ATTEMPTS + 1):
        if attempt > 1:
            refresh = getattr(ctx.ws, "refresh", None)
            if callable(refresh):
                refresh()
        tip = ctx.tip()
        files, message = build(tip)
        sha = ctx.ws.commit(parent=tip, files=files, message=message, author=ctx.bot_identity)
        try:
            ctx.ws.update_branch(branch, sha, expected=tip, force=False)
        except ConflictError as exc:
            logger.info("%s moved while committing (attempt %d): %s", branch, attempt, exc.message)
            continue
        logger.info("committed %s on %s", sha, branch)
        return sha
    raise ConflictError(
        f"{branch} kept moving: {DIRECT_ATTEMPTS} attempts to add the commit failed",
        "re-run the same command (nothing was written)",
    )


# --------------------------------------------------------------------------- rollback


def _branch_keeps(ctx: Context, branch: str, tip: str, files: Mapping[str, bytes]) -> tuple[str | None, bool]:
    """(branch tip, True when it is exactly one commit promobot wrote on ``tip`` carrying ``files``
    and nothing else)."""
    from bot.promotion import write_record

    sha = ctx.ws.resolve(branch)
    if sha is None or ctx.ws.resolve(f"{sha}~1") != tip or write_record(ctx, sha) is None:
        return sha, False
    old = ctx.ws.blob_ids(tip, "environments")
    new = ctx.ws.blob_ids(sha, "environments")
    changed = {p for p in set(old) | set(new) if old.get(p) != new.get(p)}
    if changed != set(files):
        return sha, False
    return sha, all(ctx.ws.read(sha, p) == content for p, content in files.items())


def _branch_rejection(ctx: Context, branch: str, model: str, version: str) -> Rejection | None:
    """The rejection the existing branch already carries (so that a re-run keeps its time)."""
    sha = ctx.ws.resolve(branch)
    if sha is None:
        return None
    try:
        return find_rejection(load_rejected(ctx.ws.read(sha, REJECTED_PATH)), model, version)
    except ManifestError:
        return None


def rollback(
    ctx: Context,
    *,
    model: str,
    env: str,
    to_version: str | None = None,
    direct: bool = False,
    reason: str | None = None,
    actor: str,
    dry_run: bool = False,
    authorize: bool = False,
    by_bot: bool = False,
) -> RollbackResult:
    """Roll ``model`` in ``env`` back to the version before (or ``to_version``).

    ``authorize``: the actor must be allowed ``/rollback`` (``commands.rollback``) to open the
    PR too, as on the CLI (a direct rollback always needs it; ``/rollback`` is authorised as a
    command before it gets here). ``by_bot``: promobot's own rollback after a failed
    verification; it goes direct only under ``rollback.verify_direct`` (never from the CLI).
    """
    check_model_name(model)
    if to_version is not None and VERSION_RE.fullmatch(to_version) is None:
        raise UsageError(
            f"{to_version[:80]!r} is not a valid version", "give a version as the manifest spells it"
        )
    try:
        return _rollback(
            ctx,
            model=model,
            env=env,
            to_version=to_version,
            direct=direct,
            reason=reason,
            actor=actor,
            dry_run=dry_run,
            authorize=authorize,
            by_bot=by_bot,
        )
    except UsageError:
        # Refused (say, a re-run after an outage found the rollback already done): if the
        # environment's latest change is a rollback, make sure its downstream PRs were refreshed.
        if not dry_run and _latest_is_rollback(ctx, model, env):
            _chain_after_direct(ctx, PrState(action="rollback", model=model, to=env, version="-"))
        raise


def _latest_is_rollback(ctx: Context, model: str, env: str) -> bool:
    try:
        entries = ctx.ws.history(manifest_path(env, model), ref=ctx.tip())
    except BotError:
        return False
    return bool(entries) and entries[0].action == "rollback"


def _rollback(
    ctx: Context,
    *,
    model: str,
    env: str,
    to_version: str | None,
    direct: bool,
    reason: str | None,
    actor: str,
    dry_run: bool,
    authorize: bool = False,
    by_bot: bool = False,
) -> RollbackResult:
    with ctx.forge.transaction():
        tip = ctx.tip()
        policy = ctx.policy(tip)
        check_env(policy, env)
        # Opening a rollback PR needs no permission beyond the caller's (it still needs
        # rollback.approvals to merge); committing directly needs commands.rollback.
        if direct:
            result = _rollback_direct(
                ctx,
                tip=tip,
                policy=policy,
                model=model,
                env=env,
                to_version=to_version,
                reason=reason,
                actor=actor,
                dry_run=dry_run,
                by_bot=by_bot,
            )
            if not dry_run and result.sha:
                result.registry = sync.follow(  # README "Keep MLflow in step"; never raises
                    ctx,
                    policy=policy,
                    env=env,
                    model=model,
                    manifest_text=ctx.ws.read(result.sha, manifest_path(env, model)),
                    commit=result.sha,
                )
                _chain_after_direct(
                    ctx, PrState(action="rollback", model=model, to=env, version=result.version)
                )
            return result
        result = _rollback_pr(
            ctx,
            tip=tip,
            policy=policy,
            model=model,
            env=env,
            to_version=to_version,
            reason=reason,
            actor=actor,
            dry_run=dry_run,
            authorize=authorize,
        )
    env_policy = policy.env(env)
    if (
        not dry_run
        and env_policy is not None
        and env_policy.auto_merge
        and result.ready
        and result.pr is not None
    ):
        from bot import promotion

        result.merged = promotion.merge(ctx, result.pr, actor=None)
    return result


def _chain_after_direct(ctx: Context, state: PrState) -> None:
    """Refresh downstream PRs after a direct rollback, best effort.

    The rollback commit is already on the default branch: re-running the same command would
    roll back *again*, so a failure here must not fail the run. A downstream PR left stale is
    still safe — its order gate fails until it is refreshed (by ``promote`` or the schedule).
    """
    from bot import promotion

    try:
        promotion.chain(ctx, state)
    except BotError as exc:
        logger.warning(
            "the rollback is committed, but refreshing the PRs downstream of %s failed: %s — "
            "run `promobot promote %s --to <env>` for them",
            state.to,
            exc.message,
            state.model,
        )


def _rollback_direct(
    ctx: Context,
    *,
    tip: str,
    policy: Policy,
    model: str,
    env: str,
    to_version: str | None,
    reason: str | None,
    actor: str,
    dry_run: bool,
    by_bot: bool = False,
) -> RollbackResult:
    _require_direct(ctx, policy, actor, "rolling back", by_bot=by_bot)
    first = _prepare(
        ctx, tip=tip, policy=policy, model=model, env=env, to_version=to_version, reason=reason, actor=actor
    )
    result = _result(first, direct=True, dry_run=dry_run)
    if dry_run:
        result.plan = [
            f"commit on {tip[:12]}: {first.subject} ({', '.join(sorted(first.files))})",
            f"fast-forward {ctx.default_branch} → the new commit",
        ]
        return result
    chosen = [first]

    def build(now_tip: str) -> tuple[Mapping[str, bytes | None], str]:
        if now_tip == tip:
            return first.files, first.message
        again = _prepare(
            ctx,
            tip=now_tip,
            policy=ctx.policy(now_tip),
            model=model,
            env=env,
            to_version=to_version,
            reason=reason,
            actor=actor,
            keep_rejection=first.rejection,
        )
        if again.target.current != first.target.current or again.target.version != first.target.version:
            raise ConflictError(
                f"{env} changed while rolling back: it now runs {model} {again.target.current}",
                "check `promobot status` and re-run if you still want to roll back",
            )
        chosen[0] = again
        return again.files, again.message

    result.sha = _commit_direct(ctx, build)
    done = chosen[0]
    result.reverts, result.restores, result.message = (
        done.target.bad_sha,
        done.target.restores_sha,
        done.message,
    )
    return result


def _rollback_pr(
    ctx: Context,
    *,
    tip: str,
    policy: Policy,
    model: str,
    env: str,
    to_version: str | None,
    reason: str | None,
    actor: str,
    dry_run: bool,
    authorize: bool = False,
) -> RollbackResult:
    from bot import commands, promotion

    branch = rollback_branch(env, model)
    p = _prepare(
        ctx, tip=tip, policy=policy, model=model, env=env, to_version=to_version, reason=reason, actor=actor
    )
    if authorize and not dry_run:
        commands.require(ctx, "rollback", actor, policy)
    if p.rejection is not None:
        # A re-run keeps the entry's time; a new reason (re-targeting with --to changes the
        # default one) is a new entry, never the old reason under the new target.
        kept = _branch_rejection(ctx, branch, model, p.target.current)
        if kept is not None and kept != p.rejection and kept.reason == p.rejection.reason:
            p = _prepare(
                ctx,
                tip=tip,
                policy=policy,
                model=model,
                env=env,
                to_version=to_version,
                reason=reason,
                actor=actor,
                keep_rejection=kept,
            )
    pr = ctx.forge.find_pr(branch)
    sha, keep = _branch_keeps(ctx, branch, tip, p.files)
    requester = actor
    if pr is not None and keep:  # the kept commit names who asked first (promobot's record, not the body)
        first = promotion.write_record(ctx, sha)
        if first is not None and first.requester:
            requester = first.requester
    state = PrState(
        action="rollback",
        model=model,
        to=env,
        version=p.target.version,
        previous_version=p.target.current,
        requester=requester,
        rollback_of=p.target.bad_sha,
        restores_sha=p.target.restores_sha,
    )
    head_sha = sha if keep else None
    a = promotion.assess(
        ctx,
        state=state,
        base_sha=tip,
        new_text=p.new_text,
        old_text=p.current_text,
        source=p.restored,
        pr=pr if keep else None,
        head_sha=head_sha,
        reason=p.reason,
    )
    extra = {k: v for k, v in p.files.items() if k != p.path}
    plan = plan_pr_update(
        branch=branch,
        base_branch=ctx.default_branch,
        base_sha=tip,
        path=p.path,
        new_text=p.new_text,
        extra_files=None if keep else extra,
        message=p.message,
        author=ctx.bot_identity,
        title=p.subject,
        body=a.body,
        labels=labels_for("rollback", env),
        state=BranchState(sha, p.new_text if keep else None, keep, pr),
        checks=a.checks,
        record=render_record(requester),
    )
    result = _result(p, direct=False, dry_run=dry_run)
    result.pr = pr.number if pr is not None else None
    result.created = plan.created
    result.ready, result.blockers = a.ready, a.blockers
    result.required_approvals = a.verdict.required
    result.plan = describe(plan.actions)
    if dry_run:
        return result
    number, head = promotion.apply(ctx, plan.actions)
    result.pr = number if number is not None else result.pr
    logger.info("rollback PR #%s for %s in %s at %s", result.pr, model, env, head)
    return result


def rollback_from_pr(ctx: Context, number: int, *, to_version: str | None, actor: str) -> RollbackResult:
    """``/rollback [VERSION]`` on pull request ``number``: a rollback PR for its model and environment.

    Only a merged promotion PR qualifies; anything else is a ``UsageError`` saying why.
    It always opens (or refreshes) a rollback PR, never commits directly.
    """
    pr = ctx.forge.get_pr(number)
    ref = parse_branch(pr.head_branch)
    marker = parse_state(pr.body)
    if ref is None or ref.is_rejection or marker is None or marker.model != ref.model or marker.to != ref.env:
        raise UsageError(
            f"#{number} is not a promobot promotion pull request",
            "use /rollback on the merged pull request that promoted the version, "
            "or run `promobot rollback MODEL --env ENV`",
        )
    if marker.action != "promote":
        raise UsageError(
            f"#{number} is a rollback pull request; /rollback works on merged promotion pull requests",
            f"to undo this rollback, promote the version again (or `/cancel` #{number} if it is still open)",
        )
    if pr.state != "merged":
        raise UsageError(
            f"#{number} is {pr.state}, not merged: there is nothing to roll back yet",
            "`/cancel` it if you do not want this promotion; /rollback works once it is merged",
        )
    tip = ctx.tip()
    path = manifest_path(ref.env, ref.model)
    raw = ctx.ws.read(tip, path)
    current = None
    if raw is not None:
        try:
            current = manifests.load_manifest(raw, path=path, expected_name=ref.model).version
        except ManifestError:
            current = None
    if to_version is None and current is not None and current != marker.version:
        raise UsageError(
            f"{ref.env} now runs {ref.model} {current}, not {marker.version} that #{number} promoted",
            f"run /rollback on the pull request that promoted {current}, "
            "or name the version: /rollback VERSION",
        )
    return rollback(
        ctx,
        model=ref.model,
        env=ref.env,
        to_version=to_version,
        direct=False,
        reason=f"/rollback on #{number} by {actor}",
        actor=actor,
    )


def restored_manifest(ctx: Context, state: PrState) -> Manifest | None:
    """The manifest a rollback PR restores (its integrity/order source), or None when unknown.

    Only a commit on the default branch counts (the marker is in an editable PR body).
    """
    _remember(ctx, state)
    sha = state.restores_sha
    if not core.is_sha(sha):
        return None
    assert sha is not None
    try:
        if not ctx.ws.is_ancestor(sha, ctx.tip()):
            return None
        raw = ctx.ws.read(sha, manifest_path(state.to, state.model))
        if raw is None:
            return None
        found = manifests.load_manifest(
            raw, path=manifest_path(state.to, state.model), expected_name=state.model
        )
    except BotError:
        return None
    return found


def _remember(ctx: Context, state: PrState) -> None:
    """Memo the reverted commit's subject and the PR's reason for ``rollback_message``."""
    bad = state.rollback_of
    if not core.is_sha(bad):
        return
    assert bad is not None
    try:
        if bad not in _SUBJECTS:
            message = ctx.ws.commit_message(bad)
            _SUBJECTS[bad] = message.splitlines()[0] if message else ""
        head = ctx.ws.resolve(rollback_branch(state.to, state.model))
        if head is not None:
            message = ctx.ws.commit_message(head)
            if trailers.parse_trailers(message).get(trailers.ROLLBACK_OF) == bad:
                why = core.reason_from_message(message, bad)
                if why:
                    _REASONS[bad] = why
    except BotError as exc:
        logger.warning("cannot read the reverted commit %s: %s", bad[:12], exc.message)


def rollback_message(
    state: PrState, *, extra: Sequence[tuple[str, str]] = (), ctx: Context | None = None
) -> str:
    """The squash-merge message of a rollback PR (revert form plus trailers and ``extra``)."""
    bad = state.rollback_of or ""
    if ctx is not None:
        _remember(ctx, state)
    return core.rollback_message(
        model=state.model,
        env=state.to,
        version=state.version,
        bad_version=state.previous_version or "unknown",
        bad_sha=bad,
        bad_subject=_SUBJECTS.get(bad, ""),
        reason=_REASONS.get(bad),
        requester=state.requester,
        extra=extra,
    )


# --------------------------------------------------------------------------- reject / unreject


def _check_version(version: str) -> str:
    if VERSION_RE.fullmatch(version) is None or not is_branch_version(version):
        raise UsageError(
            f"{version[:80]!r} is not a valid version", "give the version as the manifest spells it"
        )
    return version


def rejection_message(
    state: PrState, entry: Rejection | None, *, extra: Sequence[tuple[str, str]] = ()
) -> str:
    """The commit (and squash-merge) message of a reject / unreject: subject, why, trailers.

    ``entry`` is the rejection added (reject) or removed (unreject), when known.
    """
    what = f"{state.model} {state.version}"
    if state.action == "reject":
        subject, body = f"Reject {what}", entry.reason if entry else ""
    else:
        subject = f"Unreject {what}"
        body = (
            f"{what} may be promoted again (it was rejected by {entry.by or 'someone'} at {entry.at}: "
            f"{entry.reason})."
            if entry
            else f"{what} may be promoted again."
        )
    pairs = [
        (trailers.ACTION, state.action),
        (trailers.MODEL, state.model),
        (trailers.VERSION, state.version),
    ]
    if state.requester:
        pairs.append((trailers.REQUESTED_BY, state.requester))
    return trailers.build_message(subject, body, [*pairs, *extra])


def rejection_body(
    state: PrState, entry: Rejection | None, *, approvals: str, commands: Sequence[str]
) -> str:
    """The body of a reject / unreject PR, ending with its state marker."""
    what = f"{render.code(state.model)} {render.code(state.version)}"
    if state.action == "reject":
        lines = [
            f"## Reject {what}",
            "",
            f"Adds {what} to `{REJECTED_PATH}`: while it is listed, the `not-rejected` gate "
            "blocks promoting it into any environment.",
        ]
    else:
        lines = [
            f"## Unreject {what}",
            "",
            f"Removes {what} from `{REJECTED_PATH}`: it may be promoted again.",
        ]
    if entry is not None:
        verb = "Rejected" if state.action == "reject" else "It was rejected"
        lines += ["", f"{verb} by {render.code(entry.by or 'someone')} at {render.code(entry.at)}, because:"]
        lines += ["", render.fenced(entry.reason)]
    if state.requester:
        lines += ["", f"Requested by {render.code(state.requester)}."]
    lines += [
        "",
        "### Approvals",
        "",
        f"Counted under `rollback.approvals` (no gates run: no manifest changes). {approvals}",
        "",
        "### Commands",
        "",
        render.bullet_list(commands),
        "",
        render_state(state),
    ]
    return "\n".join(lines) + "\n"


def _edit_rejected(
    ctx: Context,
    *,
    tip: str,
    policy: Policy,
    state: PrState,
    entry: Rejection | None,
    build: Callable[[str], str],
    direct: bool,
    what: str,
) -> dict[str, Any]:
    from bot import commands, promotion

    model, version = state.model, state.version
    message = rejection_message(state, entry)
    subject = message.splitlines()[0]
    out: dict[str, Any] = {"model": model, "version": version, "direct": direct, "pr": None, "sha": None}
    if direct:
        _require_direct(ctx, policy, state.requester or "", what)

        def make(now_tip: str) -> tuple[Mapping[str, bytes | None], str]:
            return {REJECTED_PATH: build(now_tip).encode("utf-8")}, message

        out["sha"] = _commit_direct(ctx, make)
        out["message"] = f"{subject}: committed {out['sha'][:12]} on {ctx.default_branch}."
        out["reevaluated"] = promotion.reevaluate_model(ctx, model)
        return out
    # Opening the PR is authorised like /rollback too (reference §7, §8): a reject or unreject
    # PR merges under rollback.approvals, so who may ask for one is commands.rollback's say.
    commands.require(ctx, "rollback", state.requester or "", policy)
    branch = rejected_branch(model, version, remove=state.action == "unreject")
    new_text = build(tip).encode("utf-8")
    sha = ctx.ws.resolve(branch)
    pr = ctx.forge.find_pr(branch)
    record = promotion.write_record(ctx, sha)
    keep = (
        sha is not None
        and record is not None
        and ctx.ws.resolve(f"{sha}~1") == tip
        and set(ctx.ws.changed_files(tip, sha)) == {REJECTED_PATH}
        and ctx.ws.read(sha, REJECTED_PATH) == new_text
    )
    if keep and record is not None:  # the kept commit names who asked first (promobot's record)
        first = record.requester
        if first and first != state.requester:
            state = PrState(state.action, model, "", version, requester=first)
            message = rejection_message(state, entry)
    a = promotion.assess_rejection(
        ctx,
        state=state,
        base_sha=tip,
        new_text=new_text,
        old_text=ctx.ws.read(tip, REJECTED_PATH),
        pr=pr if keep else None,
        head_sha=sha if keep else None,
    )
    plan = plan_pr_update(
        branch=branch,
        base_branch=ctx.default_branch,
        base_sha=tip,
        path=REJECTED_PATH,
        new_text=new_text,
        message=message,
        author=ctx.bot_identity,
        title=subject,
        body=a.body,
        labels=labels_for(state.action, ""),
        state=BranchState(sha, new_text if keep else None, keep, pr),
        checks=a.checks,
        record=render_record(state.requester),
    )
    number, _ = promotion.apply(ctx, plan.actions)
    out["pr"] = number if number is not None else (pr.number if pr else None)
    out["ready"], out["blockers"] = a.ready, a.blockers
    out["required_approvals"] = a.verdict.required
    verb = "opened" if pr is None else "updated"
    out["message"] = (
        f"{subject}: pull request #{out['pr']} {verb}; it takes effect when merged "
        f"(needs {a.verdict.required} approval(s) under rollback.approvals; "
        f"`promobot merge {out['pr']}` or /promote merges it)."
    )
    return out


def reject(
    ctx: Context, *, model: str, version: str, reason: str, actor: str, direct: bool = False
) -> dict[str, Any]:
    """Add ``model`` ``version`` to rejected.yaml (through a PR, or ``direct``)."""
    check_model_name(model)
    _check_version(version)
    why = core.clean_reason(reason)
    if why is None:
        raise UsageError("a rejection needs a reason", "say why with --reason TEXT")
    with ctx.forge.transaction():
        tip = ctx.tip()
        policy = ctx.policy(tip)
        found = find_rejection(ctx.rejected(tip), model, version)
        if found is not None:
            raise UsageError(
                f"{model} {version} is already rejected (by {found.by or 'someone'} at {found.at})",
                f"nothing to do; `promobot unreject {model} {version}` removes it",
            )
        branch_entry = _branch_rejection(ctx, rejected_branch(model, version), model, version)
        entry = core.rejection(
            model=model, version=version, reason=why, by=actor, now=ctx.now, default_reason=why
        )
        if branch_entry is not None and (branch_entry.reason, branch_entry.by) == (entry.reason, entry.by):
            entry = branch_entry

        def build(now_tip: str) -> str:
            raw = ctx.ws.read(now_tip, REJECTED_PATH)
            return add_rejection(raw.decode("utf-8") if raw is not None else None, entry)

        result = _edit_rejected(
            ctx,
            tip=tip,
            policy=policy,
            state=PrState(action="reject", model=model, to="", version=version, requester=actor),
            entry=entry,
            build=build,
            direct=direct,
            what="rejecting",
        )
    result["rejected"] = True
    result["reason"] = why
    return result


def unreject(ctx: Context, *, model: str, version: str, actor: str, direct: bool = False) -> dict[str, Any]:
    """Remove ``model`` ``version`` from rejected.yaml (through a PR, or ``direct``)."""
    check_model_name(model)
    _check_version(version)
    with ctx.forge.transaction():
        tip = ctx.tip()
        policy = ctx.policy(tip)
        found = find_rejection(ctx.rejected(tip), model, version)
        if found is None:
            raise UsageError(
                f"{model} {version} is not rejected", "nothing to do (see environments/rejected.yaml)"
            )

        def build(now_tip: str) -> str:
            raw = ctx.ws.read(now_tip, REJECTED_PATH)
            return remove_rejection(raw.decode("utf-8") if raw is not None else "", model, version)

        result = _edit_rejected(
            ctx,
            tip=tip,
            policy=policy,
            state=PrState(action="unreject", model=model, to="", version=version, requester=actor),
            entry=found,
            build=build,
            direct=direct,
            what="unrejecting",
        )
    result["rejected"] = False
    return result
