"""Assessing any promobot pull request with one function: gates, approvals, blockers, checks and
body of a promotion, rollback, reject or unreject at one head commit."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.app.blockers import (
    foreign_blockers,
    readiness_blockers,
    rejection_content_blockers,
    rejection_entry,
    rollback_blockers,
    scope_blockers,
)
from bot.app.context import Context
from bot.app.evidence import gate_inputs
from bot.app.facts import PrContext, env_versions
from bot.app.records import write_record
from bot.core import approvals as approvals_core
from bot.core import due as due_core
from bot.core import gates as gates_core
from bot.core import manifest as manifests
from bot.core import render
from bot.core.branches import REJECT_ACTIONS
from bot.core.command_table import pr_commands
from bot.core.marker import PrState
from bot.core.messages import approvals_text
from bot.core.model import LABEL_HOLD, GateOutcome, GateResult, Manifest, Permission, PullRequest
from bot.core.paths import POLICY_PATH, REJECTED_PATH, manifest_path
from bot.core.plan import Checks
from bot.core.policy_model import EnvironmentPolicy, Policy
from bot.core.readiness import Blocker, make_checks
from bot.errors import ForgeError, ManifestError, NotApplicable, UsageError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Assessment:
    """Everything known about one promotion candidate at one head commit."""

    state: PrState
    policy: Policy
    env: EnvironmentPolicy | None
    """None for a reject / unreject PR (rejected.yaml belongs to no environment)."""
    base_sha: str
    head_sha: str | None
    path: str
    old_text: bytes | None
    new_text: bytes
    candidate: Manifest | None
    incumbent: Manifest | None
    results: list[GateResult]
    verdict: approvals_core.ApprovalVerdict
    blockers: list[Blocker]
    checks: Checks
    body: str

    @property
    def ready(self) -> bool:
        return not self.blockers

    @property
    def gates_outcome(self) -> GateOutcome:
        return gates_core.overall(self.results)


def approvals_for(
    ctx: Context, pr: PullRequest, env: EnvironmentPolicy | None, state: PrState, policy: Policy
) -> approvals_core.ApprovalVerdict:
    """Count the approvals of ``pr`` at its current head (``env`` None: a reject / unreject PR)."""
    return count_approvals_of(ctx, pr, pr.head_sha, env, state, policy)


def count_approvals_of(
    ctx: Context,
    pr: PullRequest | None,
    head_sha: str | None,
    env: EnvironmentPolicy | None,
    state: PrState,
    policy: Policy,
) -> approvals_core.ApprovalVerdict:
    # Rollbacks and reject / unreject PRs merge under rollback.approvals.
    if state.action != "promote":
        rules = policy.rollback.approvals
    elif env is not None:
        rules = env.approvals
    else:
        raise NotApplicable(f"environment {state.to!r} is gone from {POLICY_PATH}", "close this pull request")
    reviews = ctx.forge.list_reviews(pr.number) if pr is not None and head_sha else []
    pushers = _pushers(ctx, pr, head_sha) if reviews else frozenset()
    members: dict[str, frozenset[str]] = {}
    candidates = approvals_core.logins_to_check(reviews)
    direct = {a.lower() for a in rules.approvers if not a.startswith("@")}
    if candidates - direct:  # teams matter only for reviewers not listed by login (saves requests)
        for team in approvals_core.teams_to_resolve(rules):
            try:
                members[team] = ctx.forge.team_members(team)
            except ForgeError as exc:  # fail closed: nobody counts through a team we cannot read
                logger.warning("approvers: %s", exc.message)
                members[team] = frozenset()
    permissions: dict[str, Permission] = {}
    for login in candidates:
        permissions[login] = ctx.forge.permission(login)
    return approvals_core.count_approvals(
        approvals_core.ApprovalInputs(
            reviews=reviews,
            head_sha=head_sha or "",
            author=pr.author if pr else ctx.forge.bot_login,
            requester=state.requester,
            pushers=frozenset(p.lower() for p in pushers),
            bot_login=ctx.forge.bot_login,
            policy=rules,
            team_members=members,
            permissions=permissions,
        )
    )


def _pushers(ctx: Context, pr: PullRequest | None, head_sha: str | None) -> frozenset[str]:
    """Who put commits on the PR's branch; the forge is asked only when promobot did not write the head.

    A head with promobot's write record is promobot's one commit on the default branch, so
    nobody else pushed. Commit identities are never taken as evidence: anyone can type the
    bot's name into a commit. Otherwise the PR is not ready anyway (``foreign_blockers``);
    the forge's list still keeps whoever pushed from approving.
    """
    if pr is None or head_sha is None or write_record(ctx, head_sha) is not None:
        return frozenset()
    return ctx.forge.pushers(pr.number)


def assess(
    ctx: Context,
    *,
    state: PrState,
    base_sha: str,
    new_text: bytes,
    old_text: bytes | None,
    source: Manifest | None,
    pr: PullRequest | None,
    head_sha: str | None,
    reason: str | None = None,
) -> Assessment:
    """Evaluate gates, approvals, hold and readiness for one candidate; render the body."""
    policy = ctx.policy(base_sha)
    env = policy.env(state.to)
    if env is None:
        raise UsageError(f"environment {state.to!r} is gone from {POLICY_PATH}", "close this pull request")
    path = manifest_path(state.to, state.model)
    candidate: Manifest | None
    candidate_error = None
    try:
        candidate = manifests.load_manifest(new_text, path=path, expected_name=state.model)
    except ManifestError as exc:
        candidate, candidate_error = None, exc.message
    incumbent = None
    incumbent_error = None
    if old_text is not None:
        try:
            incumbent = manifests.load_manifest(old_text, path=path, expected_name=state.model)
        except ManifestError as exc:
            incumbent, incumbent_error = None, exc.message
    skip = frozenset({"soak", "compare", "verified"}) if state.action == "rollback" else frozenset()
    inputs = gate_inputs(
        ctx,
        state=state,
        env=env,
        policy=policy,
        base_sha=base_sha,
        candidate=candidate,
        candidate_error=candidate_error,
        source=source,
        incumbent=incumbent,
        skip_kinds=skip,
    )
    results = gates_core.evaluate(env.gates, inputs, now=ctx.now, skip_kinds=skip)
    if incumbent_error is not None and state.action == "promote":
        results = _fail_closed_on_incumbent(ctx, results, path, incumbent_error)
    verdict = count_approvals_of(ctx, pr, head_sha, env, state, policy)
    blockers = foreign_blockers(ctx, state, head_sha)
    blockers += readiness_blockers(ctx, pr, head_sha, results, verdict)
    if head_sha is not None:
        blockers += scope_blockers(ctx, base_sha=base_sha, head_sha=head_sha, action=state.action, path=path)
        if state.action == "rollback":
            blockers += rollback_blockers(ctx, state=state, base_sha=base_sha, head_sha=head_sha, path=path)
    checks = make_checks(results, verdict, blockers)
    versions = env_versions(ctx, base_sha, policy, state.model)
    body = render.pr_body(
        render.PrBody(
            state=state,
            policy=policy,
            versions=versions,
            results=results,
            candidate=candidate,
            incumbent=incumbent,
            path=path,
            old_text=old_text.decode("utf-8", "replace") if old_text is not None else None,
            new_text=new_text.decode("utf-8", "replace"),
            approvals_text=approvals_text(verdict),
            commands=pr_commands(state.action),
            reason=reason,
            incumbent_error=incumbent_error if state.action == "promote" else None,
        )
    )
    due = due_core.next_change(results, ready=not blockers, auto_merge=env.auto_merge)
    body = with_due(
        ctx, body, base_sha=base_sha, policy=policy, model=state.model, head_sha=head_sha, pr=pr, due=due
    )
    return Assessment(
        state=state,
        policy=policy,
        env=env,
        base_sha=base_sha,
        head_sha=head_sha,
        path=path,
        old_text=old_text,
        new_text=new_text,
        candidate=candidate,
        incumbent=incumbent,
        results=results,
        verdict=verdict,
        blockers=blockers,
        checks=checks,
        body=body,
    )


def model_inputs(
    ctx: Context, sha: str, policy: Policy, model: str, blob_ids: dict[str, str] | None = None
) -> str:
    """The due marker's digest of what evaluating ``model``'s PRs reads at ``sha`` (one git process)."""
    ids = blob_ids if blob_ids is not None else ctx.ws.blob_ids(sha, "environments")
    blobs = due_core.model_inputs(
        ids, model=model, envs=policy.names, policy_path=POLICY_PATH, rejected_path=REJECTED_PATH
    )
    return due_core.inputs_digest(blobs)


def with_due(
    ctx: Context,
    body: str,
    *,
    base_sha: str,
    policy: Policy,
    model: str,
    head_sha: str | None,
    pr: PullRequest | None,
    due: due_core.Next,
) -> str:
    """``body`` with the due marker the scheduled run reads (``bot.core.due``).

    ``head_sha`` None: the plan writes a new head; ``apply`` puts its SHA in the marker.
    """
    flags = (
        due_core.pr_flags(draft=pr.draft, labels=pr.labels, hold_label=LABEL_HOLD) if pr is not None else ()
    )
    marker = due_core.render_due(
        due_core.Due(
            next=due,
            inputs=model_inputs(ctx, base_sha, policy, model),
            head=head_sha or due_core.HEAD_PLACEHOLDER,
            flags=flags,
        )
    )
    return body.rstrip("\n") + "\n" + marker + "\n"


def _fail_closed_on_incumbent(
    ctx: Context, results: list[GateResult], path: str, error: str
) -> list[GateResult]:
    """An incumbent manifest that exists but does not load is not "no incumbent": compare fails.

    (A rollback may still replace a broken manifest: it runs no compare gates.) Without a
    compare gate the promotion is blocked by a gate of its own, so nothing passes silently.
    """
    reason = f"{path} on {ctx.default_branch} does not load — fix it first: {error}"
    out = [GateResult(r.name, r.kind, "failure", reason) if r.kind == "compare" else r for r in results]
    if not any(r.kind == "compare" for r in results):
        out.append(GateResult("incumbent", "compare", "failure", reason))
    return out


NO_GATES = "no gates for a change to rejected.yaml"


def assess_rejection(
    ctx: Context,
    *,
    state: PrState,
    base_sha: str,
    new_text: bytes,
    old_text: bytes | None,
    pr: PullRequest | None,
    head_sha: str | None,
) -> Assessment:
    """Approvals, scope and readiness of a reject / unreject PR (no gates: no manifest changes)."""

    policy = ctx.policy(base_sha)
    verdict = count_approvals_of(ctx, pr, head_sha, None, state, policy)
    blockers = foreign_blockers(ctx, state, head_sha) + readiness_blockers(ctx, pr, head_sha, [], verdict)
    blockers += rejection_content_blockers(
        ctx, state=state, base_sha=base_sha, head_sha=head_sha, new_text=new_text
    )
    if head_sha is not None:
        blockers += scope_blockers(
            ctx, base_sha=base_sha, head_sha=head_sha, action=state.action, path=REJECTED_PATH
        )
    made = make_checks([], verdict, blockers)
    checks = Checks(
        gates=(
            "success",
            NO_GATES,
            f"A change to {REJECTED_PATH} runs no gates; it merges under `rollback.approvals`.",
        ),
        approvals=made.approvals,
        ready=made.ready,
    )
    body = render.rejection_body(
        state,
        rejection_entry(ctx, state, new_text, old_text),
        rejected_path=REJECTED_PATH,
        approvals=approvals_text(verdict),
        commands=pr_commands(state.action),
    )
    due = due_core.next_change([], ready=not blockers, auto_merge=False)
    body = with_due(
        ctx, body, base_sha=base_sha, policy=policy, model=state.model, head_sha=head_sha, pr=pr, due=due
    )
    return Assessment(
        state=state,
        policy=policy,
        env=None,
        base_sha=base_sha,
        head_sha=head_sha,
        path=REJECTED_PATH,
        old_text=old_text,
        new_text=new_text,
        candidate=None,
        incumbent=None,
        results=[],
        verdict=verdict,
        blockers=blockers,
        checks=checks,
        body=body,
    )


def assess_pr(ctx: Context, pc: PrContext) -> Assessment:
    """Assess an existing PR at its current head."""
    if pc.state.action in REJECT_ACTIONS:
        return assess_rejection(
            ctx,
            state=pc.state,
            base_sha=pc.base_sha,
            new_text=pc.new_text,
            old_text=pc.old_text,
            pr=pc.pr,
            head_sha=pc.pr.head_sha,
        )
    return assess(
        ctx,
        state=pc.state,
        base_sha=pc.base_sha,
        new_text=pc.new_text,
        old_text=pc.old_text,
        source=pc.source,
        pr=pc.pr,
        head_sha=pc.pr.head_sha,
    )
