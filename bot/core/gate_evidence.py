"""Gates judged on evidence the app gathered through a port (reference §3): the ``artifact``
hash, a ``command``'s exit, a ``prometheus`` query's series. Here they are only read.
"""

from __future__ import annotations

from bot.core import promql
from bot.core.gate_inputs import GateInputs, not_checked, num, short_digest
from bot.core.inline import fenced
from bot.core.model import GateResult
from bot.core.policy_model import CommandGate
from bot.core.promql import PrometheusGate


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"  # pragma: no cover - the loop returns at GB


def artifact(inputs: GateInputs) -> GateResult:
    """The ``artifact`` gate: what hashing the artifact found (``inputs.artifact``)."""
    check = inputs.artifact
    if check is None:
        return GateResult("artifact", "artifact", "failure", "artifact not checked")
    uri = inputs.candidate.artifact_uri if inputs.candidate is not None else "(unknown)"
    expected = inputs.candidate.artifact_digest if inputs.candidate is not None else "(unknown)"
    if check.outcome == "ok":
        return GateResult(
            "artifact",
            "artifact",
            "success",
            f"sha256 matches ({_size(check.bytes_read)})",
            details=f"`{uri}` hashes to `{check.actual_digest or expected}`.",
        )
    if check.outcome == "mismatch":
        actual = check.actual_digest or "(unknown)"
        return GateResult(
            "artifact",
            "artifact",
            "failure",
            f"sha256 mismatch: the manifest says {short_digest(expected)}, the artifact is"
            f" {short_digest(actual)}",
            details=f"- uri: `{uri}`\n- manifest digest: `{expected}`\n- actual digest: `{actual}`\n"
            f"- bytes read: {check.bytes_read}",
        )
    return GateResult("artifact", "artifact", "failure", _one_line(check.detail), details=check.detail)


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else "(no detail)"


def command(gate: CommandGate, inputs: GateInputs) -> GateResult:
    """A ``command`` gate: how its process ended (``inputs.commands``), its output's tail in the details."""
    name = f"command {gate.name}"
    outcome = inputs.commands.get(gate.name)
    if outcome is None:
        return GateResult(name, "command", "failure", f"{gate.name} did not run")
    details = fenced(outcome.output_tail) if outcome.output_tail else "(no output)"
    if outcome.error is not None:
        reason = f"{gate.name} could not start: {outcome.error}"
        return GateResult(name, "command", "failure", reason, details)
    if outcome.timed_out:
        return GateResult(
            name, "command", "failure", f"{gate.name} timed out after {num(gate.timeout)}s", details
        )
    code = outcome.exit_code
    if code == 0:
        return GateResult(name, "command", "success", f"{gate.name} exited 0", details)
    if code is not None and code < 0:
        return GateResult(name, "command", "failure", f"{gate.name} was killed by signal {-code}", details)
    return GateResult(name, "command", "failure", f"{gate.name} exited {code}", details)


def prometheus(gate: PrometheusGate, inputs: GateInputs) -> GateResult:
    """A ``prometheus`` gate: its gathered series judged by ``promql.judge`` (pending when not gathered)."""
    name = f"prometheus {gate.name}"
    if inputs.candidate is None:
        return not_checked(name, gate.kind)
    evidence = inputs.prometheus.get(gate)
    if evidence is None:
        return GateResult(
            name=name,
            kind=gate.kind,
            result="pending",
            reason="live data not gathered in this run (no gate runner) — re-run /retest",
        )
    if isinstance(evidence, str):
        return GateResult(name=name, kind=gate.kind, result="failure", reason=evidence)
    verdict = promql.judge(gate, evidence)
    query = evidence.query if len(evidence.query) <= 160 else evidence.query[:159] + "…"
    return GateResult(
        name=name,
        kind=gate.kind,
        result=verdict.result,
        reason=f"{verdict.reason} · query: {query}",
        details=verdict.details,
    )
