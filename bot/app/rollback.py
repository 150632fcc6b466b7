"""``promobot rollback`` and ``/rollback``: roll a model back in one environment (reference §4 step 7).

Both routes build the same commit (``_prepare``): the manifest with the restored version's
promoted keys and the current local keys, plus rejected.yaml when
``rollback.reject_version`` is true, with a revert-form message and the rollback trailers.

- **PR route** (default): branch ``promobot/rollback/<env>/<model>``, gates through
  ``assess`` (soak, compare and verified are skipped), approvals per ``rollback.approvals``;
  merged by ``/promote``, ``promobot merge N`` or the environment's ``auto_merge``.
- **Direct route** (``--direct``): only when ``rollback.direct`` is true and the actor may
  ``rollback``; one commit on the default branch's tip, moved with a fast-forward
  compare-and-swap, rebuilt and retried up to 3 times when the tip moved, never forced.

``/rollback [VERSION]`` on a merged promotion PR always takes the PR route: a comment
should not be able to skip review, whatever ``rollback.direct`` says."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.app import sync
from bot.app.apply import apply, commit_direct
from bot.app.assess import assess
from bot.app.authority import require, require_direct
from bot.app.context import Context, check_env, check_model_name
from bot.app.promote import MergeResult, chain, merge
from bot.app.records import branch_rejection, write_record
from bot.app.restore import Prepared, prepare
from bot.core import inline
from bot.core import manifest as manifests
from bot.core.branches import labels_for, parse_branch, rollback_branch
from bot.core.manifest import VERSION_RE
from bot.core.marker import PrState, parse_state, render_record
from bot.core.paths import REJECTED_PATH, manifest_path
from bot.core.plan import BranchState, describe, plan_pr_update
from bot.core.policy_model import Policy
from bot.errors import BotError, ConflictError, ManifestError, NotApplicable, UsageError

logger = logging.getLogger(__name__)


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

    def reply(self) -> str:
        """Markdown for the ``/rollback`` reply comment."""
        what = (
            f"rollback of {inline.code(self.model)} in {inline.code(self.env)}: "
            f"{inline.code(self.rolled_back)} → {inline.code(self.version)} "
            f"(reverts {inline.code(self.reverts[:12])})."
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
            what += f" {inline.code(self.rolled_back)} goes on the rejected list when it merges."
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


def _branch_keeps(ctx: Context, branch: str, tip: str, files: Mapping[str, bytes]) -> tuple[str | None, bool]:
    """(branch tip, True when it is exactly one commit promobot wrote on ``tip`` carrying ``files``
    and nothing else)."""

    sha = ctx.ws.resolve(branch)
    if sha is None or ctx.ws.resolve(f"{sha}~1") != tip or write_record(ctx, sha) is None:
        return sha, False
    old = ctx.ws.blob_ids(tip, "environments")
    new = ctx.ws.blob_ids(sha, "environments")
    changed = {p for p in set(old) | set(new) if old.get(p) != new.get(p)}
    if changed != set(files):
        return sha, False
    return sha, all(ctx.ws.read(sha, p) == content for p, content in files.items())


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
    except (NotApplicable, UsageError):
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
        result.merged = merge(ctx, result.pr, actor=None)
    return result


def _chain_after_direct(ctx: Context, state: PrState) -> None:
    """Refresh downstream PRs after a direct rollback, best effort.

    The rollback commit is already on the default branch: re-running the same command would
    roll back *again*, so a failure here must not fail the run. A downstream PR left stale is
    still safe — its order gate fails until it is refreshed (by ``promote`` or the schedule).
    """

    try:
        chain(ctx, state)
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
    require_direct(ctx, policy, actor, "rolling back", by_bot=by_bot)
    first = prepare(
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
        again = prepare(
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

    result.sha = commit_direct(ctx, build)
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

    branch = rollback_branch(env, model)
    p = prepare(
        ctx, tip=tip, policy=policy, model=model, env=env, to_version=to_version, reason=reason, actor=actor
    )
    if authorize and not dry_run:
        require(ctx, "rollback", actor, policy)
    if p.rejection is not None:
        # A re-run keeps the entry's time; a new reason (re-targeting with --to changes the
        # default one) is a new entry, never the old reason under the new target.
        kept = branch_rejection(ctx, branch, model, p.target.current)
        if kept is not None and kept != p.rejection and kept.reason == p.rejection.reason:
            p = prepare(
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
        first = write_record(ctx, sha)
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
    assessment = assess(
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
        body=assessment.body,
        labels=labels_for("rollback", env),
        state=BranchState(sha, p.new_text if keep else None, keep, pr),
        checks=assessment.checks,
        record=render_record(requester),
    )
    result = _result(p, direct=False, dry_run=dry_run)
    result.pr = pr.number if pr is not None else None
    result.created = plan.created
    result.ready, result.blockers = assessment.ready, list[str](assessment.blockers)
    result.required_approvals = assessment.verdict.required
    result.plan = describe(plan.actions)
    if dry_run:
        return result
    number, head = apply(ctx, plan.actions)
    result.pr = number if number is not None else result.pr
    logger.info("rollback PR #%s for %s in %s at %s", result.pr, model, env, head)
    return result


def rollback_from_pr(ctx: Context, number: int, *, to_version: str | None, actor: str) -> RollbackResult:
    """``/rollback [VERSION]`` on pull request ``number``: a rollback PR for its model and environment.

    Only a merged promotion PR qualifies; anything else is ``NotApplicable``, saying why.
    It always opens (or refreshes) a rollback PR, never commits directly.
    """
    pr = ctx.forge.get_pr(number)
    ref = parse_branch(pr.head_branch)
    marker = parse_state(pr.body)
    if ref is None or ref.is_rejection or marker is None or marker.model != ref.model or marker.to != ref.env:
        raise NotApplicable(
            f"#{number} is not a promobot promotion pull request",
            "use /rollback on the merged pull request that promoted the version, "
            "or run `promobot rollback MODEL --env ENV`",
        )
    if marker.action != "promote":
        raise NotApplicable(
            f"#{number} is a rollback pull request; /rollback works on merged promotion pull requests",
            f"to undo this rollback, promote the version again (or `/cancel` #{number} if it is still open)",
        )
    if pr.state != "merged":
        raise NotApplicable(
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
