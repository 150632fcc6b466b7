"""Validation gates: the built-in and policy gates of reference §3, judged purely.

Everything the gates need is gathered beforehand into :class:`GateInputs` (manifests,
rejections, when the version reached ``from``, the artifact check, command outcomes);
``evaluate`` turns it into one :class:`~bot.core.model.GateResult` per gate. The clock
is the ``now`` argument: nothing here reads the time, the network or the environment.

Choices the design leaves open, written down here:

- When the candidate manifest does not load, ``schema`` fails and every gate that needs
  the candidate fails with "not checked" (so the PR never looks ready by accident).
- ``skip_kinds`` applies to the built-ins too (their kind is their name).
- A naive datetime (``now``, ``became_current_at``) is taken to be UTC.
- Freeze windows: see ``gate_time``.

Where each gate is judged: the facts in ``gate_inputs``; ``schema``, ``order``, ``integrity``,
``not-rejected`` and ``verified`` in ``gate_builtins``; ``metric``, ``compare`` and ``registry``
in ``gate_metrics``; ``soak`` and ``freeze`` in ``gate_time``; ``artifact``, ``command`` and
``prometheus`` in ``gate_evidence``. This module is the entry point: it runs them in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from bot.core import gate_builtins, gate_evidence, gate_metrics, gate_time
from bot.core.gate_inputs import GateInputs, as_utc
from bot.core.model import GateOutcome, GateResult
from bot.core.policy_model import (
    ArtifactGate,
    CommandGate,
    CompareGate,
    FreezeGate,
    Gate,
    MetricGate,
    SoakGate,
)
from bot.core.promql import PrometheusGate


def evaluate(
    gates: Sequence[Gate],
    inputs: GateInputs,
    *,
    now: datetime,
    skip_kinds: frozenset[str] = frozenset(),
) -> list[GateResult]:
    """Judge the built-ins (schema, order, integrity, not-rejected), then ``gates`` in policy order.

    ``skip_kinds`` drops gates by kind, e.g. ``{"soak", "compare"}`` for rollback PRs.
    """
    now = as_utc(now)
    results: list[GateResult] = []
    builtins = (
        ("schema", gate_builtins.schema),
        ("order", gate_builtins.order),
        ("integrity", gate_builtins.integrity),
        ("not-rejected", gate_builtins.not_rejected),
    )
    for kind, judge in builtins:
        if kind not in skip_kinds:
            results.append(judge(inputs))
    if inputs.verified is not None and "verified" not in skip_kinds:
        results.append(gate_builtins.verified(inputs, inputs.verified))
    if "registry" not in skip_kinds and inputs.registry is not None and inputs.registry.candidate is not None:
        results.append(gate_metrics.registry(inputs.registry.candidate, inputs.candidate))
    for gate in gates:
        if gate.kind not in skip_kinds:
            results.append(_policy_gate(gate, inputs, now))
    return results


def overall(results: Sequence[GateResult]) -> GateOutcome:
    """failure if any gate failed, else pending if any is pending, else success."""
    outcomes = {r.result for r in results}
    if "failure" in outcomes:
        return "failure"
    if "pending" in outcomes:
        return "pending"
    return "success"


def needs_artifact(gates: Iterable[Gate]) -> ArtifactGate | None:
    """The artifact gate of this policy, if any: the app then verifies the artifact first."""
    for gate in gates:
        if isinstance(gate, ArtifactGate):
            return gate
    return None


def command_gates(gates: Iterable[Gate]) -> list[CommandGate]:
    """The command gates of this policy, in policy order: the app runs them before ``evaluate``."""
    return [g for g in gates if isinstance(g, CommandGate)]


def prometheus_gates(gates: Iterable[Gate]) -> list[PrometheusGate]:
    """The prometheus gates of this policy: the app gathers their evidence before ``evaluate``."""
    return [g for g in gates if isinstance(g, PrometheusGate)]


def _policy_gate(gate: Gate, inputs: GateInputs, now: datetime) -> GateResult:
    if isinstance(gate, MetricGate):
        return gate_metrics.metric(gate, inputs)
    if isinstance(gate, CompareGate):
        return gate_metrics.compare(gate, inputs)
    if isinstance(gate, SoakGate):
        return gate_time.soak(gate, inputs, now)
    if isinstance(gate, FreezeGate):
        return gate_time.freeze(gate, now)
    if isinstance(gate, ArtifactGate):
        return gate_evidence.artifact(inputs)
    if isinstance(gate, PrometheusGate):
        return gate_evidence.prometheus(gate, inputs)
    return gate_evidence.command(gate, inputs)
