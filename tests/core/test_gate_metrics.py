"""Tests for bot.core.gate_metrics: metric bounds and compare against the incumbent."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.model import GateResult
from bot.core.policy_model import CompareGate, MetricGate
from tests.core.gate_setup import (
    EVAL_1,
    EVAL_2,
    inputs,
    manifest,
    one,
)

# --------------------------------------------------------------------------- metric


@pytest.mark.parametrize(
    ("gate", "value", "result", "reason"),
    [
        (MetricGate("auc", min=0.9), 0.931, "success", "auc 0.931 ≥ min 0.9"),
        (MetricGate("auc", min=0.9), 0.9, "success", "auc 0.9 ≥ min 0.9"),
        (MetricGate("auc", min=0.95), 0.931, "failure", "auc 0.931 < min 0.95"),
        (MetricGate("auc", max=80), 41, "success", "auc 41 ≤ max 80"),
        (MetricGate("auc", max=40), 41, "failure", "auc 41 > max 40"),
        (MetricGate("auc", min=0.5, max=0.9), 0.931, "failure", "auc 0.931 > max 0.9"),
        (MetricGate("auc", min=0.5), float("nan"), "failure", "metric auc is not a number (nan)"),
    ],
    ids=["above-min", "at-min", "below-min", "below-max", "above-max", "outside-range", "nan"],
)
def test_metric_compares_the_candidate_value_with_its_bounds(
    gate: MetricGate, value: float, result: str, reason: str
) -> None:
    got = one(gate, inputs(candidate=manifest(metrics={"auc": value})))
    assert (got.name, got.result, got.reason) == ("metric auc", result, reason)


def test_metric_missing_from_the_manifest_fails() -> None:
    got = one(MetricGate("recall", min=0.5))
    assert got.result == "failure"
    assert got.reason == "metric recall missing from the manifest"


# --------------------------------------------------------------------------- compare


def _compare(
    gate: CompareGate, cand: dict[str, float], inc: dict[str, float] | None, **kw: Any
) -> GateResult:
    incumbent = None if inc is None else manifest("1.4.1", metrics=inc, eval_digest=kw.get("inc_eval"))
    return one(
        gate,
        inputs(candidate=manifest(metrics=cand, eval_digest=kw.get("cand_eval")), incumbent=incumbent),
    )


@pytest.mark.parametrize(
    ("gate", "cand", "inc", "result", "reason_part"),
    [
        (CompareGate("auc", max_drop=0.005), {"auc": 0.931}, {"auc": 0.933}, "success", "(-0.002"),
        (CompareGate("auc", max_drop=0.005), {"auc": 0.920}, {"auc": 0.933}, "failure", "max drop 0.005"),
        (CompareGate("auc", max_drop=0.005), {"auc": 0.93}, {"auc": 0.935}, "success", "(-0.005"),
        (CompareGate("auc", max_drop=0.0), {"auc": 0.95}, {"auc": 0.933}, "success", "(+0.017"),
        (CompareGate("p95", max_increase=5), {"p95": 46}, {"p95": 41}, "success", "(+5"),
        (CompareGate("p95", max_increase=5), {"p95": 47}, {"p95": 41}, "failure", "(+6; max increase 5)"),
        (CompareGate("p95", max_increase=5), {"p95": 8.3}, {"p95": 3.3}, "success", "(+5"),
        (CompareGate("auc", max_drop=0.01), {}, {"auc": 0.9}, "failure", "missing from the candidate"),
        (CompareGate("auc", max_drop=0.01), {"auc": 0.9}, {}, "failure", "missing from prod's manifest"),
    ],
    ids=[
        "small-drop",
        "big-drop",
        "drop-at-limit-despite-float-noise",
        "improvement",
        "increase-at-limit",
        "increase-over-limit",
        "increase-at-limit-despite-float-noise",
        "candidate-lacks-metric",
        "incumbent-lacks-metric",
    ],
)
def test_compare_judges_the_delta_against_the_incumbent(
    gate: CompareGate, cand: dict[str, float], inc: dict[str, float], result: str, reason_part: str
) -> None:
    got = _compare(gate, cand, inc)
    assert got.name == f"compare {gate.metric}"
    assert got.result == result
    assert reason_part in got.reason


def test_compare_passes_with_a_note_when_the_target_has_no_incumbent() -> None:
    got = _compare(CompareGate("auc", max_drop=0.0), {"auc": 0.1}, None)
    assert got.result == "success"
    assert got.reason == "no incumbent in prod; nothing to compare"


def test_compare_fails_when_both_name_eval_datasets_with_different_digests() -> None:
    got = _compare(
        CompareGate("auc", max_drop=1.0), {"auc": 0.9}, {"auc": 0.9}, cand_eval=EVAL_1, inc_eval=EVAL_2
    )
    assert got.result == "failure"
    assert (
        got.reason
        == "eval datasets differ (sha256:11111111… vs sha256:22222222…); numbers are not comparable"
    )
    assert EVAL_1 in got.details and EVAL_2 in got.details


@pytest.mark.parametrize(
    ("cand_eval", "inc_eval"),
    [(EVAL_1, EVAL_1), (EVAL_1, None), (None, EVAL_2)],
    ids=["same-digest", "incumbent-names-none", "candidate-names-none"],
)
def test_compare_compares_when_eval_datasets_agree_or_one_is_unnamed(
    cand_eval: str | None, inc_eval: str | None
) -> None:
    got = _compare(
        CompareGate("auc", max_drop=0.01),
        {"auc": 0.9},
        {"auc": 0.905},
        cand_eval=cand_eval,
        inc_eval=inc_eval,
    )
    assert got.result == "success"
    assert "(-0.005" in got.reason
