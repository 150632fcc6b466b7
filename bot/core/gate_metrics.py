"""Gates that judge numbers (reference §3): ``metric`` bounds, ``compare`` against the
incumbent, and the built-in ``registry`` gate (the MLflow version is READY and its run logged the
manifest's metrics). With ``source: mlflow`` the numbers come from the registry's evidence.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from bot.core.gate_inputs import GateInputs, not_checked, num, short_digest
from bot.core.model import GateResult, Manifest
from bot.core.policy_model import CompareGate, MetricGate
from bot.core.registry import RegistryLookup, logged_metrics, same_number

_EPSILON = 1e-12


def metric(gate: MetricGate, inputs: GateInputs) -> GateResult:
    """A ``metric`` gate: the candidate's value within ``min``/``max``."""
    name = f"metric {gate.name}"
    cand = inputs.candidate
    if cand is None:
        return not_checked(name, "metric")
    metrics, unread = _metrics_of(gate.source, cand, inputs, incumbent=False)
    if metrics is None:
        return unread or not_checked(name, "metric")
    value = metrics.get(gate.name)
    if value is None:
        where = "the MLflow run" if gate.source == "mlflow" else "the manifest"
        return GateResult(name, "metric", "failure", f"metric {gate.name} missing from {where}")
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return GateResult(name, "metric", "failure", f"metric {gate.name} is not a number ({value!r})")
    if gate.min is not None and not value >= gate.min:
        return GateResult(name, "metric", "failure", f"{gate.name} {num(value)} < min {num(gate.min)}")
    if gate.max is not None and not value <= gate.max:
        return GateResult(name, "metric", "failure", f"{gate.name} {num(value)} > max {num(gate.max)}")
    bounds = []
    if gate.min is not None:
        bounds.append(f"≥ min {num(gate.min)}")
    if gate.max is not None:
        bounds.append(f"≤ max {num(gate.max)}")
    return GateResult(name, "metric", "success", f"{gate.name} {num(value)} {' and '.join(bounds)}".strip())


def _metrics_of(
    source: str,
    manifest: Manifest,
    inputs: GateInputs,
    *,
    incumbent: bool,
    name: str = "",
    kind: str = "metric",
) -> tuple[Mapping[str, float] | None, GateResult | None]:
    """The metrics a ``metric``/``compare`` gate reads: the manifest's, or (``source: mlflow``) its run's.

    With ``source: mlflow`` and nothing to read, the second value is the gate's result: pending when
    the registry is unreachable (never success), failure when the version or run is missing or the
    policy has no mlflow provider.
    """
    if source != "mlflow":
        return manifest.metrics, None
    name = name or f"metric {manifest.name}"
    who = (
        f"{inputs.to_env}'s manifest ({manifest.version})"
        if incumbent
        else f"the candidate ({manifest.version})"
    )
    if inputs.registry is None:
        return None, GateResult(
            name, kind, "failure", "source: mlflow needs an mlflow provider in the policy's providers"
        )
    lookup = inputs.registry.incumbent if incumbent else inputs.registry.candidate
    if lookup is None or manifest.registry is None:
        return None, GateResult(
            name, kind, "failure", f"source: mlflow, but {who} names no registry.mlflow version"
        )
    metrics, why = logged_metrics(lookup)
    if metrics is None:
        if lookup.unavailable is not None:
            return None, GateResult(name, kind, "pending", f"{why}; re-run /retest")
        return None, GateResult(name, kind, "failure", why)
    return metrics, None


