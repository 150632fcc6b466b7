"""bot/app/pulls.py: ``promobot pr list | show`` of promobot's pull requests and of anyone
else's — approvals are worked out only for promobot's own."""

from __future__ import annotations

from typing import Any

import pytest

from bot.adapters.git import GitWorkspace
from bot.adapters.localforge import LocalForge
from bot.app.pulls import list_prs, show
from bot.core.report import pr_show
from bot.errors import NotApplicable
from tests.conftest import Cli
from tests.helpers.git import commit_to
from tests.helpers.local import local_context

NO_APPROVALS: dict[str, Any] = {"required": None, "counted": [], "ignored": [], "blocking": []}


def forge(cli: Cli) -> LocalForge:
    return LocalForge(GitWorkspace.discover(cli.repo))


def persons_pr(cli: Cli, branch: str = "feature", *, base: str = "main", body: str = "not promobot's") -> int:
    commit_to(cli.repo, branch, {"docs/notes.md": f"{branch}\n"})
    return forge(cli).open_pr(head=branch, base=base, title="Notes", body=body, author="erin").number


def test_list_prs_filters_by_state_and_leaves_other_prs_fields_empty(cli: Cli) -> None:
    staging = cli.json("promote", "fraud-detector", "--to", "staging")["pr"]
    closed = cli.json("promote", "spam-filter", "--to", "prod")["pr"]
    forge(cli).close(closed)
    other = persons_pr(cli)
    ctx = local_context(cli.repo)
    assert [p["number"] for p in list_prs(ctx, state="open")] == [staging, other]
    assert [(p["number"], p["state"]) for p in list_prs(ctx, state="closed")] == [(closed, "closed")]
    every = {p["number"]: p for p in list_prs(ctx, state=None)}
    assert set(every) == {staging, closed, other}
    assert every[closed] == {
        "number": closed,
        "state": "closed",
        "title": "Promote spam-filter 3.2.0 to prod",
        "model": "spam-filter",
        "from": "staging",
        "to": "prod",
        "version": "3.2.0",
        "action": "promote",
    }
    assert every[other] == {
        "number": other,
        "state": "open",
        "title": "Notes",
        "model": None,
        "from": None,
        "to": None,
        "version": None,
        "action": None,
    }


def test_show_of_a_promobot_pr_sorts_every_review_into_counted_ignored_or_blocking(people: Cli) -> None:
    cli = people
    number = cli.json("promote", "fraud-detector", "--to", "prod", actor="alice")["pr"]
    for login in ("alice", "carol", "mallory"):
        cli("pr", "review", str(number), "--approve", actor=login)
    cli("pr", "review", str(number), "--request-changes", actor="dave")
    data = show(local_context(cli.repo), number)
    assert data["approvals"] == {
        "required": 2,
        "counted": ["carol"],
        "ignored": [
            {"login": "alice", "reason": "requested this promotion"},
            {"login": "mallory", "reason": "not an eligible approver"},
        ],
        "blocking": [{"login": "dave", "reason": "requested changes"}],
        "satisfied": False,
    }
    assert (data["requester"], data["from"], data["previous_version"]) == ("alice", "staging", "1.4.1")
    assert [(r["login"], r["state"]) for r in data["reviews"]] == [
        ("alice", "APPROVED"),
        ("carol", "APPROVED"),
        ("mallory", "APPROVED"),
        ("dave", "CHANGES_REQUESTED"),
    ]
    text = pr_show(data)
    assert "approvals: 1 of 2 (counted: carol)" in text
    assert "  dave: requested changes (blocks)" in text and "  alice: requested this promotion" in text


def test_a_check_with_promobots_name_from_another_app_is_shown_apart_and_never_counted(cli: Cli) -> None:
    number = cli.json("promote", "fraud-detector", "--to", "staging")["pr"]
    f = forge(cli)
    f.add_foreign_check(f.get_pr(number).head_sha, "promobot/ready", "success")
    data = show(local_context(cli.repo), number)
    assert data["checks"] == {
        "promobot/gates": "success",
        "promobot/approvals": "pending",
        "promobot/ready": "pending",
    }
    assert data["foreign_checks"] == ["promobot/ready"]
    assert (
        "  warning: a check named promobot/ready was posted by someone other than promobot (ignored)"
        in pr_show(data)
    )


def test_show_of_someone_elses_pr_has_its_reviews_but_no_approvals(people: Cli) -> None:
    cli = people
    number = persons_pr(cli)
    cli("pr", "review", str(number), "--approve", actor="carol")
    cli("pr", "comment", str(number), "looks fine\nsecond line", actor="dave")
    data = show(local_context(cli.repo), number)
    assert data["approvals"] == NO_APPROVALS
    assert (data["model"], data["action"], data["requester"], data["author"]) == (None, None, None, "erin")
    assert data["checks"] == dict.fromkeys(("promobot/gates", "promobot/approvals", "promobot/ready"))
    assert [(r["login"], r["state"]) for r in data["reviews"]] == [("carol", "APPROVED")]
    assert [(c["author"], c["body"]) for c in data["comments"]] == [("dave", "looks fine\nsecond line")]
    text = pr_show(data)
    assert not any(line.startswith("approvals:") for line in text.splitlines())
    assert "checks:\n  promobot/gates: not posted" in text
    assert f"  #{data['comments'][0]['id']} dave: looks fine" in text.splitlines()


def test_a_promobot_looking_pr_into_another_branch_gets_no_approvals(cli: Cli) -> None:
    promoted = cli.json("promote", "fraud-detector", "--to", "staging")["pr"]
    body = forge(cli).get_pr(promoted).body  # its state marker, copied by hand
    commit_to(cli.repo, "release", {"docs/release.md": "r\n"})
    number = persons_pr(cli, "promobot/staging/spam-filter", base="release", body=body)
    data = show(local_context(cli.repo), number)
    assert data["approvals"] == NO_APPROVALS and data["requester"] is None
    assert (data["model"], data["to"]) == ("spam-filter", "staging")  # read from the branch name


def test_show_of_a_pr_that_does_not_exist_does_not_apply(cli: Cli) -> None:
    with pytest.raises(NotApplicable, match="no pull request #7"):
        show(local_context(cli.repo), 7)
