"""``promobot reject`` / ``unreject``: keep the known-bad list, environments/rejected.yaml.

One commit (trailers ``Promobot-Action: reject|unreject``, ``Promobot-Model``,
``Promobot-Version``, ``Promobot-Requested-By``) through a promobot PR on branch
``promobot/rejected/<model>/<version>`` (``promobot/unrejected/…``), label
``promobot:rollback`` and the three checks (no gates; approvals per ``rollback.approvals``;
scope: rejected.yaml only), merged like a rollback (no chain), or ``--direct`` (same rules as
a direct rollback)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bot.app.apply import apply, commit_direct
from bot.app.assess import assess_rejection
from bot.app.authority import require, require_direct
from bot.app.context import Context, check_model_name
from bot.app.evaluate import reevaluate_model
from bot.app.records import branch_rejection, write_record
from bot.core import revert
from bot.core.branches import is_branch_version, labels_for, rejected_branch
from bot.core.manifest import VERSION_RE
from bot.core.marker import PrState, render_record
from bot.core.messages import rejection_message
from bot.core.model import Rejection
from bot.core.paths import REJECTED_PATH
from bot.core.plan import BranchState, plan_pr_update
from bot.core.policy_model import Policy
from bot.core.rejected import add_rejection, find_rejection, remove_rejection
from bot.errors import NotApplicable, UsageError


def _check_version(version: str) -> str:
    if VERSION_RE.fullmatch(version) is None or not is_branch_version(version):
        raise UsageError(
            f"{version[:80]!r} is not a valid version", "give the version as the manifest spells it"
        )
    return version


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

    model, version = state.model, state.version
    message = rejection_message(state, entry)
    subject = message.splitlines()[0]
    out: dict[str, Any] = {"model": model, "version": version, "direct": direct, "pr": None, "sha": None}
    if direct:
        require_direct(ctx, policy, state.requester or "", what)

        def make(now_tip: str) -> tuple[Mapping[str, bytes | None], str]:
            return {REJECTED_PATH: build(now_tip).encode("utf-8")}, message

        out["sha"] = commit_direct(ctx, make)
        out["message"] = f"{subject}: committed {out['sha'][:12]} on {ctx.default_branch}."
        out["reevaluated"] = reevaluate_model(ctx, model)
        return out
    # Opening the PR is authorised like /rollback too (reference §7, §8): a reject or unreject
    # PR merges under rollback.approvals, so who may ask for one is commands.rollback's say.
    require(ctx, "rollback", state.requester or "", policy)
    branch = rejected_branch(model, version, remove=state.action == "unreject")
    new_text = build(tip).encode("utf-8")
    sha = ctx.ws.resolve(branch)
    pr = ctx.forge.find_pr(branch)
    record = write_record(ctx, sha)
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
    assessment = assess_rejection(
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
        body=assessment.body,
        labels=labels_for(state.action, ""),
        state=BranchState(sha, new_text if keep else None, keep, pr),
        checks=assessment.checks,
        record=render_record(state.requester),
    )
    number, _ = apply(ctx, plan.actions)
    out["pr"] = number if number is not None else (pr.number if pr else None)
    out["ready"], out["blockers"] = assessment.ready, assessment.blockers
    out["required_approvals"] = assessment.verdict.required
    verb = "opened" if pr is None else "updated"
    out["message"] = (
        f"{subject}: pull request #{out['pr']} {verb}; it takes effect when merged "
        f"(needs {assessment.verdict.required} approval(s) under rollback.approvals; "
        f"`promobot merge {out['pr']}` or /promote merges it)."
    )
    return out


def reject(
    ctx: Context, *, model: str, version: str, reason: str, actor: str, direct: bool = False
) -> dict[str, Any]:
    """Add ``model`` ``version`` to rejected.yaml (through a PR, or ``direct``)."""
    check_model_name(model)
    _check_version(version)
    why = revert.clean_reason(reason)
    if why is None:
        raise UsageError("a rejection needs a reason", "say why with --reason TEXT")
    with ctx.forge.transaction():
        tip = ctx.tip()
        policy = ctx.policy(tip)
        found = find_rejection(ctx.rejected(tip), model, version)
        if found is not None:
            raise NotApplicable(
                f"{model} {version} is already rejected (by {found.by or 'someone'} at {found.at})",
                f"nothing to do; `promobot unreject {model} {version}` removes it",
            )
        branch_entry = branch_rejection(ctx, rejected_branch(model, version), model, version)
        entry = revert.rejection(
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
            raise NotApplicable(
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
