"""Property tests for the YAML loaders and the promotion edit: any input ends in a value or a BotError.

Covers ``load_manifest``, ``load_policy``, ``load_rejected`` and ``apply_promotion`` with
arbitrary text and bytes, with YAML-shaped noise (anchors, aliases, tags, flow style,
odd line breaks) and with structured documents: valid examples mutated at random paths.
Whatever they are fed, they return or raise one of promobot's own errors (``BotError``);
what they return keeps its invariants.

Not repeated here: the round-trip contract of ``apply_promotion`` on well-formed block
manifests (``tests/core/test_roundtrip.py``), the slash parser
(``tests/core/test_slash_fuzz.py``) and the approval counter (``test_approvals_fuzz.py``).

Budget: each test runs its default number of examples (the whole file stays well under
20 s); ``PROMOBOT_FUZZ_EXAMPLES=N`` runs N examples per test instead (see tests/fuzz/README.md).
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core import yamlsafe
from bot.core.manifest import VERSION_RE, apply_promotion, load_manifest
from bot.core.model import DIGEST_RE, ENV_NAME_RE, MODEL_NAME_RE, Manifest
from bot.core.policy import load_policy
from bot.core.policy_model import Policy
from bot.core.rejected import load_rejected
from bot.errors import BotError, ManifestError
from tests.conftest import EXAMPLE

EXAMPLES_ENV = "PROMOBOT_FUZZ_EXAMPLES"
EXAMPLE_MANIFEST = (EXAMPLE / "prod" / "fraud-detector.yaml").read_text()
EXAMPLE_POLICY = (EXAMPLE / "promotion.yaml").read_text()


def budget(default: int) -> settings:
    """CI: ``default`` examples, derandomized (the same examples every run, so CI never flakes).

    With ``$PROMOBOT_FUZZ_EXAMPLES=N``: N random examples per test (a longer hunt).
    """
    wanted = os.environ.get(EXAMPLES_ENV, "").strip()
    hunting = wanted.isdigit() and int(wanted) > 0
    return settings(
        max_examples=int(wanted) if hunting else default,
        derandomize=not hunting,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


Loader = Callable[[str | bytes], object]
LOADERS: dict[str, Loader] = {
    "manifest": lambda t: load_manifest(t, path="environments/dev/m.yaml", expected_name="m"),
    "policy": lambda t: load_policy(t, path="environments/promotion.yaml"),
    "rejected": lambda t: load_rejected(t, path="environments/rejected.yaml"),
}


def outcome(load: Loader, text: str | bytes) -> object | BotError:
    """The loaded value, or the BotError it raised; any other exception fails the test."""
    try:
        return load(text)
    except BotError as exc:
        assert exc.message.strip(), "an error always says what happened"
        return exc


# --------------------------------------------------------------------------- YAML-shaped noise

TOKENS = [
    "apiVersion: promobot/v1",
    "kind: ModelDeployment",
    "kind: PromotionPolicy",
    "name: m",
    "name: dev",
    'version: "1.0.0"',
    "version: 1.10",
    "artifact:",
    "  uri: s3://x",
    "  digest: sha256:" + "a" * 64,
    "metrics: {auc: .nan}",
    "metrics: {auc: 1e400}",
    "environments:",
    "  - name: dev",
    "  - name: prod",
    "    from: nowhere",
    "    gates: [{metric: {name: auc, min: 0.9}}]",
    "rejected:",
    "  - model: m",
    "- &a [x, x, x]",
    "b: [*a, *a, *a]",
    "<<: *a",
    "<<: {x: 1}",
    "c: *undefined",
    "&x",
    "*x",
    "? [complex, key]",
    ": value",
    "!!python/object:os.system x",
    "!custom tag",
    "!!binary aGk=",
    "!!str 1",
    "!!int x",
    "!!float [1]",
    "!!bool [x]",
    "!!float nope",
    "!!bool maybe",
    "0o777",
    "0x1F",
    "0b101",
    "~",
    "null",
    "yes",
    "on",
    "2026-01-01",
    "---",
    "...",
    "%YAML 1.2",
    "%TAG ! tag:x,2000:",
    "'",
    '"',
    "\t",
    "  ",
    "#",
    "|",
    ">-",
    "{",
    "}",
    "[",
    "]",
    ",",
    "- ",
    "a: b: c",
    "key: 'unterminated",
    "\u2028",
    "\x85",
    "\r",
    "\ufeff",
    "\x00",
    "\ud7ff",
    "𝔘",
]
noise = st.lists(st.sampled_from(TOKENS) | st.text(max_size=12), max_size=25).flatmap(
    lambda parts: st.sampled_from(["\n", "\r\n", " ", ""]).map(lambda sep: sep.join(parts))
)


@budget(150)
@given(which=st.sampled_from(sorted(LOADERS)), text=st.text(max_size=400))
def test_any_text_loads_or_raises_a_bot_error(which: str, text: str) -> None:
    outcome(LOADERS[which], text)


@budget(150)
@given(which=st.sampled_from(sorted(LOADERS)), data=st.binary(max_size=400))
def test_any_bytes_load_or_raise_a_bot_error(which: str, data: bytes) -> None:
    outcome(LOADERS[which], data)


@budget(300)
@given(which=st.sampled_from(sorted(LOADERS)), text=noise)
def test_yaml_shaped_noise_loads_or_raises_a_bot_error(which: str, text: str) -> None:
    outcome(LOADERS[which], text)


@budget(20)
@given(
    which=st.sampled_from(sorted(LOADERS)),
    depth=st.integers(min_value=50, max_value=5000),
    opener=st.sampled_from(["[", "{a: ", "- ", "a:\n  "]),
)
def test_deep_nesting_is_refused_with_a_located_error(which: str, depth: int, opener: str) -> None:
    closer = {"[": "]", "{a: ": "}"}.get(opener, "")
    if opener == "a:\n  ":  # block mappings: indentation grows with depth
        text = "".join("  " * i + "a:\n" for i in range(depth)) + "  " * depth + "b: 1\n"
    else:
        text = opener * depth + "x" + closer * depth
    result = outcome(LOADERS[which], text)
    if depth > yamlsafe.MAX_DEPTH and opener != "- ":
        assert isinstance(result, ManifestError)


@pytest.mark.parametrize("which", sorted(LOADERS))
@pytest.mark.parametrize("text", ["a: !!float nope\n", "a: !!bool maybe\n"], ids=["float", "bool"])
def test_an_explicit_tag_on_a_value_it_cannot_convert_is_a_located_error(which: str, text: str) -> None:
    assert isinstance(outcome(LOADERS[which], text), ManifestError)


# --------------------------------------------------------------------------- structured documents

INTERESTING = st.sampled_from(
    [
        "1.10",
        "1.4.2",
        "sha256:" + "b" * 64,
        "sha256:XYZ",
        "../x",
        "/etc/passwd",
        "$(id)",
        "yes",
        "@org/team",
        "carol",
        "prod",
        "dev",
        "staging",
        "",
        " ",
        "\n",
        "serving",
        "write",
        "admin",
        "24:00",
        "fri",
        "Europe/Berlin",
        "file:../../etc/passwd",
        "<img src=x>",
        "m",
        "M",
        "a" * 70,
    ]
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=16)
    | INTERESTING
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8) | INTERESTING, inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            out += _paths(child, (*prefix, i))
    return out


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """``base`` with 1–4 random edits: a value replaced, a key or item deleted, a key or item added."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(doc)[1:]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = doc
        for step in path[:-1]:
            parent = parent[step]
        op = draw(st.sampled_from(["replace", "delete", "add"]))
        if op == "replace":
            parent[path[-1]] = draw(values)
        elif op == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=8) | INTERESTING)] = draw(values)
        else:
            parent.insert(draw(st.integers(0, len(parent))), draw(values))
    return doc


