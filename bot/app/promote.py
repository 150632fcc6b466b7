"""``promobot promote``, ``promobot merge`` / ``/promote``, and the chain they start.

Promote and merge stay together because they recurse: a merge chains the next promotion,
and a promotion into an ``auto_merge`` environment merges when it is ready."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from bot.app import sync
from bot.app.apply import apply
from bot.app.assess import assess, assess_pr
from bot.app.authority import require
from bot.app.blockers import rejection_entry
from bot.app.context import Context, check_env, check_model_name, read_manifest
from bot.app.evaluate import reevaluate_model
from bot.app.facts import PrContext, branch_state, pr_context, reverted_commit
from bot.app.records import version_of, write_record
from bot.core import manifest as manifests
from bot.core.branches import REJECT_ACTIONS, labels_for, promotion_branch
from bot.core.marker import PrState, parse_state, render_record
from bot.core.messages import merge_message, promotion_message, promotion_title, rebuild_hint
from bot.core.model import GateResult, Manifest, PullRequest
from bot.core.paths import POLICY_PATH, env_dir, manifest_path, parse_manifest_path
from bot.core.plan import UpdatePr, describe, plan_pr_update
from bot.core.policy_model import EnvironmentPolicy, Policy
from bot.errors import BotError, ConflictError, ManifestError, NotApplicable, OutageError, UsageError

logger = logging.getLogger(__name__)


@dataclass
class PromoteResult:
    model: str
    from_: str
    to: str
    version: str
    previous_version: str | None
    pr: int | None
    created: bool
    changed: bool
    results: list[GateResult]
    ready: bool
    blockers: list[str]
    plan: list[str]
    dry_run: bool
    url: str | None = None
    note: str | None = None
    merged: MergeResult | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "pr": self.pr,
            "created": self.created,
            "changed": self.changed,
            "model": self.model,
            "version": self.version,
            "previous_version": self.previous_version,
            "from": self.from_,
            "to": self.to,
            "ready": self.ready,
            "blockers": self.blockers,
            "gates": [
                {
                    "name": r.name,
                    "kind": r.kind,
                    "result": r.result,
                    "reason": r.reason,
                    "until": r.until.astimezone(UTC).isoformat() if r.until else None,
                }
                for r in self.results
            ],
            "plan": self.plan,
            "dry_run": self.dry_run,
            "note": self.note,
            "merged": self.merged.to_json() if self.merged else None,
        }


@dataclass(frozen=True, slots=True)
class Candidate:
    """What promoting ``model`` into ``to`` would write, computed from the default branch's tip."""

    base_sha: str
    policy: Policy
    env: EnvironmentPolicy
    source: Manifest
    path: str
    old_text: bytes | None
    new_text: bytes
    previous_version: str | None


def candidate(ctx: Context, *, model: str, to: str, from_: str | None = None) -> Candidate:
    """Gather the source and target manifests and compute the promoted target text (pure edit)."""
    check_model_name(model)
    base_sha = ctx.tip()
    policy = ctx.policy(base_sha)
    env = policy.env(check_env(policy, to))
    assert env is not None
    if env.from_ is None:
        raise UsageError(
            f"{to} is the first environment: it is written by people or CI, never promoted into",
            f"promote into one of: {', '.join(e.name for e in policy.environments if e.from_)}",
        )
    if from_ is not None and from_ != env.from_:
        raise UsageError(
            f"{to} is promoted from {env.from_}, not {from_} ({POLICY_PATH})",
            f"drop --from, or change `from:` of {to} in the policy",
        )
    src_raw, source = read_manifest(ctx, base_sha, env.from_, model)
    if src_raw is None or source is None:
        raise NotApplicable(
            f"{model} is not in {env.from_}, so there is nothing to promote to {to}",
            f"add {manifest_path(env.from_, model)} first (see `promobot status`)",
        )
    path = manifest_path(to, model)
    old_raw = ctx.ws.read(base_sha, path)
    new_text = manifests.apply_promotion(
        src_raw.decode("utf-8"),
        old_raw.decode("utf-8") if old_raw is not None else None,
        policy.local_keys,
    ).encode("utf-8")
    previous = None
    if old_raw is not None:
        try:
            previous = manifests.load_manifest(old_raw, path=path, expected_name=model).version
        except ManifestError:
            previous = None
    return Candidate(base_sha, policy, env, source, path, old_raw, new_text, previous)


