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
- Freeze windows: ``start``/``end`` are local wall-clock times in the gate's timezone; an
  ``end`` at or before ``start`` runs past midnight into the next day; a window with
  neither ``days`` nor ``dates`` applies every day. A wall time that does not exist (spring
  forward) maps to the instant zoneinfo gives it (fold=0). Windows that touch or overlap are
  one freeze: ``until`` is the end of the whole chain (looked up to a year ahead).
- ``until`` is always a timezone-aware UTC datetime.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core import promql
from bot.core.model import (
    ArtifactGate,
    CommandGate,
    CompareGate,
    FreezeGate,
    FreezeWindow,
    Gate,
    GateOutcome,
    GateResult,
    Manifest,
    MetricGate,
    Rejection,
    SoakGate,
)
from bot.core.promql import PrometheusGate
from bot.core.registry import RegistryEvidence, RegistryLookup, logged_metrics, same_number

ArtifactOutcome = Literal[
    "ok", "mismatch", "missing", "too-large", "unreachable", "unsupported", "timeout", "escapes-repo"
]

FREEZE_LOOKAHEAD_DAYS = 400
"""How far ahead a chain of freeze windows is followed before it is called open-ended."""

_EPSILON = 1e-12
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class ArtifactCheck:
    """What ``adapters/artifacts.py`` found when it hashed the artifact."""

    outcome: ArtifactOutcome
    detail: str
    actual_digest: str | None = None
    bytes_read: int = 0


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    """How a command gate's process ended (``adapters/commands.py``)."""

    exit_code: int | None
    timed_out: bool
    output_tail: str
    duration_s: float
    error: str | None = None
    """Set when the command could not start (not found, not executable)."""


@dataclass(frozen=True, slots=True)
class VerifiedInput:
    """What the ``promobot/verify`` check says about the candidate in ``from``."""

    state: Literal["success", "failure", "pending"] | None
    """None: no verification exists for this version (it did not arrive by promotion/rollback)."""
    reason: str
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class GateInputs:
    """Everything the gates judge, gathered by the app before ``evaluate``."""

    model: str
    from_env: str
    to_env: str
    candidate: Manifest | None
    """The target manifest on the PR head (None when it failed to load)."""
    candidate_error: str | None
    """The schema error text when ``candidate`` is None."""
    source: Manifest | None
    """What ``from`` runs now, at the PR's base commit."""
    incumbent: Manifest | None
    """What the target runs now, at the PR's base commit (None: new to the target)."""
    local_keys: tuple[str, ...]
    rejections: tuple[Rejection, ...]
    became_current_at: datetime | None
    """When ``candidate.version`` became current in ``from`` (git history); None = unknown."""
    artifact: ArtifactCheck | None = None
    commands: Mapping[str, CommandOutcome] = field(default_factory=dict)
    action: str = "promote"
    """What the PR does (``promote`` or ``rollback``): hints name the command that rebuilds it."""
    from_is_first: bool = False
    """True when ``from_env`` is never promoted into (people or CI write it, e.g. dev)."""
    registry: RegistryEvidence | None = None
    """The MLflow registry's view (None: the policy has no mlflow provider); see bot/core/registry.py."""
    prometheus: Mapping[PrometheusGate, promql.Evidence | str] = field(default_factory=dict)
    """Each prometheus gate's evidence, or why its query could not be built (a failure)."""
    verified: VerifiedInput | None = None
    """The candidate's post-deploy verification in ``from`` (None: ``from`` has no verify)."""


def _rerun(inputs: GateInputs) -> str:
    """The command that rebuilds this PR from what the environments run now."""
    if inputs.action == "rollback":
        return f"re-run `promobot rollback {inputs.model} --env {inputs.to_env}`"
    return f"re-run `promobot promote {inputs.model} --to {inputs.to_env}`"


# --------------------------------------------------------------------------- entry points


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
    now = _as_utc(now)
    results: list[GateResult] = []
    builtins = (
        ("schema", _schema),
        ("order", _order),
        ("integrity", _integrity),
        ("not-rejected", _not_rejected),
    )
    for kind, judge in builtins:
        if kind not in skip_kinds:
            results.append(judge(inputs))
    if inputs.verified is not None and "verified" not in skip_kinds:
        results.append(_verified(inputs, inputs.verified))
    if "registry" not in skip_kinds and inputs.registry is not None and inputs.registry.candidate is not None:
        results.append(_registry(inputs.registry.candidate, inputs.candidate))
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


# --------------------------------------------------------------------------- built-ins


