"""Manifest loading: every rejection reference §2 lists, with file, line, column and a hint."""

from __future__ import annotations

import pytest

from bot.core.manifest import checked_manifest_path, load_manifest, unknown_keys
from bot.core.yamlsafe import MAX_BYTES
from bot.errors import ManifestError, UsageError

PATH = "environments/prod/fraud-detector.yaml"
DIGEST = "sha256:" + "ab" * 32

VALID = f"""\
apiVersion: promobot/v1
kind: ModelDeployment
name: fraud-detector
version: 1.4.2
owner: "@acme/fraud-ml"
artifact:
  uri: s3://models/fraud-detector/1.4.2/model.onnx
  digest: {DIGEST}
metrics:
  auc: 0.931
  latency_p95_ms: 41
eval_dataset:
  uri: s3://data/fraud/eval.parquet
  digest: {DIGEST}
lineage: {{run_id: 4be1c0}}
labels: {{team: fraud}}
serving:
  replicas: 3
"""


def load(text: str | bytes, expected: str | None = "fraud-detector") -> object:
    return load_manifest(text, path=PATH, expected_name=expected)


def test_a_valid_manifest_loads_into_a_manifest_value() -> None:
    m = load_manifest(VALID, path=PATH, expected_name="fraud-detector")
    assert (m.name, m.version, m.artifact_digest) == ("fraud-detector", "1.4.2", DIGEST)
    assert m.metrics == {"auc": 0.931, "latency_p95_ms": 41}
    assert m.eval_dataset_digest == DIGEST
    assert m.owner == "@acme/fraud-ml"
    assert m.lineage == {"run_id": "4be1c0"}
    assert m.data["serving"] == {"replicas": 3}
    assert m.path == PATH


def test_bytes_input_is_accepted() -> None:
    assert load_manifest(VALID.encode(), path=PATH).version == "1.4.2"


CASES = [
    ("duplicate-key", VALID.replace("owner:", "name: again\nowner:"), 5, 1, "duplicate key 'name'"),
    ("python-tag", VALID.replace("version: 1.4.2", "version: !!python/object:os.system x"), 4, 10, "tag"),
    ("custom-tag", VALID.replace("auc: 0.931", "auc: !custom 0.931"), 10, 8, "'!custom' is not allowed"),
    ("binary-tag", VALID.replace('owner: "@acme/fraud-ml"', "owner: !!binary aGk="), 5, 8, "!!binary"),
    ("name-not-file", VALID.replace("name: fraud-detector", "name: fraud-detect0r"), 3, 7, "file name"),
    ("bad-name", VALID.replace("name: fraud-detector", "name: Fraud_Detector"), 3, 7, "not valid"),
    (
        "bad-digest",
        VALID.replace(f"  digest: {DIGEST}\nmetrics", "  digest: sha256:ABC\nmetrics"),
        8,
        11,
        "sha256",
    ),
    ("uppercase-digest", VALID.replace(DIGEST, "sha256:" + "AB" * 32, 1), 8, 11, "sha256"),
    ("non-numeric-metric", VALID.replace("auc: 0.931", 'auc: "0.931"'), 10, 8, "not a number"),
    ("bool-metric", VALID.replace("auc: 0.931", "auc: true"), 10, 8, "not a number"),
    ("nan-metric", VALID.replace("auc: 0.931", "auc: .nan"), 10, 8, "metric 'auc'"),
    ("unquoted-number-version", VALID.replace("version: 1.4.2", "version: 1.10"), 4, 10, "reads 1.10 as 1.1"),
    ("integer-version", VALID.replace("version: 1.4.2", "version: 2"), 4, 10, "number"),
    ("unsafe-version", VALID.replace("version: 1.4.2", 'version: "../../etc"'), 4, 10, "not a safe version"),
    (
        "missing-digest",
        VALID.replace(f"  digest: {DIGEST}\nmetrics", "metrics"),
        7,
        3,
        "artifact.digest is missing",
    ),
    ("wrong-kind", VALID.replace("kind: ModelDeployment", "kind: Deployment"), 2, 7, "kind"),
    ("label-not-string", VALID.replace("labels: {team: fraud}", "labels: {tier: 1}"), 16, 16, "label 'tier'"),
    ("yaml-syntax", VALID.replace("metrics:\n", "metrics: [\n"), None, None, "invalid YAML"),
]


