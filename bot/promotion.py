"""Use cases, write side: promote, assess a pull request, merge, chain.

Every use case gathers state through the ports, decides in ``bot.core`` and applies
the resulting plan; ``dry_run`` stops after deciding.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from bot import sync
from bot import verify as verifying
from bot.app import (
    POLICY_PATH,
    REJECTED_PATH,
    Context,
    check_env,
    check_model_name,
    manifest_path,
    read_manifest,
)
from bot.core import approvals as approvals_core
from bot.core import due as due_core
from bot.core import gates as gates_core
from bot.core import manifest as manifests
from bot.core import promql, render, trailers
from bot.core import verify as verify_core
from bot.core.gate_inputs import GateInputs, VerifiedInput
from bot.core.marker import PrState, WriteRecord, parse_record, parse_state, render_record
from bot.core.model import (
    CHECK_NAMES,
    LABEL_HOLD,
    EnvironmentPolicy,
    Gate,
    GateOutcome,
    GateResult,
    Manifest,
    Permission,
    Policy,
    PullRequest,
    Rejection,
)
from bot.core.plan import (
    HEAD,
    REJECT_ACTIONS,
    Action,
    AddLabels,
    BranchRef,
    BranchState,
    Checks,
    MoveBranch,
    OpenPr,
    SetCheck,
    UpdatePr,
    WriteCommit,
    describe,
    labels_for,
    parse_branch,
    plan_pr_update,
    promotion_branch,
)
from bot.core.promql import Evidence, PrometheusGate
from bot.core.rejected import find_rejection, load_rejected
from bot.errors import Blocked, BotError, ConflictError, ForgeError, ManifestError, OutageError, UsageError

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- assessment


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
    blockers: list[str]
    checks: Checks
    body: str

    @property
    def ready(self) -> bool:
        return not self.blockers

    @property
    def gates_outcome(self) -> GateOutcome:
        return gates_core.overall(self.results)


def _became_current(ctx: Context, sha: str, env: str, model: str, version: str) -> datetime | None:
    """When ``version`` became what ``env`` runs (from the manifest's history), or None."""
    entries = ctx.ws.history(manifest_path(env, model), ref=sha)
    when: datetime | None = None
    for entry in entries:  # newest first: walk back while the version is the one we want
        if entry.version != version:
            break
        when = entry.at
        if entry.previous_version != version:
            break
    return when


def _gate_inputs(
    ctx: Context,
    *,
    state: PrState,
    env: EnvironmentPolicy,
    policy: Policy,
    base_sha: str,
    candidate: Manifest | None,
    candidate_error: str | None,
    source: Manifest | None,
    incumbent: Manifest | None,
    skip_kinds: frozenset[str],
) -> GateInputs:
    gates = [g for g in env.gates if g.kind not in skip_kinds]
    artifact = None
    spec = gates_core.needs_artifact(gates)
    if spec is not None and candidate is not None and ctx.gates is not None:
        artifact = ctx.gates.verify_artifact(
            candidate.artifact_uri,
            candidate.artifact_digest,
            max_bytes=spec.max_bytes,
            timeout=spec.timeout,
            ref=base_sha,  # the commit the gates judge, never the working tree (like command gates)
        )
    commands = {}
    if candidate is not None and ctx.gates is not None:
        for cmd in gates_core.command_gates(gates):
            commands[cmd.name] = ctx.gates.run_command(
                cmd,
                base_sha=base_sha,
                manifest=dict(candidate.data),
                model=state.model,
                from_env=state.from_ or "",
                to_env=state.to,
            )
    verified = _verified_input(ctx, policy, state=state, base_sha=base_sha, candidate=candidate)
    registry = sync.gate_evidence(ctx, policy, candidate=candidate, incumbent=incumbent, gates=gates)
    prometheus = _prometheus_evidence(
        ctx, gates, policy=policy, state=state, candidate=candidate, incumbent=incumbent
    )
    became = None
    if candidate is not None and state.from_ and any(g.kind == "soak" for g in gates):
        became = _became_current(ctx, base_sha, state.from_, state.model, candidate.version)
    return GateInputs(
        model=state.model,
        from_env=state.from_ or state.to,
        to_env=state.to,
        candidate=candidate,
        candidate_error=candidate_error,
        source=source,
        incumbent=incumbent,
        local_keys=policy.local_keys,
        rejections=ctx.rejected(base_sha),
        became_current_at=became,
        artifact=artifact,
        commands=commands,
        registry=registry,
        prometheus=prometheus,
        verified=verified,
        action=state.action,
        from_is_first=(source_env := policy.env(state.from_ or state.to)) is not None
        and not source_env.from_,
    )


def _verified_input(
    ctx: Context, policy: Policy, *, state: PrState, base_sha: str, candidate: Manifest | None
) -> VerifiedInput | None:
    """The candidate's verification in ``from`` when ``from`` has ``verify:`` (README: live data)."""
    source = policy.env(state.from_) if state.from_ else None
    if source is None or source.verify is None or state.action != "promote" or candidate is None:
        return None
    entries = ctx.ws.history(manifest_path(source.name, state.model), ref=base_sha)
    brought = verifying.bringing_commit(entries, candidate.version)
    if brought is None or brought.action not in ("promote", "rollback"):
        return VerifiedInput(
            None, "it was not brought there by a promotion or rollback — promote it through promobot"
        )
    _, until = verify_core.window(source.verify, brought.at)
    check = verifying.verify_check(ctx, brought.sha)
    if check is None:
        return VerifiedInput("pending", "not evaluated yet (`promobot verify` runs it)", until)
    return VerifiedInput(check.result, check.title, until)


def _prometheus_evidence(
    ctx: Context,
    gates: Sequence[Gate],
    *,
    policy: Policy,
    state: PrState,
    candidate: Manifest | None,
    incumbent: Manifest | None,
) -> dict[PrometheusGate, Evidence | str]:
    """Query each prometheus gate over its last ``over`` at promobot's clock (README: live data)."""
    found: dict[PrometheusGate, Evidence | str] = {}
    if candidate is None or ctx.gates is None:
        return found
    end = ctx.now.timestamp()
    for gate in gates_core.prometheus_gates(gates):
        env = gate.env or state.from_ or state.to
        values = {
            "model": state.model,
            "version": candidate.version,
            "env": env,
            "previous_version": incumbent.version if incumbent is not None else None,
        }
        try:
            query = promql.render(gate.query, values)
            traffic = promql.render(gate.traffic.query, values) if gate.traffic is not None else None
        except ValueError as exc:
            found[gate] = (
                f"the query uses {{{{ previous_version }}}} but {state.to} runs no version yet"
                " — compare against a fixed bound instead, or promote without this gate"
                if values["previous_version"] is None
                else f"the query cannot be built: {exc}"
            )
            continue
        provider = policy.providers.prometheus[gate.provider]
        found[gate] = ctx.gates.prometheus(provider, gate, query, traffic, start=end - gate.over, end=end)
    return found


def approvals_for(
    ctx: Context, pr: PullRequest, env: EnvironmentPolicy | None, state: PrState, policy: Policy
) -> approvals_core.ApprovalVerdict:
    """Count the approvals of ``pr`` at its current head (``env`` None: a reject / unreject PR)."""
    return _approvals(ctx, pr, pr.head_sha, env, state, policy)


def write_record(ctx: Context, sha: str | None) -> WriteRecord | None:
    """promobot's write record on commit ``sha`` — None when promobot did not write it.

    The record lives on promobot's own checks of the commit (GitHub: the check run's
    ``external_id``), which nobody else's credentials can write; commit authors, committers,
    trailers and the PR body are text any pusher can type (SECURITY.md). Free on GitHub:
    the checks of a commit are read once per run and needed for readiness anyway.
    """
    if sha is None:
        return None
    for check in ctx.forge.list_checks(sha):
        if check.by_promobot:
            found = parse_record(check.record)
            if found is not None:
                return found
    return None


def rebuild_hint(state: PrState) -> str:
    """The command that rebuilds the branch of a promobot PR like ``state``'s."""
    if state.action == "rollback":
        return f"re-run `promobot rollback {state.model} --env {state.to}` to rebuild it"
    if state.action == "reject":
        return f"re-run `promobot reject {state.model} {state.version} --reason …` to rebuild it"
    if state.action == "unreject":
        return f"re-run `promobot unreject {state.model} {state.version}` to rebuild it"
    return (
        f"re-run `promobot promote {state.model} --to {state.to}` (or `/retest` after a rebuild) "
        "to rebuild it"
    )


def foreign_blockers(ctx: Context, state: PrState, head_sha: str | None) -> list[str]:
    """A PR head promobot did not write is never ready: bot branches carry only promobot's commits."""
    if head_sha is None or write_record(ctx, head_sha) is not None:
        return []
    return [f"this branch carries commits promobot did not write — {rebuild_hint(state)}"]


def _approvals(
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
        raise UsageError(f"environment {state.to!r} is gone from {POLICY_PATH}", "close this pull request")
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


def approvals_text(verdict: approvals_core.ApprovalVerdict) -> str:
    head = f"**{len(verdict.counted)} of {verdict.required}** required approvals"
    if verdict.blocking:
        head += f"; blocked by {len(verdict.blocking)} change request(s)"
    lines = [render.code(line) for line in verdict.summary_lines()]
    return head + ("\n\n" + render.bullet_list(lines) if lines else "")


def _commands_help(action: str) -> list[str]:
    lines = [
        "`/promote` — merge when every check is green",
        "`/retest` — re-evaluate gates and approvals",
        "`/hold [reason]` / `/unhold` — block or allow merging",
        "`/cancel` — close this pull request",
        "`/status` — versions everywhere and what blocks this PR",
    ]
    if action == "promote":
        lines.append("`/rollback [VERSION]` — after merging: roll this environment back")
    return lines


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
    inputs = _gate_inputs(
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
    verdict = _approvals(ctx, pr, head_sha, env, state, policy)
    blockers = foreign_blockers(ctx, state, head_sha)
    blockers += readiness_blockers(ctx, pr, head_sha, results, verdict)
    if head_sha is not None:
        blockers += scope_blockers(ctx, base_sha=base_sha, head_sha=head_sha, action=state.action, path=path)
        if state.action == "rollback":
            blockers += rollback_blockers(ctx, state=state, base_sha=base_sha, head_sha=head_sha, path=path)
    checks = make_checks(results, verdict, blockers)
    versions = _versions(ctx, base_sha, policy, state.model)
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
            commands=_commands_help(state.action),
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


def _versions(ctx: Context, sha: str, policy: Policy, model: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in policy.names:
        try:
            _, m = read_manifest(ctx, sha, name, model)
        except ManifestError:
            m = None
        out[name] = m.version if m else None
    return out


# --------------------------------------------------------------------------- reject / unreject PRs

NO_GATES = "no gates for a change to rejected.yaml"


def _rejection_entry(
    ctx: Context, state: PrState, new_text: bytes, old_text: bytes | None
) -> Rejection | None:
    """The entry the PR adds (reject, from its head) or removes (unreject, from the base)."""
    try:
        entries = load_rejected(new_text if state.action == "reject" else old_text)
    except ManifestError:
        return None
    return find_rejection(entries, state.model, state.version)


def _rejection_content_blockers(
    ctx: Context, *, state: PrState, base_sha: str, head_sha: str | None, new_text: bytes
) -> list[str]:
    """The branch's rejected.yaml must add (remove) exactly its own entry and agree with the base."""
    what = f"{state.model} {state.version}"
    try:
        new = load_rejected(new_text)
    except ManifestError as exc:
        return [f"{REJECTED_PATH} on the branch does not load: {exc.message}"]
    base = ctx.rejected(base_sha)
    on_base = find_rejection(base, state.model, state.version) is not None
    on_head = find_rejection(new, state.model, state.version) is not None
    blockers = []
    if state.action == "reject":
        if on_base:
            blockers.append(
                f"{what} is already rejected on {ctx.default_branch} — `/cancel` this pull request"
            )
        if not on_head:
            blockers.append(f"the branch does not add {what} to {REJECTED_PATH} — re-run promobot reject")
    else:
        if not on_base:
            blockers.append(f"{what} is not rejected on {ctx.default_branch} — /cancel this pull request")
        if on_head:
            blockers.append(f"the branch still lists {what} in {REJECTED_PATH} — re-run promobot unreject")
    fork = (ctx.ws.merge_base(base_sha, head_sha) if head_sha else None) or base_sha
    before = base if fork == base_sha else ctx.rejected(fork)

    def others(entries: Sequence[Rejection]) -> list[Rejection]:
        return [r for r in entries if (r.model, r.version) != (state.model, state.version)]

    if others(before) != others(new):
        blockers.append(
            f"the branch changes other entries of {REJECTED_PATH} — a {state.action} pull request may "
            f"change only {what}; re-run `promobot {state.action}` to rebuild it"
        )
    return blockers


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
    from bot.rollback import rejection_body

    policy = ctx.policy(base_sha)
    verdict = _approvals(ctx, pr, head_sha, None, state, policy)
    blockers = foreign_blockers(ctx, state, head_sha) + readiness_blockers(ctx, pr, head_sha, [], verdict)
    blockers += _rejection_content_blockers(
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
    body = rejection_body(
        state,
        _rejection_entry(ctx, state, new_text, old_text),
        approvals=approvals_text(verdict),
        commands=[c for c in _commands_help(state.action)],
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


def readiness_blockers(
    ctx: Context,
    pr: PullRequest | None,
    head_sha: str | None,
    results: Sequence[GateResult],
    verdict: approvals_core.ApprovalVerdict,
) -> list[str]:
    """Everything that stops a merge now, one line each (empty = ready)."""
    blockers: list[str] = []
    if pr is not None:
        if pr.state != "open":
            blockers.append(f"the pull request is {pr.state}")
        if pr.draft:
            blockers.append("the pull request is a draft — mark it ready for review")
        if LABEL_HOLD in pr.labels:
            blockers.append(f"on hold (label {LABEL_HOLD}) — /unhold lifts it")
        if pr.from_fork:
            blockers.append("the head branch is in a fork — promobot only merges its own branches")
    for r in results:
        if r.result != "success":
            blockers.append(f"gate {r.name}: {r.result} — {r.reason}")
    if not verdict.satisfied:
        if verdict.blocking:
            for item in verdict.blocking:
                blockers.append(f"changes requested by {item.login}")
        if len(verdict.counted) < verdict.required:
            blockers.append(f"approvals: {len(verdict.counted)} of {verdict.required}")
    if head_sha:
        for check in ctx.forge.list_checks(head_sha):
            if check.name in CHECK_NAMES and not check.by_promobot:
                blockers.append(
                    f"a check named {check.name} was posted by someone other than promobot — "
                    "promobot ignores it; remove it and require the check from promobot's app only"
                )
    return blockers


def scope_blockers(ctx: Context, *, base_sha: str, head_sha: str, action: str, path: str) -> list[str]:
    """A promobot PR may change its target manifest (and rejected.yaml for a rollback), nothing else.

    Anyone with write access can push to the PR's branch; the base policy judges the PR and
    the pusher cannot approve it, but a squash merge would still carry their extra files
    (say, a new promotion.yaml or gate script) onto the default branch.
    """
    allowed = {path, REJECTED_PATH} if action == "rollback" else {path}
    what = f"{action} pull request" if action in REJECT_ACTIONS else "promotion"
    fork = ctx.ws.merge_base(base_sha, head_sha) or base_sha
    extra = sorted(set(ctx.ws.changed_files(fork, head_sha)) - allowed)
    if not extra:
        return []
    shown = ", ".join(extra[:5]) + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
    return [
        f"the pull request also changes {shown} — a {what} may change only {path}; "
        f"remove those commits or re-run `promobot {action}` to rebuild the branch"
    ]


def rollback_blockers(ctx: Context, *, state: PrState, base_sha: str, head_sha: str, path: str) -> list[str]:
    """A rollback PR rolls back the version its branch was built on, and rejects only that one.

    The branch forks from the default branch where the environment ran the bad version. It
    is ready only while the environment still runs it (a later merge makes it stale), and its
    only change to rejected.yaml is the entry promobot adds for that version: a hand edit
    could otherwise unreject other versions or leave the file invalid (``rejected.yaml`` on
    the head must load, as the schema gate requires of the base).
    """
    fork = ctx.ws.merge_base(base_sha, head_sha) or base_sha
    bad = _version_of(ctx.ws.read(fork, path), path, state.model)
    now = _version_of(ctx.ws.read(base_sha, path), path, state.model)
    blockers = []
    if bad is not None and now != bad:
        blockers.append(
            f"stale: {state.to} now runs {state.model} {now or 'nothing'}, not {bad} that this rollback "
            f"rolls back — {rebuild_hint(state)}"
        )
    try:
        head = load_rejected(ctx.ws.read(head_sha, REJECTED_PATH))
    except ManifestError as exc:
        why = f"{REJECTED_PATH} on the branch does not load: {exc.message}"
        return [*blockers, f"{why} — {rebuild_hint(state)}"]
    before = ctx.rejected(fork)
    own = (state.model, bad)

    def others(entries: Sequence[Rejection]) -> list[Rejection]:
        return [r for r in entries if (r.model, r.version) != own]

    kept = find_rejection(before, state.model, bad or "")  # already rejected: must stay as it is
    if others(before) != others(head) or (
        kept is not None and find_rejection(head, state.model, bad or "") != kept
    ):
        what = f"{state.model} {bad}" if bad else "the rolled-back version"
        blockers.append(
            f"the branch changes other entries of {REJECTED_PATH} — a rollback may only add {what}; "
            f"{rebuild_hint(state)}"
        )
    return blockers


def make_checks(
    results: Sequence[GateResult], verdict: approvals_core.ApprovalVerdict, blockers: Sequence[str]
) -> Checks:
    outcome = gates_core.overall(results)
    failing = [r for r in results if r.result != "success"]
    gates_title = (
        f"{len(results)} gates passed"
        if outcome == "success"
        else f"{len(failing)} of {len(results)} gates {outcome}: " + ", ".join(r.name for r in failing[:4])
    )
    appr_outcome: GateOutcome = (
        "success" if verdict.satisfied else ("failure" if verdict.blocking else "pending")
    )
    appr_title = f"{len(verdict.counted)} of {verdict.required} approvals"
    if verdict.blocking:
        appr_title += f", {len(verdict.blocking)} change request(s)"
    ready: GateOutcome = "success" if not blockers else ("pending" if outcome != "failure" else "failure")
    ready_title = "ready to merge" if not blockers else f"{len(blockers)} blocker(s): {blockers[0]}"[:140]
    ready_summary = (
        "Ready: `/promote` merges it."
        if not blockers
        else render.bullet_list(render.plain(b) for b in blockers)
    )
    return Checks(
        gates=(outcome, gates_title, render.gates_details(results)),
        approvals=(appr_outcome, appr_title, approvals_text(verdict)),
        ready=(ready, ready_title, ready_summary),
    )


# --------------------------------------------------------------------------- promote


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


def promotion_message(state: PrState, *, extra: Sequence[tuple[str, str]] = ()) -> str:
    pairs = [
        ("Promobot-Action", "promote"),
        ("Promobot-Model", state.model),
        ("Promobot-From", state.from_ or ""),
        ("Promobot-To", state.to),
        ("Promobot-Version", state.version),
    ]
    if state.previous_version:
        pairs.append(("Promobot-Previous-Version", state.previous_version))
    if state.requester:
        pairs.append(("Promobot-Requested-By", state.requester))
    pairs.extend(extra)
    return trailers.build_message(promotion_title(state), "", pairs)


def promotion_title(state: PrState) -> str:
    return f"Promote {state.model} {state.version} to {state.to}"


def _branch_state(ctx: Context, branch: str, path: str, base_sha: str) -> BranchState:
    sha = ctx.ws.resolve(branch)
    pr = ctx.forge.find_pr(branch)
    if sha is None:
        return BranchState(None, pr=pr)
    content = ctx.ws.read(sha, path)
    commits = ctx.ws.commits_between(base_sha, sha)
    only_bot = (
        len(commits) == 1 and ctx.ws.is_ancestor(f"{sha}~1", base_sha) and write_record(ctx, sha) is not None
    )
    if only_bot:
        old = ctx.ws.blob_ids(f"{sha}~1", "environments")
        now = ctx.ws.blob_ids(sha, "environments")
        changed = {p for p in set(old) | set(now) if old.get(p) != now.get(p)}
        only_bot = changed <= {path}
    return BranchState(sha, content, only_bot, pr)


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
        raise UsageError(
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
        bstate = _branch_state(ctx, branch, path, c.base_sha)
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
        if bstate.pr is not None and _version_of(bstate.content, path, model) == source.version:
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
        a = assess(
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
            body=a.body,
            labels=labels_for("promote", to),
            state=bstate,
            checks=a.checks,
            record=render_record(requester),
        )
        result.results, result.blockers, result.ready = a.results, a.blockers, a.ready
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


def apply(ctx: Context, actions: Sequence[Action]) -> tuple[int | None, str | None]:
    """Apply a plan; returns (the PR number the plan opened or updated, the new head SHA)."""
    head: str | None = None
    number: int | None = None
    for action in actions:
        if isinstance(action, WriteCommit):
            head = ctx.ws.commit(
                parent=action.parent, files=action.files, message=action.message, author=action.author
            )
        elif isinstance(action, MoveBranch):
            sha = head if action.sha == HEAD else action.sha
            assert sha is not None
            ctx.ws.update_branch(action.branch, sha, expected=action.expected, force=action.force)
        elif isinstance(action, OpenPr):
            pr = ctx.forge.open_pr(
                head=action.head,
                base=action.base,
                title=action.title,
                body=due_core.name_head(action.body, head),
                labels=action.labels,
            )
            number = pr.number
            head = head or pr.head_sha
        elif isinstance(action, UpdatePr):
            number = action.number
            if action.title is not None or action.body is not None:
                body = due_core.name_head(action.body, head) if action.body is not None else None
                ctx.forge.update_pr(action.number, title=action.title, body=body)
        elif isinstance(action, AddLabels):
            target = action.number if action.number is not None else number
            assert target is not None
            ctx.forge.add_labels(target, action.labels)
        elif isinstance(action, SetCheck):
            sha = head if action.sha == HEAD else action.sha
            assert sha is not None
            ctx.forge.set_check(
                head_sha=sha,
                name=action.name,
                result=action.result,
                title=action.title,
                summary=action.summary,
                record=action.record,
            )
    return number, head


# --------------------------------------------------------------------------- evaluate an existing PR


@dataclass
class PrContext:
    pr: PullRequest
    state: PrState
    base_sha: str
    source: Manifest | None
    new_text: bytes
    old_text: bytes | None


def pr_context(ctx: Context, number: int, *, pr: PullRequest | None = None) -> PrContext:
    """Gather what a promobot PR is about; ``UsageError`` for PRs that are not promobot's.

    ``pr`` is the PR as just read from the forge, when the caller has it (saves a request).
    """
    pr = pr if pr is not None and pr.number == number else ctx.forge.get_pr(number)
    ref = parse_branch(pr.head_branch)
    marker = parse_state(pr.body)
    # The branch name is authoritative; the marker (in an editable body) must agree with it.
    if ref is None or marker is None or (marker.model, marker.to) != (ref.model, ref.env):
        raise UsageError(
            f"pull request #{number} is not a promobot promotion or rollback",
            "promobot only acts on the pull requests it opened (branches promobot/…)",
        )
    if pr.base_branch != ctx.default_branch:
        raise UsageError(
            f"pull request #{number} targets {pr.base_branch}, not {ctx.default_branch}",
            "promobot only promotes into the default branch",
        )
    if ref.is_rejection:
        return _rejection_context(ctx, pr, ref, marker)
    base_sha = ctx.tip()
    policy = ctx.policy(base_sha)
    check_env(policy, ref.env)
    path = manifest_path(ref.env, ref.model)
    new_text = ctx.ws.read(pr.head_sha, path) if pr.state != "merged" or pr.merge_sha is None else None
    if new_text is None:
        new_text = b""
    old_text = ctx.ws.read(base_sha, path)
    source: Manifest | None = None
    if marker.action != ref.action:  # an edited body cannot turn a promotion into a rollback
        action: Literal["promote", "rollback"] = "rollback" if ref.action == "rollback" else "promote"
        marker = PrState(action=action, model=ref.model, to=ref.env, version=marker.version)
    if ref.action == "promote":
        env = policy.env(ref.env)
        src_env = env.from_ if env else None
        if src_env:
            try:
                _, source = read_manifest(ctx, base_sha, src_env, ref.model)
            except ManifestError:
                source = None
        marker = PrState(**{**_asdict(marker), "from_": src_env})
    else:
        from bot.rollback import restored_manifest

        source = restored_manifest(ctx, marker)
    # Versions come from the manifests themselves, never from the (editable) marker.
    facts: dict[str, Any] = {
        "requester": _requester(ctx, pr, marker),
        "version": _version_of(new_text, path, ref.model) or marker.version,
        "previous_version": _version_of(old_text, path, ref.model),
    }
    state = PrState(**{**_asdict(marker), **facts})
    return PrContext(pr, state, base_sha, source, new_text, old_text)


def _rejection_context(ctx: Context, pr: PullRequest, ref: BranchRef, marker: PrState) -> PrContext:
    """A reject / unreject PR: the branch name says what and which version, never the body."""
    assert ref.version is not None
    base_sha = ctx.tip()
    new_text = (
        ctx.ws.read(pr.head_sha, REJECTED_PATH) if pr.state != "merged" or pr.merge_sha is None else None
    )
    old_text = ctx.ws.read(base_sha, REJECTED_PATH)
    action: Literal["reject", "unreject"] = "reject" if ref.action == "reject" else "unreject"
    state = PrState(
        action=action,
        model=ref.model,
        to="",
        version=ref.version,
        requester=_requester(ctx, pr, marker),
    )
    return PrContext(pr, state, base_sha, None, new_text or b"", old_text)


def _version_of(text: bytes | None, path: str, model: str) -> str | None:
    if not text:
        return None
    try:
        return manifests.load_manifest(text, path=path, expected_name=model).version
    except ManifestError:
        return None


def _asdict(state: PrState) -> dict[str, Any]:
    return {f: getattr(state, f) for f in state.__dataclass_fields__}


def _requester(ctx: Context, pr: PullRequest, marker: PrState) -> str | None:
    """Who asked for this PR: promobot's write record on the head says so.

    Never trailers or identities of the head commit. A head promobot did not write has no
    record and is never ready (``foreign_blockers``); only then the (editable) body's marker
    names the requester, which can keep a reviewer from counting but never make one count.
    """
    record = write_record(ctx, pr.head_sha)
    return record.requester if record is not None else marker.requester


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


def evaluate_pr(ctx: Context, number: int, *, post: bool = True, pr: PullRequest | None = None) -> Assessment:
    """Re-evaluate gates, approvals and readiness of PR ``number`` and update its checks and body.

    ``pr`` is the PR as just read from the forge, when the caller has it (saves a request).
    """
    with ctx.forge.transaction():
        pc = pr_context(ctx, number, pr=pr)
        if pc.pr.state != "open":
            raise Blocked(f"pull request #{number} is {pc.pr.state}", "nothing to evaluate")
        a = assess_pr(ctx, pc)
        if post:
            actions: list[Action] = list(a.checks.actions(pc.pr.head_sha))
            if pc.pr.body != a.body:
                actions.append(UpdatePr(number, None, a.body))
            apply(ctx, actions)
    return a


# --------------------------------------------------------------------------- merge


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
    from bot import commands

    with ctx.forge.transaction():
        pc = pr_context(ctx, number, pr=pr)
        if pc.pr.state == "merged":  # a re-run after an outage: finish what the first run began
            # Delete the merged branch only if it is still at the merged head: a newer promotion
            # may already reuse the name.
            if ctx.ws.resolve(pc.pr.head_branch) == pc.pr.head_sha:
                ctx.forge.delete_branch(pc.pr.head_branch)
            done = MergeResult(number, True, pc.pr.merge_sha, [])
            if pc.state.action in ("promote", "rollback"):  # the alias follows git as it is now
                done.registry = sync.follow_current(
                    ctx, policy=ctx.policy(pc.base_sha), env=pc.state.to, model=pc.state.model
                )
            done.chained = chain(ctx, pc.state, again=True)
            if pc.state.action in REJECT_ACTIONS:
                reevaluate_model(ctx, pc.state.model)
            return done
        if pc.pr.state != "open":
            return MergeResult(number, False, None, [f"the pull request is {pc.pr.state}"])
        if actor is not None:
            commands.require(ctx, "promote", actor, ctx.policy(pc.base_sha))
        a = assess_pr(ctx, pc)
        apply(
            ctx,
            list(a.checks.actions(pc.pr.head_sha))
            + ([UpdatePr(number, None, a.body)] if pc.pr.body != a.body else []),
        )
        if not a.ready:
            return MergeResult(number, False, None, a.blockers)
        approved = ", ".join(a.verdict.counted)
        extra = [("Promobot-PR", str(number))]
        if approved:
            extra.append(("Approved-by", approved))
        if pc.state.action == "promote":
            message = promotion_message(pc.state, extra=extra)
            title = f"{promotion_title(pc.state)} (#{number})"
        elif pc.state.action in REJECT_ACTIONS:
            from bot.rollback import rejection_message

            message = rejection_message(
                pc.state, _rejection_entry(ctx, pc.state, pc.new_text, pc.old_text), extra=extra
            )
            title = f"{message.splitlines()[0]} (#{number})"
        else:
            from bot.rollback import rollback_message

            message = rollback_message(pc.state, extra=extra, ctx=ctx)
            title = f"{message.splitlines()[0]} (#{number})"
        body = message.split("\n", 1)[1].lstrip("\n") if "\n" in message else ""
        try:
            sha = ctx.forge.merge(number, sha=pc.pr.head_sha, title=title, message=body)
        except ConflictError as exc:
            if ctx.forge.get_pr(number).head_sha != pc.pr.head_sha:
                raise  # the head moved: the new head is evaluated on its own
            # A promobot branch is rebuilt by promobot, never updated by hand (that makes it foreign).
            raise ConflictError(exc.what, f"nothing was merged; {rebuild_hint(pc.state)}") from exc
        ctx.forge.delete_branch(pc.pr.head_branch)
        logger.info("merged #%d as %s", number, sha)
        result = MergeResult(number, True, sha, [])
    result.registry = _follow_registry(ctx, pc, sha)
    result.chained = chain(ctx, pc.state)
    if pc.state.action in REJECT_ACTIONS:
        reevaluate_model(ctx, pc.state.model)
    return result


def reevaluate_model(ctx: Context, model: str) -> list[int]:
    """After rejected.yaml changed: re-evaluate every open promotion / rollback PR of ``model`` now.

    Their not-rejected gate reads rejected.yaml from the default branch; without this a PR of
    a just-rejected version would stay ready until someone re-ran its gates. Best effort: the
    change is already on the default branch, and a PR missed here is re-evaluated by its next
    event (``/retest``, the schedule). Returns the PR numbers re-evaluated.
    """
    done = []
    for pr in ctx.forge.list_prs(state="open"):
        ref = parse_branch(pr.head_branch)
        if ref is None or ref.is_rejection or ref.model != model:
            continue
        try:
            evaluate_pr(ctx, pr.number, pr=pr)
        except OutageError:
            raise
        except BotError as exc:
            logger.warning("re-evaluating #%d after rejected.yaml changed failed: %s", pr.number, exc.message)
            continue
        done.append(pr.number)
    return done


def _follow_registry(ctx: Context, pc: PrContext, sha: str | None) -> sync.FollowResult | None:
    """Move the environment's MLflow alias to the merged version (best effort, never raises)."""
    if pc.state.action not in ("promote", "rollback") or sha is None:
        return None
    return sync.follow(
        ctx,
        policy=ctx.policy(pc.base_sha),
        env=pc.state.to,
        model=pc.state.model,
        manifest_text=pc.new_text,
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
            except UsageError as exc:
                logger.warning("chained promotion to %s skipped: %s", nxt.name, exc.message)
    return chained


def _closed_by_someone(ctx: Context, env: str, state: PrState) -> bool:
    """A promotion PR of this model and version into ``env`` was opened and then closed unmerged."""
    closed = ctx.forge.find_pr(promotion_branch(env, state.model), state="closed")
    marker = parse_state(closed.body) if closed is not None else None
    return marker is not None and marker.version == state.version


def blockers_reply(number: int, blockers: Sequence[str]) -> str:
    lines = [render.plain(b) for b in blockers]
    return f"Pull request #{number} is not ready to merge:\n\n" + render.bullet_list(lines)


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
    src = ctx.ws.blob_ids(base_sha, f"environments/{env.from_}")
    dst = ctx.ws.blob_ids(base_sha, f"environments/{to}")
    results = []
    failed: dict[str, str] = {}
    for path in sorted(src):
        name = path.rsplit("/", 1)[-1]
        if not name.endswith(".yaml"):
            continue
        model = name[: -len(".yaml")]
        if dst.get(f"environments/{to}/{name}") == src[path]:
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