def _not_checked(name: str, kind: str) -> GateResult:
    return GateResult(
        name=name,
        kind=kind,
        result="failure",
        reason="not checked: the manifest on this PR does not load (see the schema gate)",
    )


def _schema(inputs: GateInputs) -> GateResult:
    if inputs.candidate is None:
        error = inputs.candidate_error or "the manifest could not be read"
        first_line = error.strip().splitlines()[0] if error.strip() else error
        return GateResult("schema", "schema", "failure", first_line, details=error)
    return GateResult("schema", "schema", "success", "the manifest is valid")


def _order(inputs: GateInputs) -> GateResult:
    cand, source = inputs.candidate, inputs.source
    if cand is None:
        return _not_checked("order", "order")
    if source is None:
        return GateResult(
            "order",
            "order",
            "failure",
            f"{inputs.model} is not in {inputs.from_env} — "
            + (
                f"commit environments/{inputs.from_env}/{inputs.model}.yaml first"
                if inputs.from_is_first
                else f"run `promobot promote {inputs.model} --to {inputs.from_env}` first"
            ),
        )
    if cand.version != source.version:
        return GateResult(
            "order",
            "order",
            "failure",
            f"{inputs.from_env} runs {source.version} now, this PR promotes {cand.version}"
            f" — {_rerun(inputs)} to refresh it",
        )
    return GateResult("order", "order", "success", f"{cand.version} is what {inputs.from_env} runs now")


def _integrity(inputs: GateInputs) -> GateResult:
    cand, source = inputs.candidate, inputs.source
    if cand is None:
        return _not_checked("integrity", "integrity")
    if source is None:
        return GateResult(
            "integrity",
            "integrity",
            "failure",
            f"nothing to compare with: {inputs.model} is not in {inputs.from_env}",
        )
    local = (*inputs.local_keys, "serving")
    ours, theirs = cand.promoted(local), source.promoted(local)
    differing = [k for k in _ordered_keys(theirs, ours) if theirs.get(k, _MISSING) != ours.get(k, _MISSING)]
    if not differing:
        return GateResult("integrity", "integrity", "success", f"promoted keys equal {inputs.from_env}'s")
    verb = "differs" if len(differing) == 1 else "differ"
    moved = source.version != cand.version and "version" in differing
    why = (
        f"{inputs.from_env} runs {source.version} now: it moved on since this PR was built, or someone"
        f" edited the version by hand; {_rerun(inputs)}"
        if moved
        else f"someone edited the promoted keys by hand; {_rerun(inputs)}"
    )
    lines = [f"Differences from `{inputs.from_env}` at the PR's base commit:", ""]
    for path, src_value, pr_value in _leaf_differences(theirs, ours):
        lines.append(f"- `{path}`: {inputs.from_env} has {_show(src_value)}, this PR has {_show(pr_value)}")
    return GateResult(
        "integrity",
        "integrity",
        "failure",
        f"{', '.join(differing)} {verb} from {inputs.from_env} — {why}",
        details="\n".join(lines),
    )


def _not_rejected(inputs: GateInputs) -> GateResult:
    cand = inputs.candidate
    if cand is None:
        return _not_checked("not-rejected", "not-rejected")
    for rej in inputs.rejections:
        if rej.model == inputs.model and rej.version == cand.version:
            by = rej.by if rej.by else "someone"
            return GateResult(
                "not-rejected",
                "not-rejected",
                "failure",
                f"{cand.version} was rejected by {by} at {rej.at}: {' '.join(rej.reason.split())}"
                " — promote a newer version (or `promobot unreject` it)",
            )
    return GateResult("not-rejected", "not-rejected", "success", f"{cand.version} is not rejected")


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


_MISSING: Any = _Missing()


def _ordered_keys(first: Mapping[str, Any], second: Mapping[str, Any]) -> list[str]:
    keys = list(first)
    keys.extend(k for k in second if k not in first)
    return keys


