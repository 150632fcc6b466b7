"""Rollback scenarios through the CLI on real repositories and the local forge (issue 5)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.core.rejected import load_rejected
from bot.core.trailers import parse_trailers
from tests.conftest import Cli
from tests.helpers.git import commit_all, git

PROD = "environments/prod/fraud-detector.yaml"
STAGING = "environments/staging/fraud-detector.yaml"
REJECTED = "environments/rejected.yaml"
NOW = "2026-11-27T10:00:00Z"


def users(cli: Cli) -> None:
    cli("pr", "users", "set", "carol", "--permission", "write", "--team", "@acme/ml-leads")
    cli("pr", "users", "set", "dave", "--permission", "write")
    cli("pr", "users", "set", "alice", "--permission", "write")
    cli("pr", "users", "set", "sam", "--permission", "maintain", "--team", "@acme/sre")


def promote_142_to_prod(cli: Cli) -> str:
    """Promote fraud-detector 1.4.2 (staging) into prod (1.4.1) through a reviewed PR; the merge SHA."""
    opened = cli.json("promote", "fraud-detector", "--to", "prod", actor="alice")
    cli("pr", "review", str(opened["pr"]), "--approve", actor="carol")
    cli("pr", "review", str(opened["pr"]), "--approve", actor="dave")
    merged = cli.json("merge", str(opened["pr"]), actor="carol")
    assert merged["merged"], merged
    return str(merged["sha"])


def snapshot(repo: Path) -> tuple[str, bytes]:
    """Every ref and the whole local-forge state: equal snapshots mean nothing was written."""
    forge = repo / ".git" / "promobot" / "forge.json"
    return git(repo, "for-each-ref", "--format=%(refname) %(objectname)"), (
        forge.read_bytes() if forge.exists() else b""
    )


def read(repo: Path, path: str, ref: str = "main") -> str:
    return git(repo, "show", f"{ref}:{path}") + "\n"


def with_version(text: str, version: str) -> str:
    return re.sub(r"(?m)^version: .*$", f"version: {version}", text, count=1)


def commit_prod(repo: Path, text: str, message: str, date: str) -> str:
    (repo / PROD).write_text(text)
    return commit_all(repo, message, date=date)


def trailer_message(version: str, previous: str) -> str:
    return (
        f"Promote fraud-detector {version} to prod\n\n"
        "Promobot-Action: promote\nPromobot-Model: fraud-detector\n"
        f"Promobot-From: staging\nPromobot-To: prod\nPromobot-Version: {version}\n"
        f"Promobot-Previous-Version: {previous}\n"
    )


def test_rollback_restores_previous_version_keeps_new_replicas_and_rejects_the_bad_one(
    cli: Cli, example_repo: Path
) -> None:
    repo = example_repo
    users(cli)
    original_141 = read(repo, PROD)
    bad_sha = promote_142_to_prod(cli)
    assert "version: 1.4.2" in read(repo, PROD)
    git(repo, "reset", "-q", "--hard", "main")
    scaled = read(repo, PROD).replace("  replicas: 6\n", "  replicas: 9\n", 1)
    commit_prod(repo, scaled, "Scale fraud-detector in prod to 9 replicas", "2026-11-02T09:00:00Z")

    rb = cli.json(
        "rollback", "fraud-detector", "--env", "prod", "--reason", "AUC dropped in prod", actor="sam"
    )
    assert (rb["version"], rb["rolled_back"], rb["reverts"], rb["direct"]) == (
        "1.4.1",
        "1.4.2",
        bad_sha,
        False,
    )
    pr = cli.json("pr", "show", str(rb["pr"]))
    assert pr["action"] == "rollback"
    assert pr["head_branch"] == "promobot/rollback/prod/fraud-detector"
    assert {"promobot:rollback", "promobot:env:prod"} <= set(pr["labels"])
    assert pr["approvals"]["required"] == 1
    cli("pr", "review", str(rb["pr"]), "--approve", actor="carol")
    merged = cli.json("merge", str(rb["pr"]), actor="dave")
    assert merged["merged"], merged

    # prod runs 1.4.1 again, byte for byte, except the replica count scaled by hand since
    assert read(repo, PROD) == original_141.replace("  replicas: 6\n", "  replicas: 9\n", 1)
    assert git(repo, "rev-list", "--count", f"{merged['sha']}^..{merged['sha']}") == "1"
    message = git(repo, "log", "-1", "--format=%B", "main")
    assert message.startswith('Revert "Promote fraud-detector 1.4.2 to prod (#1)"')
    assert f"\n\nThis reverts commit {bad_sha}.\n\nAUC dropped in prod\n\n" in message
    found = parse_trailers(message)
    assert found["Promobot-Action"] == "rollback"
    assert found["Promobot-Rollback-Of"] == bad_sha
    assert (found["Promobot-Version"], found["Promobot-Previous-Version"]) == ("1.4.1", "1.4.2")
    assert found["Promobot-To"] == "prod" and found["Approved-by"] == "carol"
    assert set(git(repo, "show", "--format=", "--name-only", "main").split()) == {PROD, REJECTED}
    (entry,) = load_rejected(read(repo, REJECTED))
    assert (entry.model, entry.version, entry.reason, entry.by, entry.at) == (
        "fraud-detector",
        "1.4.2",
        "AUC dropped in prod",
        "sam",
        NOW,
    )

    again = cli.json("promote", "fraud-detector", "--to", "prod", actor="alice")
    gate = next(g for g in again["gates"] if g["name"] == "not-rejected")
    assert gate["result"] == "failure"
    assert "rejected by sam" in gate["reason"] and "AUC dropped in prod" in gate["reason"]

    history = cli.json("history", "fraud-detector", "--env", "prod")
    assert history[0]["action"] == "rollback"
    assert history[0]["rollback_of"] == bad_sha
    assert (history[0]["version"], history[0]["previous_version"]) == ("1.4.1", "1.4.2")
    assert "reverts" in cli("history", "fraud-detector", "--env", "prod").stdout

    status = cli.json("status")
    assert status["rejected"] == {"fraud-detector": ["staging"]}


def test_rollback_to_a_version_that_never_ran_exits_1_and_writes_nothing(
    cli: Cli, example_repo: Path
) -> None:
    base = read(example_repo, PROD)
    commit_prod(
        example_repo, with_version(base, "1.4.2"), trailer_message("1.4.2", "1.4.1"), "2026-11-02T09:00:00Z"
    )
    before = snapshot(example_repo)
    result = cli("rollback", "fraud-detector", "--env", "prod", "--to", "1.3.0", expect=1)
    assert "1.3.0 never ran in prod; versions that did: 1.4.1" in result.stderr
    assert snapshot(example_repo) == before


def test_nothing_to_roll_back_to_exits_1_and_writes_nothing(cli: Cli, example_repo: Path) -> None:
    before = snapshot(example_repo)
    result = cli.json("rollback", "fraud-detector", "--env", "prod", expect=1)
    assert "nothing to roll back to" in result["error"]
    assert snapshot(example_repo) == before


def test_dry_run_shows_the_rollback_and_changes_nothing(cli: Cli, example_repo: Path) -> None:
    base = read(example_repo, PROD)
    bad = commit_prod(
        example_repo, with_version(base, "1.4.2"), trailer_message("1.4.2", "1.4.1"), "2026-11-02T09:00:00Z"
    )
    before = snapshot(example_repo)
    data = cli.json("rollback", "fraud-detector", "--env", "prod", "--dry-run")
    assert (data["version"], data["rolled_back"], data["reverts"], data["pr"], data["sha"]) == (
        "1.4.1",
        "1.4.2",
        bad,
        None,
        None,
    )
    assert any("open pull request promobot/rollback/prod/fraud-detector" in step for step in data["plan"])
    text = cli("rollback", "fraud-detector", "--env", "prod", "--dry-run").stdout
    assert "1.4.2 → 1.4.1" in text and "Dry run: nothing changed" in text
    assert snapshot(example_repo) == before


def test_target_is_right_after_promotions_hand_edits_and_a_rollback_of_a_rollback(
    cli: Cli, example_repo: Path
) -> None:
    repo = example_repo
    users(cli)
    base = read(repo, PROD)
    c142 = commit_prod(
        repo, with_version(base, "1.4.2"), trailer_message("1.4.2", "1.4.1"), "2026-11-02T09:00:00Z"
    )
    edited = with_version(base, "1.4.2").replace("  replicas: 6\n", "  replicas: 8\n", 1)
    c142b = commit_prod(repo, edited, "Scale prod by hand", "2026-11-03T09:00:00Z")
    c143 = commit_prod(repo, with_version(edited, "1.4.3"), "Hand-made bump to 1.4.3", "2026-11-04T09:00:00Z")
    commit_prod(
        repo,
        with_version(edited, "1.4.3").replace("replicas: 8", "replicas: 10"),
        "Scale again",
        "2026-11-05T09:00:00Z",
    )

    plan = cli.json("rollback", "fraud-detector", "--env", "prod", "--dry-run")
    assert (plan["version"], plan["rolled_back"], plan["reverts"], plan["restores"]) == (
        "1.4.2",
        "1.4.3",
        c143,
        c142b,
    )
    older = cli.json("rollback", "fraud-detector", "--env", "prod", "--to", "1.4.1", "--dry-run")
    assert (older["version"], older["reverts"]) == ("1.4.1", c143)
    assert older["restores"] == git(repo, "rev-list", "--max-parents=0", "main")

    first = cli.json("rollback", "fraud-detector", "--env", "prod", "--direct", actor="sam")
    assert first["version"] == "1.4.2" and first["sha"]
    text = read(repo, PROD)
    assert "version: 1.4.2" in text and "replicas: 10" in text

    second = cli.json("rollback", "fraud-detector", "--env", "prod", "--dry-run")
    assert (second["version"], second["rolled_back"], second["reverts"]) == ("1.4.1", "1.4.2", first["sha"])
    assert c142 != second["restores"]


def set_direct(repo: Path, value: bool) -> None:
    policy = repo / "environments" / "promotion.yaml"
    text = policy.read_text()
    policy.write_text(text.replace("direct: true ", f"direct: {'true' if value else 'false'} ", 1))
    commit_all(repo, "policy", date="2026-11-01T10:00:00Z")


def test_direct_rollback_is_refused_when_the_policy_forbids_it(cli: Cli, example_repo: Path) -> None:
    users(cli)
    set_direct(example_repo, False)
    base = read(example_repo, PROD)
    commit_prod(
        example_repo, with_version(base, "1.4.2"), trailer_message("1.4.2", "1.4.1"), "2026-11-02T09:00:00Z"
    )
    before = snapshot(example_repo)
    result = cli("rollback", "fraud-detector", "--env", "prod", "--direct", actor="sam", expect=1)
    assert "rollback.direct is false" in result.stderr
    assert snapshot(example_repo) == before


def test_direct_rollback_is_refused_without_the_rollback_permission(cli: Cli, example_repo: Path) -> None:
    users(cli)
    base = read(example_repo, PROD)
    commit_prod(
        example_repo, with_version(base, "1.4.2"), trailer_message("1.4.2", "1.4.1"), "2026-11-02T09:00:00Z"
    )
    before = snapshot(example_repo)
    result = cli("rollback", "fraud-detector", "--env", "prod", "--direct", actor="dave", expect=1)
    assert "dave may not /rollback" in result.stderr
    assert snapshot(example_repo) == before


def test_direct_rollback_adds_exactly_one_commit_on_top_of_the_old_tip(cli: Cli, example_repo: Path) -> None:
    repo = example_repo
    users(cli)
    base = read(repo, PROD)
    old_tip = commit_prod(
        repo, with_version(base, "1.4.2"), trailer_message("1.4.2", "1.4.1"), "2026-11-02T09:00:00Z"
    )
    data = cli.json(
        "rollback", "fraud-detector", "--env", "prod", "--direct", "--reason", "latency", actor="sam"
    )
    new_tip = git(repo, "rev-parse", "main")
    assert data["sha"] == new_tip and data["direct"] is True and data["pr"] is None
    assert git(repo, "rev-list", "--count", f"{old_tip}..{new_tip}") == "1"
    git(repo, "merge-base", "--is-ancestor", old_tip, new_tip)  # raises unless a fast-forward
    assert git(repo, "rev-parse", f"{new_tip}^") == old_tip
    assert read(repo, PROD) == base
    assert [r.version for r in load_rejected(read(repo, REJECTED))] == ["1.4.2"]
    assert git(repo, "log", "-1", "--format=%an", "main") == "promobot"
    assert git(repo, "for-each-ref", "refs/heads/promobot") == ""


def test_slash_rollback_on_a_merged_promotion_opens_the_rollback_pr(cli: Cli, example_repo: Path) -> None:
    users(cli)
    bad_sha = promote_142_to_prod(cli)
    out = cli.json("pr", "comment", "1", "/rollback", actor="sam")
    assert out["rollback"]["pr"] == 2 and out["rollback"]["reverts"] == bad_sha
    assert "#2" in out["reply"]
    listed = {p["number"]: p for p in cli.json("pr", "list", "--state", "all")}
    assert (listed[2]["action"], listed[2]["version"], listed[2]["state"]) == ("rollback", "1.4.1", "open")
    assert read(example_repo, PROD, "promobot/rollback/prod/fraud-detector").count("version: 1.4.1") == 1
    # ... and the rollback PR itself is not something to /rollback
    refused = cli.json("pr", "comment", "2", "/rollback", actor="sam")
    assert "is a rollback pull request" in refused["reply"]


def test_slash_rollback_on_an_open_pr_replies_why_not(cli: Cli, example_repo: Path) -> None:
    users(cli)
    cli("promote", "fraud-detector", "--to", "prod", actor="alice")
    before = git(example_repo, "for-each-ref", "--format=%(refname) %(objectname)")
    out = cli.json("pr", "comment", "1", "/rollback", actor="sam")
    assert "is open, not merged" in out["reply"]
    assert git(example_repo, "for-each-ref", "--format=%(refname) %(objectname)") == before


def test_slash_rollback_on_a_non_promotion_pr_replies_why_not(cli: Cli, example_repo: Path) -> None:
    users(cli)
    opened = cli.json("reject", "fraud-detector", "1.5.0", "--reason", "leaks labels", actor="sam")
    pr = cli.json("pr", "show", str(opened["pr"]))
    assert pr["head_branch"] == "promobot/rejected/fraud-detector/1.5.0"
    assert pr["action"] == "reject"
    out = cli.json("pr", "comment", str(opened["pr"]), "/rollback", actor="sam")
    assert out["handled"] and "is not a promobot promotion pull request" in out["reply"]


def test_reject_and_unreject_gate_promotion_and_name_who_and_why(cli: Cli, example_repo: Path) -> None:
    users(cli)
    opened = cli.json("reject", "fraud-detector", "1.5.0", "--reason", "leaks labels", actor="sam")
    assert opened["pr"] == 1 and opened["sha"] is None
    on_branch = read(example_repo, REJECTED, "promobot/rejected/fraud-detector/1.5.0")
    assert [r.version for r in load_rejected(on_branch)] == ["1.5.0"]
    assert load_rejected(read(example_repo, REJECTED)) == ()
    assert cli.json("reject", "fraud-detector", "1.5.0", "--reason", "leaks labels", actor="sam")["pr"] == 1

    cli("reject", "fraud-detector", "1.5.0", "--reason", "leaks labels", "--direct", actor="sam")
    promoted = cli.json("promote", "fraud-detector", "--to", "staging", actor="alice")
    gate = next(g for g in promoted["gates"] if g["name"] == "not-rejected")
    assert (
        gate["result"] == "failure"
        and "rejected by sam" in gate["reason"]
        and "leaks labels" in gate["reason"]
    )
    again = cli("reject", "fraud-detector", "1.5.0", "--reason", "x", "--direct", actor="sam", expect=1)
    assert "already rejected" in again.stderr

    cli("unreject", "fraud-detector", "1.5.0", "--direct", actor="sam")
    assert load_rejected(read(example_repo, REJECTED)) == ()
    refreshed = cli.json("promote", "fraud-detector", "--to", "staging", actor="alice")
    gate = next(g for g in refreshed["gates"] if g["name"] == "not-rejected")
    assert gate["result"] == "success"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("rollback", "Bad/Name", "--env", "prod"), "not a valid model name"),
        (("rollback", "fraud-detector", "--env", "qa"), "unknown environment"),
        (("rollback", "churn-predictor", "--env", "prod"), "churn-predictor is not in prod"),
        (("unreject", "fraud-detector", "1.0.0", "--direct"), "is not rejected"),
        (("reject", "fraud-detector", "../x", "--reason", "r"), "not a valid version"),
    ],
    ids=["bad-model-name", "unknown-env", "model-not-in-env", "unreject-unknown", "bad-version"],
)
def test_bad_input_exits_1_with_a_reason(
    cli: Cli, example_repo: Path, args: tuple[str, ...], message: str
) -> None:
    before = snapshot(example_repo)
    result = cli(*args, actor="sam", expect=1)
    assert message in result.stderr
    assert snapshot(example_repo) == before
    assert json.loads(cli(*args, actor="sam", output="json", expect=1).stdout)["exit_code"] == 1


def test_rollback_pr_in_an_auto_merge_environment_merges_once_approved(cli: Cli, example_repo: Path) -> None:
    repo = example_repo
    users(cli)
    staging = read(repo, STAGING)
    (repo / STAGING).write_text(with_version(staging, "1.4.3"))
    bad = commit_all(repo, "Hand-made bump of staging to 1.4.3", date="2026-11-02T09:00:00Z")
    rb = cli.json("rollback", "fraud-detector", "--env", "staging", actor="sam")
    assert (rb["version"], rb["reverts"], rb["merged"]) == ("1.4.2", bad, None)
    assert rb["blockers"] == ["approvals: 0 of 1"]
    cli("pr", "review", str(rb["pr"]), "--approve", actor="dave")
    assert cli.json("pr", "show", str(rb["pr"]))["state"] == "merged"
    assert read(repo, STAGING) == staging
    assert git(repo, "log", "-1", "--format=%s", "main").startswith(
        'Revert "Hand-made bump of staging to 1.4.3"'
    )


def test_history_rows_say_when_their_version_is_rejected() -> None:
    from datetime import UTC, datetime

    from bot.app.history import history_json
    from bot.core.model import HistoryEntry, Rejection

    at = datetime(2026, 11, 2, 9, tzinfo=UTC)
    rows = history_json(
        [
            HistoryEntry("b" * 40, at, "rollback", "m", "prod", "1", "2", rollback_of="a" * 40),
            HistoryEntry("a" * 40, at, "promote", "m", "prod", "2", "1"),
        ],
        rejected=[Rejection("m", "2", "broke checkout", "sam", NOW)],
    )
    assert [r["rejected"] for r in rows] == [None, {"reason": "broke checkout", "by": "sam", "at": NOW}]
    assert rows[0]["rollback_of"] == "a" * 40
