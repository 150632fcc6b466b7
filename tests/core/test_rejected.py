"""rejected.yaml: loading, idempotent round-trip edits, and the JSON Schemas of every example file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from bot.core import yamlsafe
from bot.core.manifest import load_manifest
from bot.core.model import Rejection
from bot.core.policy import load_policy
from bot.core.rejected import add_rejection, find_rejection, load_rejected, remove_rejection
from bot.errors import ManifestError
from tests.conftest import EXAMPLE

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "bot" / "schemas"
ENTRY = Rejection(
    model="fraud-detector",
    version="1.10",
    reason="auc dropped in prod",
    by="alice",
    at="2026-10-02T11:00:00Z",
)
COMMENTED = "# never again\nrejected: []  # empty for now\n"


def test_missing_or_empty_file_has_no_rejections() -> None:
    assert load_rejected(None) == ()
    assert load_rejected("") == ()
    assert load_rejected("rejected: []\n") == ()


def test_add_appends_in_block_style_keeps_comments_and_is_idempotent() -> None:
    once = add_rejection(COMMENTED, ENTRY)
    assert once.startswith("# never again\n")
    assert "  - model: fraud-detector\n" in once
    assert load_rejected(once) == (ENTRY,)
    assert add_rejection(once, ENTRY) == once
    other = Rejection("fraud-detector", "1.4.2", "r", "bob", "2026-10-03T00:00:00Z")
    twice = add_rejection(once, other)
    assert load_rejected(twice) == (ENTRY, other)


def test_add_to_a_missing_file_creates_one() -> None:
    text = add_rejection(None, ENTRY)
    assert text.startswith("# ")
    assert load_rejected(text) == (ENTRY,)


def test_version_that_looks_like_a_number_stays_a_string() -> None:
    assert find_rejection(load_rejected(add_rejection(None, ENTRY)), "fraud-detector", "1.10") == ENTRY


def test_remove_drops_only_that_version() -> None:
    other = Rejection("spam-filter", "3.2.0", "r", "bob", "2026-10-03T00:00:00Z")
    text = add_rejection(add_rejection(COMMENTED, ENTRY), other)
    removed = remove_rejection(text, "fraud-detector", "1.10")
    assert load_rejected(removed) == (other,)
    assert removed.startswith("# never again\n")
    assert remove_rejection(removed, "fraud-detector", "1.10") == removed


def test_find_rejection_matches_model_and_version() -> None:
    rejections = (ENTRY,)
    assert find_rejection(rejections, "fraud-detector", "1.10") is ENTRY
    assert find_rejection(rejections, "fraud-detector", "1.1") is None


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ("rejected:\n  - {model: m, version: 1.10, reason: r, by: b, at: t}\n", 2, "must be a string"),
        ("rejected:\n  - {model: m, version: '1', reason: r, by: b}\n", 2, "rejected[0].at"),
        (
            "rejected:\n  - {model: m, version: '1', reason: r, by: b, at: t, why: x}\n",
            2,
            "unknown key 'why'",
        ),
        ("rejects: []\n", 1, "unknown key 'rejects'"),
    ],
    ids=["unquoted-version", "missing-at", "unknown-entry-key", "unknown-top-key"],
)
def test_invalid_rejected_file_is_refused_with_location(text: str, line: int, needle: str) -> None:
    with pytest.raises(ManifestError) as info:
        load_rejected(text)
    assert needle in info.value.message
    assert (info.value.file, info.value.line) == ("environments/rejected.yaml", line)
    assert " — " in info.value.message


# --------------------------------------------------------------------------- schemas


def _validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _manifest_files() -> list[Path]:
    return sorted(p for env in ("dev", "staging", "prod") for p in (EXAMPLE / env).glob("*.yaml"))


def test_the_example_repository_has_models_in_every_state() -> None:
    names = {p.stem for p in _manifest_files()}
    assert {"fraud-detector", "churn-predictor", "search-ranker"} <= names
    versions = {
        env: load_manifest((EXAMPLE / f"{env}/fraud-detector.yaml").read_bytes(), path=env).version
        for env in ("dev", "staging", "prod")
    }
    assert versions == {"dev": "1.5.0", "staging": "1.4.2", "prod": "1.4.1"}


@pytest.mark.parametrize("path", _manifest_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_example_manifest_passes_schema_and_loader_and_its_artifact_digest(path: Path) -> None:
    import hashlib

    rel = path.relative_to(EXAMPLE.parent).as_posix()
    manifest = load_manifest(path.read_bytes(), path=rel, expected_name=path.stem)
    assert list(_validator("manifest").iter_errors(manifest.data)) == []
    assert manifest.artifact_uri.startswith("file:environments/artifacts/")
    artifact = EXAMPLE.parent / manifest.artifact_uri.removeprefix("file:")
    assert "sha256:" + hashlib.sha256(artifact.read_bytes()).hexdigest() == manifest.artifact_digest


def test_example_policy_and_rejected_pass_their_schemas() -> None:
    for name, file in (("policy", "promotion.yaml"), ("rejected", "rejected.yaml")):
        data = yamlsafe.load((EXAMPLE / file).read_bytes(), path=file)
        assert list(_validator(name).iter_errors(data)) == []
    load_policy((EXAMPLE / "promotion.yaml").read_bytes())
    assert load_rejected((EXAMPLE / "rejected.yaml").read_bytes()) == ()


DIGEST = "sha256:" + "0" * 64
GOOD_MANIFEST: dict[str, Any] = {
    "apiVersion": "promobot/v1",
    "kind": "ModelDeployment",
    "name": "m",
    "version": "1.0.0",
    "artifact": {"uri": "s3://x", "digest": DIGEST},
}
BAD_MANIFESTS = [
    ("bad-digest", {**GOOD_MANIFEST, "artifact": {"uri": "s3://x", "digest": "sha256:XYZ"}}),
    ("number-version", {**GOOD_MANIFEST, "version": 1.1}),
    ("bad-name", {**GOOD_MANIFEST, "name": "Bad_Name"}),
    ("string-metric", {**GOOD_MANIFEST, "metrics": {"auc": "high"}}),
]


@pytest.mark.parametrize("doc", [d for _, d in BAD_MANIFESTS], ids=[i for i, _ in BAD_MANIFESTS])
def test_invalid_manifests_are_refused_by_schema_and_loader(doc: dict[str, Any]) -> None:
    assert list(_validator("manifest").iter_errors(doc)) != []
    with pytest.raises(ManifestError):
        load_manifest(json.dumps(doc), path="m.yaml")


POLICY = "apiVersion: promobot/v1\nkind: PromotionPolicy\nenvironments:\n  - name: dev\n  - name: prod\n"
BAD_POLICIES = [
    ("unknown-gate", POLICY + "    gates: [{smoke: {}}]\n"),
    ("metric-without-bounds", POLICY + "    gates: [{metric: {name: auc}}]\n"),
    ("rollback-zero", POLICY + "rollback: {approvals: {required: 0}}\n"),
    ("unknown-key", POLICY + "rollbak: {}\n"),
    ("bad-weekday", POLICY + "    gates: [{freeze: {timezone: UTC, windows: [{days: [fry]}]}}]\n"),
]


@pytest.mark.parametrize("text", [t for _, t in BAD_POLICIES], ids=[i for i, _ in BAD_POLICIES])
def test_invalid_policies_are_refused_by_schema_and_loader(text: str) -> None:
    assert list(_validator("policy").iter_errors(yamlsafe.load(text, path="p"))) != []
    with pytest.raises(ManifestError):
        load_policy(text)


def test_schemas_accept_the_minimal_documents() -> None:
    assert list(_validator("manifest").iter_errors(GOOD_MANIFEST)) == []
    assert list(_validator("policy").iter_errors(yamlsafe.load(POLICY, path="p"))) == []
    entry = {
        "model": ENTRY.model,
        "version": ENTRY.version,
        "reason": ENTRY.reason,
        "by": ENTRY.by,
        "at": ENTRY.at,
    }
    assert list(_validator("rejected").iter_errors({"rejected": [entry]})) == []
    assert list(_validator("rejected").iter_errors({"rejected": [{**entry, "why": "x"}]})) != []
