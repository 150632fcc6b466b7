"""bot/app/push.py: a push to the default branch promotes what changed downstream and
re-evaluates the pull requests whose inputs moved — called directly, on real git."""

from __future__ import annotations

from typing import Any

import pytest

from bot.adapters.git import GitWorkspace
from bot.adapters.localforge import LocalForge
from bot.app.batch import Outcome
from bot.app.push import on_push
from bot.core.events import PushEvent
from tests.conftest import Cli
from tests.helpers.git import commit_all, commit_to, edit, git
from tests.helpers.local import local_context

POLICY = "environments/promotion.yaml"
REJECTED = "environments/rejected.yaml"
DEV_SPAM = "environments/dev/spam-filter.yaml"
STAGING_FRAUD = "environments/staging/fraud-detector.yaml"


def push(
    cli: Cli,
    before: str,
    paths: tuple[str, ...],
    *,
    forced: bool = False,
    truncated: bool = False,
    after: str | None = None,
) -> Outcome:
    """``on_push`` for a push to main from ``before`` to main's tip whose payload lists ``paths``."""
    event = PushEvent(
        ref="refs/heads/main",
        before=before,
        after=after or git(cli.repo, "rev-parse", "main"),
        changed_paths=paths,
        deleted=False,
        forced=forced,
        truncated=truncated,
        default_branch="main",
    )
    return on_push(local_context(cli.repo), event)


def items(outcome: Outcome) -> list[str]:
    return [i["item"] for i in outcome.detail["items"]]


def open_prs(cli: Cli) -> dict[int, tuple[str, str]]:
    return {p["number"]: (p["model"], p["to"]) for p in cli.json("pr", "list")}


def checks(cli: Cli, number: int) -> dict[str, Any]:
    found: dict[str, Any] = cli.json("pr", "show", str(number))["checks"]
    return found


def retrain_spam_filter(cli: Cli) -> str:
    """dev's spam-filter retrained (a new run id): returns the tip before."""
    before = git(cli.repo, "rev-parse", "main")
    edit(cli.repo, DEV_SPAM, "run_id: 51aa02", "run_id: 51aa03")
    commit_all(cli.repo, "retrain spam-filter")
    return before


def test_a_changed_manifest_is_promoted_only_into_its_auto_promoting_downstream(cli: Cli) -> None:
    before = git(cli.repo, "rev-parse", "main")
    edit(cli.repo, STAGING_FRAUD, "replicas: 2", "replicas: 3")  # a hand edit in staging
    after = commit_all(cli.repo, "scale fraud-detector in staging")
    paths = (
        STAGING_FRAUD,
        "README.md",
        "environments/qa/fraud-detector.yaml",
        "environments/dev/Bad Name.yaml",
    )
    outcome = push(cli, before, paths)
    assert outcome.handled and outcome.detail["after"] == after and outcome.detail["failed"] == 0
    assert items(outcome) == ["promote fraud-detector to prod"]  # no qa, no odd name, not dev
    (promoted,) = outcome.detail["items"]
    assert (promoted["created"], promoted["version"], promoted["previous_version"]) == (
        True,
        "1.4.2",
        "1.4.1",
    )
    assert open_prs(cli) == {promoted["pr"]: ("fraud-detector", "prod")}


