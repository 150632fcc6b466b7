"""Races on the GitHub path: the repository changes between what the bot read and what it writes.

Races are made deterministic with the emulator's ``before(when, callback)`` hook (the
callback runs just before the emulator answers the chosen request: someone pushes, or a
second workflow run handles its own event, in between two of the bot's requests), and
with a ``pre-receive`` hook in the bare repository (the default branch moves at every
push). The thread tests run two workflow runs truly at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from bot.adapters.github import ACTIONS_LOGIN
from bot.app.apply import DIRECT_ATTEMPTS
from bot.app.rollback import rollback
from bot.core.marker import replied_to
from bot.errors import ConflictError
from tests.github_setup import (
    comment_payload,
    dispatch_payload,
    pr_payload,
    push_payload,
    review_payload,
    run_event,
)
from tests.helpers.git import git
from tests.helpers.rig import Hub

PROD = "environments/prod/fraud-detector.yaml"
STAGING = "environments/staging/fraud-detector.yaml"
DEV_OTHER = "environments/dev/search-ranker.yaml"


def _is(method: str, suffix: str) -> Callable[[str, str | None], bool]:
    return lambda m, template: m == method and template is not None and template.endswith(suffix)


def _log(hub: Hub, ref: str = "main") -> list[str]:
    return git(hub.work, "--git-dir", str(hub.emu.git_dir), "log", "--format=%s", ref).splitlines()


def _show(hub: Hub, ref: str, path: str) -> str:
    return git(hub.work, "--git-dir", str(hub.emu.git_dir), "show", f"{ref}:{path}")


def _touch(text: str) -> str:
    return text + "# touched by someone else\n"


def _merge_staging(hub: Hub) -> None:
    hub.deliver("workflow_dispatch", dispatch_payload("promote", "fraud-detector", "staging"))
    hub.emu.submit_review(1, "bob", "APPROVE")
    hub.deliver("pull_request_review", review_payload(hub, 1, login="bob", commit_id=hub.emu.head_sha(1)))
    assert hub.emu.state.pulls[1].merged


# --------------------------------------------------------------------------- the default branch moves


def test_the_default_branch_moving_during_a_direct_rollback_rebuilds_on_the_new_tip(hub: Hub) -> None:
    _merge_staging(hub)
    ctx = hub.context("erin")
    hub.emu.before(1, lambda: hub.push_commit(DEV_OTHER, _touch, "Unrelated change"))

    result = rollback(ctx, model="fraud-detector", env="staging", direct=True, reason="bad AUC", actor="erin")

    subjects = _log(hub)
    assert subjects[0].startswith('Revert "') and subjects[1] == "Unrelated change"
    assert result.sha == hub.main()
    assert "version: 1.4.2" in _show(hub, "main", STAGING)
    assert _show(hub, "main", DEV_OTHER).endswith("# touched by someone else")
    assert "1.5.0" in _show(hub, "main", "environments/rejected.yaml")


def test_a_default_branch_that_keeps_moving_stops_a_direct_rollback_after_bounded_attempts(hub: Hub) -> None:
    _merge_staging(hub)
    hook = hub.emu.git_dir / "hooks" / "pre-receive"
    hook.write_text(  # every push to main meets a newer main: someone always pushed first
        "#!/bin/sh\n"
        "unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES\n"
        "tip=$(git rev-parse refs/heads/main)\n"
        'new=$(git commit-tree -p "$tip" -m \'Someone else\' "$tip^{tree}")\n'
        'git update-ref refs/heads/main "$new" "$tip"\n'
        "exit 1\n",
        encoding="utf-8",
    )
    hook.chmod(0o755)
    before = len(_log(hub))

    with pytest.raises(ConflictError, match="kept moving"):
        rollback(
            hub.context("erin"),
            model="fraud-detector",
            env="staging",
            direct=True,
            reason="bad AUC",
            actor="erin",
        )

    moved = _log(hub)
    assert len(moved) - before == DIRECT_ATTEMPTS  # one refused push per attempt, then stop
    assert set(moved[:DIRECT_ATTEMPTS]) == {"Someone else"}
    assert "version: 1.5.0" in _show(hub, "main", STAGING)


def test_the_default_branch_moving_during_a_promotion_loses_nothing_when_it_merges(hub: Hub) -> None:
    hub.emu.before(1, lambda: hub.push_commit(PROD, _touch, "Hand edit to prod's manifest comments"))

    hub.deliver("workflow_dispatch", dispatch_payload("promote", "fraud-detector", "prod"))
    hub.emu.submit_review(1, "carol", "APPROVE")
    hub.emu.submit_review(1, "dave", "APPROVE")
    comment = hub.emu.comment(1, "dave", "/promote")
    outcome = hub.deliver("issue_comment", comment_payload(1, comment.id, login="dave", body=comment.body))

    assert list(hub.emu.state.pulls) == [1]
    assert outcome.detail["comment"]["merged"] is True, outcome.summary
    prod = _show(hub, "main", PROD)
    assert "version: 1.4.2" in prod and prod.endswith("# touched by someone else")
    assert _log(hub)[1] == "Hand edit to prod's manifest comments"


def test_a_source_change_during_a_promotion_is_picked_up_by_its_push_event(hub: Hub) -> None:
    pushed: list[tuple[str, str]] = []

    def someone_changes_staging() -> None:
        pushed.append(
            hub.push_commit(
                STAGING,
                lambda t: t.replace("auc: 0.931", "auc: 0.933"),
                "Re-evaluate fraud-detector in staging",
            )
        )

    hub.emu.before(1, someone_changes_staging)
    hub.deliver("workflow_dispatch", dispatch_payload("promote", "fraud-detector", "prod"))
    assert "auc: 0.931" in _show(hub, hub.emu.state.pulls[1].head_ref, PROD)  # built on the old tip

    ((before, after),) = pushed
    hub.deliver("push", push_payload(before, after, [STAGING]))

    assert list(hub.emu.state.pulls) == [1]
    head = hub.emu.state.pulls[1].head_ref
    assert "auc: 0.933" in _show(hub, head, PROD)
    gates = [
        r
        for r in hub.emu.state.check_runs.values()
        if r.head_sha == hub.emu.head_sha(1) and r.name == "promobot/gates"
    ]
    assert [r.conclusion for r in gates] == ["success"]


# --------------------------------------------------------------------------- the PR head moves


def test_the_pr_head_moving_between_evaluation_and_merge_is_refused_reported_and_re_evaluated(
    hub: Hub,
) -> None:
    hub.deliver("workflow_dispatch", dispatch_payload("promote", "fraud-detector", "prod"))
    hub.emu.submit_review(1, "carol", "APPROVE")
    hub.emu.submit_review(1, "dave", "APPROVE")
    branch = hub.emu.state.pulls[1].head_ref
    hub.emu.before(
        _is("PUT", "/merge"), lambda: hub.push_commit(PROD, _touch, "Sneak in a change", branch=branch)
    )
    main_before = hub.main()
    comment = hub.emu.comment(1, "dave", "/promote")

    outcome = hub.deliver("issue_comment", comment_payload(1, comment.id, login="dave", body=comment.body))

    assert outcome.detail["comment"]["merged"] is False
    assert hub.main() == main_before and hub.emu.state.pulls[1].state == "open"
    reply = [c.body for c in hub.emu.state.comments.values() if c.user == ACTIONS_LOGIN]
    assert len(reply) == 1 and "head moved" in reply[0] and replied_to(reply[0]) == comment.id
    assert [r.content for r in hub.emu.state.reactions] == ["eyes", "confused"]

    again = hub.deliver("pull_request", pr_payload(hub, "synchronize", 1))  # GitHub's event for the push

    new_head = hub.emu.head_sha(1)
    assert again.detail["ready"] is False
    ready = [
        r.conclusion
        for r in hub.emu.state.check_runs.values()
        if r.head_sha == new_head and r.name == "promobot/ready"
    ]
    assert len(ready) == 1 and ready[0] != "success"


# --------------------------------------------------------------------------- two runs at once


def test_two_promotions_of_the_same_model_to_the_same_environment_at_once_leave_one_pr(hub: Hub) -> None:
    """Run B runs whole between run A's check for an open PR and A opening one."""
    payload = dispatch_payload("promote", "fraud-detector", "prod")
    second: list[str] = []
    hub.emu.before(
        _is("POST", "/pulls"),
        lambda: second.append(run_event(lambda h: h.deliver("workflow_dispatch", payload, actor="bob"), hub)),
    )

    first = run_event(lambda h: h.deliver("workflow_dispatch", payload), hub)
    rerun = run_event(lambda h: h.deliver("workflow_dispatch", payload), hub)

    assert second == ["ok"]
    assert first == "ok" or "ConflictError" in first, first  # refused with "re-run", never a duplicate
    assert rerun == "ok"
    assert [(n, p.state) for n, p in hub.emu.state.pulls.items()] == [(1, "open")]
    head = hub.emu.head_sha(1)
    names = sorted(r.name for r in hub.emu.state.check_runs.values() if r.head_sha == head)
    assert names == ["promobot/approvals", "promobot/gates", "promobot/ready"]


