"""The `prometheus` gate on promotion PRs, against a real Prometheus (tests/servers/prometheus.py).

The example repository promotes fraud-detector staging → prod. Each scenario commits a staging
version whose live data the server holds (healthy 1.4.0, breaching 1.5.0, no data 1.6.0, no
traffic then healthy 1.7.0) and a policy whose prod environment has a prometheus gate, then runs
`promobot promote` at the tests' clock and reads the gate row, the check details and the PR body.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.core import gates
from bot.core.gate_inputs import GateInputs
from bot.core.manifest import load_manifest
from bot.core.promql import PrometheusGate, moment
from tests.conftest import EXAMPLE, Cli
from tests.helpers.git import commit_all
from tests.servers import free_port
from tests.servers.prometheus import BREACH_START, PrometheusServer

URL_VAR = "PROMOBOT_TEST_PROM_URL"
AUTH_VAR = "PROMOBOT_TEST_PROM_AUTH"
RATIO = (
    'sum(rate(http_requests_total{model="{{ model }}",version="{{ version }}",env="{{ env }}",'
    'code=~"5.."}[5m]))'
    ' / sum(rate(http_requests_total{model="{{ model }}",version="{{ version }}",env="{{ env }}"}[5m]))'
)
PROVIDERS = f"""\
providers:
  prometheus:
    staging-metrics:
      url_env: {URL_VAR}
      headers_env: {{Authorization: {AUTH_VAR}}}
      timeout: 5
