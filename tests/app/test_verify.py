"""Post-deploy verification end to end on the local forge, against a real Prometheus.

fraud-detector is promoted dev → staging through a reviewed PR merged at 06:00 (the data's start,
see tests/servers/prometheus.py); staging's `verify:` judges 06:10 → 08:10. `promobot verify`
at different clocks moves the `promobot/verify` check on the merge commit, and the prod PR's
built-in `verified` gate follows it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli
from tests.helpers.git import commit_all
from tests.servers import free_port
from tests.verify_setup import (
    AUTH_VAR,
    URL_VAR,
    VERIFY,
    add_verify,
    live_cli,  # noqa: F401  (the `live` fixture)
    merge_locally,
    verify_check,
    verify_once,
)


def _verified_gate(cli: Cli, now: str) -> dict[str, Any]:
    data = cli.json("promote", "fraud-detector", "--to", "prod", now=now)
    (row,) = [g for g in data["gates"] if g["kind"] == "verified"]
    return dict(row)


def test_a_healthy_version_is_pending_in_the_window_then_verified(live: Cli) -> None:
    sha = merge_locally(live, "1.4.0")
    early = verify_once(live, "2026-11-27T07:00:00Z")
    assert {k: early[k] for k in ("env", "model", "version", "commit", "state", "until")} == {
        "env": "staging",
        "model": "fraud-detector",
        "version": "1.4.0",
        "commit": sha,
        "state": "pending",
        "until": "2026-11-27T08:10:00Z",
    }
    assert early["rollback"] is None
    assert verify_check(live, sha)["result"] == "pending"
    gate = _verified_gate(live, "2026-11-27T07:00:00Z")
    assert gate["result"] == "pending" and "being verified in staging" in gate["reason"]

    done = verify_once(live, "2026-11-27T09:00:00Z")
    assert done["state"] == "success", done
    assert verify_check(live, sha)["result"] == "success"
    assert _verified_gate(live, "2026-11-27T09:00:00Z")["result"] == "success"


def test_a_breach_fails_naming_the_worst_point_and_the_prod_gate_fails(live: Cli) -> None:
    sha = merge_locally(live, "1.5.0")
    assert verify_once(live, "2026-11-27T07:00:00Z")["state"] == "pending"
    failed = verify_once(live, "2026-11-27T08:30:00Z")
    assert failed["state"] == "failure"
    assert "error-rate" in failed["reason"] and "breaks <= 0.01" in failed["reason"]
    assert "2026-11-27T08:0" in failed["reason"]  # the worst point is inside the breach
    check = verify_check(live, sha)
    assert check["result"] == "failure" and "worst point" in check["summary"]
    gate = _verified_gate(live, "2026-11-27T08:30:00Z")
    assert gate["result"] == "failure" and "failed verification in staging" in gate["reason"]

    forge_before = (live.repo / ".git" / "promobot" / "forge.json").read_bytes()
    again = verify_once(live, "2026-11-27T09:30:00Z")
    assert again["state"] == "failure"
    assert (live.repo / ".git" / "promobot" / "forge.json").read_bytes() == forge_before  # never twice


def test_no_data_stays_pending_then_fails_as_no_evidence(live: Cli) -> None:
    merge_locally(live, "1.6.0")
    pending = verify_once(live, "2026-11-27T07:00:00Z")
    assert pending["state"] == "pending"
    final = verify_once(live, "2026-11-27T09:00:00Z")
    assert final["state"] == "failure" and "no evidence" in final["reason"]


def test_an_unreachable_provider_is_pending_then_fails_after_max_errors(
    live: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    sha = merge_locally(live, "1.4.0")
    secret = "Basic c3VwZXItc2VjcmV0LXZhbHVl"
    monkeypatch.setenv(URL_VAR, f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv(AUTH_VAR, secret)
    first = verify_once(live, "2026-11-27T07:00:00Z")
    assert first["state"] == "pending" and "outage 1 of 2" in first["reason"]
    second = verify_once(live, "2026-11-27T07:05:00Z")
    assert second["state"] == "failure" and "2 times in a row" in second["reason"]
    forge = (live.repo / ".git" / "promobot" / "forge.json").read_text()
    assert "c3VwZXItc2VjcmV0LXZhbHVl" not in forge + json.dumps(second) + verify_check(live, sha)["summary"]


def test_runs_repeated_during_one_step_count_one_outage(live: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    # Anyone who may run `promobot verify` could repeat it during a short outage: an outage
    # counts toward max_errors (2) at most once per step (5m slots from 06:10, reference §15).
    sha = merge_locally(live, "1.4.0")
    monkeypatch.setenv(URL_VAR, f"http://127.0.0.1:{free_port()}")
    for now in (
        "2026-11-27T07:00:00Z",
        "2026-11-27T07:00:00Z",
        "2026-11-27T07:02:00Z",
        "2026-11-27T07:04:59Z",
    ):
        again = verify_once(live, now)
        assert again["state"] == "pending" and "outage 1 of 2" in again["reason"], (now, again)
    assert verify_check(live, sha)["result"] == "pending"
    assert "slot=10 -->" in verify_check(live, sha)["summary"]  # (07:00 - 06:10) // 5m
    failed = verify_once(live, "2026-11-27T07:05:00Z")  # the next slot: the second outage
    assert failed["state"] == "failure" and "2 times in a row, once per 5m" in failed["reason"]


def test_before_the_delay_it_is_warming_up(live: Cli) -> None:
    merge_locally(live, "1.4.0")
    early = verify_once(live, "2026-11-27T06:05:00Z")
    assert early["state"] == "pending" and "warming up until 2026-11-27T06:10:00Z" in early["reason"]


def test_verify_text_output_and_filters(live: Cli) -> None:
    merge_locally(live, "1.4.0")
    text = live("verify", "fraud-detector", "--env", "staging", now="2026-11-27T09:00:00Z").stdout
    assert "✓ fraud-detector 1.4.0 in staging" in text
    assert live.json("verify", "search-ranker", now="2026-11-27T09:00:00Z")["verifications"] == []
    out = live("verify", "--env", "prod", expect=1)
    assert "has no verify: section" in out.stdout + out.stderr


def test_a_hand_edited_version_is_not_verified_and_its_prod_gate_says_why(
    live: Cli, example_repo: Path
) -> None:
    merge_locally(live, "1.4.0")
    staging = example_repo / "environments" / "staging" / "fraud-detector.yaml"
    staging.write_text(staging.read_text().replace("version: 1.4.0", "version: 1.4.1", 1))
    commit_all(example_repo, "hand edit", date="2026-11-27T06:30:00Z")
    assert live.json("verify", now="2026-11-27T09:00:00Z")["verifications"] == []
    gate = _verified_gate(live, "2026-11-27T09:00:00Z")
    assert gate["result"] == "pending" and "not brought there by a promotion" in gate["reason"]


def test_a_failed_verification_rolls_back_once_rejects_comments_and_turns_prod_red(live: Cli) -> None:
    policy = live.repo / "environments" / "promotion.yaml"
    sha = merge_locally(live, "1.5.0")
    policy.write_text(
        policy.read_text().replace(
            "      max_errors: 2\n", "      max_errors: 2\n      on_failure: rollback\n"
        )
    )
    commit_all(live.repo, "staging rolls back on a failed verification", date="2026-11-27T06:01:00Z")
    prod = live.json("promote", "fraud-detector", "--to", "prod", now="2026-11-27T07:00:00Z")
    assert live.json("pr", "show", str(prod["pr"]))["checks"]["promobot/gates"] == "pending"

    failed = verify_once(live, "2026-11-27T08:30:00Z")
    assert failed["state"] == "failure" and failed["rollback"] is not None
    number = failed["rollback"]["pr"]
    rollback = live.json("pr", "show", str(number))
    assert "promobot:rollback" in rollback["labels"]
    assert rollback["title"] == 'Revert "Promote fraud-detector 1.5.0 to staging (#1)"'
    original = live.json("pr", "show", "1")
    assert sum("Post-deploy verification of" in c["body"] for c in original["comments"]) == 1
    assert live.json("pr", "show", str(prod["pr"]))["checks"]["promobot/gates"] == "failure"  # refreshed

    forge_before = (live.repo / ".git" / "promobot" / "forge.json").read_bytes()
    again = verify_once(live, "2026-11-27T09:00:00Z")
    assert again["state"] == "failure"
    assert (live.repo / ".git" / "promobot" / "forge.json").read_bytes() == forge_before  # never twice
    assert [p["number"] for p in live.json("pr", "list") if p["action"] == "rollback"] == [number]

    live("pr", "review", str(number), "--approve", actor="sam", now="2026-11-27T09:00:00Z")
    merged = live.json("merge", str(number), actor="sam", now="2026-11-27T09:00:00Z")
    assert merged["merged"], merged
    message = subprocess_log(live.repo, merged["sha"])
    assert "Promobot-Verification: failed error-rate" in message
    assert "Promobot-Requested-By: promobot" in message
    assert "1.5.0" in (live.repo / "environments" / "rejected.yaml").read_text()
    assert sha in message  # the revert names the bad commit

    # The rollback's own verification (1.4.2 has no data here) fails as "no evidence" and only notifies.
    after = verify_once(live, "2026-11-27T12:00:00Z")
    assert after["version"] == "1.4.2" and after["state"] == "failure" and after["rollback"] is None
    assert [p["number"] for p in live.json("pr", "list") if p["action"] == "rollback"] == []


def subprocess_log(repo: Path, sha: str) -> str:
    from tests.helpers.git import git

    return git(repo, "log", "-1", "--format=%B", sha)


def test_the_schedule_and_workflow_dispatch_run_verify(live: Cli, tmp_path: Path) -> None:
    from tests.app.test_events import handle

    sha = merge_locally(live, "1.4.0")
    scheduled = handle(live, tmp_path, "schedule", {"schedule": "*/30 * * * *"}, now="2026-11-27T07:00:00Z")
    assert "verify: `fraud-detector` `1.4.0` in `staging`: pending" in scheduled["summary"]
    assert verify_check(live, sha)["result"] == "pending"
    dispatched = handle(
        live,
        tmp_path,
        "workflow_dispatch",
        {"inputs": {"action": "verify", "model": "fraud-detector"}, "sender": {"login": "alice"}},
        now="2026-11-27T09:00:00Z",
    )
    assert dispatched["handled"] is True and "success" in dispatched["summary"]
    assert verify_check(live, sha)["result"] == "success"


def test_status_json_shows_verification_per_model_and_environment(live: Cli) -> None:
    merge_locally(live, "1.4.0")
    assert live.json("status", now="2026-11-27T07:00:00Z")["verification"]["fraud-detector"] == {
        "staging": "pending"
    }
    verify_once(live, "2026-11-27T09:00:00Z")
    status = live.json("status", now="2026-11-27T09:00:00Z")
    assert status["verification"]["fraud-detector"] == {"staging": "success"}
    assert status["verification"]["spam-filter"] == {"staging": None}  # a hand-written version


def test_status_json_has_no_verification_key_without_verify(cli: Cli) -> None:
    assert "verification" not in cli.json("status")


def test_validate_refuses_a_verify_window_with_more_points_than_prometheus_answers(cli: Cli) -> None:
    """duration 2h / step 0.5s = 14400 points: Prometheus would refuse every query of the
    window (a failed verification, then on_failure), so the policy is refused up front."""
    policy = cli.repo / "environments" / "promotion.yaml"
    add_verify(cli, VERIFY.replace("step: 5m", "step: 0.5s"))
    text = policy.read_text()
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "step: 0.5s" in row)
    result = cli("validate", expect=1)
    assert f"environments/promotion.yaml:{line}:" in result.stdout
    assert "verify.duration / step is 14400 points, Prometheus answers at most 11000" in result.stdout
    assert "use a larger step or a shorter duration" in result.stdout
    policy.write_text(text.replace("step: 0.5s", "step: 1s"))  # 7200 points: accepted
    assert cli.json("validate")["ok"]


DIRECT = "  direct: true                    # authorised users may push a rollback straight to main\n"


def _on_failure_rollback(cli: Cli, *, verify_direct: bool) -> None:
    policy = cli.repo / "environments" / "promotion.yaml"
    text = policy.read_text().replace(
        "      max_errors: 2\n", "      max_errors: 2\n      on_failure: rollback\n"
    )
    assert DIRECT in text
    if verify_direct:
        text = text.replace(DIRECT, DIRECT + "  verify_direct: true\n", 1)
    policy.write_text(text)
    commit_all(cli.repo, "staging rolls back on a failed verification", date="2026-11-27T06:01:00Z")


def test_a_forge_user_named_promobot_with_maintain_never_lets_the_bot_roll_back_directly(live: Cli) -> None:
    """rollback.direct is true and a forge user called promobot may /rollback: still a PR, since
    the bot's authority comes from the policy alone (rollback.verify_direct), never a lookup."""
    live("pr", "users", "set", "promobot", "--permission", "maintain")
    merge_locally(live, "1.5.0")
    _on_failure_rollback(live, verify_direct=False)
    tip = live.json("history", "fraud-detector", "--env", "staging")[0]["sha"]
    failed = verify_once(live, "2026-11-27T08:30:00Z")
    assert failed["state"] == "failure" and failed["rollback"]["sha"] is None
    (pull,) = [p for p in live.json("pr", "list") if p["action"] == "rollback"]
    assert failed["rollback"]["pr"] == pull["number"]
    assert live.json("history", "fraud-detector", "--env", "staging")[0]["sha"] == tip  # nothing pushed


