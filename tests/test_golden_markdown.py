"""The markdown people read, byte for byte against tests/golden/<kind>/ (issue 11, item 4).

Every text here comes out of the public behaviour: the CLI on the local forge with the clock fixed
(``tests.conftest.Cli``), read back the way a person sees it — the pull request's body
(``pr show``), the check runs on its head (what GitHub shows as the check's summary), the bot's
reply comment to a slash-command. A change to any of them shows up as a diff of a golden file;
``PROMOBOT_REGEN_GOLDEN=1`` rewrites them (tests/helpers/golden.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.adapters.git import GitWorkspace
from bot.adapters.localforge import LocalForge
from tests.conftest import Cli
from tests.helpers import golden
from tests.helpers.golden import assert_golden


def pull(cli: Cli, number: int) -> dict[str, Any]:
    shown: dict[str, Any] = cli.json("pr", "show", str(number))
    return shown


def check_summary(cli: Cli, number: int, name: str) -> str:
    """The summary of promobot's check ``name`` on the head of pull request ``number``."""
    head = pull(cli, number)["head_sha"]
    forge = LocalForge(GitWorkspace.discover(cli.repo))
    (check,) = [c for c in forge.list_checks(head) if c.name == name and c.by_promobot]
    return f"# {check.title}\n\n{check.summary}\n"


def reply_to(cli: Cli, number: int, command: str, *, actor: str) -> str:
    """The body of the bot's reply to ``command``, commented on pull request ``number`` by ``actor``."""
    cli("pr", "comment", str(number), command, actor=actor)
    comments = pull(cli, number)["comments"]
    asked = max(i for i, c in enumerate(comments) if c["author"] == actor and c["body"] == command)
    (reply,) = [c for c in comments[asked + 1 :] if c["author"] == "promobot"]
    body: str = reply["body"]
    return body


def promote_staging(cli: Cli) -> int:
    opened = cli.json("promote", "fraud-detector", "--to", "staging", actor="alice")
    number: int = opened["pr"]
    return number


def test_the_promotion_pr_body(people: Cli) -> None:
    number = promote_staging(people)
    body = pull(people, number)["body"]
    assert "Promote `fraud-detector` `1.5.0` from `dev` to `staging`" in body
    assert_golden("pr-body/promote.md", body)


def test_the_rollback_pr_body(people: Cli) -> None:
    opened = people.json("promote", "fraud-detector", "--to", "prod", actor="alice")
    for reviewer in ("carol", "dave"):
        people("pr", "review", str(opened["pr"]), "--approve", actor=reviewer)
    assert people.json("merge", str(opened["pr"]), actor="carol")["merged"]
    rolled = people.json(
        "rollback", "fraud-detector", "--env", "prod", "--reason", "AUC dropped in prod", actor="sam"
    )
    body = pull(people, rolled["pr"])["body"]
    assert "AUC dropped in prod" in body and "1.4.1" in body
    assert_golden("pr-body/rollback.md", body)


def test_the_reject_pr_body(people: Cli) -> None:
    opened = people.json("reject", "fraud-detector", "1.5.0", "--reason", "leaks labels", actor="sam")
    body = pull(people, opened["pr"])["body"]
    assert "leaks labels" in body
    assert_golden("pr-body/reject.md", body)


def test_the_gates_check_summary(people: Cli) -> None:
    number = promote_staging(people)
    summary = check_summary(people, number, "promobot/gates")
    assert "| `schema` | ✅ success |" in summary
    assert_golden("check-summary/gates.md", summary)


def test_the_approvals_check_summary_with_one_of_two(people: Cli) -> None:
    opened = people.json("promote", "fraud-detector", "--to", "prod", actor="alice")
    people("pr", "review", str(opened["pr"]), "--approve", actor="carol")
    summary = check_summary(people, opened["pr"], "promobot/approvals")
    assert "carol" in summary
    assert_golden("check-summary/approvals.md", summary)


def test_the_help_reply(people: Cli) -> None:
    number = promote_staging(people)
    reply = reply_to(people, number, "/help", actor="alice")
    assert "/promote" in reply
    assert_golden("reply/help.md", reply)


def test_the_blockers_reply_to_promote(people: Cli) -> None:
    number = promote_staging(people)
    people("pr", "comment", str(number), "/hold waiting for the load test", actor="carol")
    reply = reply_to(people, number, "/promote", actor="alice")
    assert "approvals: 0 of 1" in reply and "on hold" in reply
    assert_golden("reply/blockers.md", reply)


def test_the_status_reply(people: Cli) -> None:
    number = promote_staging(people)
    reply = reply_to(people, number, "/status", actor="alice")
    assert "`staging`: `1.4.2`" in reply
    assert_golden("reply/status.md", reply)


def test_a_golden_file_is_compared_byte_for_byte_and_rewritten_on_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(golden, "GOLDEN", tmp_path)
    monkeypatch.delenv("PROMOBOT_REGEN_GOLDEN", raising=False)
    with pytest.raises(AssertionError, match=r"no golden file tests/golden/reply/x\.md — run with"):
        golden.assert_golden("reply/x.md", "hello\n")

    monkeypatch.setenv("PROMOBOT_REGEN_GOLDEN", "1")
    golden.assert_golden("reply/x.md", "héllo\r\n")
    assert (tmp_path / "reply/x.md").read_bytes() == "héllo\r\n".encode()

    monkeypatch.delenv("PROMOBOT_REGEN_GOLDEN")
    golden.assert_golden("reply/x.md", "héllo\r\n")
    with pytest.raises(AssertionError, match=r"(?s)PROMOBOT_REGEN_GOLDEN=1.*-héllo\r\n\+héllo\n"):
        golden.assert_golden("reply/x.md", "héllo\n")
    assert (tmp_path / "reply/x.md").read_bytes() == "héllo\r\n".encode()