def test_the_run_that_loses_the_race_to_open_the_pr_adopts_the_winners_pr(hub: Hub) -> None:
    payload = dispatch_payload("promote", "fraud-detector", "prod")
    hub.emu.before(
        _is("POST", "/pulls"),
        lambda: run_event(lambda h: h.deliver("workflow_dispatch", payload, actor="bob"), hub),
    )

    first = run_event(lambda h: h.deliver("workflow_dispatch", payload), hub)

    assert first == "ok"
    assert [(n, p.state) for n, p in hub.emu.state.pulls.items()] == [(1, "open")]


def test_two_promotions_in_threads_leave_one_open_pr(hub: Hub) -> None:
    payload = dispatch_payload("promote", "fraud-detector", "prod")
    ended: list[str] = []
    runs = [
        threading.Thread(
            target=lambda: ended.append(run_event(lambda h: h.deliver("workflow_dispatch", payload), hub))
        )
        for _ in range(2)
    ]
    for t in runs:
        t.start()
    for t in runs:
        t.join(60)

    assert len(ended) == 2 and "ok" in ended, ended
    assert all(e == "ok" or e.startswith(("ConflictError", "WorkspaceError")) for e in ended), ended
    assert [(n, p.state) for n, p in hub.emu.state.pulls.items()] == [(1, "open")]


