"""Tests for bot.core.gates: every gate kind's success, failure and pending, with ``now`` passed in."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.core.gates import (
    ArtifactCheck,
    CommandOutcome,
    GateInputs,
    command_gates,
    evaluate,
    fenced,
    needs_artifact,
    overall,
)
from bot.core.model import (
    ArtifactGate,
    CommandGate,
    CompareGate,
    FreezeGate,
    FreezeWindow,
    Gate,
    GateResult,
    Manifest,
    MetricGate,
    Rejection,
    SoakGate,
)

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 27, 21, 0, tzinfo=UTC)
DIGEST_A = "sha256:" + "ab12" * 16
DIGEST_B = "sha256:" + "cd34" * 16
EVAL_1 = "sha256:" + "1111" * 16
EVAL_2 = "sha256:" + "2222" * 16

# --------------------------------------------------------------------------- builders


def manifest(
    version: str = "1.4.2",
    *,
    digest: str = DIGEST_A,
    metrics: dict[str, float] | None = None,
    eval_digest: str | None = None,
    serving: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Manifest:
    metrics = {"auc": 0.931, "latency_p95_ms": 41.0} if metrics is None else metrics
    uri = f"s3://models/fraud-detector/{version}/model.onnx"
    data: dict[str, Any] = {
        "apiVersion": "promobot/v1",
        "kind": "ModelDeployment",
        "name": "fraud-detector",
        "version": version,
        "artifact": {"uri": uri, "digest": digest, "format": "onnx"},
        "metrics": dict(metrics),
    }
    if eval_digest is not None:
        data["eval_dataset"] = {"uri": "s3://data/eval.parquet", "digest": eval_digest}
    data.update(extra or {})
    data["serving"] = serving if serving is not None else {"replicas": 3}
    return Manifest(
        name="fraud-detector",
        version=version,
        artifact_uri=uri,
        artifact_digest=digest,
        metrics=dict(metrics),
        data=data,
        eval_dataset_uri="s3://data/eval.parquet" if eval_digest else None,
        eval_dataset_digest=eval_digest,
    )


def inputs(**overrides: Any) -> GateInputs:
    base = GateInputs(
        model="fraud-detector",
        from_env="staging",
        to_env="prod",
        candidate=manifest(),
        candidate_error=None,
        source=manifest(serving={"replicas": 1}),
        incumbent=manifest("1.4.1", metrics={"auc": 0.933, "latency_p95_ms": 40.0}),
        local_keys=("serving",),
        rejections=(),
        became_current_at=NOW - timedelta(hours=48),
    )
    return replace(base, **overrides)


def one(gate: Gate, gate_inputs: GateInputs | None = None, *, now: datetime = NOW) -> GateResult:
    """The result of the single policy gate ``gate`` (built-ins skipped)."""
    results = evaluate(
        [gate],
        gate_inputs or inputs(),
        now=now,
        skip_kinds=frozenset({"schema", "order", "integrity", "not-rejected"}),
    )
    assert len(results) == 1
    return results[0]


def builtin(name: str, gate_inputs: GateInputs) -> GateResult:
    return next(r for r in evaluate([], gate_inputs, now=NOW) if r.name == name)


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


# --------------------------------------------------------------------------- schema


def test_schema_fails_with_the_load_error_and_dependent_gates_are_not_checked() -> None:
    error = "environments/prod/fraud-detector.yaml:3:10: version must be a string — quote it"
    bad = inputs(candidate=None, candidate_error=error)
    results = evaluate([MetricGate("auc", 0.5), FreezeGate("UTC", ())], bad, now=NOW)
    by_name = {r.name: r for r in results}
    assert by_name["schema"].result == "failure"
    assert by_name["schema"].reason == error
    for name in ("order", "integrity", "not-rejected", "metric auc"):
        assert by_name[name].result == "failure"
        assert "not checked" in by_name[name].reason
    assert by_name["freeze"].result == "success"  # needs no manifest
    assert overall(results) == "failure"


def test_schema_succeeds_when_the_candidate_loaded() -> None:
    assert builtin("schema", inputs()).result == "success"


# --------------------------------------------------------------------------- order


def test_order_succeeds_when_the_candidate_is_what_from_runs_now() -> None:
    result = builtin("order", inputs())
    assert result.result == "success"
    assert "1.4.2" in result.reason


def test_order_fails_naming_both_versions_when_from_moved_on() -> None:
    result = builtin("order", inputs(candidate=manifest("1.4.1"), source=manifest("1.4.2")))
    assert result.result == "failure"
    assert result.reason == (
        "staging runs 1.4.2 now, this PR promotes 1.4.1 — re-run `promobot promote fraud-detector --to prod`"
        " to refresh it"
    )


def test_order_fails_when_the_model_is_not_in_from() -> None:
    result = builtin("order", inputs(source=None))
    assert result.result == "failure"
    assert result.reason.startswith("fraud-detector is not in staging")


# --------------------------------------------------------------------------- integrity


def test_integrity_succeeds_when_only_local_keys_differ() -> None:
    cand = manifest(serving={"replicas": 9}, extra={"notes": "prod only"})
    src = manifest(serving={"replicas": 1}, extra={"notes": "staging only"})
    result = builtin("integrity", inputs(candidate=cand, source=src, local_keys=("notes",)))
    assert result.result == "success"


def test_integrity_treats_serving_as_local_even_when_local_keys_omit_it() -> None:
    result = builtin("integrity", inputs(local_keys=()))
    assert result.result == "success"


@pytest.mark.parametrize(
    ("candidate", "keys", "path"),
    [
        (manifest("1.4.3"), "version, artifact differ", "version"),
        (manifest(digest=DIGEST_B), "artifact differs", "artifact.digest"),
        (manifest(metrics={"auc": 0.99, "latency_p95_ms": 41.0}), "metrics differs", "metrics.auc"),
        (manifest(extra={"owner": "@mallory"}), "owner differs", "owner"),
    ],
    ids=["version-edited", "digest-edited", "metric-edited", "key-added"],
)
def test_integrity_fails_listing_keys_edited_by_hand(candidate: Manifest, keys: str, path: str) -> None:
    result = builtin("integrity", inputs(candidate=candidate))
    assert result.result == "failure"
    assert result.reason.startswith(f"{keys} from staging — ")
    assert "edited" in result.reason and "by hand" in result.reason
    assert result.reason.endswith("re-run `promobot promote fraud-detector --to prod`")
    assert f"`{path}`" in result.details


def test_integrity_fails_when_there_is_no_source_to_compare_with() -> None:
    assert builtin("integrity", inputs(source=None)).result == "failure"


# --------------------------------------------------------------------------- not-rejected


def test_not_rejected_fails_with_the_rejection_reason_who_and_when() -> None:
    rej = Rejection("fraud-detector", "1.4.2", "latency regression\nin prod", "alice", "2026-11-20T10:00:00Z")
    result = builtin("not-rejected", inputs(rejections=(rej,)))
    assert result.result == "failure"
    assert "latency regression in prod" in result.reason
    assert "alice" in result.reason
    assert "2026-11-20T10:00:00Z" in result.reason


def test_not_rejected_ignores_rejections_of_other_models_and_versions() -> None:
    rejections = (
        Rejection("other-model", "1.4.2", "bad", "bob", "2026-11-20"),
        Rejection("fraud-detector", "1.4.1", "bad", "bob", "2026-11-20"),
    )
    assert builtin("not-rejected", inputs(rejections=rejections)).result == "success"


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


# --------------------------------------------------------------------------- soak


def test_soak_is_pending_until_the_hours_have_passed() -> None:
    now = datetime(2026, 11, 27, 21, 0, tzinfo=UTC)
    since = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    got = one(SoakGate(hours=24), inputs(became_current_at=since), now=now)
    assert got.result == "pending"
    assert got.reason == "soaking in staging until 2026-11-28 10:00 UTC (13h left)"
    assert got.until == datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    assert got.until.utcoffset() == timedelta(0)


def test_soak_succeeds_once_the_hours_have_passed() -> None:
    since = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    got = one(SoakGate(hours=24), inputs(became_current_at=since), now=since + timedelta(hours=24))
    assert got.result == "success"
    assert got.until is None


def test_soak_fails_when_history_cannot_tell_when_the_version_arrived() -> None:
    got = one(SoakGate(hours=24), inputs(became_current_at=None))
    assert got.result == "failure"
    assert got.reason == (
        "cannot tell when 1.4.2 reached staging; history missing — fetch full history (fetch-depth: 0)"
    )


@pytest.mark.parametrize(
    ("local_now", "result"),
    [
        # 24 real hours after Sat 12:00 CEST is Sun 11:00 CET (the night had 25 hours).
        (datetime(2026, 10, 25, 10, 59, tzinfo=BERLIN), "pending"),
        (datetime(2026, 10, 25, 11, 0, tzinfo=BERLIN), "success"),
    ],
    ids=["one-minute-short", "exactly-24-real-hours"],
)
def test_soak_counts_real_hours_across_the_autumn_dst_change(local_now: datetime, result: str) -> None:
    since = datetime(2026, 10, 24, 12, 0, tzinfo=BERLIN)  # same tzinfo object: naive subtraction would lie
    got = one(SoakGate(hours=24), inputs(became_current_at=since), now=local_now)
    assert got.result == result
    if result == "pending":
        assert got.until == datetime(2026, 10, 25, 10, 0, tzinfo=UTC)
        assert "(1m left)" in got.reason


# --------------------------------------------------------------------------- freeze

POLICY_FREEZE = FreezeGate(
    timezone="Europe/Berlin",
    windows=(
        FreezeWindow(days=frozenset({5}), start=time(15, 0)),
        FreezeWindow(days=frozenset({6, 7})),
        FreezeWindow(dates=frozenset({date(2026, 12, 24), date(2026, 12, 31)})),
    ),
)


def freeze(*windows: FreezeWindow, tz: str = "Europe/Berlin") -> FreezeGate:
    return FreezeGate(timezone=tz, windows=windows)


def test_freeze_pending_until_the_end_of_chained_weekend_windows() -> None:
    now = datetime(2026, 11, 27, 16, 0, tzinfo=BERLIN)  # Friday
    got = one(POLICY_FREEZE, now=now)
    assert got.result == "pending"
    assert got.reason == "freeze window (fri 15:00–24:00 Europe/Berlin) until Mon 2026-11-30 00:00 CET"
    assert got.until == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert got.until.utcoffset() == timedelta(0)


def test_freeze_on_a_sunday_reports_the_window_it_is_in() -> None:
    got = one(POLICY_FREEZE, now=datetime(2026, 11, 29, 9, 0, tzinfo=BERLIN))
    assert got.reason == "freeze window (sat, sun Europe/Berlin) until Mon 2026-11-30 00:00 CET"


def test_freeze_date_window_does_not_chain_across_a_gap() -> None:
    # Thu 24 Dec is frozen all day; Fri 25 Dec freezes only from 15:00: the freeze ends at midnight.
    got = one(POLICY_FREEZE, now=datetime(2026, 12, 24, 10, 0, tzinfo=BERLIN))
    assert got.result == "pending"
    assert got.reason == "freeze window (2026-12-24, 2026-12-31 Europe/Berlin) until Fri 2026-12-25 00:00 CET"


@pytest.mark.parametrize(
    ("now", "result"),
    [
        (datetime(2026, 11, 26, 14, 0, tzinfo=BERLIN), "success"),  # Thursday
        (datetime(2026, 11, 27, 14, 59, tzinfo=BERLIN), "success"),  # Friday, before 15:00
        (datetime(2026, 11, 27, 15, 0, tzinfo=BERLIN), "pending"),  # Friday 15:00 sharp
        (datetime(2026, 11, 30, 0, 0, tzinfo=BERLIN), "success"),  # Monday: the freeze has ended
        (datetime(2026, 12, 31, 23, 59, tzinfo=BERLIN), "pending"),  # New Year's Eve (date window)
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "success"),  # 00:30 on Jan 1 in Berlin
    ],
    ids=["thursday", "friday-before-start", "friday-at-start", "monday-midnight", "date-window", "day-after"],
)
def test_freeze_windows_are_judged_in_local_time(now: datetime, result: str) -> None:
    assert one(POLICY_FREEZE, now=now).result == result


@pytest.mark.parametrize(
    ("utc_now", "result"),
    [
        (datetime(2026, 11, 26, 23, 30, tzinfo=UTC), "pending"),  # Thu in UTC, Fri 00:30 in Berlin
        (datetime(2026, 11, 27, 23, 30, tzinfo=UTC), "success"),  # Fri in UTC, Sat 00:30 in Berlin
    ],
    ids=["thursday-utc-is-friday-in-berlin", "friday-utc-is-saturday-in-berlin"],
)
def test_freeze_weekday_is_the_weekday_in_the_gate_timezone(utc_now: datetime, result: str) -> None:
    got = one(freeze(FreezeWindow(days=frozenset({5}))), now=utc_now)
    assert got.result == result
    if result == "pending":
        assert got.until == datetime(2026, 11, 27, 23, 0, tzinfo=UTC)


def test_freeze_whole_day_on_the_autumn_dst_change_lasts_25_hours() -> None:
    gate = freeze(FreezeWindow(days=frozenset({7})))
    start = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)  # Sun 00:00 CEST
    assert one(gate, now=start - timedelta(minutes=1)).result == "success"
    for hours in (0, 12, 24):
        got = one(gate, now=start + timedelta(hours=hours, minutes=30))
        assert got.result == "pending"
        assert got.until == start + timedelta(hours=25)
    assert got.reason == "freeze window (sun Europe/Berlin) until Mon 2026-10-26 00:00 CET"
    assert one(gate, now=start + timedelta(hours=25)).result == "success"


def test_freeze_window_on_the_spring_dst_change_uses_local_wall_times() -> None:
    gate = freeze(FreezeWindow(dates=frozenset({date(2026, 3, 29)}), start=time(1, 0), end=time(4, 0)))
    # 01:00 CET is 00:00 UTC; 04:00 CEST is 02:00 UTC: two real hours.
    assert one(gate, now=datetime(2026, 3, 28, 23, 59, tzinfo=UTC)).result == "success"
    got = one(gate, now=datetime(2026, 3, 29, 1, 30, tzinfo=UTC))
    assert got.result == "pending"
    assert got.until == datetime(2026, 3, 29, 2, 0, tzinfo=UTC)
    assert got.reason.endswith("until Sun 2026-03-29 04:00 CEST")
    assert one(gate, now=datetime(2026, 3, 29, 2, 0, tzinfo=UTC)).result == "success"


def test_freeze_window_past_midnight_started_yesterday_still_holds() -> None:
    gate = freeze(FreezeWindow(start=time(22, 0), end=time(6, 0)), tz="America/New_York")
    now = datetime(2026, 7, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT
    got = one(gate, now=now)
    assert got.result == "pending"
    assert got.until == datetime(2026, 7, 8, 10, 0, tzinfo=UTC)
    assert got.reason == "freeze window (daily 22:00–06:00 America/New_York) until Wed 2026-07-08 06:00 EDT"


def test_freeze_success_names_the_next_freeze() -> None:
    got = one(POLICY_FREEZE, now=datetime(2026, 11, 26, 14, 0, tzinfo=BERLIN))
    assert got.reason == "not in a freeze window (Thu 2026-11-26 14:00 CET)"
    assert got.details == "Next freeze: fri 15:00–24:00 from Fri 2026-11-27 15:00 CET."


def test_freeze_covering_every_day_is_pending_without_an_end() -> None:
    got = one(freeze(FreezeWindow(days=frozenset(range(1, 8)))), now=NOW)
    assert got.result == "pending"
    assert got.until is None
    assert "no end" in got.reason


def test_freeze_with_an_unknown_timezone_fails() -> None:
    got = one(freeze(FreezeWindow(days=frozenset({5})), tz="Mars/Olympus"))
    assert got.result == "failure"
    assert "Mars/Olympus" in got.reason


# --------------------------------------------------------------------------- artifact


@pytest.mark.parametrize(
    ("check", "result", "reason_part"),
    [
        (ArtifactCheck("ok", "", DIGEST_A, 18_311_020), "success", "sha256 matches (18.3 MB)"),
        (ArtifactCheck("mismatch", "", DIGEST_B, 10), "failure", "the artifact is sha256:cd34cd34…"),
        (ArtifactCheck("missing", "file:m.onnx: no such file"), "failure", "file:m.onnx: no such file"),
        (ArtifactCheck("too-large", "bigger than 10 B"), "failure", "bigger than 10 B"),
        (ArtifactCheck("unreachable", "HTTP 404"), "failure", "HTTP 404"),
        (ArtifactCheck("timeout", "no answer in 0.3s"), "failure", "no answer in 0.3s"),
        (ArtifactCheck("escapes-repo", "file:../x is outside"), "failure", "outside"),
        (
            ArtifactCheck("unsupported", "cannot verify scheme s3; use a command gate"),
            "failure",
            "cannot verify scheme s3; use a command gate",
        ),
        (None, "failure", "artifact not checked"),
    ],
    ids=[
        "ok",
        "mismatch",
        "missing",
        "too-large",
        "unreachable",
        "timeout",
        "escapes",
        "unsupported",
        "none",
    ],
)
def test_artifact_gate_reports_the_check(check: ArtifactCheck | None, result: str, reason_part: str) -> None:
    got = one(ArtifactGate(), inputs(artifact=check))
    assert (got.name, got.kind, got.result) == ("artifact", "artifact", result)
    assert reason_part in got.reason


def test_artifact_mismatch_details_carry_both_full_digests() -> None:
    got = one(ArtifactGate(), inputs(artifact=ArtifactCheck("mismatch", "", DIGEST_B, 10)))
    assert DIGEST_A in got.details and DIGEST_B in got.details


# --------------------------------------------------------------------------- command


SMOKE = CommandGate(name="smoke", run=("python", "checks/smoke.py"), timeout=300)


@pytest.mark.parametrize(
    ("outcome", "result", "reason"),
    [
        (CommandOutcome(0, False, "all good\n", 1.23), "success", "smoke exited 0"),
        (CommandOutcome(1, False, "boom\n", 0.5), "failure", "smoke exited 1"),
        (CommandOutcome(None, True, "still going\n", 300.0), "failure", "smoke timed out after 300s"),
        (CommandOutcome(-9, False, "", 0.5), "failure", "smoke was killed by signal 9"),
        (
            CommandOutcome(None, False, "", 0.0, error="python: not found"),
            "failure",
            "smoke could not start: python: not found",
        ),
        (None, "failure", "smoke did not run"),
    ],
    ids=["exit-0", "exit-1", "timeout", "signal", "not-found", "not-run"],
)
def test_command_gate_reports_the_outcome(outcome: CommandOutcome | None, result: str, reason: str) -> None:
    commands = {} if outcome is None else {"smoke": outcome}
    got = one(SMOKE, inputs(commands=commands))
    assert (got.name, got.kind, got.result, got.reason) == ("command smoke", "command", result, reason)
    if outcome is not None and outcome.output_tail:
        assert got.details == f"```\n{outcome.output_tail}```"


def test_command_output_with_backtick_fences_cannot_close_the_details_block() -> None:
    tail = "```\ninjected\n```"
    got = one(SMOKE, inputs(commands={"smoke": CommandOutcome(1, False, tail, 0.1)}))
    assert got.details == f"````\n{tail}\n````"
    assert fenced("") == "```\n```"


def test_a_stale_pr_is_told_the_source_moved_not_that_someone_edited_it() -> None:
    stale = inputs(candidate=manifest("1.5.0"), source=manifest("1.5.1"), became_current_at=None)
    results = {r.name: r for r in evaluate([SoakGate(hours=24)], stale, now=NOW)}
    assert "staging runs 1.5.1 now: it moved on since this PR was built" in results["integrity"].reason
    assert results["soak"].reason.startswith("staging no longer runs 1.5.0 (it runs 1.5.1)")