@pytest.mark.parametrize(
    ("text", "line", "column", "needle"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_invalid_manifest_is_refused_with_location_and_hint(
    text: str, line: int | None, column: int | None, needle: str
) -> None:
    with pytest.raises(ManifestError) as info:
        load(text)
    err = info.value
    assert needle in err.message
    assert err.file == PATH
    if line is not None:
        assert (err.line, err.column) == (line, column)
    else:
        assert err.line is not None
    assert " — " in err.message


def test_unquoted_version_hint_shows_the_quoted_form() -> None:
    with pytest.raises(ManifestError) as info:
        load(VALID.replace("version: 1.4.2", "version: 1.10"))
    assert 'quote it: version: "1.10"' in info.value.message


def test_file_over_one_mebibyte_is_refused_before_parsing() -> None:
    big = VALID + "# " + "x" * MAX_BYTES + "\n"
    for text in (big, big.encode()):
        with pytest.raises(ManifestError) as info:
            load(text)
        assert "1 MiB" in info.value.message and info.value.file == PATH
        assert " — " in info.value.message


def test_non_utf8_bytes_are_refused_with_the_line() -> None:
    raw = VALID.encode().replace(b"fraud-ml", b"fraud-\xffml")
    with pytest.raises(ManifestError) as info:
        load(raw)
    assert "UTF-8" in info.value.message and info.value.line == 5


def test_alias_bomb_is_refused() -> None:
    bomb = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        bomb.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    text = VALID + "\n".join(bomb) + "\n"
    with pytest.raises(ManifestError) as info:
        load(text)
    assert "aliases" in info.value.message and info.value.file == PATH
    assert info.value.line is not None and info.value.line > 17
    assert " — " in info.value.message


def test_small_aliases_are_allowed() -> None:
    text = VALID + "extra: &x {a: 1}\nmore: *x\n"
    assert load(text).data["more"] == {"a": 1}  # type: ignore[attr-defined]


def test_nesting_deeper_than_the_limit_is_refused() -> None:
    text = VALID + "deep: " + "[" * 100 + "]" * 100 + "\n"
    with pytest.raises(ManifestError) as info:
        load(text)
    assert "nesting" in info.value.message and info.value.line == 19


def test_yaml_1_1_booleans_and_dates_stay_strings() -> None:
    text = VALID.replace("labels: {team: fraud}", "labels: {canary: yes, since: 2026-10-01}")
    assert load(text).data["labels"] == {"canary": "yes", "since": "2026-10-01"}  # type: ignore[attr-defined]


def test_unknown_top_level_keys_are_allowed_and_reported() -> None:
    m = load_manifest(VALID + "rollout: {strategy: canary}\nteam_notes: x\n", path=PATH)
    assert unknown_keys(m) == ["rollout", "team_notes"]
    assert unknown_keys(m, local_keys=["rollout"]) == ["team_notes"]


def test_manifest_path_joins_validated_names() -> None:
    assert checked_manifest_path("prod", "fraud-detector") == "environments/prod/fraud-detector.yaml"


@pytest.mark.parametrize(
    ("env", "model"),
    [("prod", "../secrets"), ("../x", "m"), ("prod", "a/b"), ("Prod", "m"), ("prod", "")],
    ids=["model-traversal", "env-traversal", "slash", "uppercase-env", "empty"],
)
def test_manifest_path_refuses_unsafe_names(env: str, model: str) -> None:
    with pytest.raises(UsageError):
        checked_manifest_path(env, model)
