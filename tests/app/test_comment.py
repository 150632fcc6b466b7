"""Approvals, slash-commands and merging on the local forge, end to end (issue 4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.trailers import parse_trailers
from tests.conftest import Cli
from tests.helpers.git import git


def prod_pr(cli: Cli) -> int:
    data = cli.json("promote", "fraud-detector", "--to", "prod", actor="alice")
    assert data["pr"] is not None
    return int(data["pr"])


def replies(cli: Cli, number: int) -> list[str]:
    return [c["body"] for c in cli.json("pr", "show", str(number))["comments"] if c["author"] == "promobot"]


def test_full_promotion_open_gates_reviews_promote_merged_with_trailers(people: Cli) -> None:
    cli = people
    number = prod_pr(cli)
    cli("pr", "review", str(number), "--approve", actor="carol")
    cli("pr", "review", str(number), "--approve", actor="dave")
    shown = cli.json("pr", "show", str(number))
    assert shown["approvals"]["counted"] == ["carol", "dave"]
    assert shown["checks"]["promobot/ready"] == "success"
    out = cli.json("pr", "comment", str(number), "/promote", actor="erin")
    assert out["merged"] is True
    message = git(cli.repo, "log", "-1", "--format=%B", "main")
    assert message.startswith(f"Promote fraud-detector 1.4.2 to prod (#{number})")
    trailers = parse_trailers(message)
    assert trailers["Approved-by"] == "carol, dave"
    assert trailers["Promobot-Action"] == "promote"
    assert trailers["Promobot-PR"] == str(number)
    assert "version: 1.4.2" in git(cli.repo, "show", "main:environments/prod/fraud-detector.yaml")
    assert cli.json("pr", "show", str(number))["state"] == "merged"
    # the bot branch is gone, and the working tree followed the default branch
    assert git(cli.repo, "branch", "--list", "promobot/prod/fraud-detector") == ""
    assert "version: 1.4.2" in (cli.repo / "environments/prod/fraud-detector.yaml").read_text()


def test_staging_review_auto_merges_and_chains_the_prod_pr(people: Cli) -> None:
    cli = people
    cli("promote", "fraud-detector", "--to", "staging", actor="alice")
    out = cli.json("pr", "review", "1", "--approve", actor="carol")
    assert out["merged"]["merged"] is True
    prs = cli.json("pr", "list")
    assert [(p["model"], p["to"], p["version"]) for p in prs] == [("fraud-detector", "prod", "1.5.0")]


def test_promote_by_user_without_permission_is_refused_and_changes_nothing(people: Cli) -> None:
    cli = people
    number = prod_pr(cli)
    cli("pr", "review", str(number), "--approve", actor="carol")
    cli("pr", "review", str(number), "--approve", actor="dave")
    main = git(cli.repo, "rev-parse", "main")
    out = cli.json("pr", "comment", str(number), "/promote", actor="mallory")
    assert out["merged"] is False
    assert "may not run `/promote`" in out["reply"]
    assert git(cli.repo, "rev-parse", "main") == main
    assert cli.json("pr", "show", str(number))["state"] == "open"


def test_review_after_a_new_push_is_needed_again(people: Cli) -> None:
    cli = people
    number = prod_pr(cli)
    cli("pr", "review", str(number), "--approve", actor="carol")
    cli("pr", "review", str(number), "--approve", actor="dave")
    # someone pushes to the PR branch: the head moves, the approvals are stale
    branch = "promobot/prod/fraud-detector"
    git(cli.repo, "checkout", "-q", branch)
    path = cli.repo / "environments/prod/fraud-detector.yaml"
    path.write_text(path.read_text().replace("replicas: 6", "replicas: 7"))
    git(cli.repo, "commit", "-qam", "more replicas")
    git(cli.repo, "checkout", "-q", "main")
    shown = cli.json("gates", str(number))
    assert shown["approvals"]["counted"] == []
    assert not shown["ready"]
    approvals = cli.json("pr", "show", str(number))["approvals"]
    reasons = {i["login"]: i["reason"] for i in approvals["ignored"]}
    assert "older commit" in reasons["carol"]
    cli("pr", "review", str(number), "--approve", actor="carol")
    cli("pr", "review", str(number), "--approve", actor="dave")
    assert cli.json("pr", "show", str(number))["approvals"]["counted"] == ["carol", "dave"]


def test_hold_blocks_promote_until_unhold(people: Cli) -> None:
    cli = people
    number = prod_pr(cli)
    cli("pr", "review", str(number), "--approve", actor="carol")
    cli("pr", "review", str(number), "--approve", actor="dave")
    cli("pr", "comment", str(number), "/hold waiting for the data team", actor="mallory", expect=0)
    # mallory has read permission only: hold needs triage → refused
    assert "promobot:hold" not in cli.json("pr", "show", str(number))["labels"]
    cli("pr", "comment", str(number), "/hold waiting for the data team", actor="erin")
    assert "promobot:hold" in cli.json("pr", "show", str(number))["labels"]
    blocked = cli.json("pr", "comment", str(number), "/promote", actor="erin")
    assert blocked["merged"] is False
    assert any("on hold" in b for b in blocked["blockers"])
    cli("pr", "comment", str(number), "/unhold", actor="erin")
    done = cli.json("pr", "comment", str(number), "/promote", actor="erin")
    assert done["merged"] is True


def test_cancel_closes_and_deletes_the_branch(people: Cli) -> None:
    cli = people
    number = prod_pr(cli)
    cli("pr", "comment", str(number), "/cancel", actor="erin")
    assert cli.json("pr", "show", str(number))["state"] == "closed"
    assert git(cli.repo, "branch", "--list", "promobot/prod/fraud-detector") == ""


def test_same_comment_handled_twice_gives_one_reply_and_one_merge(people: Cli) -> None:
    from bot.app.comment import handle_comment
    from bot.cli import Options, build_context

    cli = people
    number = prod_pr(cli)
    cli("pr", "review", str(number), "--approve", actor="carol")
    cli("pr", "review", str(number), "--approve", actor="dave")
    out = cli.json("pr", "comment", str(number), "/promote", actor="erin")
    assert out["merged"] is True
    tip = git(cli.repo, "rev-parse", "main")
    from datetime import UTC, datetime

    ctx = build_context(
        Options(
            repo=cli.repo,
            forge="local",
            output="json",
            actor="erin",
            now=datetime(2026, 11, 27, 10, tzinfo=UTC),
        )
    )
    again = handle_comment(ctx, number=number, comment_id=out["comment"], author="erin", body="/promote")
    assert again.handled is False and "already answered" in again.reason
    assert git(cli.repo, "rev-parse", "main") == tip
    assert len(replies(cli, number)) == 1


def test_merge_not_ready_exits_1_and_lists_every_blocker(people: Cli) -> None:
    cli = people
    number = prod_pr(cli)
    cli("pr", "comment", str(number), "/hold", actor="erin")
    data = cli.json("merge", str(number), actor="erin", expect=1)
    # "registry" is None: the manifest has no registry: block, so no alias moves.
    assert data == {
        "pr": number,
        "merged": False,
        "sha": None,
        "blockers": data["blockers"],
        "chained": [],
        "registry": None,
    }
    text = " | ".join(data["blockers"])
    assert "approvals: 0 of 2" in text
    assert "on hold" in text
    result = cli("merge", str(number), actor="erin", expect=1)
    assert "not ready to merge" in result.stdout


def test_changes_requested_blocks_until_that_reviewer_approves(people: Cli) -> None:
    cli = people
    number = prod_pr(cli)
    cli("pr", "review", str(number), "--approve", actor="carol")
    cli("pr", "review", str(number), "--request-changes", actor="dave")
    data = cli.json("merge", str(number), actor="erin", expect=1)
    assert any("changes requested by dave" in b for b in data["blockers"])
    cli("pr", "review", str(number), "--approve", actor="dave")
    assert cli.json("merge", str(number), actor="erin")["merged"] is True


def test_requester_cannot_approve_their_own_promotion(people: Cli) -> None:
    cli = people
    data = cli.json("promote", "fraud-detector", "--to", "prod", actor="carol")
    cli("pr", "review", str(data["pr"]), "--approve", actor="carol")
    approvals = cli.json("pr", "show", str(data["pr"]))["approvals"]
    assert approvals["counted"] == []
    assert {"login": "carol", "reason": "requested this promotion"} in approvals["ignored"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("/promot", "did you mean /promote"),
        ("/promote\n/cancel", "one state-changing command"),
        ("/promote now", "Usage"),
        ("```\n/promote\n```", None),
        ("> /promote", None),
        ("/lgtm", None),
    ],
    ids=["near-miss", "two-state-changing", "extra-token", "fenced", "quoted", "other-bot"],
)
def test_comment_grammar_reaches_the_reply(people: Cli, body: str, needle: str | None) -> None:
    cli = people
    number = prod_pr(cli)
    main = git(cli.repo, "rev-parse", "main")
    out = cli.json("pr", "comment", str(number), body, actor="erin")
    assert out["merged"] is False
    if needle is None:
        assert out["handled"] is False and replies(cli, number) == []
    else:
        assert needle in (out["reply"] or "")
    assert git(cli.repo, "rev-parse", "main") == main


def test_help_lists_only_what_the_commenter_may_run(people: Cli) -> None:
    cli = people
    number = prod_pr(cli)
    mallory = cli.json("pr", "comment", str(number), "/help", actor="mallory")["reply"]
    assert "/status" in mallory and "/promote" not in mallory
    sam = cli.json("pr", "comment", str(number), "/help", actor="sam")["reply"]
    assert "/hold" in sam and "/promote" in sam


def test_bot_comments_are_ignored(people: Cli, example_repo: Path) -> None:
    cli = people
    number = prod_pr(cli)
    out = cli.json("pr", "comment", str(number), "/promote", actor="dependabot[bot]")
    assert out["handled"] is False and "bot" in out["reason"]


def test_help_offers_only_what_does_something_in_the_prs_state(people: Cli) -> None:
    cli = people
    number = prod_pr(cli)
    open_help = cli.json("pr", "comment", str(number), "/help", actor="sam")["reply"]
    assert "/promote" in open_help and "/rollback" not in open_help
    cli("pr", "review", str(number), "--approve", actor="carol")
    cli("pr", "review", str(number), "--approve", actor="dave")
    cli("merge", str(number), actor="erin")
    merged_help = cli.json("pr", "comment", str(number), "/help", actor="sam")["reply"]
    assert "/rollback" in merged_help and "/hold" not in merged_help and "/cancel" not in merged_help


def test_merging_an_already_merged_pr_again_does_not_reopen_a_cancelled_chain(people: Cli) -> None:
    cli = people
    cli("promote", "fraud-detector", "--to", "staging", actor="alice")
    cli("pr", "review", "1", "--approve", actor="carol")  # auto-merges #1 and chains prod #2
    cli("pr", "comment", "2", "/cancel", actor="erin")
    again = cli.json("merge", "1", actor="erin")
    assert again["merged"] is True and again["chained"] == []
    assert [p["number"] for p in cli.json("pr", "list")] == []
