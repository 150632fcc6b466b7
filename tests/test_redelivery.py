"""Redelivery and order on the GitHub path: a repeated event acts once, a stale one acts on now.

GitHub delivers webhooks at least once, and a workflow can be re-run by hand, so every
event here is delivered through ``load_event`` → ``events.dispatch`` into a fresh
workflow run (fresh checkout, fresh forge) against the emulator, and delivered again.
"""

from __future__ import annotations

import pytest

from bot.adapters.github import ACTIONS_LOGIN
from bot.core.marker import replied_to
from tests.github_setup import (
    comment_payload,
    dispatch_payload,
    pr_payload,
    push_payload,
    review_payload,
    snapshot,
)
from tests.helpers.git import git
from tests.helpers.rig import Hub


def _bot_replies(hub: Hub, number: int) -> list[str]:
    comments = hub.emu.state.comments.values()
    return [c.body for c in comments if c.issue_number == number and c.user == ACTIONS_LOGIN]


def _runs(hub: Hub, sha: str) -> list[tuple[str, str | None]]:
    return sorted((r.name, r.conclusion) for r in hub.emu.state.check_runs.values() if r.head_sha == sha)


def test_a_dispatched_promotion_delivered_twice_opens_one_pr_with_one_commit(hub: Hub) -> None:
    payload = dispatch_payload("promote", "fraud-detector", "prod")

    hub.deliver("workflow_dispatch", payload)
    once = snapshot(hub)
    again = hub.deliver("workflow_dispatch", payload)

    assert snapshot(hub) == once
    assert list(hub.emu.state.pulls) == [1] and again.detail["created"] is False
    head = hub.emu.head_sha(1)
    assert git(hub.work, "--git-dir", str(hub.emu.git_dir), "rev-list", "--count", f"main..{head}") == "1"
    assert len(_runs(hub, head)) == 3


def test_a_promote_comment_delivered_twice_merges_once_and_replies_once(hub: Hub) -> None:
    hub.deliver("workflow_dispatch", dispatch_payload("promote", "fraud-detector", "staging"))
    hub.emu.submit_review(1, "bob", "APPROVE")
    comment = hub.emu.comment(1, "erin", "/promote")
    payload = comment_payload(1, comment.id, login="erin", body=comment.body)
    main_before = hub.main()

    first = hub.deliver("issue_comment", payload, actor="erin")
    once = snapshot(hub)
    second = hub.deliver("issue_comment", payload, actor="erin")

    assert first.detail["comment"]["merged"] is True
    assert second.detail["comment"]["merged"] is False
    assert snapshot(hub) == once
    merges = git(hub.work, "--git-dir", str(hub.emu.git_dir), "rev-list", "--count", f"{main_before}..main")
    assert merges == "1"
    assert [replied_to(body) for body in _bot_replies(hub, 1)] == [comment.id]
    assert sorted(hub.emu.state.pulls) == [1, 2]  # the chained prod PR, once


def test_a_review_delivered_twice_leaves_the_same_checks_and_no_duplicates(hub: Hub) -> None:
    hub.deliver("workflow_dispatch", dispatch_payload("promote", "fraud-detector", "prod"))
    head = hub.emu.head_sha(1)
    hub.emu.submit_review(1, "carol", "APPROVE")
    hub.emu.submit_review(1, "dave", "APPROVE")
    payload = review_payload(hub, 1, login="dave", commit_id=head)

    hub.deliver("pull_request_review", payload)
    once = snapshot(hub)
    hub.deliver("pull_request_review", payload)

    assert snapshot(hub) == once
    ready = [(n, c) for n, c in _runs(hub, head) if n == "promobot/ready"]
    assert ready == [("promobot/ready", "success")]
    assert len(_runs(hub, head)) == 3


