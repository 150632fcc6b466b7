"""Tests for bot.core.gates: built-ins first, then the policy's gates in order; overall; the selectors."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.gate_inputs import CommandOutcome
from bot.core.gates import command_gates, evaluate, needs_artifact, overall
from bot.core.model import GateResult
from bot.core.policy_model import ArtifactGate, CommandGate, CompareGate, Gate, MetricGate, SoakGate
from tests.core.gate_setup import (
    NOW,
    inputs,
    manifest,
)

# --------------------------------------------------------------------------- evaluate / overall


def test_builtins_come_first_in_fixed_order_then_policy_gates_in_policy_order() -> None:
    gates: list[Gate] = [SoakGate(hours=1), MetricGate(name="auc", min=0.9), CommandGate("smoke", ("x",))]
    ok = CommandOutcome(exit_code=0, timed_out=False, output_tail="", duration_s=0.1)
    results = evaluate(gates, inputs(commands={"smoke": ok}), now=NOW)
    assert [r.name for r in results] == [
        "schema",
        "order",
        "integrity",
        "not-rejected",
        "soak",
        "metric auc",
        "command smoke",
    ]
    assert [r.kind for r in results][4:] == ["soak", "metric", "command"]
    assert overall(results) == "success"


def test_skip_kinds_drops_soak_and_compare_for_rollbacks() -> None:
    gates: list[Gate] = [SoakGate(hours=1), CompareGate(metric="auc", max_drop=0.0), MetricGate("auc", 0.5)]
    results = evaluate(gates, inputs(), now=NOW, skip_kinds=frozenset({"soak", "compare"}))
    assert [r.name for r in results] == ["schema", "order", "integrity", "not-rejected", "metric auc"]


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ([], "success"),
        (["success", "success"], "success"),
        (["success", "pending"], "pending"),
        (["pending", "failure", "success"], "failure"),
    ],
    ids=["nothing", "all-success", "one-pending", "failure-wins-over-pending"],
)
def test_overall_is_failure_then_pending_then_success(outcomes: list[Any], expected: str) -> None:
    results = [GateResult(name=f"g{i}", kind="metric", result=o, reason="") for i, o in enumerate(outcomes)]
    assert overall(results) == expected


def test_needs_artifact_and_command_gates_pick_their_gates_from_the_policy() -> None:
    art = ArtifactGate(max_bytes=10)
    smoke, load = CommandGate("smoke", ("a",)), CommandGate("load", ("b",))
    gates: list[Gate] = [MetricGate("auc", 0.5), smoke, art, load]
    assert needs_artifact(gates) is art
    assert needs_artifact([MetricGate("auc", 0.5)]) is None
    assert command_gates(gates) == [smoke, load]


def test_a_stale_pr_is_told_the_source_moved_not_that_someone_edited_it() -> None:
    stale = inputs(candidate=manifest("1.5.0"), source=manifest("1.5.1"), became_current_at=None)
    results = {r.name: r for r in evaluate([SoakGate(hours=24)], stale, now=NOW)}
    assert "staging runs 1.5.1 now: it moved on since this PR was built" in results["integrity"].reason
    assert results["soak"].reason.startswith("staging no longer runs 1.5.0 (it runs 1.5.1)")
