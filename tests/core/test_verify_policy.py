"""`verify:` on an environment (reference §15.3): parsed into VerifyPolicy, prometheus and command
checks, every mistake refused with file:line:column and a hint, and the JSON schema agreeing."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.core.policy import load_policy
from bot.core.policy_model import CommandGate
from bot.core.promql import PrometheusGate
from bot.errors import PolicyError

PATH = "environments/promotion.yaml"
GOOD = """\
apiVersion: promobot/v1
kind: PromotionPolicy
providers:
  prometheus:
    metrics: {url: "http://127.0.0.1:9090"}
environments:
  - name: dev
  - name: staging
    verify:
      delay: 5m
      duration: 1h
      on_failure: rollback
      max_errors: 3
      checks:
        - prometheus:
            name: error-rate
            provider: metrics
            query: 'sum(rate(x{version="{{ version }}"}[5m]))'
            max: 0.01
            step: 5m
        - command:
            name: smoke
            run: [python3, checks/smoke.py]
            timeout: 30
  - name: prod
"""
SCHEMA = jsonschema.Draft202012Validator(
    json.loads((Path(__file__).resolve().parents[2] / "bot/schemas/policy.schema.json").read_text())
)


def test_a_verify_section_with_a_prometheus_and_a_command_check_parses() -> None:
    staging = load_policy(GOOD, path=PATH).env("staging")
    assert staging is not None and staging.verify is not None
    spec = staging.verify
    assert (spec.delay, spec.duration, spec.on_failure, spec.max_errors) == (300.0, 3600.0, "rollback", 3)
    prometheus, command = spec.checks
    assert (
        isinstance(prometheus, PrometheusGate) and prometheus.name == "error-rate" and prometheus.step == 300
    )
    assert command == CommandGate(name="smoke", run=("python3", "checks/smoke.py"), timeout=30.0)
    assert SCHEMA.is_valid(yaml.safe_load(GOOD))


def test_verify_defaults() -> None:
    text = GOOD.replace(
        "      delay: 5m\n      duration: 1h\n      on_failure: rollback\n      max_errors: 3\n", ""
    ).replace("            timeout: 30\n", "")
    spec = load_policy(text, path=PATH).environments[1].verify
    assert spec is not None
    assert (spec.delay, spec.duration, spec.on_failure, spec.max_errors) == (600.0, 7200.0, "notify", 6)
    assert spec.checks[1] == CommandGate(name="smoke", run=("python3", "checks/smoke.py"), timeout=300.0)
    assert SCHEMA.is_valid(yaml.safe_load(text))


def _bad(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


CASES = [
    # (id, policy text, line, column, what the message says, the JSON schema sees it too)
    (
        "unknown-key",
        _bad("      max_errors: 3\n", "      retries: 3\n"),
        13,
        7,
        "unknown key 'retries'",
        True,
    ),
    (
        "bad-delay",
        _bad("delay: 5m", "delay: soon"),
        10,
        14,
        "delay must be a duration",
        True,
    ),
    (
        "bad-duration",
        _bad("duration: 1h", "duration: 1 hour"),
        11,
        17,
        "duration must be a duration",
        True,
    ),
    (
        "on-failure",
        _bad("on_failure: rollback", "on_failure: revert"),
        12,
        19,
        "unknown on_failure 'revert'",
        True,
    ),
    (
        "max-errors-zero",
        _bad("max_errors: 3", "max_errors: 0"),
        13,
        19,
        "at least 1",
        True,
    ),
    (
        "no-checks",
        GOOD[: GOOD.index("      checks:\n")] + "  - name: prod\n",
        10,
        7,
        "non-empty checks list",
        True,
    ),
    (
        "empty-checks",
        GOOD[: GOOD.index("      checks:\n")] + "      checks: []\n  - name: prod\n",
        14,
        15,
        "non-empty checks list",
        True,
    ),
    (
        "check-kind",
        _bad("        - command:\n", "        - shell:\n"),
        21,
        11,
        "`- prometheus: {...}` or `- command: {...}`",
        True,
    ),
    (
        "over-in-a-check",
        _bad("            step: 5m\n", "            over: 2h\n"),
        20,
        13,
        "unknown key 'over'",
        True,
    ),
    (
        "step-too-long",
        _bad("step: 5m", "step: 2h"),
        20,
        19,
        "step is longer than verify.duration",
        False,
    ),
    (
        "unknown-provider",
        _bad("provider: metrics", "provider: metrix"),
        17,
        23,
        "unknown prometheus provider 'metrix'",
        False,
    ),
    (
        "placeholder",
        _bad("{{ version }}", "{{ commit }}"),
        18,
        20,
        "unknown placeholder {{ commit }}",
        False,
    ),
    (
        "no-bounds",
        _bad("            max: 0.01\n", ""),
        16,
        13,
        "neither min nor max",
        True,
    ),
    (
        "duplicate-name",
        _bad("name: smoke", "name: error-rate"),
        22,
        19,
        "check 'error-rate' is listed twice",
        False,
    ),
    (
        "run-string",
        _bad("run: [python3, checks/smoke.py]", "run: python3 checks/smoke.py"),
        23,
        18,
        "run is a string; it must be an argv list",
        True,
    ),
    (
        "run-empty",
        _bad("run: [python3, checks/smoke.py]", "run: []"),
        23,
        18,
        "run is empty",
        True,
    ),
    (
        "command-timeout",
        _bad("timeout: 30", "timeout: 0"),
        24,
        22,
        "timeout",
        True,
    ),
    (
        "command-name",
        _bad("name: smoke", "name: 'smoke test'"),
        22,
        19,
        "command check name 'smoke test' is not an identifier",
        True,
    ),
    (
        # The window is the query's range: Prometheus refuses more than 11,000 points (as for a
        # gate's over / step), which would fail every verification and trigger on_failure.
        "too-many-points",
        _bad("step: 5m", "step: 0.3s"),
        20,
        19,
        "verify.duration / step is 12000 points, Prometheus answers at most 11000",
        False,
    ),
    (
        "command-unknown-key",
        _bad("timeout: 30", "shell: true"),
        24,
        13,
        "unknown key 'shell' in command check",
        True,
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "column", "needle"), [c[1:5] for c in CASES], ids=[c[0] for c in CASES]
)
def test_verify_mistakes_are_refused_with_file_line_and_a_hint(
    text: str, line: int, column: int, needle: str
) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(text, path=PATH)
    assert needle in info.value.message
    assert " — " in info.value.message  # what is wrong — what to do
    assert (info.value.file, info.value.line, info.value.column) == (PATH, line, column)


@pytest.mark.parametrize("text", [c[1] for c in CASES if c[5]], ids=[c[0] for c in CASES if c[5]])
def test_the_json_schema_refuses_the_verify_mistakes_it_can_see(text: str) -> None:
    assert not SCHEMA.is_valid(yaml.safe_load(text))


def test_rollback_verify_direct_needs_direct_and_the_schema_agrees() -> None:
    """promobot's own direct rollbacks are an explicit policy choice (reference §15)."""
    assert load_policy(GOOD, path=PATH).rollback.verify_direct is False
    both = GOOD + "rollback:\n  direct: true\n  verify_direct: true\n"
    assert load_policy(both, path=PATH).rollback.verify_direct is True
    assert SCHEMA.is_valid(yaml.safe_load(both))
    alone = GOOD + "rollback:\n  verify_direct: true\n"
    with pytest.raises(PolicyError) as info:
        load_policy(alone, path=PATH)
    assert "rollback.verify_direct needs rollback.direct: true" in info.value.message
    assert info.value.line == alone.splitlines().index("  verify_direct: true") + 1
    assert not SCHEMA.is_valid(yaml.safe_load(alone))
    assert not SCHEMA.is_valid(yaml.safe_load(GOOD + "rollback:\n  direct: false\n  verify_direct: true\n"))
