"""Policy loading: defaults, fan-out, and every rejection reference §3 lists, located and hinted."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from bot.core.model import Permission
from bot.core.policy import load_policy
from bot.core.policy_model import CommandGate, FreezeGate, MetricGate, SoakGate
from bot.errors import ManifestError, PolicyError
from tests.conftest import EXAMPLE

ROOT = Path(__file__).resolve().parents[2]
PATH = "environments/promotion.yaml"

BASE = """\
apiVersion: promobot/v1
kind: PromotionPolicy
environments:
  - name: dev
  - name: staging
    approvals: {required: 1}
    gates:
      - metric: {name: auc, min: 0.85}
  - name: prod
    from: staging
    gates:
      - soak: {hours: 24}
      - freeze:
          timezone: Europe/Berlin
          windows:
            - {days: [fri], from: "15:00", to: "24:00"}
            - {dates: ["2026-12-24"]}
      - command: {name: smoke, run: [python3, checks/smoke.py]}
rollback:
  approvals: {required: 1}
commands:
  rollback: {permission: maintain, teams: ["@acme/sre"]}
"""


def test_the_example_policy_loads() -> None:
    policy = load_policy((EXAMPLE / "promotion.yaml").read_bytes())
    assert policy.names == ("dev", "staging", "prod")
    assert [e.from_ for e in policy.environments] == [None, "dev", "staging"]
    assert policy.env("prod") is not None
    assert policy.rollback.approvals.required == 1


def test_from_defaults_to_the_previous_environment_and_values_are_typed() -> None:
    policy = load_policy(BASE, path=PATH)
    dev, staging, prod = policy.environments
    assert (dev.from_, staging.from_, prod.from_) == (None, "dev", "staging")
    assert staging.gates == (MetricGate(name="auc", min=0.85),)
    soak, freeze, command = prod.gates
    assert soak == SoakGate(hours=24)
    assert isinstance(freeze, FreezeGate) and freeze.timezone == "Europe/Berlin"
    assert freeze.windows[0].days == frozenset({5})
    assert (freeze.windows[0].start, freeze.windows[0].end) == (time(15, 0), None)
    assert freeze.windows[1].dates == frozenset({date(2026, 12, 24)})
    assert command == CommandGate(name="smoke", run=("python3", "checks/smoke.py"), timeout=300.0)
    assert policy.commands["rollback"].permission is Permission.MAINTAIN
    assert policy.commands["rollback"].teams == ("@acme/sre",)
    assert policy.local_keys == ("serving",)


def test_from_may_name_any_earlier_environment_for_fan_out() -> None:
    text = BASE.replace("  - name: prod\n    from: staging\n", "  - name: prod-eu\n    from: staging\n")
    text = text.replace("rollback:\n", "  - {name: prod-us, from: staging}\nrollback:\n", 1)
    policy = load_policy(text, path=PATH)
    assert [e.name for e in policy.downstream("staging")] == ["prod-eu", "prod-us"]


def test_local_keys_always_include_serving() -> None:
    policy = load_policy(
        BASE.replace("environments:", "local_keys: [replicas_hint]\nenvironments:"), path=PATH
    )
    assert policy.local_keys == ("serving", "replicas_hint")


def _with(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new, 1)


CASES = [
    ("unknown-from", _with("from: staging", "from: qa"), 10, 11, "unknown environment 'qa'"),
    (
        "forward-from",
        _with("  - name: staging\n", "  - name: staging\n    from: prod\n").replace(
            "from: staging", "from: dev"
        ),
        6,
        11,
        "comes later in the list —",
    ),
    (
        "cycle",
        _with("  - name: staging\n", "  - name: staging\n    from: prod\n"),
        6,
        11,
        "(a cycle)",
    ),
    ("self-from", _with("from: staging", "from: prod"), 10, 11, "from itself"),
    (
        "unknown-gate",
        _with("- soak: {hours: 24}", "- smoke: {hours: 24}"),
        12,
        9,
        "unknown gate type 'smoke'",
    ),
    ("metric-no-bounds", _with("{name: auc, min: 0.85}", "{name: auc}"), 8, 17, "neither min nor max"),
    (
        "metric-min-above-max",
        _with("{name: auc, min: 0.85}", "{name: auc, min: 0.9, max: 0.8}"),
        8,
        17,
        "above max",
    ),
    ("unknown-weekday", _with("days: [fri]", "days: [fri, fry]"), 16, 28, "unknown weekday 'fry'"),
    ("bad-timezone", _with("timezone: Europe/Berlin", "timezone: Europe/Berlln"), 14, 21, "unknown timezone"),
    (
        "freeze-from-after-to",
        _with('from: "15:00", to: "24:00"', 'from: "18:00", to: "09:00"'),
        16,
        35,
        "not before",
    ),
    (
        "approvals-negative",
        _with("approvals: {required: 1}\n    gates", "approvals: {required: -1}\n    gates"),
        6,
        27,
        "at least 0",
    ),
    (
        "rollback-zero",
        _with("  approvals: {required: 1}\ncommands", "  approvals: {required: 0}\ncommands"),
        20,
        25,
        "at least 1",
    ),
    ("unknown-top-key", _with("rollback:\n", "rollbak:\n"), 19, 1, "unknown key 'rollbak'"),
    (
        "unknown-gate-key",
        _with("{name: auc, min: 0.85}", "{name: auc, minimum: 0.85}"),
        8,
        29,
        "unknown key 'minimum'",
    ),
    (
        "unknown-env-key",
        _with("  - name: dev\n", "  - name: dev\n    gate: []\n"),
        5,
        5,
        "unknown key 'gate'",
    ),
    ("duplicate-env", _with("  - name: prod\n", "  - name: staging\n"), 9, 11, "listed twice"),
    (
        "command-string",
        _with("run: [python3, checks/smoke.py]", "run: python3 checks/smoke.py"),
        18,
        37,
        "argv list",
    ),
    (
        "unknown-command",
        _with("  rollback: {permission", "  rollbak: {permission"),
        22,
        3,
        "unknown key 'rollbak'",
    ),
    ("bad-permission", _with("permission: maintain", "permission: root"), 22, 26, "unknown permission"),
    ("soak-zero", _with("{hours: 24}", "{hours: 0}"), 12, 23, "greater than"),
    ("wrong-kind", _with("kind: PromotionPolicy", "kind: Policy"), 2, 7, "kind"),
    ("bad-env-name", _with("  - name: dev\n", "  - name: Dev!\n"), 4, 11, "not valid"),
    (
        "duplicate-yaml-key",
        _with("kind: PromotionPolicy\n", "kind: PromotionPolicy\nkind: PromotionPolicy\n"),
        3,
        1,
        "duplicate key",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "column", "needle"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_invalid_policy_is_refused_with_location_and_hint(
    text: str, line: int, column: int, needle: str
) -> None:
    with pytest.raises(ManifestError) as info:  # PolicyError, or ManifestError for YAML-level problems
        load_policy(text, path=PATH)
    err = info.value
    assert needle in err.message
    assert (err.file, err.line, err.column) == (PATH, line, column)
    assert " — " in err.message


def test_unknown_gate_type_error_lists_the_known_ones() -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(_with("- soak: {hours: 24}", "- smoke: {hours: 24}"), path=PATH)
    assert "metric, compare, soak, freeze, artifact, command" in info.value.message


def test_unknown_weekday_error_lists_valid_weekdays() -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(_with("days: [fri]", "days: [fri, fry]"), path=PATH)
    assert "mon, tue, wed, thu, fri, sat, sun" in info.value.message


def test_rollback_zero_hint_explains_why() -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(
            _with("  approvals: {required: 1}\ncommands", "  approvals: {required: 0}\ncommands"), path=PATH
        )
    assert "zero is not allowed: a rollback needs at least one approval" in info.value.message


@pytest.mark.parametrize("key", ["version", "artifact", "name"], ids=["version", "artifact", "name"])
def test_identity_keys_cannot_be_local(key: str) -> None:
    from bot.core.policy import load_policy
    from bot.errors import PolicyError

    text = (
        "apiVersion: promobot/v1\nkind: PromotionPolicy\n"
        f"local_keys: [serving, {key}]\nenvironments:\n  - name: dev\n  - name: prod\n"
    )
    with pytest.raises(PolicyError) as info:
        load_policy(text)
    assert (
        info.value.line == 3 and "cannot be a local key" in info.value.message and " — " in info.value.message
    )
