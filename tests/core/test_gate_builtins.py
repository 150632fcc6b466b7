"""Tests for bot.core.gate_builtins: schema, order, integrity and not-rejected."""

from __future__ import annotations

import pytest

from bot.core.gates import evaluate, overall
from bot.core.model import Manifest, Rejection
from bot.core.policy_model import FreezeGate, MetricGate
from tests.core.gate_setup import (
    DIGEST_B,
    NOW,
    builtin,
    inputs,
    manifest,
)

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