def test_rollback_verify_direct_lets_the_bot_roll_back_directly_with_no_promobot_user(live: Cli) -> None:
    sha = merge_locally(live, "1.5.0")
    _on_failure_rollback(live, verify_direct=True)
    failed = verify_once(live, "2026-11-27T08:30:00Z")
    assert failed["state"] == "failure" and failed["rollback"]["pr"] is None
    (latest, *_) = live.json("history", "fraud-detector", "--env", "staging")
    assert latest["sha"] == failed["rollback"]["sha"] and latest["version"] == "1.4.2"
    message = subprocess_log(live.repo, latest["sha"])
    assert "Promobot-Verification: failed error-rate" in message and sha in message
    assert [p for p in live.json("pr", "list") if p["action"] == "rollback"] == []


def test_validate_refuses_verify_direct_without_direct(cli: Cli) -> None:
    policy = cli.repo / "environments" / "promotion.yaml"
    text = policy.read_text().replace(DIRECT, "  verify_direct: true\n", 1)
    policy.write_text(text)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "verify_direct" in row)
    result = cli("validate", expect=1)
    assert f"environments/promotion.yaml:{line}:" in result.stdout
    assert "rollback.verify_direct needs rollback.direct: true" in result.stdout


def test_nothing_a_caller_passes_changes_a_verdict(live: Cli, tmp_path: Path) -> None:
    """The verdict depends only on Prometheus, the default branch's policy and promobot's
    records: the actor, the filters and a dispatch's inputs (a version included) only select
    what is evaluated, so the run without them afterwards finds nothing to write; --now is
    refused (tests/test_trust.py)."""
    from tests.app.test_events import handle

    sha = merge_locally(live, "1.5.0")
    forge = live.repo / ".git" / "promobot" / "forge.json"
    pending = live.json(
        "verify", "fraud-detector", "--env", "staging", actor="mallory", now="2026-11-27T07:00:00Z"
    )
    assert [(v["commit"], v["state"]) for v in pending["verifications"]] == [(sha, "pending")]
    before = forge.read_bytes()
    assert verify_once(live, "2026-11-27T07:00:00Z")["state"] == "pending"
    assert forge.read_bytes() == before  # the plain run judges exactly the same
    dispatched = handle(
        live,
        tmp_path,
        "workflow_dispatch",
        {
            "inputs": {"action": "verify", "model": "fraud-detector", "env": "staging", "version": "1.4.0"},
            "sender": {"login": "mallory"},
        },
        now="2026-11-27T08:30:00Z",
    )
    assert dispatched["handled"] is True and "failure" in dispatched["summary"]  # 1.5.0's breach
    check = verify_check(live, sha)
    assert check["result"] == "failure" and "1.5.0" in check["summary"]
    before = forge.read_bytes()
    assert verify_once(live, "2026-11-27T08:30:00Z")["state"] == "failure"
    assert forge.read_bytes() == before
    refused = live("verify", "--now", "2026-11-27T09:00:00Z", expect=2)
    assert "--now is only for previews" in refused.stderr
