"""The promotion edit, byte for byte against tests/golden/roundtrip/<case>/expected.yaml.

Regenerate the golden files with ``PROMOBOT_REGEN_GOLDEN=1 pytest tests/core/test_roundtrip.py``
and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core import yamlsafe
from bot.core.manifest import apply_promotion, load_manifest
from tests.helpers.golden import GOLDEN as GOLDEN_ROOT
from tests.helpers.golden import assert_golden

GOLDEN = GOLDEN_ROOT / "roundtrip"
LOCAL_KEYS = {"local-keys-kept": ("rollout",)}
CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


@pytest.mark.parametrize("case", CASES, ids=CASES)
def test_promotion_edit_matches_the_golden_file(case: str) -> None:
    folder = GOLDEN / case
    source = _read(folder / "source.yaml")
    target_file = folder / "target.yaml"
    target = _read(target_file) if target_file.exists() else None
    result = apply_promotion(source, target, LOCAL_KEYS.get(case, ()))
    assert_golden(f"roundtrip/{case}/expected.yaml", result)


@pytest.mark.parametrize("case", CASES, ids=CASES)
def test_promotion_edit_is_idempotent_and_keeps_the_contract(case: str) -> None:
    folder = GOLDEN / case
    source = _read(folder / "source.yaml")
    target_file = folder / "target.yaml"
    target = _read(target_file) if target_file.exists() else None
    local = ("serving", *LOCAL_KEYS.get(case, ()))
    once = apply_promotion(source, target, local[1:])
    assert apply_promotion(source, once, local[1:]) == once
    got = yamlsafe.load(once, path="result")
    src = yamlsafe.load(source, path="source")
    tgt = src if target is None else yamlsafe.load(target, path="target")
    assert {k: v for k, v in got.items() if k not in local} == {
        k: v for k, v in src.items() if k not in local
    }
    assert {k: v for k, v in got.items() if k in local} == {k: v for k, v in tgt.items() if k in local}


def test_new_to_target_returns_the_source_unchanged() -> None:
    source = _read(GOLDEN / "new-to-target" / "source.yaml")
    assert apply_promotion(source, None, ()) is source


def test_a_target_already_in_sync_is_returned_as_is() -> None:
    target = _read(GOLDEN / "comments-everywhere" / "expected.yaml")
    source = _read(GOLDEN / "comments-everywhere" / "source.yaml")
    assert apply_promotion(source, target, ()) is target


def test_target_comments_and_local_values_survive() -> None:
    folder = GOLDEN / "comments-everywhere"
    result = apply_promotion(_read(folder / "source.yaml"), _read(folder / "target.yaml"), ())
    for kept in (
        "# PROD copy",
        "# sized for Black Friday",
        "# autoscaling is handled",
        "# end of file",
        "# the model file",
    ):
        assert kept in result
    assert "version: 1.4.2         # promoted from dev" in result
    assert load_manifest(result, path="x").version == "1.4.2"


# --------------------------------------------------------------------------- property

_names = st.sampled_from(["auc", "f1", "latency_p95_ms", "recall", "precision"])
_digest = st.text("0123456789abcdef", min_size=64, max_size=64).map(lambda h: "sha256:" + h)
_version = st.from_regex(r"[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{1,2}", fullmatch=True)
_number = st.one_of(
    st.integers(-1000, 1000), st.floats(-1e6, 1e6, allow_nan=False).map(lambda f: round(f, 4))
)


@st.composite
def manifests(draw: st.DrawFn) -> str:
    """A valid manifest as text, in a random key order with random optional keys."""
    entries = {
        "apiVersion": "promobot/v1",
        "kind": "ModelDeployment",
        "name": "m",
        "version": f'"{draw(_version)}"',
        "artifact": f"\n  uri: s3://x/{draw(st.integers(0, 99))}\n  digest: {draw(_digest)}",
    }
    if draw(st.booleans()):
        metrics = draw(st.dictionaries(_names, _number, max_size=4))
        entries["metrics"] = "{" + ", ".join(f"{k}: {v}" for k, v in metrics.items()) + "}"
    if draw(st.booleans()):
        entries["owner"] = '"@acme/team"  # owner'
    for extra in ("serving", "rollout", "notes"):
        if draw(st.booleans()):
            entries[extra] = f"\n  replicas: {draw(st.integers(0, 9))}  # {extra}"
    keys = draw(st.permutations(list(entries)))
    lines = []
    for key in keys:
        if draw(st.booleans()):
            lines.append(f"# about {key}")
        lines.append(f"{key}: {entries[key]}")
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=manifests(), target=manifests(), rollout_local=st.booleans())
def test_promotion_takes_promoted_keys_from_source_and_local_keys_from_target(
    source: str, target: str, rollout_local: bool
) -> None:
    local_keys = ("rollout",) if rollout_local else ()
    local = ("serving", *local_keys)
    result = apply_promotion(source, target, local_keys)
    got = load_manifest(result, path="result").data
    src = yamlsafe.load(source, path="source")
    tgt = yamlsafe.load(target, path="target")
    assert {k: v for k, v in got.items() if k not in local} == {
        k: v for k, v in src.items() if k not in local
    }
    assert {k: v for k, v in got.items() if k in local} == {k: v for k, v in tgt.items() if k in local}
    assert apply_promotion(source, result, local_keys) == result