def registry(lookup: RegistryLookup, candidate: Manifest | None) -> GateResult:
    """The built-in registry gate: the version exists and is READY; its run logged the manifest's metrics."""
    name = kind = "registry"
    if candidate is None:
        return not_checked(name, kind)
    ref = lookup.ref
    where = f"{ref.model} version {ref.version}"
    if lookup.unavailable is None and lookup.problem is None and lookup.version is not None:
        status = lookup.version.status
        if status == "PENDING_REGISTRATION":
            return GateResult(
                name, kind, "pending", f"{where} is still registering in MLflow; re-run /retest"
            )
        if status != "READY":
            return GateResult(name, kind, "failure", f"{where} is {status} in MLflow, not READY")
    no_run = lookup.version is not None and lookup.version.run_id is None and lookup.unavailable is None
    if no_run and not candidate.metrics:
        return GateResult(name, kind, "success", f"{where} is READY (no source run, no metrics to compare)")
    metrics, why = logged_metrics(lookup)
    if metrics is None:
        if lookup.unavailable is not None:
            return GateResult(name, kind, "pending", f"{why}; re-run /retest")
        return GateResult(name, kind, "failure", why)
    differ: list[str] = []
    for key, value in candidate.metrics.items():
        logged = metrics.get(key)
        if logged is None:
            differ.append(f"{key}: the manifest says {num(value)}, the run logged no {key}")
        elif not same_number(float(value), logged):
            differ.append(f"{key}: the manifest says {num(value)}, the run logged {logged!r}")
    rows = "\n".join(f"- {line}" for line in differ)
    if differ:
        first = differ[0] + (f" (and {len(differ) - 1} more)" if len(differ) > 1 else "")
        return GateResult(name, kind, "failure", first, details=rows)
    checked = len(candidate.metrics)
    return GateResult(
        name,
        kind,
        "success",
        f"{where} is READY; its run logged the manifest's {checked} metric{'s' if checked != 1 else ''}",
    )


def _close_to(a: float, b: float) -> float:
    """The float-noise allowance when comparing a delta computed from ``a`` and ``b``."""
    return _EPSILON * max(1.0, abs(a), abs(b))


def compare(gate: CompareGate, inputs: GateInputs) -> GateResult:
    """A ``compare`` gate: the candidate's metric against the target's incumbent, on the same eval data."""
    name = f"compare {gate.metric}"
    cand, inc = inputs.candidate, inputs.incumbent
    if cand is None:
        return not_checked(name, "compare")
    if inc is None:
        return GateResult(name, "compare", "success", f"no incumbent in {inputs.to_env}; nothing to compare")
    if (
        cand.eval_dataset_digest is not None
        and inc.eval_dataset_digest is not None
        and cand.eval_dataset_digest != inc.eval_dataset_digest
    ):
        return GateResult(
            name,
            "compare",
            "failure",
            f"eval datasets differ ({short_digest(cand.eval_dataset_digest)} vs"
            f" {short_digest(inc.eval_dataset_digest)}); numbers are not comparable",
            details=(
                f"- candidate {cand.version}: `{cand.eval_dataset_uri}` `{cand.eval_dataset_digest}`\n"
                f"- {inputs.to_env} {inc.version}: `{inc.eval_dataset_uri}` `{inc.eval_dataset_digest}`"
            ),
        )
    new_metrics, unread = _metrics_of(gate.source, cand, inputs, incumbent=False, name=name, kind="compare")
    if new_metrics is None:
        return unread or not_checked(name, "compare")
    old_metrics, unread = _metrics_of(gate.source, inc, inputs, incumbent=True, name=name, kind="compare")
    if old_metrics is None:
        return unread or not_checked(name, "compare")
    new, old = new_metrics.get(gate.metric), old_metrics.get(gate.metric)
    if new is None:
        return GateResult(
            name, "compare", "failure", f"metric {gate.metric} missing from the candidate ({cand.version})"
        )
    if old is None:
        return GateResult(
            name,
            "compare",
            "failure",
            f"metric {gate.metric} missing from {inputs.to_env}'s manifest ({inc.version})",
        )
    delta = new - old
    shown = f"{gate.metric} {num(new)} vs {num(old)} in {inputs.to_env} ({delta:+.6g}"
    noise = _close_to(new, old)
    if gate.max_drop is not None and (old - new) > gate.max_drop + noise:
        return GateResult(name, "compare", "failure", f"{shown}; max drop {num(gate.max_drop)})")
    if gate.max_increase is not None and (new - old) > gate.max_increase + noise:
        return GateResult(name, "compare", "failure", f"{shown}; max increase {num(gate.max_increase)})")
    limits = []
    if gate.max_drop is not None:
        limits.append(f"max drop {num(gate.max_drop)}")
    if gate.max_increase is not None:
        limits.append(f"max increase {num(gate.max_increase)}")
    suffix = f"; {', '.join(limits)})" if limits else ")"
    return GateResult(name, "compare", "success", shown + suffix)