def _leaf_differences(src: Any, pr: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """Dotted paths where two documents differ, descending into mappings present on both sides."""
    if isinstance(src, Mapping) and isinstance(pr, Mapping):
        out: list[tuple[str, Any, Any]] = []
        for key in _ordered_keys(src, pr):
            a, b = src.get(key, _MISSING), pr.get(key, _MISSING)
            if a != b:
                out.extend(_leaf_differences(a, b, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return [(prefix, src, pr)]


def _show(value: Any) -> str:
    if value is _MISSING:
        return "nothing"
    text = repr(value) if not isinstance(value, str) else value
    text = text.replace("`", "'").replace("\n", " ")
    if len(text) > 80:
        text = text[:79] + "…"
    return f"`{text}`"


# --------------------------------------------------------------------------- policy gates


def _policy_gate(gate: Gate, inputs: GateInputs, now: datetime) -> GateResult:
    if isinstance(gate, MetricGate):
        return _metric(gate, inputs)
    if isinstance(gate, CompareGate):
        return _compare(gate, inputs)
    if isinstance(gate, SoakGate):
        return _soak(gate, inputs, now)
    if isinstance(gate, FreezeGate):
        return _freeze(gate, now)
    if isinstance(gate, ArtifactGate):
        return _artifact(inputs)
    if isinstance(gate, PrometheusGate):
        return _prometheus(gate, inputs)
    return _command(gate, inputs)


def _num(value: float) -> str:
    return f"{value:g}"


def _metric(gate: MetricGate, inputs: GateInputs) -> GateResult:
    name = f"metric {gate.name}"
    cand = inputs.candidate
    if cand is None:
        return _not_checked(name, "metric")
    metrics, unread = _metrics_of(gate.source, cand, inputs, incumbent=False)
    if metrics is None:
        return unread or _not_checked(name, "metric")
    value = metrics.get(gate.name)
    if value is None:
        where = "the MLflow run" if gate.source == "mlflow" else "the manifest"
        return GateResult(name, "metric", "failure", f"metric {gate.name} missing from {where}")
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return GateResult(name, "metric", "failure", f"metric {gate.name} is not a number ({value!r})")
    if gate.min is not None and not value >= gate.min:
        return GateResult(name, "metric", "failure", f"{gate.name} {_num(value)} < min {_num(gate.min)}")
    if gate.max is not None and not value <= gate.max:
        return GateResult(name, "metric", "failure", f"{gate.name} {_num(value)} > max {_num(gate.max)}")
    bounds = []
    if gate.min is not None:
        bounds.append(f"≥ min {_num(gate.min)}")
    if gate.max is not None:
        bounds.append(f"≤ max {_num(gate.max)}")
    return GateResult(name, "metric", "success", f"{gate.name} {_num(value)} {' and '.join(bounds)}".strip())


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


def _registry(lookup: RegistryLookup, candidate: Manifest | None) -> GateResult:
    """The built-in registry gate: the version exists and is READY; its run logged the manifest's metrics."""
    name = kind = "registry"
    if candidate is None:
        return _not_checked(name, kind)
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
            differ.append(f"{key}: the manifest says {_num(value)}, the run logged no {key}")
        elif not same_number(float(value), logged):
            differ.append(f"{key}: the manifest says {_num(value)}, the run logged {logged!r}")
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


def _short_digest(digest: str) -> str:
    algo, _, hexpart = digest.partition(":")
    return f"{algo}:{hexpart[:8]}…" if hexpart and len(hexpart) > 8 else digest


def _close_to(a: float, b: float) -> float:
    """The float-noise allowance when comparing a delta computed from ``a`` and ``b``."""
    return _EPSILON * max(1.0, abs(a), abs(b))


def _compare(gate: CompareGate, inputs: GateInputs) -> GateResult:
    name = f"compare {gate.metric}"
    cand, inc = inputs.candidate, inputs.incumbent
    if cand is None:
        return _not_checked(name, "compare")
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
            f"eval datasets differ ({_short_digest(cand.eval_dataset_digest)} vs"
            f" {_short_digest(inc.eval_dataset_digest)}); numbers are not comparable",
            details=(
                f"- candidate {cand.version}: `{cand.eval_dataset_uri}` `{cand.eval_dataset_digest}`\n"
                f"- {inputs.to_env} {inc.version}: `{inc.eval_dataset_uri}` `{inc.eval_dataset_digest}`"
            ),
        )
    new_metrics, unread = _metrics_of(gate.source, cand, inputs, incumbent=False, name=name, kind="compare")
    if new_metrics is None:
        return unread or _not_checked(name, "compare")
    old_metrics, unread = _metrics_of(gate.source, inc, inputs, incumbent=True, name=name, kind="compare")
    if old_metrics is None:
        return unread or _not_checked(name, "compare")
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
    shown = f"{gate.metric} {_num(new)} vs {_num(old)} in {inputs.to_env} ({delta:+.6g}"
    noise = _close_to(new, old)
    if gate.max_drop is not None and (old - new) > gate.max_drop + noise:
        return GateResult(name, "compare", "failure", f"{shown}; max drop {_num(gate.max_drop)})")
    if gate.max_increase is not None and (new - old) > gate.max_increase + noise:
        return GateResult(name, "compare", "failure", f"{shown}; max increase {_num(gate.max_increase)})")
    limits = []
    if gate.max_drop is not None:
        limits.append(f"max drop {_num(gate.max_drop)}")
    if gate.max_increase is not None:
        limits.append(f"max increase {_num(gate.max_increase)}")
    suffix = f"; {', '.join(limits)})" if limits else ")"
    return GateResult(name, "compare", "success", shown + suffix)


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _duration(delta: timedelta) -> str:
    """``13h``, ``13h 20m``, ``20m``, ``2d 3h``: a time left, rounded up to the minute."""
    minutes = max(1, math.ceil(delta.total_seconds() / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {mins}m" if mins else f"{hours}h"
    return f"{mins}m"


def _soak(gate: SoakGate, inputs: GateInputs, now: datetime) -> GateResult:
    cand = inputs.candidate
    if cand is None:
        return _not_checked("soak", "soak")
    source = inputs.source
    if inputs.became_current_at is None and source is not None and source.version != cand.version:
        return GateResult(
            "soak",
            "soak",
            "failure",
            f"{inputs.from_env} no longer runs {cand.version} (it runs {source.version}) — {_rerun(inputs)}",
        )
    if inputs.became_current_at is None:
        return GateResult(
            "soak",
            "soak",
            "failure",
            f"cannot tell when {cand.version} reached {inputs.from_env}; history missing"
            " — fetch full history (fetch-depth: 0)",
        )
    since = _as_utc(inputs.became_current_at)
    until = since + timedelta(hours=gate.hours)
    if now >= until:
        live = _duration(now - since) if now > since else "0m"
        return GateResult(
            "soak",
            "soak",
            "success",
            f"{cand.version} has been in {inputs.from_env} for {live} (≥ {_num(gate.hours)}h)",
        )
    return GateResult(
        "soak",
        "soak",
        "pending",
        f"soaking in {inputs.from_env} until {until:%Y-%m-%d %H:%M} UTC ({_duration(until - now)} left)",
        details=f"{cand.version} became current in {inputs.from_env} at {since:%Y-%m-%d %H:%M} UTC;"
        f" the policy asks for {_num(gate.hours)}h.",
        until=until,
    )


# --------------------------------------------------------------------------- freeze


@dataclass(frozen=True, slots=True)
class _Interval:
    start: datetime  # UTC
    end: datetime  # UTC
    window: FreezeWindow


def _window_applies(window: FreezeWindow, day: date) -> bool:
    if not window.days and not window.dates:
        return True
    return day.isoweekday() in window.days or day in window.dates


def _wall(day: date, at: time, tz: ZoneInfo, *, fold: int) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).replace(fold=fold).astimezone(UTC)


def _window_interval(window: FreezeWindow, day: date, tz: ZoneInfo) -> _Interval:
    start_t = window.start or time(0, 0)
    start = _wall(day, start_t, tz, fold=0)
    if window.end is None or window.end <= start_t:
        # "24:00", or a window that runs past midnight into the next day.
        end_t = window.end or time(0, 0)
        end = _wall(day + timedelta(days=1), end_t, tz, fold=1)
    else:
        end = _wall(day, window.end, tz, fold=1)
    return _Interval(start, end, window)


def _intervals(gate: FreezeGate, tz: ZoneInfo, first: date, days: int) -> list[_Interval]:
    out = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        for window in gate.windows:
            if _window_applies(window, day):
                iv = _window_interval(window, day, tz)
                if iv.end > iv.start:
                    out.append(iv)
    out.sort(key=lambda iv: (iv.start, iv.end))
    return out


def describe_window(window: FreezeWindow) -> str:
    """``fri 15:00–24:00``, ``sat, sun``, ``2026-12-24``: a window as the policy wrote it."""
    parts = []
    if window.days:
        parts.append(", ".join(_DAY_NAMES[d - 1] for d in sorted(window.days) if 1 <= d <= 7))
    if window.dates:
        parts.append(", ".join(d.isoformat() for d in sorted(window.dates)))
    if not parts:
        parts.append("daily")
    if window.start is not None or window.end is not None:
        start = (window.start or time(0, 0)).strftime("%H:%M")
        end = window.end.strftime("%H:%M") if window.end is not None else "24:00"
        parts.append(f"{start}–{end}")
    return " ".join(parts)


def _local(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    day = _DAY_NAMES[local.weekday()].capitalize()
    return f"{day} {local:%Y-%m-%d %H:%M} {local.tzname()}"


def _freeze(gate: FreezeGate, now: datetime) -> GateResult:
    try:
        tz = ZoneInfo(gate.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return GateResult(
            "freeze",
            "freeze",
            "failure",
            f"unknown timezone {gate.timezone!r} — use an IANA name such as Europe/Berlin",
        )
    today = now.astimezone(tz).date()
    # Start a day early: yesterday's window may run past midnight (or be today's "24:00").
    intervals = _intervals(gate, tz, today - timedelta(days=1), FREEZE_LOOKAHEAD_DAYS + 1)
    current = next((iv for iv in intervals if iv.start <= now < iv.end), None)
    if current is None:
        upcoming = next((iv for iv in intervals if iv.start > now), None)
        details = (
            f"Next freeze: {describe_window(upcoming.window)} from {_local(upcoming.start, tz)}."
            if upcoming is not None
            else ""
        )
        return GateResult(
            "freeze",
            "freeze",
            "success",
            f"not in a freeze window ({_local(now, tz)})",
            details=details,
        )
    # Follow the chain: windows that start before (or exactly when) the freeze ends extend it.
    end = current.end
    chained = [current.window]
    for iv in intervals:  # sorted by start: once one starts after the end, so do the rest
        if iv.start > end:
            break
        if iv.end > end:
            end = iv.end
            if iv.window not in chained:
                chained.append(iv.window)
    horizon = _wall(today + timedelta(days=FREEZE_LOOKAHEAD_DAYS), time(0, 0), tz, fold=0)
    open_ended = end >= horizon - timedelta(days=1)
    label = f"freeze window ({describe_window(current.window)} {gate.timezone})"
    details = "Windows in this freeze: " + "; ".join(describe_window(w) for w in chained) + "."
    if open_ended:
        return GateResult(
            "freeze",
            "freeze",
            "pending",
            f"{label} with no end in the next {FREEZE_LOOKAHEAD_DAYS} days — check the policy's windows",
            details=details,
        )
    return GateResult(
        "freeze", "freeze", "pending", f"{label} until {_local(end, tz)}", details=details, until=end
    )


# --------------------------------------------------------------------------- artifact, command


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"  # pragma: no cover - the loop returns at GB


def _artifact(inputs: GateInputs) -> GateResult:
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
            f"sha256 mismatch: the manifest says {_short_digest(expected)}, the artifact is"
            f" {_short_digest(actual)}",
            details=f"- uri: `{uri}`\n- manifest digest: `{expected}`\n- actual digest: `{actual}`\n"
            f"- bytes read: {check.bytes_read}",
        )
    return GateResult("artifact", "artifact", "failure", _one_line(check.detail), details=check.detail)


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else "(no detail)"


def fenced(text: str) -> str:
    """``text`` in a code fence that its own backticks cannot close."""
    longest, run = 0, 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"{fence}\n{body}{fence}"


def _command(gate: CommandGate, inputs: GateInputs) -> GateResult:
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
            name, "command", "failure", f"{gate.name} timed out after {_num(gate.timeout)}s", details
        )
    code = outcome.exit_code
    if code == 0:
        return GateResult(name, "command", "success", f"{gate.name} exited 0", details)
    if code is not None and code < 0:
        return GateResult(name, "command", "failure", f"{gate.name} was killed by signal {-code}", details)
    return GateResult(name, "command", "failure", f"{gate.name} exited {code}", details)


# --------------------------------------------------------------------------- prometheus


def prometheus_gates(gates: Iterable[Gate]) -> list[PrometheusGate]:
    """The prometheus gates of this policy: the app gathers their evidence before ``evaluate``."""
    return [g for g in gates if isinstance(g, PrometheusGate)]


def _prometheus(gate: PrometheusGate, inputs: GateInputs) -> GateResult:
    name = f"prometheus {gate.name}"
    if inputs.candidate is None:
        return _not_checked(name, gate.kind)
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


def _verified(inputs: GateInputs, found: VerifiedInput) -> GateResult:
    """Built-in ``verified``: the candidate's post-deploy verification in ``from`` succeeded."""
    where = f"in {inputs.from_env}"
    if inputs.candidate is None:
        return _not_checked("verified", "verified")
    version = inputs.candidate.version
    if found.state == "success":
        return GateResult("verified", "verified", "success", f"{version} verified {where}: {found.reason}")
    if found.state == "failure":
        return GateResult(
            "verified", "verified", "failure", f"{version} failed verification {where}: {found.reason}"
        )
    if found.state is None:
        return GateResult(
            "verified",
            "verified",
            "pending",
            f"{version} has no verification {where}: {found.reason}",
        )
    until = found.until
    when = f" (until {until.astimezone(UTC):%Y-%m-%d %H:%M} UTC)" if until is not None else ""
    return GateResult(
        "verified",
        "verified",
        "pending",
        f"{version} is being verified {where}{when}: {found.reason}",
        until=until,
    )
