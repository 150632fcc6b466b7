"""Scheduled runs at scale: only what time can change is re-evaluated (issue #18, reference §11).

Counted at the GitHub emulator (every request PyGithub sends, validated against GitHub's
OpenAPI description). The repository is ``tests/scale_setup.py``'s: 30 open prod
promotion PRs that wait for two approvals.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.app.batch import ITEM_RESERVE, HandlerFailures, Outcome
from bot.app.events import dispatch, on_review
from bot.core import due as due_core
from bot.core.events import ScheduleEvent
from tests.emulator import Emulator, RequestRecord
from tests.scale_setup import NOW, Busy, manifest, model_name, seed

N = 30
SCHEDULE = ScheduleEvent("*/30 * * * *")


def scheduled_run(busy: Busy, now: datetime) -> tuple[Outcome, list[RequestRecord]]:
    """One scheduled workflow run at ``now``, its requests counted from the context's creation on."""
    busy.emu.reset_counts()
    outcome = dispatch(SCHEDULE, busy.context(now=now))
    return outcome, list(busy.emu.requests)


def shown(requests: list[RequestRecord]) -> str:
    return "\n".join(f"{n} × {op}" for op, n in Counter(f"{r.method} {r.template}" for r in requests).items())


def gates_check(busy: Busy, number: int) -> str | None:
    head = busy.emu.head_sha(number)
    runs = [
        r for r in busy.emu.state.check_runs.values() if r.name == "promobot/gates" and r.head_sha == head
    ]
    return runs[-1].conclusion if runs and runs[-1].status == "completed" else "pending" if runs else None


def edit_body(busy: Busy, number: int, edit: object) -> None:
    """Someone with write access edits the PR body (as the web UI does)."""
    assert callable(edit)
    with busy.emu.state.lock:
        pull = busy.emu.state.pulls[number]
        pull.body = edit(pull.body or "")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Busy]:
    """The busy repository, set up once (each test works on a fork of it)."""
    root = tmp_path_factory.mktemp("busy")
    with Emulator(root / "github") as emu:
        yield seed(emu, root / "work", models=40, prs=N, late=3)
        assert not emu.openapi_errors, emu.openapi_errors


@pytest.fixture
def busy(seeded: Busy, tmp_path: Path) -> Iterator[Busy]:
    emu = seeded.emu.fork(tmp_path / "github")
    try:
        (tmp_path / "work").mkdir()
        yield Busy(emu, tmp_path / "work", models=seeded.models, prs=seeded.prs)
        assert not emu.openapi_errors, "\n".join(emu.openapi_errors)
    finally:
        emu.stop()


def test_an_idle_scheduled_run_costs_one_page_per_hundred_open_prs(busy: Busy) -> None:
    outcome, requests = scheduled_run(busy, NOW + timedelta(minutes=30))

    budget = math.ceil(N / 100) + 2
    assert len(requests) <= budget, shown(requests)
    assert [r.method for r in requests] == ["GET"] * len(requests)
    assert (outcome.detail["open"], outcome.detail["due"], outcome.detail["waiting"]) == (N, 0, N)
    print(f"\nidle scheduled run, {N} open PRs: {len(requests)} requests")  # benchmarks/request_budgets.py


def test_prs_whose_soak_ended_are_evaluated_and_then_wait_again(busy: Busy) -> None:
    late = [
        n
        for n, p in busy.emu.state.pulls.items()
        if p.head_ref.endswith(tuple(model_name(i) for i in (27, 28, 29)))
    ]
    assert [gates_check(busy, n) for n in late] == ["pending"] * 3  # soaking until NOW + 1 h

    outcome, requests = scheduled_run(busy, NOW + timedelta(hours=2))

    assert outcome.detail["due"] == 3
    assert sorted(i["item"] for i in outcome.detail["items"]) == sorted(f"#{n}" for n in late)
    assert {i["due"] for i in outcome.detail["items"]} == {"its time came"}
    assert [gates_check(busy, n) for n in late] == ["success"] * 3
    for n in late:  # now only people can move them on
        marker = due_core.parse_due(busy.emu.state.pulls[n].body)
        assert marker is not None and marker.next == "never" and marker.head == busy.emu.head_sha(n)
    again, idle = scheduled_run(busy, NOW + timedelta(hours=2, minutes=30))
    assert again.detail["due"] == 0 and len(idle) <= math.ceil(N / 100) + 2, shown(idle)
    assert len(requests) > len(idle)


def test_a_pr_whose_marker_cannot_vouch_for_it_is_evaluated(busy: Busy) -> None:
    first, second, third, fourth = 1, 2, 3, 4
    edit_body(busy, first, lambda b: re.sub(r"<!-- promobot:due .*? -->", "", b))  # removed
    edit_body(busy, second, lambda b: b.replace('"v":1', '"v":0'))  # an older version
    edit_body(busy, third, lambda b: b.replace("promobot:due {", "promobot:due {broken"))  # malformed
    pasted = due_core.parse_due(busy.emu.state.pulls[fourth].body)
    assert pasted is not None
    edit_body(busy, fourth, lambda b: b + "\n" + due_core.render_due(pasted))  # a second marker

    outcome, _ = scheduled_run(busy, NOW + timedelta(minutes=30))

    items = {i["item"]: i["due"] for i in outcome.detail["items"]}
    assert items == dict.fromkeys(("#1", "#2", "#3", "#4"), "no current due marker")
    for n in (first, second, third, fourth):  # rewritten: the next run may skip them again
        assert due_core.parse_due(busy.emu.state.pulls[n].body) is not None
    assert scheduled_run(busy, NOW + timedelta(minutes=45))[0].detail["due"] == 0


