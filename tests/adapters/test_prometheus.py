"""The Prometheus adapter and the pure judge against a real Prometheus over backfilled data."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.adapters.prometheus import PrometheusClient, PrometheusQueryError, collect
from bot.core.promql import PrometheusGate, TrafficSpec, Verdict, judge, moment, render
from bot.core.providers import PrometheusProvider, ProviderConfigError
from tests.servers import free_port
from tests.servers.prometheus import BREACH_START, END, ENV, HOSTILE, MODEL, PrometheusServer

AUTH_VAR = "PROMOBOT_TEST_PROM_AUTH"
RATIO = (
    'sum(rate(http_requests_total{model="{{ model }}",version="{{ version }}",env="{{ env }}",'
    'code=~"5.."}[5m]))'
    ' / sum(rate(http_requests_total{model="{{ model }}",version="{{ version }}",env="{{ env }}"}[5m]))'
)
TRAFFIC = 'sum(increase(http_requests_total{model="{{ model }}",version="{{ version }}"}[2h]))'
GATE = PrometheusGate(
    name="error-rate", provider="metrics", query=RATIO, max=0.01, over=7200, step=300, min_points=12
)


def _client(
    server: PrometheusServer, *, url: str | None = None, secret: str | None = None
) -> PrometheusClient:
    provider = PrometheusProvider(
        name="metrics", url_env="PROM_URL", headers_env=(("Authorization", AUTH_VAR),), timeout=5
    )
    environ = {"PROM_URL": url or server.url, AUTH_VAR: secret or server.headers["Authorization"]}
    return PrometheusClient(provider, environ)


def _check(
    server: PrometheusServer, version: str, gate: PrometheusGate = GATE, *, final: bool = False, **kw: str
) -> Verdict:
    values = {"model": MODEL, "version": version, "env": ENV, "previous_version": "1.4.0"}
    query = render(gate.query, values)
    traffic = render(gate.traffic.query, values) if gate.traffic else None
    evidence = collect(_client(server, **kw), gate, query, traffic, start=END - gate.over, end=END)
    return judge(gate, evidence, final=final)


def test_the_rig_starts_quickly_and_serves_the_backfilled_data(prometheus_server: PrometheusServer) -> None:
    assert prometheus_server.startup_seconds < 30  # well under a second on an idle machine
    series = _client(prometheus_server).query('count(http_requests_total{version="1.4.0"})', at=END)
    assert [p[1] for s in series for p in s.points] == [2.0]


def test_a_healthy_version_passes_with_its_worst_point(prometheus_server: PrometheusServer) -> None:
    verdict = _check(prometheus_server, "1.4.0")
    assert verdict.result == "success", verdict
    assert verdict.points == 25
    assert verdict.worst is not None and verdict.worst[1] == pytest.approx(0.01 / 10.01)
    assert 'version="1.4.0"' in verdict.details and "worst point" in verdict.details


def test_a_breach_fails_naming_the_worst_point(prometheus_server: PrometheusServer) -> None:
    verdict = _check(prometheus_server, "1.5.0")
    assert verdict.result == "failure"
    assert verdict.worst is not None
    ts, value = verdict.worst
    assert BREACH_START < ts <= BREACH_START + 900
    assert value == pytest.approx(2.0 / 12.0, rel=0.05)
    assert moment(ts) in verdict.reason and "<= 0.01" in verdict.reason


def test_no_data_is_pending_and_at_the_end_no_evidence(prometheus_server: PrometheusServer) -> None:
    verdict = _check(prometheus_server, "1.6.0")
    assert verdict.result == "pending" and "no data" in verdict.reason
    final = _check(prometheus_server, "1.6.0", final=True)
    assert final.result == "failure" and final.reason.startswith("no evidence")


def test_nan_points_from_no_traffic_are_dropped_before_counting(prometheus_server: PrometheusServer) -> None:
    four_hours = replace(GATE, over=4 * 3600, min_points=12)
    verdict = _check(prometheus_server, "1.7.0", four_hours)
    assert verdict.result == "success", verdict
    assert "NaN/Inf" in verdict.details
    assert verdict.points < 15  # only the last hour served traffic
    stricter = replace(four_hours, min_points=30)
    pending = _check(prometheus_server, "1.7.0", stricter)
    assert pending.result == "pending" and "of 30 points" in pending.reason


def test_two_series_fail_and_say_aggregate(prometheus_server: PrometheusServer) -> None:
    gate = replace(GATE, query='sum by (code) (rate(http_requests_total{version="{{ version }}"}[5m]))')
    verdict = _check(prometheus_server, "1.4.0", gate)
    assert verdict.result == "failure" and "aggregate with sum() or max()" in verdict.reason


def test_traffic_evidence(prometheus_server: PrometheusServer) -> None:
    enough = replace(GATE, traffic=TrafficSpec(TRAFFIC, 1000))
    assert _check(prometheus_server, "1.4.0", enough).result == "success"
    too_little = replace(GATE, traffic=TrafficSpec(TRAFFIC, 1e9))
    verdict = _check(prometheus_server, "1.4.0", too_little)
    assert verdict.result == "pending" and "traffic" in verdict.reason
    assert _check(prometheus_server, "1.4.0", too_little, final=True).result == "failure"


@pytest.mark.parametrize(
    "version",
    [
        '1.4.0",version=~".*',
        '1.4.0"} or vector(0) or {a="',
        "1.4.0\\",
        '\\"}',
        "1.4.0\n",
        '1.5.0"}) / 0 #',
    ],
)
def test_hostile_versions_never_change_the_querys_meaning(
    prometheus_server: PrometheusServer, version: str
) -> None:
    verdict = _check(prometheus_server, version)
    assert verdict.result == "pending" and "no data" in verdict.reason  # a label value no series has


def test_a_hostile_version_matches_exactly_its_own_series(prometheus_server: PrometheusServer) -> None:
    verdict = _check(prometheus_server, HOSTILE)
    assert verdict.result == "failure"  # its own 50% error ratio, and no other version's
    assert verdict.worst is not None and verdict.worst[1] == pytest.approx(0.5)


def test_an_unreachable_provider_is_pending_and_never_prints_the_secret(
    prometheus_server: PrometheusServer,
) -> None:
    secret = "Basic c2VjcmV0LXZhbHVl"
    verdict = _check(prometheus_server, "1.4.0", url=f"http://127.0.0.1:{free_port()}", secret=secret)
    assert verdict.result == "pending" and "could not be reached" in verdict.reason
    assert "/retest" in verdict.reason
    assert secret not in verdict.reason + verdict.details
    final = _check(prometheus_server, "1.4.0", url=f"http://127.0.0.1:{free_port()}", final=True)
    assert final.result == "pending"  # an outage is never "no evidence": max_errors decides


def test_wrong_credentials_are_pending_and_never_printed(prometheus_server: PrometheusServer) -> None:
    secret = "Basic d3Jvbmc6c2VjcmV0"
    verdict = _check(prometheus_server, "1.4.0", secret=secret)
    assert verdict.result == "pending" and "HTTP 401" in verdict.reason
    assert secret not in verdict.reason + verdict.details + repr(_client(prometheus_server, secret=secret))


def test_a_missing_header_variable_is_named_not_guessed(prometheus_server: PrometheusServer) -> None:
    provider = PrometheusProvider(
        name="metrics", url=prometheus_server.url, headers_env=(("Authorization", AUTH_VAR),)
    )
    with pytest.raises(ProviderConfigError, match=AUTH_VAR):
        PrometheusClient(provider, {})


def test_a_query_prometheus_refuses_is_a_query_error(prometheus_server: PrometheusServer) -> None:
    with pytest.raises(PrometheusQueryError) as info:
        _client(prometheus_server).query_range("sum(rate(x[5m]", start=END - 600, end=END, step=60)
    assert "refused the query" in info.value.message and "promotion.yaml" in info.value.message


def test_the_same_data_gives_the_same_answer(prometheus_server: PrometheusServer) -> None:
    assert _check(prometheus_server, "1.5.0") == _check(prometheus_server, "1.5.0")