def dump(doc: Any) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=4096)


MANIFEST_DOC = yamlsafe.load(EXAMPLE_MANIFEST, path="example")
POLICY_DOC = yamlsafe.load(EXAMPLE_POLICY, path="example")
REJECTED_DOC = {
    "rejected": [
        {
            "model": "fraud-detector",
            "version": "1.3.0",
            "reason": "drift",
            "by": "sam",
            "at": "2026-10-01T09:00:00Z",
        }
    ]
}


def assert_manifest_invariants(m: Manifest, expected: str) -> None:
    assert m.name == expected and MODEL_NAME_RE.fullmatch(m.name)
    assert isinstance(m.version, str) and VERSION_RE.fullmatch(m.version)
    assert DIGEST_RE.fullmatch(m.artifact_digest) and m.artifact_uri
    assert m.eval_dataset_digest is None or DIGEST_RE.fullmatch(m.eval_dataset_digest)
    for name, number in m.metrics.items():
        assert isinstance(name, str)
        assert isinstance(number, int | float) and not isinstance(number, bool) and math.isfinite(number)
    assert all(isinstance(k, str) for k in m.data)


def assert_policy_invariants(p: Policy) -> None:
    names = p.names
    assert names and len(names) == len(set(names))
    assert all(ENV_NAME_RE.fullmatch(n) for n in names)
    assert p.environments[0].from_ is None
    for i, env in enumerate(p.environments[1:], start=1):
        assert env.from_ in names[:i], "from names an earlier environment"
        assert env.approvals.required >= 0
        for gate in env.gates:
            if gate.kind == "command":
                assert gate.run and all(isinstance(a, str) and a for a in gate.run)
                assert gate.timeout > 0
    assert p.rollback.approvals.required >= 1
    assert "serving" in p.local_keys


