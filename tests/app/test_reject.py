"""reject / unreject pull requests are promobot pull requests: marker, checks, approvals, merge."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.branches import parse_branch, rejected_branch
from bot.core.rejected import load_rejected
from bot.core.trailers import parse_trailers
from tests.conftest import Cli
from tests.helpers.git import commit_all, git

REJECTED = "environments/rejected.yaml"
CHECKS = {"promobot/gates", "promobot/approvals", "promobot/ready"}


def rejected_on(repo: Path, ref: str = "main") -> list[tuple[str, str, str, str]]:
    text = git(repo, "show", f"{ref}:{REJECTED}") + "\n"
    return [(r.model, r.version, r.reason, r.by) for r in load_rejected(text)]


def not_rejected_gate(cli: Cli) -> dict[str, str]:
    promoted = cli.json("promote", "fraud-detector", "--to", "staging", actor="alice")
    gate: dict[str, str] = next(g for g in promoted["gates"] if g["name"] == "not-rejected")
    return gate


@pytest.mark.parametrize(
    ("branch", "action", "model", "version"),
    [
        ("promobot/rejected/fraud-detector/1.5.0", "reject", "fraud-detector", "1.5.0"),
        ("promobot/unrejected/fraud-detector/1.5.0+rc.1", "unreject", "fraud-detector", "1.5.0+rc.1"),
        ("promobot/rejected/../1.5.0", None, None, None),
        ("promobot/rejected/fraud-detector/1..5", None, None, None),
        ("promobot/rejected/fraud-detector/1.5.lock", None, None, None),
        ("promobot/rejected/fraud-detector", "promote", "fraud-detector", None),
    ],
    ids=["reject", "unreject", "bad-model", "dotdot-version", "lock-version", "env-named-rejected"],
)
def test_parse_branch_reads_reject_and_unreject_branches(
    branch: str, action: str | None, model: str | None, version: str | None
) -> None:
    ref = parse_branch(branch)
    if action is None:
        assert ref is None
        return
    assert ref is not None and (ref.action, ref.model, ref.version) == (action, model, version)
    if action in ("reject", "unreject"):
        assert ref.env == "" and ref.is_rejection
        assert rejected_branch(model or "", version or "", remove=action == "unreject") == branch


def test_a_reject_pr_is_reviewed_merged_by_promobot_and_then_blocks_the_version(
    people: Cli, example_repo: Path
) -> None:
    cli = people
    opened = cli.json("reject", "fraud-detector", "1.5.0", "--reason", "leaks labels", actor="sam")
    number = str(opened["pr"])
    assert opened["ready"] is False and opened["required_approvals"] == 1
    pr = cli.json("pr", "show", number)
    assert (pr["action"], pr["model"], pr["version"], pr["to"]) == ("reject", "fraud-detector", "1.5.0", None)
    assert pr["checks"] == {
        "promobot/gates": "success",
        "promobot/approvals": "pending",
        "promobot/ready": "pending",
    }
    assert pr["labels"] == ["promobot:rollback"]
    assert pr["approvals"]["required"] == 1 and pr["approvals"]["counted"] == []
    assert "promobot:state" in pr["body"] and "leaks labels" in pr["body"]
    listed = next(p for p in cli.json("pr", "list") if p["number"] == opened["pr"])
    assert (listed["action"], listed["version"]) == ("reject", "1.5.0")

    refused = cli.json("merge", number, actor="carol", expect=1)
    assert not refused["merged"] and "approvals: 0 of 1" in refused["blockers"]
    assert rejected_on(example_repo) == []

    cli("pr", "review", number, "--approve", actor="sam")  # the requester does not count
    cli("pr", "review", number, "--approve", actor="carol")
    assert cli.json("pr", "show", number)["checks"]["promobot/ready"] == "success"
    merged = cli.json("merge", number, actor="alice")
    assert merged["merged"] and merged["chained"] == []

    assert rejected_on(example_repo) == [("fraud-detector", "1.5.0", "leaks labels", "sam")]
    message = git(example_repo, "log", "-1", "--format=%B", "main")
    assert message.startswith("Reject fraud-detector 1.5.0 (#1)")
    assert parse_trailers(message) == {
        "Promobot-Action": "reject",
        "Promobot-Model": "fraud-detector",
        "Promobot-Version": "1.5.0",
        "Promobot-Requested-By": "sam",
        "Promobot-PR": "1",
        "Approved-by": "carol",
    }
    gate = not_rejected_gate(cli)
    assert gate["result"] == "failure" and "leaks labels" in gate["reason"]


def test_an_unreject_pr_merges_by_slash_promote_and_lets_the_version_through(
    people: Cli, example_repo: Path
) -> None:
    cli = people
    cli("reject", "fraud-detector", "1.5.0", "--reason", "leaks labels", "--direct", actor="sam")
    direct = parse_trailers(git(example_repo, "log", "-1", "--format=%B", "main"))
    assert (direct["Promobot-Action"], direct["Promobot-Version"]) == ("reject", "1.5.0")

    opened = cli.json("unreject", "fraud-detector", "1.5.0", actor="sam")
    number = str(opened["pr"])
    pr = cli.json("pr", "show", number)
    assert pr["action"] == "unreject" and pr["head_branch"] == "promobot/unrejected/fraud-detector/1.5.0"
    assert pr["checks"]["promobot/gates"] == "success" and pr["checks"]["promobot/ready"] == "pending"

    early = cli.json("pr", "comment", number, "/promote", actor="carol")
    assert "approvals: 0 of 1" in early["reply"]
    cli("pr", "review", number, "--approve", actor="carol")
    done = cli.json("pr", "comment", number, "/promote", actor="carol")
    assert "merged as" in done["reply"], done

    assert rejected_on(example_repo) == []
    trailers = parse_trailers(git(example_repo, "log", "-1", "--format=%B", "main"))
    assert (trailers["Promobot-Action"], trailers["Promobot-Model"], trailers["Promobot-Version"]) == (
        "unreject",
        "fraud-detector",
        "1.5.0",
    )
    assert trailers["Approved-by"] == "carol" and trailers["Promobot-Requested-By"] == "sam"
    assert not_rejected_gate(cli)["result"] == "success"


def test_a_reject_pr_that_also_changes_another_file_is_not_ready(people: Cli, example_repo: Path) -> None:
    cli = people
    opened = cli.json("reject", "fraud-detector", "1.5.0", "--reason", "leaks labels", actor="sam")
    number = str(opened["pr"])
    branch = rejected_branch("fraud-detector", "1.5.0")
    git(example_repo, "checkout", "-q", branch)
    (example_repo / "environments" / "promotion.yaml").write_text("# taken over\n")
    commit_all(example_repo, "sneak a policy change in", author="erin")
    git(example_repo, "checkout", "-q", "main")
    cli("pr", "review", number, "--approve", actor="carol")

    refused = cli.json("merge", number, actor="carol", expect=1)
    assert not refused["merged"]
    assert any("also changes environments/promotion.yaml" in b for b in refused["blockers"])
    assert cli.json("pr", "show", number)["checks"]["promobot/ready"] != "success"
    assert rejected_on(example_repo) == []
