"""bot/app/schedule.py: the scheduled run evaluates only the open promobot pull requests whose
due marker says time (or something no event reports) may have changed them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.adapters.git import GitWorkspace
from bot.adapters.localforge import LocalForge
from bot.app.batch import Outcome
from bot.app.schedule import on_schedule
from bot.core.due import parse_due
from bot.core.events import ScheduleEvent
from bot.core.model import LABEL_HOLD
from tests.conftest import Cli
from tests.helpers.git import commit_all, commit_to
from tests.helpers.local import NOW, local_context

REJECTED = "environments/rejected.yaml"
STAGING_BRANCH = "promobot/staging/fraud-detector"


def schedule(cli: Cli, now: datetime = NOW) -> Outcome:
    return on_schedule(local_context(cli.repo, now=now), ScheduleEvent("*/30 * * * *"))


def forge(cli: Cli) -> LocalForge:
    return LocalForge(GitWorkspace.discover(cli.repo))


def forge_state(cli: Cli) -> bytes:
    """The whole local forge (PRs, bodies, checks, comments): equal bytes mean nothing was posted."""
    return (cli.repo / ".git" / "promobot" / "forge.json").read_bytes()


def evaluated(outcome: Outcome) -> dict[str, str]:
    """``{"#N": why it was due}`` of the PRs the run evaluated."""
    return {i["item"]: i["due"] for i in outcome.detail["items"] if "due" in i}


def waiting_staging_pr(cli: Cli) -> int:
    """fraud-detector's staging PR, its gates green, waiting for a review (nothing time-driven)."""
    number: int = cli.json("promote", "fraud-detector", "--to", "staging")["pr"]
    return number


def reject_fraud_150(cli: Cli) -> None:
    path = cli.repo / REJECTED
    path.write_text(
        path.read_text().replace(
            "rejected: []",
            "rejected:\n  - {model: fraud-detector, version: 1.5.0, reason: leaks labels, by: sam,"
            ' at: "2026-11-20T09:00:00Z"}',
        )
    )
    commit_all(cli.repo, "reject fraud-detector 1.5.0 (the push event was lost)")


def test_a_quiet_run_evaluates_nothing_and_posts_nothing(cli: Cli) -> None:
    waiting_staging_pr(cli)
    commit_to(cli.repo, "feature", {"docs/notes.md": "a person's branch\n"})
    forge(cli).open_pr(head="feature", base="main", title="Notes", body="not promobot's", author="erin")
    before = forge_state(cli)
    outcome = schedule(cli, NOW + timedelta(days=3))
    assert outcome.handled and outcome.detail["items"] == []
    assert (outcome.detail["open"], outcome.detail["due"], outcome.detail["waiting"]) == (1, 0, 1)
    assert outcome.summary == (
        "schedule: 1 open promobot pull request(s), 0 due, "
        "1 waiting for people or a later time: nothing to do"
    )
    assert forge_state(cli) == before


def test_a_pending_soak_is_evaluated_once_its_time_came_and_not_before(people: Cli) -> None:
    cli = people
    staging = waiting_staging_pr(cli)
    cli("pr", "review", str(staging), "--approve", actor="carol")  # auto-merges, chains prod's PR
    (prod,) = (p["number"] for p in cli.json("pr", "list") if p["to"] == "prod")
    due_marker = parse_due(forge(cli).get_pr(prod).body)
    assert due_marker is not None and isinstance(due_marker.next, datetime)
    until = due_marker.next
    assert until == NOW + timedelta(hours=24)  # the soak's end: staging got 1.5.0 at NOW

    early = schedule(cli, until - timedelta(minutes=1))
    assert early.detail["items"] == [] and early.detail["waiting"] == 1
    due = schedule(cli, until + timedelta(minutes=1))
    assert evaluated(due) == {f"#{prod}": "its time came"}
    (item,) = due.detail["items"]
    assert item["pr"] == prod and not any(b.startswith("gate soak") for b in item["blockers"])


def test_a_change_on_main_without_its_event_makes_the_prs_that_read_it_due(cli: Cli) -> None:
    number = waiting_staging_pr(cli)
    spam = cli.json("promote", "spam-filter", "--to", "prod")["pr"]
    why = "the policy, rejected.yaml or the model's manifests changed"
    prod = cli.repo / "environments/prod/fraud-detector.yaml"
    prod.write_text(prod.read_text().replace("replicas: 6", "replicas: 7"))
    commit_all(cli.repo, "scale fraud-detector in prod (the push event was lost)")
    outcome = schedule(cli)
    assert evaluated(outcome) == {f"#{number}": why}  # fraud-detector's manifests: not spam-filter's PR
    assert (outcome.detail["open"], outcome.detail["due"]) == (2, 1)
    reject_fraud_150(cli)  # rejected.yaml: every PR reads it
    outcome = schedule(cli)
    assert evaluated(outcome) == {f"#{number}": why, f"#{spam}": why}
    assert [i["gates"] for i in outcome.detail["items"]] == ["failure", "success"]
    assert cli.json("pr", "show", str(number))["checks"]["promobot/gates"] == "failure"


def test_a_push_to_the_pr_branch_or_a_hold_label_by_hand_makes_the_pr_due(cli: Cli) -> None:
    number = waiting_staging_pr(cli)
    commit_to(cli.repo, STAGING_BRANCH, {"environments/staging/notes.txt": "hi\n"}, name="erin")
    assert evaluated(schedule(cli)) == {f"#{number}": "the head changed since the last evaluation"}
    assert evaluated(schedule(cli)) == {}  # that evaluation wrote a fresh marker
    forge(cli).add_labels(number, [LABEL_HOLD])
    assert evaluated(schedule(cli)) == {f"#{number}": "the draft state or the hold label changed"}


def test_a_due_marker_edited_away_means_evaluate_now(cli: Cli) -> None:
    number = waiting_staging_pr(cli)
    body = forge(cli).get_pr(number).body
    stripped = re.sub(r"<!-- promobot:due [^>]*-->", "", body)
    assert stripped != body
    forge(cli).update_pr(number, body=stripped)
    assert evaluated(schedule(cli)) == {f"#{number}": "no current due marker"}
    assert "promobot:due" in forge(cli).get_pr(number).body  # written back


def test_closed_promobot_prs_and_other_prs_leave_nothing_to_schedule(cli: Cli) -> None:
    forge(cli).close(waiting_staging_pr(cli))
    commit_to(cli.repo, "feature", {"docs/notes.md": "a person's branch\n"})
    forge(cli).open_pr(head="feature", base="main", title="Notes", body="not promobot's", author="erin")
    assert schedule(cli).to_json() == {
        "event": "schedule",
        "handled": True,
        "summary": "schedule: no open promobot pull requests",
        "items": [],
    }
