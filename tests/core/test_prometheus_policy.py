"""`prometheus` gates in the policy: parsed into PrometheusGate, every mistake located and hinted."""

from __future__ import annotations

import pytest

from bot.core.policy import load_policy
from bot.core.promql import PrometheusGate, TrafficSpec
from bot.errors import PolicyError

PATH = "environments/promotion.yaml"
HEAD = """\
apiVersion: promobot/v1
kind: PromotionPolicy
providers:
  prometheus:
    metrics: {url: "http://127.0.0.1:9090"}
environments:
  - name: dev
  - name: staging
  - name: prod
    gates:
      - prometheus:
"""
GOOD = """\
          name: error-rate
          provider: metrics
          env: staging
          query: 'sum(rate(x{version="{{ version }}"}[5m]))'
          max: 0.01
          over: 2h
          step: 5m
          min_points: 12
          traffic: {query: 'sum(increase(x{model="{{ model }}"}[2h]))', min: 1000}
"""


def test_a_prometheus_gate_parses_with_durations_in_seconds() -> None:
    (gate,) = load_policy(HEAD + GOOD, path=PATH).environments[2].gates
    assert gate == PrometheusGate(
        name="error-rate",
        provider="metrics",
        query='sum(rate(x{version="{{ version }}"}[5m]))',
        env="staging",
        max=0.01,
        over=7200.0,
        step=300.0,
        min_points=12,
        traffic=TrafficSpec('sum(increase(x{model="{{ model }}"}[2h]))', 1000.0),
    )
    assert gate.label == "prometheus error-rate ≤ 0.01"


def test_defaults() -> None:
    body = "          {name: e, provider: metrics, query: up, min: 1}\n"
    (gate,) = (
        load_policy(HEAD.replace("- prometheus:\n", "- prometheus:\n") + body, path=PATH)
        .environments[2]
        .gates
    )
    assert isinstance(gate, PrometheusGate)
    assert (gate.env, gate.over, gate.step, gate.min_points, gate.traffic) == (None, 3600.0, 60.0, 1, None)


def _bad(old: str, new: str) -> str:
    assert old in GOOD
    return HEAD + GOOD.replace(old, new, 1)


CASES = [
    (
        "unknown-provider",
        _bad("provider: metrics", "provider: metrix"),
        13,
        21,
        "unknown prometheus provider",
    ),
    ("unknown-env", _bad("env: staging", "env: qa"), 14, 16, "unknown environment 'qa'"),
    ("placeholder", _bad("{{ version }}", "{{ job }}"), 15, 18, "unknown placeholder {{ job }}"),
    ("unmatched", _bad("{{ version }}", "{{ version }"), 15, 18, "unmatched"),
    ("no-bounds", _bad("          max: 0.01\n", ""), 12, 11, "neither min nor max"),
    ("bad-over", _bad("over: 2h", "over: 2 hours"), 17, 17, "over must be a duration"),
    ("too-many-points", _bad("step: 5m", "step: 0.5s"), 18, 17, "at most 11000"),
    ("min-points-zero", _bad("min_points: 12", "min_points: 0"), 19, 23, "at least 1"),
    ("traffic-no-min", _bad(", min: 1000}", "}"), 20, 20, "traffic has no min"),
    ("traffic-placeholder", _bad("{{ model }}", "{{ team }}"), 20, 28, "unknown placeholder"),
    ("unknown-key", _bad("step: 5m", "stride: 5m"), 18, 11, "unknown key 'stride'"),
    ("bad-name", _bad("name: error-rate", "name: 'error rate'"), 12, 17, "not an identifier"),
]


@pytest.mark.parametrize(
    ("text", "line", "column", "needle"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_mistakes_are_refused_with_location_and_hint(text: str, line: int, column: int, needle: str) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(text, path=PATH)
    assert needle in info.value.message
    assert " — " in info.value.message
    assert (info.value.file, info.value.line, info.value.column) == (PATH, line, column)


def test_the_json_schema_accepts_the_gate_and_refuses_what_it_can_see() -> None:
    import json
    from pathlib import Path

    import jsonschema
    import yaml

    root = Path(__file__).resolve().parents[2]
    schema = jsonschema.Draft202012Validator(
        json.loads((root / "bot/schemas/policy.schema.json").read_text())
    )
    assert schema.is_valid(yaml.safe_load(HEAD + GOOD))
    for name, text, *_ in CASES:
        if name in ("bad-over", "min-points-zero", "traffic-no-min", "unknown-key", "bad-name", "no-bounds"):
            assert not schema.is_valid(yaml.safe_load(text)), name


def test_the_examples_commented_live_data_blocks_validate_when_uncommented() -> None:
    """environments/promotion.yaml shows providers.prometheus and verify on staging, commented out."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out: list[str] = []
    block = ""
    for line in (root / "environments" / "promotion.yaml").read_text().splitlines():
        if line == "# providers:":
            out.append("providers:")
            continue
        if line.startswith("#   prometheus:"):
            block = "prometheus"
        elif line.startswith("#   verify:"):
            block = "verify"
        elif not line.startswith("#  "):
            block = ""
        if block == "prometheus":
            out.append(line[2:])
        elif block == "verify":
            out.append(" " + line[1:])
        else:
            out.append(line)
    policy = load_policy("\n".join(out) + "\n", path=PATH)
    staging = policy.env("staging")
    assert staging is not None and staging.verify is not None
    assert staging.verify.on_failure == "rollback" and staging.verify.checks[0].name == "error-rate"
    assert staging.verify.delay == 600 and staging.verify.duration == 7200
    assert "staging-metrics" in policy.providers.prometheus


def test_the_readme_example_policy_validates() -> None:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Verify with live data", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, flags=re.S)
    assert block is not None
    policy = load_policy("apiVersion: promobot/v1\nkind: PromotionPolicy\n" + block[1], path=PATH)
    staging, prod = policy.env("staging"), policy.env("prod")
    assert staging is not None and staging.verify is not None and staging.verify.on_failure == "rollback"
    assert prod is not None and prod.gates[0].kind == "prometheus"
