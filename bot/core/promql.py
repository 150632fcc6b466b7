"""Prometheus evidence, judged purely (reference §15; README "Verify with live data").

Three pieces, none of which touches the network or the clock:

- **templating**: a policy query may use exactly ``{{ model }}``, ``{{ version }}``, ``{{ env }}``
  and ``{{ previous_version }}``. Each value is inserted escaped as the *inside* of a PromQL
  double-quoted string, so ``version="{{ version }}"`` stays one label matcher whatever the
  version holds (quotes, backslashes, ``"}`` …). Anything else between ``{{ }}`` is a policy
  error (:func:`template_problem`).
- **durations**: ``30s``, ``5m``, ``2h``, ``1d`` (:func:`parse_duration`).
- **the policy's form** of a ``prometheus`` gate or verification check
  (:func:`parse_prometheus_gate`, read from ``environments/promotion.yaml`` by ``policy``).
- **judging** (:func:`judge`): the range query must return one series; NaN and ±Inf points are
  dropped before counting; bounds compare with ``<=``/``>=``. Any point past a bound is a
  failure naming the worst point (time and value). Too few points or too little traffic is
  ``pending`` — or, at the end of a post-deploy verification (``final``), a failure "no
  evidence". An unreachable provider is ``pending`` with its error. Never success on no
  evidence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from bot.core.yamlsafe import MAX_HOURS, MAX_METRIC, Path, Reader

PLACEHOLDERS = ("model", "version", "env", "previous_version")
MAX_POINTS = 11_000
"""Prometheus refuses a range query with more points per series than this."""

_PLACEHOLDER_RE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_DURATION_RE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(s|m|h|d)$")
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}

Outcome = Literal["success", "failure", "pending"]


@dataclass(frozen=True, slots=True)
class TrafficSpec:
    """Evidence that the version served enough: an instant query at the end of the range."""

    query: str
    min: float


@dataclass(frozen=True, slots=True)
class PrometheusGate:
    """A ``prometheus`` gate (before a merge) or verification check (after one)."""

    name: str
    provider: str
    query: str
    env: str | None = None
    """Whose live data (the ``{{ env }}`` value); None = the promotion's ``from`` environment."""
    min: float | None = None
    max: float | None = None
    over: float = 3600.0
    """Seconds the range query looks back from ``now`` (a gate; verification uses its window)."""
    step: float = 60.0
    min_points: int = 1
    traffic: TrafficSpec | None = None
    kind: Literal["prometheus"] = "prometheus"

    @property
    def label(self) -> str:
        return f"prometheus {self.name} {bounds_label(self.min, self.max)}"


def bounds_label(low: float | None, high: float | None) -> str:
    """A gate's bounds as its label says them: ``≥ 0.9 and ≤ 0.95`` (either may be absent)."""
    bounds = []
    if low is not None:
        bounds.append(f"≥ {low:g}")
    if high is not None:
        bounds.append(f"≤ {high:g}")
    return " and ".join(bounds)


