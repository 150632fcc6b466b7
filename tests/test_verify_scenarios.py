"""The issue's verification scenarios not covered by tests/app/test_verify.py, end to end on the local
forge against a real Prometheus (tests/servers/prometheus.py; its data runs 06:00 → 10:00):
NaN points, a query returning two series, secrets, hostile versions, and a rollback's own failed
verification."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Cli
from tests.helpers.git import commit_all
from tests.servers import free_port
from tests.servers.prometheus import PASSWORD, PrometheusServer
from tests.verify_setup import (
    AUTH_VAR,
    RATIO,
    URL_VAR,
    VERIFY,
    add_verify,
    live_cli,  # noqa: F401  (the `live` fixture)
    merge_locally,
    promote_locally,
    roll_back_after_a_breach,
    verify_block,
    verify_check,
    verify_once,
)

SECRET = "Basic c3VwZXItc2VjcmV0LXZhbHVl"


def test_nan_points_from_no_traffic_are_dropped_and_the_traffic_that_followed_verifies(live: Cli) -> None:
    # 1.7.0 served nothing until 09:00 (0/0 = NaN error ratios), then healthy traffic. Merged at
    # 08:00, the window is 08:10 → 10:10: eleven NaN points, then twelve healthy ones (min_points 12).
    sha = merge_locally(live, "1.7.0", at="2026-11-27T08:00:00Z")
    early = verify_once(live, "2026-11-27T09:00:00Z")
    assert early["state"] == "pending"  # only NaN so far: no evidence yet, and no breach either
    assert "NaN" not in early["reason"] and "nan" not in early["reason"]
    final = verify_once(live, "2026-11-27T10:10:00Z")
    assert final["state"] == "success", final
    summary = verify_check(live, sha)["summary"]
    assert "dropped 11 NaN/Inf point(s)" in summary and "points: 12 (need 12)" in summary


def test_a_query_returning_two_series_fails_saying_aggregate_with_sum_or_max(live: Cli) -> None:
    per_code = 'rate(http_requests_total{model="{{ model }}",version="{{ version }}"}[5m])'
    sha = merge_locally(live, "1.4.0", verify=VERIFY.replace(json.dumps(RATIO), json.dumps(per_code)))
    failed = verify_once(live, "2026-11-27T07:00:00Z")  # one series per code: 200 and 500
    assert failed["state"] == "failure", failed
    assert "aggregate with sum() or max()" in failed["reason"]
    assert verify_check(live, sha)["result"] == "failure"


def test_a_hostile_version_never_reaches_a_query(live: Cli) -> None:
    # Manifests refuse a version that is not a safe string, so `"}` never reaches PromQL from git;
    # the escaping itself is proven against the real server in tests/adapters/test_prometheus.py.
    add_verify(live)
    dev = live.repo / "environments" / "dev" / "fraud-detector.yaml"
    hostile = '1.5.0\\"} or vector(1) or {a=\\"'
    dev.write_text(dev.read_text().replace("version: 1.5.0", f'version: "{hostile}"', 1))
    commit_all(live.repo, "a hostile version in dev")
    out = live("promote", "fraud-detector", "--to", "staging", expect=None)
    assert out.exit_code != 0 and "not a safe version string" in out.stdout + out.stderr
    assert live.json("verify")["verifications"] == []  # nothing was promoted, nothing queried


def _no_secret(*texts: str) -> None:
    for text in texts:
        assert "c3VwZXItc2VjcmV0LXZhbHVl" not in text
        assert PASSWORD not in text and "hunter2" not in text


def test_secrets_never_appear_in_checks_comments_logs_errors_or_json(
    live: Cli, prometheus_server: PrometheusServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    sha = merge_locally(live, "1.4.0")
    # Wrong credentials (the server answers 401), then a URL carrying credentials, then nothing
    # listening: each is an outage (pending), the second of max_errors 2 fails and comments.
    monkeypatch.setenv(AUTH_VAR, SECRET)
    first = live("-v", "verify", now="2026-11-27T07:00:00Z", output="json")
    assert json.loads(first.stdout)["verifications"][0]["state"] == "pending"
    monkeypatch.setenv(URL_VAR, f"http://promobot:hunter2@127.0.0.1:{free_port()}")
    second = live("-v", "verify", now="2026-11-27T07:05:00Z")
    assert "failure" in second.stdout
    monkeypatch.setenv(URL_VAR, f"http://127.0.0.1:{free_port()}")
    gate = live("-v", "promote", "fraud-detector", "--to", "prod", now="2026-11-27T07:10:00Z", output="json")
    forge = (live.repo / ".git" / "promobot" / "forge.json").read_text()
    comments = live.json("pr", "show", "1")["comments"]
    assert any("Post-deploy verification of" in c["body"] for c in comments)  # notified
    status = live("status", now="2026-11-27T07:10:00Z", output="json").stdout
    history = live("history", "fraud-detector", output="json").stdout
    _no_secret(
        first.stdout,
        first.stderr,
        second.stdout,
        second.stderr,
        gate.stdout,
        gate.stderr,
        forge,
        json.dumps(comments),
        verify_check(live, sha)["summary"],
        status,
        history,
        prometheus_server.log.read_text(),
    )


def test_a_rollbacks_own_failed_verification_notifies_and_never_rolls_back_again(live: Cli) -> None:
    bad, number, rollback = roll_back_after_a_breach(live)

    # 1.4.2, restored by the rollback, has no live data: at its window's end, "no evidence".
    after = verify_once(live, "2026-11-27T12:00:00Z")
    assert (after["commit"], after["state"], after["rollback"]) == (rollback, "failure", None)
    assert "no evidence" in after["reason"]
    comments = live.json("pr", "show", number)["comments"]  # the rollback PR that brought 1.4.2
    (note,) = [c["body"] for c in comments if "Post-deploy verification of" in c["body"]]
    assert "no automatic action (on_failure: notify)" in note
    assert [p for p in live.json("pr", "list") if p["action"] == "rollback"] == []
    rejected = (live.repo / "environments" / "rejected.yaml").read_text()
    assert "1.5.0" in rejected and "1.4.2" not in rejected  # only the first failure rejected
    again = verify_once(live, "2026-11-27T13:00:00Z")
    assert again["state"] == "failure"
    assert live.json("history", "fraud-detector", "--env", "staging")[0]["sha"] == rollback
    assert bad != rollback


def test_a_superseded_verification_is_inactive_on_the_local_forge(live: Cli) -> None:
    old = merge_locally(live, "1.4.0")
    assert verify_once(live, "2026-11-27T07:00:00Z")["state"] == "pending"
    dev = live.repo / "environments" / "dev" / "fraud-detector.yaml"
    dev.write_text(dev.read_text().replace("version: 1.4.0", "version: 1.7.0", 1))
    commit_all(live.repo, "dev runs fraud-detector 1.7.0", date="2026-11-27T07:10:00Z")
    opened = live.json("promote", "fraud-detector", "--to", "staging", now="2026-11-27T07:30:00Z")
    live("pr", "review", str(opened["pr"]), "--approve", actor="carol", now="2026-11-27T07:30:00Z")
    new = live.json("merge", str(opened["pr"]), actor="carol", now="2026-11-27T07:30:00Z")["sha"]

    current = verify_once(live, "2026-11-27T07:45:00Z")  # only the version running now is verified
    assert (current["commit"], current["version"], current["state"]) == (new, "1.7.0", "pending")
    forge = json.loads((live.repo / ".git" / "promobot" / "forge.json").read_text())
    states = {d["sha"]: [s["state"] for s in d["statuses"]] for d in forge["deployments"]}
    assert states[old][-1] == "inactive" and "failure" not in states[old]  # replaced, not failed
    assert states[new] == ["in_progress"]
    (deployment,) = [d for d in forge["deployments"] if d["sha"] == old]
    assert "replaced by 1.7.0" in deployment["statuses"][-1]["description"]
    assert live.json("status", now="2026-11-27T07:45:00Z")["verification"]["fraud-detector"] == {
        "staging": "pending"
    }
    rows = {r["sha"]: r for r in live.json("history", "fraud-detector", "--env", "staging")}
    assert rows[old]["verification"]["state"] == "inactive"  # never shown as still running
    assert rows[new]["verification"]["state"] == "pending"
    assert "· verification inactive" in live("history", "fraud-detector", "--env", "staging").stdout
    before = (live.repo / ".git" / "promobot" / "forge.json").read_bytes()
    verify_once(live, "2026-11-27T07:45:00Z")  # the same run again: same data, same records
    assert (live.repo / ".git" / "promobot" / "forge.json").read_bytes() == before


def test_on_failure_hold_labels_the_downstream_prs_and_rolls_nothing_back(live: Cli) -> None:
    merge_locally(
        live,
        "1.5.0",
        verify=verify_block("hold"),
    )
    prod = live.json("promote", "fraud-detector", "--to", "prod", now="2026-11-27T07:00:00Z")
    failed = verify_once(live, "2026-11-27T08:30:00Z")
    assert failed["state"] == "failure" and failed["rollback"] is None
    shown = live.json("pr", "show", str(prod["pr"]))
    assert "promobot:hold" in shown["labels"] and shown["checks"]["promobot/gates"] == "failure"
    assert [p for p in live.json("pr", "list") if p["action"] == "rollback"] == []
    (note,) = [c["body"] for c in live.json("pr", "show", "1")["comments"] if "Post-deploy" in c["body"]]
    assert "downstream promotions are on hold" in note


ON_ROLLBACK = verify_block("rollback")


def _no_rollback(cli: Cli, model: str, sha: str, version: str) -> None:
    """Nothing was rolled back, rejected or held: the version still runs, only a comment says why."""
    assert [p for p in cli.json("pr", "list") if p["action"] == "rollback"] == []
    assert version not in (cli.repo / "environments" / "rejected.yaml").read_text()
    assert cli.json("history", model, "--env", "staging")[0]["sha"] == sha
    (note,) = [c["body"] for c in cli.json("pr", "show", "1")["comments"] if "Post-deploy" in c["body"]]
    assert "no automatic action: the check itself is broken" in note


def test_a_query_prometheus_refuses_is_a_broken_check_that_never_rolls_back(live: Cli) -> None:
    """A PromQL error (HTTP 400 bad_data from the real Prometheus) says nothing about the model."""
    broken = ON_ROLLBACK.replace(json.dumps(RATIO), json.dumps('sum(rate(x{version="{{ version }}"}[5m])'))
    sha = merge_locally(live, "1.5.0", verify=broken)
    failed = verify_once(live, "2026-11-27T07:00:00Z")
    assert (failed["commit"], failed["state"], failed["rollback"]) == (sha, "failure", None)
    assert failed["reason"].startswith("error-rate: the check itself is broken (")
    assert "no automatic action" in failed["reason"]
    assert (
        "HTTP 400: bad_data: 1:33: parse error: unclosed left parenthesis"
        in verify_check(live, sha)["summary"]
    )
    _no_rollback(live, "fraud-detector", sha, "1.5.0")
    before = (live.repo / ".git" / "promobot" / "forge.json").read_bytes()
    assert verify_once(live, "2026-11-27T09:00:00Z")["state"] == "failure"  # final: never acted on again
    assert (live.repo / ".git" / "promobot" / "forge.json").read_bytes() == before


def test_previous_version_on_the_first_version_in_an_environment_is_a_broken_check(live: Cli) -> None:
    """churn-predictor never ran in staging: ``{{ previous_version }}`` has no value, no rollback."""
    query = json.dumps('max(model_version_info{version="{{ previous_version }}"})')
    add_verify(live, ON_ROLLBACK.replace(json.dumps(RATIO), query))
    commit_all(live.repo, "staging verifies live data")
    merged = promote_locally(live, "churn-predictor")
    failed = verify_once(live, "2026-11-27T07:00:00Z")
    assert (failed["model"], failed["state"], failed["rollback"]) == ("churn-predictor", "failure", None)
    why = "the check itself is broken (the query cannot be built: {{ previous_version }} has no value"
    assert why in failed["reason"]
    assert [p for p in live.json("pr", "list") if p["action"] == "rollback"] == []
    assert live.json("history", "churn-predictor", "--env", "staging")[0]["sha"] == merged


TYPO = """\
        - prometheus:
            name: typo
            provider: staging-metrics
            query: 'sum(rate(http_requests_total{version="{{ version }}"}[5m])'
            max: 1
