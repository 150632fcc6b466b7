"""Builders shared by the gate tests (tests/core/test_gate*.py): a manifest, the inputs, one gate's result."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.gate_inputs import GateInputs
from bot.core.gates import evaluate
from bot.core.model import GateResult, Manifest
from bot.core.policy_model import Gate

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