@budget(200)
@given(doc=mutated(MANIFEST_DOC), expected=st.sampled_from(["fraud-detector", "m"]))
def test_a_mutated_manifest_loads_with_its_invariants_or_raises_a_bot_error(
    doc: dict[str, Any], expected: str
) -> None:
    result = outcome(lambda t: load_manifest(t, path="x.yaml", expected_name=expected), dump(doc))
    if isinstance(result, Manifest):
        assert_manifest_invariants(result, expected)


@budget(200)
@given(doc=mutated(POLICY_DOC))
def test_a_mutated_policy_loads_with_its_invariants_or_raises_a_bot_error(doc: dict[str, Any]) -> None:
    result = outcome(LOADERS["policy"], dump(doc))
    if isinstance(result, Policy):
        assert_policy_invariants(result)


@budget(100)
@given(doc=mutated(REJECTED_DOC))
def test_a_mutated_rejected_file_loads_valid_entries_or_raises_a_bot_error(doc: dict[str, Any]) -> None:
    result = outcome(LOADERS["rejected"], dump(doc))
    if not isinstance(result, BotError):
        assert isinstance(result, tuple)
        for entry in result:
            assert MODEL_NAME_RE.fullmatch(entry.model)
            assert isinstance(entry.version, str) and entry.version.strip()
            assert all(isinstance(v, str) for v in (entry.reason, entry.by, entry.at))


def test_the_unmutated_examples_satisfy_the_invariants() -> None:
    assert_manifest_invariants(
        load_manifest(dump(MANIFEST_DOC), path="x", expected_name="fraud-detector"), "fraud-detector"
    )
    assert_policy_invariants(load_policy(dump(POLICY_DOC)))


# --------------------------------------------------------------------------- apply_promotion

LOCAL = ("serving",)
styles = st.sampled_from(["block", "flow", "crlf", "anchors", "comments", "odd-breaks", "tabs", "markers"])


def styled(doc: dict[str, Any], style: str) -> str:
    """``doc`` written in one of the shapes the text splice must handle or hand to ruamel."""
    text = dump(doc)
    if style == "flow":
        return yaml.safe_dump(doc, default_flow_style=True, allow_unicode=True, width=4096)
    if style == "crlf":
        return text.replace("\n", "\r\n")
    if style == "anchors":
        return "x-shared: &shared {replicas: 2}\n" + text + "extra: *shared\n"
    if style == "comments":
        return "# head\n" + text.replace("\n", "  # c\n", 3) + "# tail\n"
    if style == "odd-breaks":
        return text.replace("\n", "\u2028", 1)
    if style == "tabs":
        return text.replace("  ", "\t", 1)
    if style == "markers":
        return "%YAML 1.2\n---\n" + text + "...\n"
    return text


@budget(150)
@given(
    source=mutated(MANIFEST_DOC) | st.just(MANIFEST_DOC),
    target=mutated(MANIFEST_DOC) | st.just(MANIFEST_DOC),
    s_style=styles,
    t_style=styles,
)
def test_apply_promotion_on_any_shape_keeps_the_contract_or_raises_a_bot_error(
    source: dict[str, Any], target: dict[str, Any], s_style: str, t_style: str
) -> None:
    src_text, tgt_text = styled(source, s_style), styled(target, t_style)
    try:
        result = apply_promotion(src_text, tgt_text, ())
    except BotError:
        return
    got = yamlsafe.load(result, path="result")
    src = yamlsafe.load(src_text, path="source")
    tgt = yamlsafe.load(tgt_text, path="target")
    assert {k: v for k, v in got.items() if k not in LOCAL} == {
        k: v for k, v in src.items() if k not in LOCAL
    }
    assert {k: v for k, v in got.items() if k in LOCAL} == {k: v for k, v in tgt.items() if k in LOCAL}


@pytest.mark.parametrize("side", ["source", "target"])
def test_apply_promotion_with_a_unicode_line_separator_raises_a_bot_error_not_a_parser_crash(
    side: str,
) -> None:
    source = dump(MANIFEST_DOC)
    target = source.replace("version: 1.4.1", "version: 1.4.0")
    odd = "# comment\u2028" + (source if side == "source" else target)
    with contextlib.suppress(BotError):
        apply_promotion(odd if side == "source" else source, odd if side == "target" else target, ())


@budget(150)
@given(source=noise | st.text(max_size=200), target=st.none() | noise | st.text(max_size=200))
def test_apply_promotion_on_arbitrary_text_returns_text_or_raises_a_bot_error(
    source: str, target: str | None
) -> None:
    try:
        result = apply_promotion(source, target, ())
    except BotError:
        return
    assert isinstance(result, str)