"""
WITH_TYPO = ON_ROLLBACK.replace("      checks:\n", "      checks:\n" + TYPO, 1)


def test_a_broken_check_never_hides_a_breach_of_another_check(live: Cli) -> None:
    """typo (listed first) is broken; error-rate breaches for 1.5.0: that breach still rolls back."""
    sha = merge_locally(live, "1.5.0", verify=WITH_TYPO)
    early = verify_once(live, "2026-11-27T07:00:00Z")
    assert early["state"] == "pending"
    assert (
        early["reason"].startswith("typo: the check itself is broken (")
        and "the other checks go on" in early["reason"]
    )
    failed = verify_once(live, "2026-11-27T08:30:00Z")
    assert (failed["commit"], failed["state"]) == (sha, "failure")
    assert failed["reason"].startswith("error-rate: ") and "breaks <= 0.01" in failed["reason"]
    (pull,) = [p for p in live.json("pr", "list") if p["action"] == "rollback"]
    assert failed["rollback"]["pr"] == pull["number"]


def test_a_broken_check_beside_healthy_ones_fails_at_the_windows_end_without_acting(live: Cli) -> None:
    sha = merge_locally(live, "1.4.0", verify=WITH_TYPO)
    assert verify_once(live, "2026-11-27T07:00:00Z")["state"] == "pending"
    done = verify_once(live, "2026-11-27T09:00:00Z")
    assert (done["commit"], done["state"], done["rollback"]) == (sha, "failure", None)
    assert done["reason"].startswith("typo: the check itself is broken (")
    assert "error-rate: success" in verify_check(live, sha)["summary"]  # the other check was judged
    _no_rollback(live, "fraud-detector", sha, "1.4.0")