"""


def _gate(query: str = RATIO, extra: str = "") -> str:
    return (
        "      - prometheus:\n"
        "          name: error-rate\n"
        "          provider: staging-metrics\n"
        f"          query: {json.dumps(query)}\n"
        "          max: 0.01\n"
        "          over: 2h\n"
        "          step: 5m\n"
        "          min_points: 12\n"
        f"{extra}"
    )


def _setup(cli: Cli, version: str, gate: str | None = None) -> None:
    policy = cli.repo / "environments" / "promotion.yaml"
    text = policy.read_text()
    text = text.replace("environments:\n", PROVIDERS + "environments:\n", 1)
    marker = "      - metric: {name: auc, min: 0.90}\n"
    assert marker in text
    text = text.replace(marker, marker + (gate or _gate()), 1)
    policy.write_text(text)
    staging = cli.repo / "environments" / "staging" / "fraud-detector.yaml"
    staging.write_text(staging.read_text().replace("version: 1.4.2", f"version: {version}", 1))
    commit_all(cli.repo, f"staging runs fraud-detector {version}; prod gates on live data")


@pytest.fixture
def live(cli: Cli, prometheus_server: PrometheusServer, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv(URL_VAR, prometheus_server.url)
    monkeypatch.setenv(AUTH_VAR, prometheus_server.headers["Authorization"])
    return cli


def _promote(cli: Cli) -> tuple[dict[str, Any], str, str]:
    """The prometheus gate row, the promobot/gates check summary and the PR body."""
    data = cli.json("promote", "fraud-detector", "--to", "prod")
    rows = [g for g in data["gates"] if g["kind"] == "prometheus"]
    assert len(rows) == 1, data["gates"]
    pr = cli.json("pr", "show", str(data["pr"]))
    forge = json.loads((cli.repo / ".git" / "promobot" / "forge.json").read_text())
    (summary,) = [
        c["summary"]
        for c in forge["checks"]
        if c["name"] == "promobot/gates" and c["head_sha"] == pr["head_sha"]
    ]
    return rows[0], summary, pr["body"]


def test_a_healthy_version_passes(live: Cli) -> None:
    _setup(live, "1.4.0")
    row, summary, body = _promote(live)
    assert row["result"] == "success", row
    assert row["name"] == "prometheus error-rate"
    assert 'version="1.4.0"' in summary and 'env="staging"' in summary and "worst point" in summary
    assert "prometheus error\\-rate" in body or "prometheus error-rate" in body
    assert "query: sum(rate(http\\_requests\\_total" in body  # the rendered query in the gate table


def test_a_breach_fails_naming_the_worst_point(live: Cli) -> None:
    _setup(live, "1.5.0")
    row, summary, body = _promote(live)
    assert row["result"] == "failure"
    assert "breaks <= 0.01" in row["reason"]
    worst_time = next(
        moment(BREACH_START + s) for s in range(0, 900, 300) if moment(BREACH_START + s) in row["reason"]
    )
    assert "worst point: 0.1" in summary and worst_time in summary
    assert worst_time in body
    pr = live.json("pr", "show", "1")
    assert pr["checks"]["promobot/gates"] == "failure"


def test_no_data_is_pending(live: Cli) -> None:
    _setup(live, "1.6.0")
    row, summary, _ = _promote(live)
    assert row["result"] == "pending" and "no data" in row["reason"]
    assert "points: 0 (need 12)" in summary


def test_nan_points_are_dropped(live: Cli) -> None:
    _setup(live, "1.7.0", _gate().replace("over: 2h", "over: 4h").replace("min_points: 12", "min_points: 30"))
    row, summary, _ = _promote(live)
    assert row["result"] == "pending" and "of 30 points" in row["reason"]
    assert "NaN/Inf" in summary


def test_two_series_fail_and_say_aggregate(live: Cli) -> None:
    query = 'sum by (code) (rate(http_requests_total{model="{{ model }}",version="{{ version }}"}[5m]))'
    _setup(live, "1.4.0", _gate(query))
    row, _, _ = _promote(live)
    assert row["result"] == "failure" and "aggregate with sum() or max()" in row["reason"]


def test_an_unreachable_provider_is_pending_and_no_secret_is_printed(
    live: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "Basic dG9wLXNlY3JldC12YWx1ZQ=="
    monkeypatch.setenv(URL_VAR, f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv(AUTH_VAR, secret)
    _setup(live, "1.4.0")
    row, summary, body = _promote(live)
    assert (
        row["result"] == "pending" and "could not be reached" in row["reason"] and "/retest" in row["reason"]
    )
    text = live("promote", "fraud-detector", "--to", "prod").stdout
    text += live("pr", "show", "1", output="json").stdout
    forge = (live.repo / ".git" / "promobot" / "forge.json").read_text()
    for place in (json.dumps(row), summary, body, text, forge):
        assert "dG9wLXNlY3JldC12YWx1ZQ" not in place


def test_wrong_credentials_are_pending_and_never_printed(live: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(AUTH_VAR, "Basic bm9wZTpub3Bl")
    _setup(live, "1.4.0")
    row, summary, body = _promote(live)
    assert row["result"] == "pending" and "HTTP 401" in row["reason"]
    assert "bm9wZTpub3Bl" not in json.dumps(row) + summary + body


def test_a_missing_variable_is_pending_and_names_it(live: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(AUTH_VAR)
    _setup(live, "1.4.0")
    row, _, _ = _promote(live)
    assert row["result"] == "pending" and AUTH_VAR in row["reason"]


def test_previous_version_is_the_incumbent(live: Cli) -> None:
    # The example prod runs an older fraud-detector, a version this Prometheus has no data for.
    query = 'sum(rate(http_requests_total{version="{{ previous_version }}",code=~"5.."}[5m])) + 0 * ' + (
        'sum(rate(http_requests_total{version="{{ version }}"}[5m]))'
    )
    _setup(live, "1.4.0", _gate(query))
    row, summary, _ = _promote(live)
    prod = (live.repo / "environments" / "prod" / "fraud-detector.yaml").read_text()
    incumbent = next(
        line.split(":", 1)[1].strip() for line in prod.splitlines() if line.startswith("version:")
    )
    assert f'version="{incumbent}"' in summary
    assert row["result"] == "pending"  # the incumbent has no data in this Prometheus


def test_validate_refuses_an_unknown_placeholder_and_provider(cli: Cli) -> None:
    _setup(cli, "1.4.0", _gate('up{job="{{ job }}"}'))
    out = cli("validate", expect=1)
    assert "unknown placeholder {{ job }}" in out.stdout + out.stderr
    assert "environments/promotion.yaml:" in out.stdout + out.stderr


def test_without_a_gate_runner_the_gate_is_pending_never_success() -> None:
    manifest = load_manifest(
        (EXAMPLE / "staging" / "fraud-detector.yaml").read_bytes(),
        path="environments/staging/fraud-detector.yaml",
    )
    gate = PrometheusGate(name="e", provider="p", query="q", max=1)
    inputs = GateInputs(
        model="fraud-detector",
        from_env="staging",
        to_env="prod",
        candidate=manifest,
        candidate_error=None,
        source=manifest,
        incumbent=None,
        local_keys=("serving",),
        rejections=(),
        became_current_at=None,
    )
    (result,) = [
        r
        for r in gates.evaluate([gate], inputs, now=datetime(2026, 11, 27, tzinfo=UTC))
        if r.kind == "prometheus"
    ]
    assert result.result == "pending"