def promote(
    ctx: Context,
    *,
    model: str,
    to: str,
    from_: str | None = None,
    dry_run: bool = False,
    auto_merge: bool = True,
    chained_from: PrState | None = None,
) -> PromoteResult:
    """Open or refresh the promotion PR of ``model`` into ``to`` and post its checks.

    ``chained_from``: the merged PR upstream whose merge opens this one (``chain``). Its
    requester asks for this promotion too — never ``ctx.actor``, who is then whoever
    merged upstream (say, the reviewer whose approval auto-merged it) and must stay free
    to approve here.
    """
    check_model_name(model)
    with ctx.forge.transaction():
        c = candidate(ctx, model=model, to=to, from_=from_)
        env, source, path = c.env, c.source, c.path
        assert env.from_ is not None
        branch = promotion_branch(to, model)
        bstate = branch_state(ctx, branch, path, c.base_sha)
        result = PromoteResult(
            model=model,
            from_=env.from_,
            to=to,
            version=source.version,
            previous_version=c.previous_version,
            pr=bstate.pr.number if bstate.pr else None,
            created=False,
            changed=False,
            results=[],
            ready=False,
            blockers=[],
            plan=[],
            dry_run=dry_run,
        )
        if c.old_text == c.new_text:
            result.note = (
                f"{to} already runs {model} {source.version} with the same promoted keys; nothing to promote"
            )
            if bstate.pr is not None:
                result.note += f" (pull request #{bstate.pr.number} is still open — `/cancel` it)"
            return result
        requester = ctx.actor if chained_from is None else (chained_from.requester or ctx.forge.bot_login)
        if bstate.pr is not None and version_of(bstate.content, path, model) == source.version:
            # The same version again: whoever asked first stays the requester (promobot's record).
            first = write_record(ctx, bstate.sha)
            if first is not None and first.requester:
                requester = first.requester
        state = PrState(
            action="promote",
            model=model,
            to=to,
            version=source.version,
            from_=env.from_,
            previous_version=c.previous_version,
            requester=requester,
        )
        keep_head = bstate.carries(c.new_text)
        head_sha = bstate.sha if keep_head else None
        assessment = assess(
            ctx,
            state=state,
            base_sha=c.base_sha,
            new_text=c.new_text,
            old_text=c.old_text,
            source=source,
            pr=bstate.pr if keep_head else None,
            head_sha=head_sha,
        )
        plan = plan_pr_update(
            branch=branch,
            base_branch=ctx.default_branch,
            base_sha=c.base_sha,
            path=path,
            new_text=c.new_text,
            message=promotion_message(state),
            author=ctx.bot_identity,
            title=promotion_title(state),
            body=assessment.body,
            labels=labels_for("promote", to),
            state=bstate,
            checks=assessment.checks,
            record=render_record(requester),
        )
        result.results, result.blockers, result.ready = (
            assessment.results,
            list[str](assessment.blockers),
            assessment.ready,
        )
        result.created, result.changed = plan.created, plan.commit_needed
        result.plan = describe(plan.actions)
        if dry_run:
            return result
        number, head = apply(ctx, plan.actions)
        result.pr = number if number is not None else result.pr
        logger.info("promotion PR #%s for %s → %s at %s", result.pr, model, to, head)
    if auto_merge and env.auto_merge and result.ready and result.pr is not None:
        result.merged = merge(ctx, result.pr, actor=None)
    return result


def promote_all(
    ctx: Context, *, to: str, dry_run: bool = False
) -> tuple[list[PromoteResult], dict[str, str]]:
    """``promote --all``: every model whose source manifest differs from the one in ``to``.

    One broken model does not stop the others: its error is returned by model name.
    """
    base_sha = ctx.tip()
    policy = ctx.policy(base_sha)
    env = policy.env(check_env(policy, to))
    assert env is not None
    if env.from_ is None:
        raise UsageError(
            f"{to} is the first environment; nothing is promoted into it", "pick a later environment"
        )
    src = ctx.ws.blob_ids(base_sha, env_dir(env.from_))
    dst = ctx.ws.blob_ids(base_sha, env_dir(to))
    results = []
    failed: dict[str, str] = {}
    for path in sorted(src):
        where = parse_manifest_path(path)
        if where is None:
            continue
        model = where[1]
        if dst.get(manifest_path(to, model)) == src[path]:
            continue
        try:
            result = promote(ctx, model=model, to=to, dry_run=dry_run)
        except OutageError:
            raise
        except BotError as exc:
            failed[model] = exc.message
            continue
        if result.note is None:
            results.append(result)
    return results, failed


@dataclass
class MergeResult:
    number: int
    merged: bool
    sha: str | None
    blockers: list[str]
    chained: list[PromoteResult] = field(default_factory=list)
    registry: sync.FollowResult | None = None
    """The MLflow alias moved after the merge (README "Keep MLflow in step"); None: no registry."""

    def to_json(self) -> dict[str, Any]:
        return {
            "pr": self.number,
            "merged": self.merged,
            "sha": self.sha,
            "blockers": self.blockers,
            "chained": [c.to_json() for c in self.chained],
            "registry": self.registry.to_json() if self.registry else None,
        }