@dataclass(frozen=True, slots=True)
class Series:
    """One series of a query result: its labels and (unix seconds, value) points in time order."""

    labels: tuple[tuple[str, str], ...]
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the adapter got for one gate: the rendered queries and their results, or an error."""

    query: str
    start: float
    end: float
    series: tuple[Series, ...] | None = None
    traffic_query: str | None = None
    traffic: tuple[Series, ...] | None = None
    error: str | None = None
    """Set when the provider could not answer (unreachable, timeout, 5xx): the gate is pending."""


@dataclass(frozen=True, slots=True)
class Verdict:
    result: Outcome
    reason: str
    details: str
    worst: tuple[float, float] | None = None
    """(unix seconds, value) of the point nearest to (or furthest past) a bound."""
    points: int = 0
    no_evidence: bool = False
    """True when the verdict is about missing evidence (too few points or traffic, no data)."""


# --------------------------------------------------------------------------- templating


def template_problem(query: str) -> str | None:
    """Why ``query`` is not a valid template (an unknown or malformed placeholder), or None."""
    for match in _PLACEHOLDER_RE.finditer(query):
        name = match.group(1).strip()
        if name not in PLACEHOLDERS:
            shown = name if len(name) <= 40 else name[:40] + "…"
            return (
                f"unknown placeholder {{{{ {shown} }}}}"
                f" (the placeholders are {', '.join('{{ ' + p + ' }}' for p in PLACEHOLDERS)})"
            )
    rest = _PLACEHOLDER_RE.sub("", query)
    if "{{" in rest or "}}" in rest:
        return "an unmatched '{{' or '}}' (placeholders are written {{ model }}, {{ version }} …)"
    return None


def placeholders(query: str) -> frozenset[str]:
    """The placeholder names ``query`` uses."""
    return frozenset(m.group(1).strip() for m in _PLACEHOLDER_RE.finditer(query))


def escape(value: str) -> str:
    """``value`` as the inside of a PromQL double-quoted string (Go escape rules)."""
    out: list[str] = []
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        elif 0xD800 <= ord(ch) <= 0xDFFF:
            out.append("\\ufffd")  # a lone surrogate cannot be sent as UTF-8
        else:
            out.append(ch)
    return "".join(out)


def render(query: str, values: Mapping[str, str | None]) -> str:
    """``query`` with each placeholder replaced by its escaped value.

    Raises ``ValueError`` for a template problem or a placeholder whose value is None
    (``previous_version`` when the environment runs no version yet).
    """
    problem = template_problem(query)
    if problem is not None:
        raise ValueError(problem)

    def one(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        value = values.get(name)
        if value is None:
            raise ValueError(f"{{{{ {name} }}}} has no value here")
        return escape(value)

    return _PLACEHOLDER_RE.sub(one, query)


def parse_duration(text: object) -> float | None:
    """Seconds in ``30s``/``5m``/``2h``/``1d`` (or a plain number of seconds); None if malformed."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        return float(text) if math.isfinite(text) and text > 0 else None
    if not isinstance(text, str):
        return None
    match = _DURATION_RE.fullmatch(text.strip())
    if match is None:
        return None
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    return seconds if seconds > 0 else None