def test_a_push_whose_event_was_lost_is_caught_up(busy: Busy) -> None:
    busy.push({"environments/staging/model-0005.yaml": _bumped("model-0005")}, "Hand edit", date=NOW)
    outcome, _ = scheduled_run(busy, NOW + timedelta(minutes=30))
    assert [i["item"] for i in outcome.detail["items"]] == ["#6"]
    assert outcome.detail["items"][0]["due"] == "the policy, rejected.yaml or the model's manifests changed"


def test_a_push_to_the_pr_branch_is_caught_up(busy: Busy) -> None:
    with busy.emu.state.lock:
        branch = busy.emu.state.pulls[7].head_ref
    busy.push({"notes.txt": "a note\n"}, "a note", date=NOW, branch=branch)

    outcome, _ = scheduled_run(busy, NOW + timedelta(minutes=30))

    assert [(i["item"], i["due"]) for i in outcome.detail["items"]] == [
        ("#7", "the head changed since the last evaluation")
    ]
    assert gates_check(busy, 7) is not None


def test_a_forged_never_only_delays_the_schedule_and_never_merges(busy: Busy) -> None:
    late = 30  # model-0029: soaking until NOW + 1 h
    edit_body(busy, late, lambda b: re.sub(r'"next":"[^"]*"', '"next":"never"', b))

    outcome, _ = scheduled_run(busy, NOW + timedelta(hours=2))

    assert "#30" not in {i["item"] for i in outcome.detail["items"]}  # delayed …
    assert gates_check(busy, late) == "pending"
    busy.emu.submit_review(late, "carol", "APPROVE")
    busy.emu.submit_review(late, "dave", "APPROVE")
    review = on_review(busy.context(now=NOW + timedelta(hours=2)), late)  # … until the next event
    assert review.detail["ready"] is True and gates_check(busy, late) == "success"
    assert busy.emu.state.pulls[late].state == "open"  # prod does not auto-merge: people still decide


def _bumped(model: str) -> str:
    return manifest(model, "2.0.0", "staging", auc=0.94)


def test_a_run_short_of_requests_finishes_the_item_in_hand_and_the_next_run_the_rest(busy: Busy) -> None:
    late = [28, 29, 30]  # soaking until NOW + 1 h
    busy.emu.limit_rate(1000, remaining=ITEM_RESERVE + 1)  # the list, then one evaluation

    outcome, requests = scheduled_run(busy, NOW + timedelta(hours=2))  # not a failure: no exception

    assert all(r.status is not None and r.status < 400 for r in requests), shown(requests)  # nothing cut
    assert outcome.detail["left"] == ["#29", "#30"]
    assert [i["item"] for i in outcome.detail["items"]] == ["#28"]
    assert "rate limit: 2 item(s) left for the next run (#29, #30)" in outcome.summary
    assert "until 2026-11-18 " in outcome.summary and "GitHub App" in outcome.summary
    assert [gates_check(busy, n) for n in late] == ["success", "pending", "pending"]

    busy.emu.limit_rate(1000)  # the hour turns
    after, _ = scheduled_run(busy, NOW + timedelta(hours=2, minutes=30))

    assert [i["item"] for i in after.detail["items"]] == ["#29", "#30"] and "left" not in after.detail
    assert [gates_check(busy, n) for n in late] == ["success"] * 3


def test_a_run_cut_by_the_rate_limit_fails_visibly_and_the_next_run_finishes(busy: Busy) -> None:
    busy.emu.limit_rate(1000)
    busy.emu.before(
        lambda method, template: method == "PATCH", lambda: "rate-limit"
    )  # someone else's workflow spent the rest of the hour

    with pytest.raises(HandlerFailures) as caught:
        dispatch(SCHEDULE, busy.context(now=NOW + timedelta(hours=2)))

    assert caught.value.exit_code == 3
    assert caught.value.outcome.detail["left"] == ["#29", "#30"]
    assert "cut by the rate limit" in caught.value.outcome.summary
    after, _ = scheduled_run(busy, NOW + timedelta(hours=2, minutes=30))
    assert [i["item"] for i in after.detail["items"]] == ["#28", "#29", "#30"]
    assert [gates_check(busy, n) for n in (28, 29, 30)] == ["success"] * 3


def test_a_hold_label_added_or_removed_by_hand_is_caught_up(busy: Busy) -> None:
    with busy.emu.state.lock:
        busy.emu.state.pulls[5].labels.append("promobot:hold")  # no event promobot handles

    outcome, _ = scheduled_run(busy, NOW + timedelta(minutes=30))

    assert [(i["item"], i["due"]) for i in outcome.detail["items"]] == [
        ("#5", "the draft state or the hold label changed")
    ]
    marker = due_core.parse_due(busy.emu.state.pulls[5].body)
    assert marker is not None and marker.flags == ("hold",)
    assert scheduled_run(busy, NOW + timedelta(minutes=45))[0].detail["due"] == 0