def test_a_review_event_delivered_after_a_newer_push_does_not_count_the_stale_approval(hub: Hub) -> None:
    hub.deliver("workflow_dispatch", dispatch_payload("promote", "fraud-detector", "prod"))
    old_head = hub.emu.head_sha(1)
    hub.emu.submit_review(1, "carol", "APPROVE")
    hub.emu.submit_review(1, "dave", "APPROVE")
    stale = review_payload(hub, 1, login="dave", commit_id=old_head)
    # staging's fraud-detector changes; the push event refreshes the prod PR (new head)
    before, after = hub.push_commit(
        "environments/staging/fraud-detector.yaml",
        lambda t: t.replace("auc: 0.931", "auc: 0.933"),
        "Re-evaluate fraud-detector 1.4.2 in staging",
    )
    hub.deliver("push", push_payload(before, after, ["environments/staging/fraud-detector.yaml"]))
    new_head = hub.emu.head_sha(1)
    assert new_head != old_head

    outcome = hub.deliver("pull_request_review", stale)

    assert outcome.detail["ready"] is False
    assert outcome.detail["approvals"]["counted"] == []
    approvals = next(
        r
        for r in hub.emu.state.check_runs.values()
        if r.head_sha == new_head and r.name == "promobot/approvals"
    )
    assert approvals.conclusion != "success"  # pending: approvals are still missing
    assert "dave: approved an older commit" in (approvals.summary or "")
    ready = [c for n, c in _runs(hub, new_head) if n == "promobot/ready"]
    assert len(ready) == 1 and ready[0] != "success"
    assert hub.emu.state.pulls[1].state == "open"


@pytest.mark.parametrize("action", ["edited", "deleted"], ids=["edited", "deleted"])
def test_an_edited_or_deleted_promote_comment_never_runs(hub: Hub, action: str) -> None:
    hub.deliver("workflow_dispatch", dispatch_payload("promote", "fraud-detector", "staging"))
    hub.emu.submit_review(1, "bob", "APPROVE")
    comment = hub.emu.comment(1, "erin", "/promote")
    before = snapshot(hub)
    hub.emu.reset_counts()

    outcome = hub.deliver(
        "issue_comment",
        comment_payload(1, comment.id, login="erin", body="/promote", action=action),
        actor="erin",
    )

    assert outcome.handled is False and action in outcome.summary
    assert hub.emu.requests == []
    assert snapshot(hub) == before
    assert hub.emu.state.pulls[1].state == "open"


def test_a_synchronize_event_delivered_twice_rewrites_nothing_the_second_time(hub: Hub) -> None:
    hub.deliver("workflow_dispatch", dispatch_payload("promote", "fraud-detector", "prod"))
    payload = pr_payload(hub, "synchronize", 1)
    hub.deliver("pull_request", payload)
    once = snapshot(hub)
    hub.emu.reset_counts()

    hub.deliver("pull_request", payload)

    assert snapshot(hub) == once
    writes = [r for r in hub.emu.requests if r.method in ("POST", "PUT", "DELETE")]
    assert writes == []


def test_a_rollback_comment_on_a_merged_promotion_opens_one_rollback_pr(hub: Hub) -> None:
    """/rollback over the GitHub path (issue 6): on a merged promotion PR, authorised via the team."""
    hub.deliver("workflow_dispatch", dispatch_payload("promote", "fraud-detector", "staging"))
    hub.emu.submit_review(1, "bob", "APPROVE")
    hub.deliver("pull_request_review", review_payload(hub, 1, login="bob", commit_id=hub.emu.head_sha(1)))
    assert hub.emu.state.pulls[1].merged
    denied = hub.emu.comment(1, "carol", "/rollback")  # write permission, not in @acme/sre
    refused = hub.deliver("issue_comment", comment_payload(1, denied.id, login="carol", body=denied.body))
    assert "may not run `/rollback`" in (refused.detail["comment"]["reply"] or "")
    before = set(hub.emu.state.pulls)
    comment = hub.emu.comment(1, "erin", "/rollback")
    payload = comment_payload(1, comment.id, login="erin", body=comment.body)
    hub.deliver("issue_comment", payload, actor="erin")
    hub.deliver("issue_comment", payload, actor="erin")  # redelivered: still one rollback PR
    opened = [hub.emu.state.pulls[n] for n in set(hub.emu.state.pulls) - before]
    assert len(opened) == 1
    rollback = opened[0]
    assert rollback.head_ref == "promobot/rollback/staging/fraud-detector"
    assert "promobot:rollback" in rollback.labels
    assert [replied_to(body) for body in _bot_replies(hub, 1)].count(comment.id) == 1