def merge(ctx: Context, number: int, *, actor: str | None, pr: PullRequest | None = None) -> MergeResult:
    """Merge PR ``number`` if it is ready; otherwise return every blocker (and post them).

    ``actor`` None means the bot acts on its own (``auto_merge``); otherwise the actor must be
    allowed ``promote`` by the base-branch policy right now.
    """

    with ctx.forge.transaction():
        facts = pr_context(ctx, number, pr=pr)
        if facts.pr.state == "merged":  # a re-run after an outage: finish what the first run began
            # Delete the merged branch only if it is still at the merged head: a newer promotion
            # may already reuse the name.
            if ctx.ws.resolve(facts.pr.head_branch) == facts.pr.head_sha:
                ctx.forge.delete_branch(facts.pr.head_branch)
            done = MergeResult(number, True, facts.pr.merge_sha, [])
            if facts.state.action in ("promote", "rollback"):  # the alias follows git as it is now
                done.registry = sync.follow_current(
                    ctx, policy=ctx.policy(facts.base_sha), env=facts.state.to, model=facts.state.model
                )
            done.chained = chain(ctx, facts.state, again=True)
            if facts.state.action in REJECT_ACTIONS:
                reevaluate_model(ctx, facts.state.model)
            return done
        if facts.pr.state != "open":
            return MergeResult(number, False, None, [f"the pull request is {facts.pr.state}"])
        if actor is not None:
            require(ctx, "promote", actor, ctx.policy(facts.base_sha))
        assessment = assess_pr(ctx, facts)
        apply(
            ctx,
            list(assessment.checks.actions(facts.pr.head_sha))
            + ([UpdatePr(number, None, assessment.body)] if facts.pr.body != assessment.body else []),
        )
        if not assessment.ready:
            return MergeResult(number, False, None, list[str](assessment.blockers))
        subject, reason = (
            reverted_commit(ctx, facts.state) if facts.state.action == "rollback" else ("", None)
        )
        title, body = merge_message(
            facts.state,
            number=number,
            approved_by=assessment.verdict.counted,
            rejection=rejection_entry(ctx, facts.state, facts.new_text, facts.old_text)
            if facts.state.action in REJECT_ACTIONS
            else None,
            reverted_subject=subject,
            reason=reason,
        )
        try:
            sha = ctx.forge.merge(number, sha=facts.pr.head_sha, title=title, message=body)
        except ConflictError as exc:
            if ctx.forge.get_pr(number).head_sha != facts.pr.head_sha:
                raise  # the head moved: the new head is evaluated on its own
            # A promobot branch is rebuilt by promobot, never updated by hand (that makes it foreign).
            raise ConflictError(exc.what, f"nothing was merged; {rebuild_hint(facts.state)}") from exc
        ctx.forge.delete_branch(facts.pr.head_branch)
        logger.info("merged #%d as %s", number, sha)
        result = MergeResult(number, True, sha, [])
    result.registry = _follow_registry(ctx, facts, sha)
    result.chained = chain(ctx, facts.state)
    if facts.state.action in REJECT_ACTIONS:
        reevaluate_model(ctx, facts.state.model)
    return result


def _follow_registry(ctx: Context, facts: PrContext, sha: str | None) -> sync.FollowResult | None:
    """Move the environment's MLflow alias to the merged version (best effort, never raises)."""
    if facts.state.action not in ("promote", "rollback") or sha is None:
        return None
    return sync.follow(
        ctx,
        policy=ctx.policy(facts.base_sha),
        env=facts.state.to,
        model=facts.state.model,
        manifest_text=facts.new_text,
        commit=sha,
    )


def chain(ctx: Context, state: PrState, *, again: bool = False) -> list[PromoteResult]:
    """After a merge into ``state.to``: open the PRs of environments with ``from: <to>`` and auto_promote.

    Rollbacks chain too: an open downstream PR that promotes the rolled-back version is
    rebuilt to the restored one (or reported as having nothing left to promote).

    Done in the same run because merges made with a workflow's GITHUB_TOKEN start no new
    workflow runs. ``promote`` is idempotent, so chaining again (a re-run after an outage,
    a second event for the same merge) changes nothing that is already right. ``again``
    marks such a re-run: a chained PR that someone has since closed stays closed.
    """
    if state.action in REJECT_ACTIONS:  # rejected.yaml changed: no environment did
        return []
    chained = []
    policy = ctx.policy(ctx.tip())
    for nxt in policy.downstream(state.to):
        if again and _closed_by_someone(ctx, nxt.name, state):
            continue
        if nxt.auto_promote:
            try:
                chained.append(promote(ctx, model=state.model, to=nxt.name, chained_from=state))
            except NotApplicable as exc:
                logger.info("chained promotion to %s: %s", nxt.name, exc.message)
            except UsageError as exc:  # the merge is done: say what is wrong, never undo it
                logger.warning("chained promotion to %s skipped: %s", nxt.name, exc.message)
    return chained


def _closed_by_someone(ctx: Context, env: str, state: PrState) -> bool:
    """A promotion PR of this model and version into ``env`` was opened and then closed unmerged."""
    closed = ctx.forge.find_pr(promotion_branch(env, state.model), state="closed")
    marker = parse_state(closed.body) if closed is not None else None
    return marker is not None and marker.version == state.version