@pytest.mark.parametrize(
    ("path", "old", "new", "failing"),
    [
        (POLICY, "- metric: {name: auc, min: 0.85}", "- metric: {name: auc, min: 0.95}", "metric auc"),
        (
            REJECTED,
            "rejected: []",
            "rejected:\n  - {model: fraud-detector, version: 1.5.0, reason: leaks labels, by: sam,"
            ' at: "2026-11-20T09:00:00Z"}',
            "not-rejected",
        ),
    ],
    ids=["promotion.yaml", "rejected.yaml"],
)
def test_a_policy_or_rejected_yaml_change_re_evaluates_every_open_promobot_pr(
    cli: Cli, path: str, old: str, new: str, failing: str
) -> None:
    number = cli.json("promote", "fraud-detector", "--to", "staging")["pr"]
    assert checks(cli, number)["promobot/gates"] == "success"
    commit_to(cli.repo, "feature", {"docs/notes.md": "a person's branch\n"})
    LocalForge(GitWorkspace.discover(cli.repo)).open_pr(
        head="feature", base="main", title="Notes", body="not promobot's", author="erin"
    )
    before = git(cli.repo, "rev-parse", "main")
    edit(cli.repo, path, old, new)
    commit_all(cli.repo, f"tighten {path}")
    outcome = push(cli, before, (path,))
    assert items(outcome) == [f"#{number}"]  # re-evaluated, nothing promoted, the person's PR left alone
    (evaluated,) = outcome.detail["items"]
    assert evaluated["gates"] == "failure" and any(failing in b for b in evaluated["blockers"])
    assert checks(cli, number)["promobot/gates"] == "failure"


def test_a_manifest_change_re_evaluates_the_prs_into_that_environment_once(cli: Cli) -> None:
    staging = cli.json("promote", "fraud-detector", "--to", "staging")["pr"]
    prod = cli.json("promote", "fraud-detector", "--to", "prod")["pr"]
    spam = cli.json("promote", "spam-filter", "--to", "prod")["pr"]
    before = git(cli.repo, "rev-parse", "main")
    edit(cli.repo, STAGING_FRAUD, "replicas: 2", "replicas: 3")
    commit_all(cli.repo, "scale fraud-detector in staging")
    outcome = push(cli, before, (STAGING_FRAUD,))
    # prod's PR is refreshed by the promotion (not evaluated a second time), staging's PR (its
    # base manifest moved) is re-evaluated; spam-filter's PR has nothing to do with the push.
    assert items(outcome) == ["promote fraud-detector to prod", f"#{staging}"]
    assert outcome.detail["items"][0]["pr"] == prod
    assert f"#{spam}" not in outcome.summary


def test_a_forced_push_takes_its_changed_paths_from_git_not_the_payload(cli: Cli) -> None:
    before = retrain_spam_filter(cli)
    outcome = push(cli, before, ("environments/dev/fraud-detector.yaml",), forced=True)
    assert items(outcome) == ["promote spam-filter to staging"]  # what git says changed
    assert list(open_prs(cli).values()) == [("spam-filter", "staging")]


def test_a_truncated_push_git_cannot_diff_checks_every_auto_promoting_environment(cli: Cli) -> None:
    gone = "0123456789abcdef" * 2 + "01234567"  # the push's before is not in this clone
    retrain_spam_filter(cli)
    outcome = push(cli, gone, (), truncated=True)
    assert items(outcome) == [
        "the changed paths may be incomplete, so every auto-promoting environment is checked",
        "promote --all to staging",
        "promote --all to prod",
    ]
    assert sorted(open_prs(cli).values()) == [
        ("churn-predictor", "staging"),
        ("fraud-detector", "prod"),
        ("fraud-detector", "staging"),
        ("spam-filter", "prod"),
        ("spam-filter", "staging"),
    ]


def test_a_removed_manifest_is_a_note_and_promotes_nothing(cli: Cli) -> None:
    before = git(cli.repo, "rev-parse", "main")
    (cli.repo / DEV_SPAM).unlink()
    commit_all(cli.repo, "retire spam-filter from dev")
    outcome = push(cli, before, (DEV_SPAM,))
    assert outcome.handled and outcome.detail["failed"] == 0
    assert items(outcome) == ["`spam-filter` was removed from `dev`: nothing to promote"]
    assert open_prs(cli) == {}


def test_a_push_outside_environments_is_ignored_without_reading_the_repository(cli: Cli) -> None:
    before = git(cli.repo, "rev-parse", "main")
    (cli.repo / POLICY).write_text("not: [a policy")  # never read: the push is ignored first
    outcome = push(cli, before, ("README.md",), after=before)
    assert (outcome.handled, outcome.detail) == (False, {"ignored": True})
    assert outcome.summary == "push changed nothing under environments/: nothing to do"
