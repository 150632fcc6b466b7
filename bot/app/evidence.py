"""The evidence gates judge, gathered through the ports: artifact and command checks, the
verified gate's check, registry facts and Prometheus queries (reference §5, §15, §16)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.app import sync
from bot.app.context import Context
from bot.app.records import bringing_commit, verify_check
from bot.core import gates as gates_core
from bot.core import promql
from bot.core.gate_inputs import GateInputs, VerifiedInput
from bot.core.marker import PrState
from bot.core.model import Manifest
from bot.core.paths import manifest_path
from bot.core.policy_model import EnvironmentPolicy, Gate, Policy
from bot.core.promql import Evidence, PrometheusGate


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


def gate_inputs(
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
    brought = bringing_commit(entries, candidate.version)
    if brought is None or brought.action not in ("promote", "rollback"):
        return VerifiedInput(
            None, "it was not brought there by a promotion or rollback — promote it through promobot"
        )
    _, until = source.verify.window(brought.at)
    check = verify_check(ctx, brought.sha)
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