def duration_text(seconds: float) -> str:
    """``7200`` → ``2h``; ``90`` → ``90s``."""
    for unit in ("d", "h", "m"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


# --------------------------------------------------------------------------- judging


def moment(ts: float) -> str:
    """A unix time as ``2026-11-27T09:05:00Z``."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _num(value: float) -> str:
    return f"{value:.6g}"


def _margin(gate: PrometheusGate, value: float) -> float:
    """How far inside the bounds ``value`` is (negative: past a bound)."""
    margins = []
    if gate.max is not None:
        margins.append(gate.max - value)
    if gate.min is not None:
        margins.append(value - gate.min)
    return min(margins) if margins else math.inf


def _bounds(gate: PrometheusGate) -> str:
    parts = []
    if gate.min is not None:
        parts.append(f">= {_num(gate.min)}")
    if gate.max is not None:
        parts.append(f"<= {_num(gate.max)}")
    return " and ".join(parts)


def _describe(labels: tuple[tuple[str, str], ...]) -> str:
    return "{" + ", ".join(f'{k}="{escape(v)}"' for k, v in labels) + "}"


def judge(gate: PrometheusGate, evidence: Evidence, *, final: bool = False) -> Verdict:
    """Turn one gate's evidence into success / failure / pending (see the module docstring).

    ``final``: the evidence window is complete (the end of a post-deploy verification), so
    missing evidence is a failure ("no evidence") instead of pending.
    """
    lines = [
        f"query: {evidence.query}",
        f"range: {moment(evidence.start)} → {moment(evidence.end)}, step {duration_text(gate.step)}",
    ]
    if evidence.traffic_query is not None and gate.traffic is not None:
        lines.append(f"traffic: {evidence.traffic_query} (min {_num(gate.traffic.min)})")

    def verdict(
        result: Outcome,
        reason: str,
        *,
        worst: tuple[float, float] | None = None,
        points: int = 0,
        no_evidence: bool = False,
    ) -> Verdict:
        if worst is not None:
            lines.append(f"worst point: {_num(worst[1])} at {moment(worst[0])}")
        return Verdict(result, reason, "\n".join(lines), worst, points, no_evidence)

    if evidence.error is not None:
        lines.append(f"error: {evidence.error}")
        return verdict(
            "pending", f"provider {gate.provider!r} did not answer: {evidence.error} — re-run /retest"
        )
    series = evidence.series or ()
    if len(series) > 1:
        shown = ", ".join(_describe(s.labels) for s in series[:3]) + (" …" if len(series) > 3 else "")
        lines.append(f"series: {shown}")
        return verdict(
            "failure",
            f"the query returned {len(series)} series, not one — aggregate with sum() or max()",
        )
    points = [(t, v) for t, v in (series[0].points if series else ()) if math.isfinite(v)]
    dropped = (len(series[0].points) - len(points)) if series else 0
    if dropped:
        lines.append(f"dropped {dropped} NaN/Inf point(s) (no traffic, 0/0)")
    lines.append(f"points: {len(points)} (need {gate.min_points})")
    worst = min(points, key=lambda p: (_margin(gate, p[1]), p[0])) if points else None
    if worst is not None and _margin(gate, worst[1]) < 0:
        return verdict(
            "failure",
            f"{_num(worst[1])} at {moment(worst[0])} breaks {_bounds(gate)}",
            worst=worst,
            points=len(points),
        )

    def missing(why: str) -> Verdict:
        if final:
            return verdict(
                "failure", f"no evidence: {why}", worst=worst, points=len(points), no_evidence=True
            )
        return verdict(
            "pending", f"not enough evidence yet: {why}", worst=worst, points=len(points), no_evidence=True
        )

    if not points:
        return missing("the query returned no data")
    if len(points) < gate.min_points:
        return missing(f"{len(points)} of {gate.min_points} points")
    if gate.traffic is not None:
        served = _traffic_value(evidence.traffic or ())
        if isinstance(served, str):
            return verdict("failure", served, worst=worst, points=len(points))
        lines.append(f"traffic: {'no data' if served is None else _num(served)}")
        if served is None or served < gate.traffic.min:
            shown = "no data" if served is None else _num(served)
            return missing(f"traffic {shown} of {_num(gate.traffic.min)}")
    assert worst is not None
    return verdict(
        "success",
        f"{len(points)} points hold {_bounds(gate)} (worst {_num(worst[1])} at {moment(worst[0])})",
        worst=worst,
        points=len(points),
    )


def _traffic_value(series: Sequence[Series]) -> float | str | None:
    """The traffic query's value (None: no data), or a failure reason (several series)."""
    if len(series) > 1:
        return f"the traffic query returned {len(series)} series, not one — aggregate with sum()"
    if not series or not series[0].points:
        return None
    value = series[0].points[-1][1]
    return value if math.isfinite(value) else None


# --------------------------------------------------------------------------- the policy's form

PROMETHEUS_KEYS = ("name", "provider", "env", "query", "min", "max", "over", "step", "min_points", "traffic")


def parse_prometheus_gate(
    r: Reader, body: Any, where: Path, *, providers: Collection[str], window: bool = False
) -> PrometheusGate:
    """A policy's ``prometheus`` gate (reference §3); ``window``: a verification check, whose range is
    the verify window. ``providers``: the names under ``providers.prometheus``."""
    keys = tuple(k for k in PROMETHEUS_KEYS if not (window and k == "over"))
    data = r.mapping(body, where, keys, "prometheus gate" if not window else "prometheus check")
    name = r.identifier(data.get("name"), (*where, "name"), "prometheus gate name", "e.g. name: error-rate")
    provider = r.string(
        data.get("provider"), (*where, "provider"), "provider", "name a providers.prometheus entry"
    )
    if provider not in providers:
        known = ", ".join(providers) or "none yet"
        r.fail(
            (*where, "provider"),
            f"unknown prometheus provider {provider!r}",
            f"add it under providers.prometheus (defined: {known})",
        )
    env: str | None = None
    if "env" in data:
        env = r.string(data["env"], (*where, "env"), "env", "name an environment")
        raw_envs = r.doc.data.get("environments") if isinstance(r.doc.data, dict) else None
        names = [e.get("name") for e in raw_envs or () if isinstance(e, dict)]
        if env not in names:
            r.fail(
                (*where, "env"),
                f"unknown environment {env!r} in env",
                f"name one of {', '.join(map(str, names))}",
            )
    query = r.string(data.get("query"), (*where, "query"), "query", "a PromQL query returning one series")
    problem = template_problem(query)
    if problem is not None:
        r.fail(
            (*where, "query"),
            f"query has {problem}",
            "write only the placeholders listed, or remove the braces",
        )
    if "min" not in data and "max" not in data:
        r.fail(where, f"prometheus gate {name!r} has neither min nor max", "add min: and/or max:")
    low = (
        r.number(data["min"], (*where, "min"), "prometheus min", maximum=MAX_METRIC)
        if "min" in data
        else None
    )
    high = (
        r.number(data["max"], (*where, "max"), "prometheus max", maximum=MAX_METRIC)
        if "max" in data
        else None
    )
    if low is not None and high is not None and low > high:
        r.fail(where, f"prometheus gate {name!r} has min {low} above max {high}", "swap or fix the bounds")
    over = read_duration(r, data, where, "over", "1h")
    step = read_duration(r, data, where, "step", "1m")
    if not window and over / step > MAX_POINTS:
        r.fail(
            (*where, "step"),
            f"over / step is {over / step:.0f} points, Prometheus answers at most {MAX_POINTS}",
            "use a larger step",
        )
    min_points = (
        r.integer(data["min_points"], (*where, "min_points"), "min_points", minimum=1)
        if "min_points" in data
        else 1
    )
    traffic = None
    if "traffic" in data:
        tpath: Path = (*where, "traffic")
        raw = r.mapping(data["traffic"], tpath, ("query", "min"), "traffic")
        tquery = r.string(raw.get("query"), (*tpath, "query"), "traffic query", "e.g. sum(increase(...[2h]))")
        problem = template_problem(tquery)
        if problem is not None:
            r.fail((*tpath, "query"), f"traffic query has {problem}", "write only the placeholders listed")
        if "min" not in raw:
            r.fail(tpath, "traffic has no min", "write e.g. traffic: {query: ..., min: 1000}")
        traffic = TrafficSpec(
            query=tquery,
            min=r.number(raw["min"], (*tpath, "min"), "traffic min", minimum=0, maximum=MAX_METRIC),
        )
    return PrometheusGate(
        name=name,
        provider=provider,
        query=query,
        env=env,
        min=low,
        max=high,
        over=over,
        step=step,
        min_points=min_points,
        traffic=traffic,
    )


def read_duration(r: Reader, data: Mapping[str, Any], where: Path, key: str, default: str) -> float:
    value = data.get(key, default)
    try:
        seconds = parse_duration(value)
    except OverflowError:  # an integer of hundreds of digits
        seconds = math.inf
    if seconds is None:
        r.fail((*where, key), f"{key} must be a duration", f"write e.g. {key}: {default} (s, m, h or d)")
    if not seconds <= MAX_HOURS * 3600:
        r.fail((*where, key), f"{key} is longer than a century", f"write e.g. {key}: {default}")
    return seconds