def _answered(hub: Hub) -> list[int]:
    return [replied_to(c.body) or 0 for c in hub.emu.state.comments.values() if c.user == ACTIONS_LOGIN]


def _ready_staging_pr(hub: Hub) -> tuple[int, int]:
    hub.deliver("workflow_dispatch", dispatch_payload("promote", "fraud-detector", "staging"))
    hub.emu.submit_review(1, "bob", "APPROVE")
    return hub.emu.comment(1, "erin", "/promote").id, hub.emu.comment(1, "carol", "/promote").id


def test_two_promote_comments_at_once_merge_once_and_both_are_answered(hub: Hub) -> None:
    """Comment B's run merges between comment A's evaluation and A's merge request."""
    first_id, second_id = _ready_staging_pr(hub)
    main_before = hub.main()
    second: list[str] = []
    hub.emu.before(
        _is("PUT", "/merge"),
        lambda: second.append(
            run_event(
                lambda h: h.deliver(
                    "issue_comment", comment_payload(1, second_id, login="carol", body="/promote")
                ),
                hub,
            )
        ),
    )

    first = run_event(
        lambda h: h.deliver(
            "issue_comment", comment_payload(1, first_id, login="erin", body="/promote"), actor="erin"
        ),
        hub,
    )

    assert (first, second) == ("ok", ["ok"])
    merged = git(hub.work, "--git-dir", str(hub.emu.git_dir), "rev-list", "--count", f"{main_before}..main")
    assert merged == "1" and hub.emu.state.pulls[1].merged
    assert sorted(_answered(hub)) == sorted([first_id, second_id])
    assert sorted(hub.emu.state.pulls) == [1, 2]  # one chained prod PR


def test_two_promote_comments_in_threads_merge_once_and_both_are_answered(hub: Hub) -> None:
    ids = _ready_staging_pr(hub)
    main_before = hub.main()
    ended: list[str] = []

    def handle(comment_id: int, login: str) -> None:
        payload = comment_payload(1, comment_id, login=login, body="/promote")
        ended.append(run_event(lambda h: h.deliver("issue_comment", payload, actor=login), hub))

    runs = [
        threading.Thread(target=handle, args=(i, login))
        for i, login in zip(ids, ("erin", "carol"), strict=True)
    ]
    for t in runs:
        t.start()
    for t in runs:
        t.join(60)

    assert len(ended) == 2, ended
    merged = git(hub.work, "--git-dir", str(hub.emu.git_dir), "rev-list", "--count", f"{main_before}..main")
    assert merged == "1"
    assert sorted(_answered(hub)) == sorted(ids), ended
    assert len([p for p in hub.emu.state.pulls.values() if p.head_ref == "promobot/prod/fraud-detector"]) == 1
