"""Pure PromQL templating and judging: escaping, placeholders, NaN/Inf, bounds, evidence."""

from __future__ import annotations

import math

import pytest

from bot.core.promql import (
    Evidence,
    PrometheusGate,
    Series,
    TrafficSpec,
    escape,
    judge,
    parse_duration,
    placeholders,
    render,
    template_problem,
)

VALUES = {"model": "fraud", "version": "1.4.0", "env": "staging", "previous_version": "1.3.0"}


def test_each_placeholder_renders_with_or_without_spaces() -> None:
    query = 'x{m="{{ model }}",v="{{version}}",e="{{  env }}",p="{{ previous_version }}"}'
    assert render(query, VALUES) == 'x{m="fraud",v="1.4.0",e="staging",p="1.3.0"}'
    assert placeholders(query) == frozenset(VALUES)


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ('a"b', 'a\\"b'),
        ("a\\b", "a\\\\b"),
        ('"}', '\\"}'),
        ("\\", "\\\\"),
        ("l1\nl2\r\t", "l1\\nl2\\r\\t"),
        ("\x00\x1f\x7f", "\\x00\\x1f\\x7f"),
        ("é ✓", "é ✓"),
    ],
)
def test_values_are_escaped_as_the_inside_of_a_double_quoted_string(raw: str, escaped: str) -> None:
    assert escape(raw) == escaped
    assert render('v="{{ version }}"', {**VALUES, "version": raw}) == f'v="{escaped}"'


def test_an_escaped_value_never_closes_the_string() -> None:
    for hostile in ('"}', '\\"} or vector(1) #', '\\\\"', 'x"\\', "\\x22"):
        inside = escape(hostile)
        i, closed = 0, False
        while i < len(inside):  # walk the string as PromQL's lexer does
            if inside[i] == "\\":
                i += 2
                continue
            if inside[i] == '"':
                closed = True
            i += 1
        assert not closed, hostile


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("{{ job }}", "unknown placeholder {{ job }}"),
        ("{{ model.name }}", "unknown placeholder"),
        ("{{ model }", "unmatched"),
        ("x }} y", "unmatched"),
        ("{{}}", "unknown placeholder"),
    ],
)
def test_anything_else_between_braces_is_a_template_problem(query: str, needle: str) -> None:
    problem = template_problem(query)
    assert problem is not None and needle in problem
    with pytest.raises(ValueError, match=r"placeholder|unmatched"):
        render(query, VALUES)


def test_a_placeholder_without_a_value_is_refused() -> None:
    with pytest.raises(ValueError, match="previous_version"):
        render("{{ previous_version }}", {**VALUES, "previous_version": None})


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("2h", 7200),
        ("1d", 86400),
        ("1.5h", 5400),
        (90, 90),
        ("0m", None),
        ("2w", None),
    ],
)
def test_durations(text: object, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


GATE = PrometheusGate(name="err", provider="p", query="q", max=0.01, step=60, min_points=3)


def _evidence(*values: float, series: int = 1, traffic: float | None = None) -> Evidence:
    points = tuple((1_800_000_000.0 + 60 * i, v) for i, v in enumerate(values))
    found = tuple(Series((("i", str(k)),), points) for k in range(series))
    return Evidence(
        query="q",
        start=1_800_000_000.0,
        end=1_800_000_000.0 + 600,
        series=found,
        traffic_query="t" if traffic is not None else None,
        traffic=(Series((), ((0.0, traffic),)),) if traffic is not None else None,
    )


def test_bounds_are_inclusive() -> None:
    assert judge(GATE, _evidence(0.01, 0.01, 0.01)).result == "success"
    low = PrometheusGate(name="auc", provider="p", query="q", min=0.9, min_points=1)
    assert judge(low, _evidence(0.9)).result == "success"
    assert judge(low, _evidence(0.95, 0.8999)).result == "failure"


def test_nan_and_inf_are_dropped_before_counting() -> None:
    verdict = judge(GATE, _evidence(math.nan, 0.001, math.inf, -math.inf, 0.002))
    assert verdict.result == "pending" and "2 of 3 points" in verdict.reason
    assert "dropped 3" in verdict.details


def test_the_worst_point_is_the_furthest_past_a_bound() -> None:
    verdict = judge(GATE, _evidence(0.02, 0.5, 0.03))
    assert verdict.result == "failure" and verdict.worst == (1_800_000_060.0, 0.5)
    assert "0.5 at 2027-01-15T08:01:00Z breaks <= 0.01" in verdict.reason
    both = PrometheusGate(name="x", provider="p", query="q", min=0.0, max=1.0)
    assert judge(both, _evidence(0.5, -3.0, 1.5)).worst == (1_800_000_060.0, -3.0)


def test_a_breach_fails_even_before_min_points() -> None:
    assert judge(GATE, _evidence(0.5)).result == "failure"


def test_never_success_on_no_evidence() -> None:
    for evidence in (_evidence(), _evidence(math.nan, math.nan, math.nan, math.nan)):
        assert judge(GATE, evidence).result == "pending"
        verdict = judge(GATE, evidence, final=True)
        assert verdict.result == "failure" and verdict.no_evidence
    zero = PrometheusGate(name="err", provider="p", query="q", max=0.01, min_points=1)
    assert judge(zero, Evidence(query="q", start=0, end=60, series=())).result == "pending"


def test_traffic() -> None:
    gate = PrometheusGate(name="err", provider="p", query="q", max=0.01, traffic=TrafficSpec("t", 100))
    assert judge(gate, _evidence(0.001, traffic=150)).result == "success"
    assert judge(gate, _evidence(0.001, traffic=99)).result == "pending"
    assert judge(gate, _evidence(0.001, traffic=math.nan)).result == "pending"
    assert judge(gate, _evidence(0.001)).result == "pending"  # no traffic data at all


def test_several_series_fail() -> None:
    verdict = judge(GATE, _evidence(0.001, 0.001, 0.001, series=2))
    assert verdict.result == "failure" and "2 series" in verdict.reason


def test_an_outage_is_pending_with_the_error() -> None:
    verdict = judge(GATE, Evidence(query="q", start=0, end=60, error="could not be reached"), final=True)
    assert verdict.result == "pending" and "could not be reached" in verdict.reason
