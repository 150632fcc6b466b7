"""The registry side of the core: ``registry.mlflow`` in manifests, ``registry_alias`` in the policy,
the built-in ``registry`` gate and ``source: mlflow`` on metric and compare gates — judged purely."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.core.gate_inputs import GateInputs
from bot.core.gates import evaluate
from bot.core.manifest import load_manifest
from bot.core.model import Manifest
from bot.core.policy import load_policy
from bot.core.policy_model import CompareGate, MetricGate
from bot.core.registry import (
    ModelVersion,
    RegistryEvidence,
    RegistryLookup,
    RegistryRef,
    Run,
    alias_problem,
    same_number,
)
from bot.errors import ManifestError, PolicyError

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
DIGEST = "sha256:" + "ab12" * 16
REF = RegistryRef("fraud-detector", "12")


def manifest(
    version: str = "1.4.2", *, metrics: dict[str, float] | None = None, ref: RegistryRef | None = REF
) -> Manifest:
    metrics = {"auc": 0.931, "latency_p95_ms": 41.0} if metrics is None else metrics
    data: dict[str, Any] = {
        "apiVersion": "promobot/v1",
        "kind": "ModelDeployment",
        "name": "fraud-detector",
        "version": version,
        "artifact": {"uri": "s3://m", "digest": DIGEST},
        "metrics": metrics,
    }
    return Manifest(
        name="fraud-detector",
        version=version,
        artifact_uri="s3://m",
        artifact_digest=DIGEST,
        metrics=metrics,
        data=data,
        registry=ref,
    )


def found(
    metrics: dict[str, float], *, status: str = "READY", stage: str = "None", ref: RegistryRef = REF
) -> RegistryLookup:
    mv = ModelVersion(ref.model, ref.version, status, "run1", "runs:/run1/model", stage=stage)
    return RegistryLookup(ref, version=mv, run=Run("run1", "active", metrics))


def inputs(
    cand: Manifest,
    lookup: RegistryLookup | None,
    *,
    incumbent: Manifest | None = None,
    inc_lookup: RegistryLookup | None = None,
    configured: bool = True,
) -> GateInputs:
    return GateInputs(
        model="fraud-detector",
        from_env="staging",
        to_env="prod",
        candidate=cand,
        candidate_error=None,
        source=cand,
        incumbent=incumbent,
        local_keys=("serving",),
        rejections=(),
        became_current_at=None,
        registry=RegistryEvidence(lookup, inc_lookup) if configured else None,
    )


def registry_row(gi: GateInputs) -> Any:
    rows = [r for r in evaluate([], gi, now=NOW) if r.kind == "registry"]
    return rows[0] if rows else None


# --------------------------------------------------------------------------- the registry gate


def test_registry_gate_passes_when_the_run_logged_the_manifest_metrics() -> None:
    row = registry_row(inputs(manifest(), found({"auc": 0.931, "latency_p95_ms": 41.0, "loss": 0.2})))
    assert row.result == "success" and "READY" in row.reason


def test_registry_gate_tolerates_float_noise_of_1e_9_relative() -> None:
    row = registry_row(inputs(manifest(metrics={"auc": 0.931}), found({"auc": 0.931 * (1 + 5e-10)})))
    assert row.result == "success"
    assert same_number(1.0, 1.0 + 9e-10) and not same_number(1.0, 1.0 + 2e-9)


def test_registry_gate_fails_naming_both_values_when_metrics_differ() -> None:
    row = registry_row(inputs(manifest(metrics={"auc": 0.95}), found({"auc": 0.931})))
    assert row.result == "failure"
    assert "0.95" in row.reason and "0.931" in row.reason and "auc" in row.reason


def test_registry_gate_fails_when_the_run_did_not_log_a_manifest_metric() -> None:
    row = registry_row(inputs(manifest(metrics={"auc": 0.931, "f1": 0.8}), found({"auc": 0.931})))
    assert row.result == "failure" and "no f1" in row.reason


@pytest.mark.parametrize(
    "lookup",
    [RegistryLookup(REF), found({"auc": 0.931}, stage="Deleted_Internal")],
    ids=["missing", "deleted"],
)
def test_registry_gate_fails_for_a_missing_or_deleted_version(lookup: RegistryLookup) -> None:
    row = registry_row(inputs(manifest(), lookup))
    assert (
        row.result == "failure"
        and "does not exist" in row.reason
        and "fraud-detector version 12" in row.reason
    )


def test_registry_gate_waits_for_a_registering_version_and_fails_a_failed_one() -> None:
    assert registry_row(inputs(manifest(), found({}, status="PENDING_REGISTRATION"))).result == "pending"
    assert registry_row(inputs(manifest(), found({}, status="FAILED_REGISTRATION"))).result == "failure"


def test_an_unreachable_registry_is_pending_never_success() -> None:
    lookup = RegistryLookup(
        REF, unavailable="MLflow GET /api/2.0/mlflow/model-versions/get could not be reached"
    )
    row = registry_row(inputs(manifest(), lookup))
    assert row.result == "pending" and "re-run /retest" in row.reason


def test_a_provider_problem_fails_the_registry_gate() -> None:
    lookup = RegistryLookup(REF, problem="mlflow provider 'registry': environment variable X is not set")
    assert registry_row(inputs(manifest(), lookup)).result == "failure"


def test_no_registry_gate_without_a_provider_or_without_registry_in_the_manifest() -> None:
    assert registry_row(inputs(manifest(), found({}), configured=False)) is None
    assert registry_row(inputs(manifest(ref=None), None)) is None


# --------------------------------------------------------------------------- source: mlflow


def test_metric_gate_with_source_mlflow_reads_the_run_not_the_manifest() -> None:
    gate = MetricGate(name="auc", min=0.9, source="mlflow")
    cand = manifest(metrics={"auc": 0.99})
    res = evaluate([gate], inputs(cand, found({"auc": 0.85})), now=NOW)[-1]
    assert res.result == "failure" and "0.85" in res.reason
    res = evaluate([gate], inputs(cand, found({"auc": 0.95})), now=NOW)[-1]
    assert res.result == "success"


def test_metric_gate_with_source_mlflow_is_pending_on_outage_and_fails_without_provider() -> None:
    gate = MetricGate(name="auc", min=0.9, source="mlflow")
    down = RegistryLookup(REF, unavailable="MLflow could not be reached")
    assert evaluate([gate], inputs(manifest(), down), now=NOW)[-1].result == "pending"
    res = evaluate([gate], inputs(manifest(), None, configured=False), now=NOW)[-1]
    assert res.result == "failure" and "provider" in res.reason


def test_compare_gate_with_source_mlflow_reads_both_runs() -> None:
    gate = CompareGate(metric="auc", max_drop=0.005, source="mlflow")
    inc_ref = RegistryRef("fraud-detector", "11")
    gi = inputs(
        manifest(metrics={"auc": 0.99}),
        found({"auc": 0.90}),
        incumbent=manifest("1.4.1", metrics={"auc": 0.5}, ref=inc_ref),
        inc_lookup=found({"auc": 0.93}, ref=inc_ref),
    )
    res = evaluate([gate], gi, now=NOW)[-1]
    assert res.result == "failure" and "0.9 vs 0.93" in res.reason


# --------------------------------------------------------------------------- manifest and policy

MANIFEST = """apiVersion: promobot/v1
kind: ModelDeployment
name: fraud-detector
version: "1.4.2"
artifact: {{uri: s3://m, digest: "{digest}"}}
registry:
  mlflow: {body}
"""


def test_manifest_registry_mlflow_is_read() -> None:
    m = load_manifest(
        MANIFEST.format(digest=DIGEST, body='{model: Fraud_Detector.v2, version: "12"}'), path="p.yaml"
    )
    assert m.registry == RegistryRef("Fraud_Detector.v2", "12")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{model: fraud, version: 12}", 'quote it: version: "12"'),
        ('{model: fraud, version: "1.2"}', "not an MLflow model version"),
        ('{model: "../x", version: "1"}', "registered model name"),
        ('{model: "a b", version: "1"}', "registered model name"),
        ('{version: "1"}', "registry.mlflow.model is missing"),
        ('{model: fraud, version: "1", stage: prod}', "unknown key 'stage'"),
    ],
    ids=["unquoted", "dotted", "path", "space", "no-model", "unknown-key"],
)
def test_manifest_registry_mlflow_refuses_bad_values_with_a_location(body: str, message: str) -> None:
    with pytest.raises(ManifestError) as info:
        load_manifest(MANIFEST.format(digest=DIGEST, body=body), path="environments/prod/fraud-detector.yaml")
    assert message in info.value.message
    assert info.value.file == "environments/prod/fraud-detector.yaml" and info.value.line == 7


POLICY = """apiVersion: promobot/v1
kind: PromotionPolicy
environments:
  - name: dev
  - name: staging
  - name: prod
    registry_alias: {alias}
"""


def test_policy_registry_alias_defaults_to_the_environment_name() -> None:
    policy = load_policy(POLICY.format(alias="champion"))
    assert [e.alias for e in policy.environments] == ["dev", "staging", "champion"]


@pytest.mark.parametrize("alias", ["latest", "v12", "V3", "cham pion", "'a.b'", "'x/y'"])
def test_policy_refuses_reserved_or_invalid_aliases_with_file_and_line(alias: str) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(POLICY.format(alias=alias), path="environments/promotion.yaml")
    assert info.value.file == "environments/promotion.yaml" and info.value.line == 7
    assert "alias" in info.value.message


def test_alias_rules() -> None:
    assert alias_problem("champion") is None and alias_problem("prod-eu_1") is None
    assert alias_problem("latest") and alias_problem("v1") and alias_problem("a.b")


PROVIDER = "providers:\n  mlflow:\n    registry: {tracking_uri: http://127.0.0.1:5000}\n"


def test_policy_metric_source_must_be_manifest_or_mlflow() -> None:
    text = (
        POLICY.format(alias="prod")
        + "    gates:\n      - metric: {name: auc, min: 0.9, source: mlfow}\n"
        + PROVIDER
    )
    with pytest.raises(PolicyError) as info:
        load_policy(text)
    assert "source 'mlfow'" in info.value.message and info.value.line == 9
    ok = load_policy(text.replace("mlfow", "mlflow"))
    assert ok.environments[2].gates[0] == MetricGate(name="auc", min=0.9, source="mlflow")


def test_source_mlflow_without_an_mlflow_provider_is_a_policy_error() -> None:
    text = (
        POLICY.format(alias="prod")
        + "    gates:\n      - compare: {metric: auc, max_drop: 0.1, source: mlflow}\n"
    )
    with pytest.raises(PolicyError) as info:
        load_policy(text)
    assert "no mlflow provider" in info.value.message and info.value.line == 9


def test_with_a_provider_an_environment_name_that_is_no_alias_needs_registry_alias() -> None:
    text = POLICY.format(alias="prod").replace("name: staging", "name: latest") + PROVIDER
    with pytest.raises(PolicyError) as info:
        load_policy(text)
    assert "registry_alias" in info.value.message and info.value.line == 5
    load_policy(text.replace("name: latest", "name: latest\n    registry_alias: stage"))
