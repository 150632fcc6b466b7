"""The GitHub forge against the GitHub emulator, over real HTTP with PyGithub.

Each test drives ``GitHubForge`` the way the use cases do and checks the emulator's
state (which is GitHub's semantics over a real bare repository). The injected ``sleep``
records waits instead of sleeping.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from github import GithubException

from bot.adapters.github import (
    ACTIONS_IDENTITY,
    ACTIONS_LOGIN,
    _transient,
    credentials_from_env,
    git_auth_header,
    is_loopback,
)
from bot.core.model import CheckRun, Permission
from bot.errors import ConflictError, ForgeError, OutageError, RateLimited, UsageError
from tests.emulator import Emulator
from tests.helpers.rig import Hub, seed_files

TOKEN = "ghs_actionsTOKENsecret0123456789"
OTHER_APP_TOKEN = "ghs_otherAPPtoken"
ALICE_TOKEN = "alice-token"
BRANCH = "promobot/prod/fraud"
BOT_EMAIL = "41898282+github-actions[bot]@users.noreply.github.com"
REVIEWS = "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"


def push(world: Hub, branch: str, text: str, *, email: str = BOT_EMAIL) -> str:
    """``bot <email>`` (by default: the Actions bot) writes the manifest on ``branch`` and pushes."""
    return world.push_file(branch, "environments/prod/fraud.yaml", text, name="bot", email=email)


def open_pr(world: Hub, branch: str = BRANCH, labels: tuple[str, ...] = ("promobot:promotion",)) -> int:
    push(world, branch, "version: '1.1'\n")
    return world.forge.open_pr(
        head=branch, base="main", title="Promote fraud", body="body", labels=labels
    ).number


@pytest.fixture
def world(github_emulator: Emulator, tmp_path: Path) -> Iterator[Hub]:
    emu = github_emulator
    emu.add_user(ACTIONS_LOGIN, "write", type="Bot", token=TOKEN)
    emu.add_user("alice", "write", token=ALICE_TOKEN)
    emu.add_user("bob", "maintain")
    emu.add_user("eve", "read")
    seed_files(
        emu, tmp_path, {"environments/prod/fraud.yaml": "version: '1.0'\n"}, name="bot", email=BOT_EMAIL
    )
    world = Hub(emu, tmp_path, token=TOKEN)
    yield world
    world.close()


# --------------------------------------------------------------------------- pull requests


def test_update_pr_edits_title_and_body_and_sends_nothing_when_there_is_nothing_to_change(
    world: Hub,
) -> None:
    number = open_pr(world)
    world.emu.reset_counts()

    world.forge.update_pr(number, body="new body")
    world.forge.update_pr(number)

    pr = world.forge.get_pr(number)
    assert (pr.title, pr.body) == ("Promote fraud", "new body")
    assert world.count("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}") == 1


def test_github_actions_not_allowed_to_open_prs_gets_the_settings_hint(world: Hub) -> None:
    world.emu.state.actions_may_open_prs = False
    push(world, BRANCH, "version: '1.1'\n")

    with pytest.raises(ForgeError) as caught:
        world.forge.open_pr(head=BRANCH, base="main", title="t", body="b", labels=[])

    assert "Allow GitHub Actions to create and approve pull requests" in caught.value.message
    assert "GitHub App" in caught.value.message


# --------------------------------------------------------------------------- comments, reviews


def test_more_than_a_hundred_reviews_are_read_to_the_end_in_two_pages(world: Hub) -> None:
    number = open_pr(world)
    first = world.emu.head_sha(number)
    world.emu.submit_review(number, "bob", "APPROVE")
    for i in range(149):
        world.emu.submit_review(number, "eve", "COMMENT", body=f"review {i}")
    world.emu.reset_counts()

    reviews = world.forge.list_reviews(number)

    assert len(reviews) == 150
    assert (reviews[0].login, reviews[0].state, reviews[0].commit_id, reviews[0].is_bot) == (
        "bob",
        "APPROVED",
        first,
        False,
    )
    assert reviews[-1].state == "COMMENTED"
    assert world.count("GET", REVIEWS) == 2


# --------------------------------------------------------------------------- people


def test_permissions_come_from_the_collaborator_api_and_are_read_once_per_login(world: Hub) -> None:
    world.emu.reset_counts()

    got = {login: world.forge.permission(login) for login in ("alice", "Bob", "eve", "stranger", "alice")}

    assert got == {
        "alice": Permission.WRITE,
        "Bob": Permission.MAINTAIN,
        "eve": Permission.READ,
        "stranger": Permission.NONE,
    }
    assert world.count("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission") == 4


def test_a_team_that_cannot_be_resolved_fails_closed_with_a_hint(world: Hub) -> None:
    with pytest.raises(ForgeError) as caught:
        world.forge.team_members("@acme/sre")

    assert "cannot resolve team @acme/sre with this token" in caught.value.message
    assert "use a GitHub App with members:read, or list users in approvers" in caught.value.message


def test_pushers_are_the_logins_of_commit_authors_and_committers(world: Hub) -> None:
    number = open_pr(world)
    world.emu.map_email("carol@example.com", "Carol")
    push(world, BRANCH, "version: '1.2'\n", email="carol@example.com")

    assert world.forge.pushers(number) == frozenset({ACTIONS_LOGIN, "carol"})


# --------------------------------------------------------------------------- checks


def _runs(world: Hub) -> list[tuple[str, str, str | None, str]]:
    return sorted((r.name, r.status, r.conclusion, r.app.slug) for r in world.emu.state.check_runs.values())


def test_checks_are_check_runs_updated_in_place_by_name_and_sha(world: Hub) -> None:
    number = open_pr(world)
    sha = world.emu.head_sha(number)

    world.forge.set_check(head_sha=sha, name="promobot/gates", result="pending", title="soak", summary="wait")
    world.forge.set_check(
        head_sha=sha, name="promobot/ready", result="failure", title="1 blocker", summary="x"
    )
    fresh = world.make_forge()  # a later workflow run: nothing cached
    fresh.set_check(
        head_sha=sha, name="promobot/gates", result="success", title="3 gates passed", summary="ok"
    )

    assert _runs(world) == [
        ("promobot/gates", "completed", "success", "github-actions"),
        ("promobot/ready", "completed", "failure", "github-actions"),
    ]
    assert sorted(fresh.list_checks(sha), key=lambda c: c.name) == [
        CheckRun("promobot/gates", sha, "success", "3 gates passed", "ok", True),
        CheckRun("promobot/ready", sha, "failure", "1 blocker", "x", True),
    ]
    fresh.close_connection()


def test_a_pending_check_is_an_in_progress_run(world: Hub) -> None:
    number = open_pr(world)
    sha = world.emu.head_sha(number)

    world.forge.set_check(head_sha=sha, name="promobot/gates", result="pending", title="soak", summary="wait")

    assert _runs(world) == [("promobot/gates", "in_progress", None, "github-actions")]
    assert [c.result for c in world.forge.list_checks(sha)] == ["pending"]


def test_an_unchanged_check_is_not_written_again(world: Hub) -> None:
    number = open_pr(world)
    sha = world.emu.head_sha(number)
    world.forge.list_checks(sha)
    world.forge.set_check(head_sha=sha, name="promobot/ready", result="success", title="ready", summary="s")
    world.emu.reset_counts()

    world.forge.set_check(head_sha=sha, name="promobot/ready", result="success", title="ready", summary="s")
    world.make_forge().set_check(
        head_sha=sha, name="promobot/ready", result="success", title="ready", summary="s"
    )

    assert [(r.method, r.template) for r in world.emu.requests] == [
        ("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs"),
    ]


def test_checks_of_the_same_name_by_another_app_or_user_are_not_promobots(world: Hub) -> None:
    number = open_pr(world)
    sha = world.emu.head_sha(number)
    world.emu.add_app("other-ci", token=OTHER_APP_TOKEN)
    other = world.emu.github(OTHER_APP_TOKEN).get_repo("acme/models")
    fake = {"title": "fake", "summary": "fake"}
    other.create_check_run(name="promobot/ready", head_sha=sha, conclusion="success", output=fake)
    world.emu.github(ALICE_TOKEN).get_repo("acme/models").get_commit(sha).create_status(
        state="success", context="promobot/approvals", description="fake"
    )

    before = {(c.name, c.by_promobot, c.result) for c in world.forge.list_checks(sha)}
    world.forge.set_check(head_sha=sha, name="promobot/ready", result="failure", title="no", summary="s")
    after = {(c.name, c.by_promobot, c.result) for c in world.make_forge(sleeps=[]).list_checks(sha)}

    assert before == {("promobot/ready", False, "success"), ("promobot/approvals", False, "success")}
    # once promobot's own check runs are there, statuses are not read (one request less per event)
    assert after == {("promobot/ready", False, "success"), ("promobot/ready", True, "failure")}


def test_a_token_that_cannot_create_check_runs_posts_statuses_with_the_same_names(world: Hub) -> None:
    number = open_pr(world)
    sha = world.emu.head_sha(number)
    world.emu.pat_mode = True
    long_title = "x" * 300

    world.forge.set_check(
        head_sha=sha, name="promobot/gates", result="success", title=long_title, summary="s"
    )
    world.forge.set_check(head_sha=sha, name="promobot/ready", result="pending", title="soak", summary="s")
    world.forge.set_check(head_sha=sha, name="promobot/ready", result="failure", title="blocked", summary="s")
    world.forge.set_check(head_sha=sha, name="promobot/ready", result="failure", title="blocked", summary="s")

    assert world.forge.statuses_mode is True
    assert world.emu.state.check_runs == {}
    statuses = [(s.context, s.state, s.creator) for s in world.emu.state.statuses]
    assert statuses == [
        ("promobot/gates", "success", ACTIONS_LOGIN),
        ("promobot/ready", "pending", ACTIONS_LOGIN),
        ("promobot/ready", "failure", ACTIONS_LOGIN),
    ]
    assert len(world.emu.state.statuses[0].description or "") == 140
    listed = {(c.name, c.result, c.by_promobot) for c in world.make_forge(sleeps=[]).list_checks(sha)}
    assert listed == {("promobot/gates", "success", True), ("promobot/ready", "failure", True)}
    assert world.count("POST", "/repos/{owner}/{repo}/check-runs") == 1


# --------------------------------------------------------------------------- merge


def test_merging_a_closed_pr_is_a_conflict_with_githubs_message(world: Hub) -> None:
    number = open_pr(world)
    world.forge.close(number)

    with pytest.raises(ConflictError, match="Pull Request is not mergeable"):
        world.forge.merge(number, sha=world.emu.head_sha(number), title="t", message="m")


def test_transaction_is_a_no_op_context(world: Hub) -> None:
    with world.forge.transaction() as held:
        assert held is world.forge
    assert world.forge.bot_login == ACTIONS_LOGIN


# --------------------------------------------------------------------------- retries and outages


@pytest.mark.parametrize(
    ("kind", "wait"),
    [("5xx", 1.0), ("secondary-rate-limit", 1.0), ("drop", 1.0)],
    ids=["5xx", "secondary-rate-limit-retry-after", "dropped-connection"],
)
def test_a_transient_failure_is_retried_after_waiting(world: Hub, kind: str, wait: float) -> None:
    number = open_pr(world)
    world.emu.fail(1, kind)  # type: ignore[arg-type]

    assert world.forge.get_pr(number).number == number
    assert world.sleeps == [wait]
    assert [r.fault for r in world.emu.requests[-2:]] == [kind, None]


def test_three_failures_are_an_outage_naming_the_operation(world: Hub) -> None:
    number = open_pr(world)
    for n in (1, 2, 3):
        world.emu.fail(n, "5xx")

    with pytest.raises(OutageError) as caught:
        world.forge.get_pr(number)

    assert caught.value.message.startswith(f"GitHub answered 502 three times for read pull request #{number}")
    assert "re-run the workflow" in caught.value.message
    assert caught.value.exit_code == 3
    assert world.sleeps == [1.0, 2.0]


def test_a_create_that_failed_is_looked_up_before_it_is_sent_again(world: Hub) -> None:
    push(world, BRANCH, "version: '1.1'\n")
    world.emu.reset_counts()
    world.emu.fail(1, "drop")

    pr = world.forge.open_pr(head=BRANCH, base="main", title="t", body="b", labels=[])
    world.emu.fail(1, "5xx")
    world.forge.comment(pr.number, "hello")

    assert [p.number for p in world.forge.list_prs()] == [pr.number]
    assert [c.body for c in world.forge.list_comments(pr.number)] == ["hello"]
    assert world.count("POST", "/repos/{owner}/{repo}/pulls") == 2
    assert world.count("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments") == 2


@pytest.mark.parametrize(
    ("headers", "message", "wait"),
    [
        ({"Retry-After": "7"}, "You have exceeded a secondary rate limit.", 7.0),
        ({"Retry-After": "3600"}, "You have exceeded a secondary rate limit.", 60.0),
        ({}, "You have exceeded a secondary rate limit.", 60.0),
        ({"retry-after": "2"}, "Too many requests", 2.0),
    ],
    ids=["retry-after", "capped-at-60s", "no-header-waits-a-minute", "429-lower-case-header"],
)
def test_secondary_rate_limits_wait_as_github_asks(
    headers: dict[str, str], message: str, wait: float
) -> None:
    status = 429 if message == "Too many requests" else 403
    found = _transient(GithubException(status, {"message": message}, headers), 1)

    assert found is not None and found.wait == wait and found.maybe_applied is False


def test_the_primary_rate_limit_is_not_waited_for_but_says_when_it_resets(world: Hub) -> None:
    number = open_pr(world)
    world.emu.limit_rate(1000, remaining=1, reset=1_795_000_000)
    world.forge.get_pr(number)  # the last request of the hour
    assert world.forge.rate_budget() == (0, datetime.fromtimestamp(1_795_000_000, tz=UTC))

    with pytest.raises(RateLimited) as caught:
        world.forge.get_pr(number)

    assert world.sleeps == []  # an hour is not waited for inside a run
    assert caught.value.exit_code == 3 and caught.value.reset == datetime.fromtimestamp(1_795_000_000, tz=UTC)
    assert caught.value.message.startswith("GitHub's rate limit for this token is used up until 2026-11-18 ")
    assert "the next run picks up" in caught.value.message and "GitHub App" in caught.value.message
    assert [r.status for r in world.emu.requests[-2:]] == [200, 403]


def test_the_budget_is_unknown_until_github_sends_rate_limit_headers(world: Hub) -> None:
    number = open_pr(world)
    world.forge.get_pr(number)
    assert world.forge.rate_budget() is None
    world.emu.limit_rate(5000, remaining=4321)
    world.forge.get_pr(number)
    remaining, _ = world.forge.rate_budget() or (None, None)
    assert remaining == 4320


def test_a_plain_403_is_not_retried() -> None:
    assert (
        _transient(GithubException(403, {"message": "Resource not accessible by integration"}, {}), 1) is None
    )


def test_the_token_never_appears_in_logs_errors_or_reprs(
    world: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    number = open_pr(world)
    for n in (1, 2, 3):
        world.emu.fail(n, "secondary-rate-limit")
    with pytest.raises(OutageError) as outage:
        world.forge.get_pr(number)
    with pytest.raises(ForgeError) as refused:
        world.forge.team_members("@acme/nobody")
    creds = credentials_from_env({"GITHUB_TOKEN": TOKEN}, repo="acme/models", base_url=world.emu.url)

    texts = [caplog.text, str(outage.value), str(refused.value), repr(world.forge), repr(creds)]
    assert all(TOKEN not in text for text in texts)
    assert "secondary rate limit" in caplog.text


# --------------------------------------------------------------------------- configuration


def test_credentials_default_to_the_github_actions_bot() -> None:
    creds = credentials_from_env({"GITHUB_TOKEN": "t"}, repo="acme/models", base_url="https://api.github.com")
    override = credentials_from_env(
        {"GITHUB_TOKEN": "t", "PROMOBOT_BOT_LOGIN": "promobot-bot"},
        repo="acme/models",
        base_url="https://api.github.com",
    )

    assert (creds.bot_login, creds.app_slug, creds.bot_identity) == (
        ACTIONS_LOGIN,
        "github-actions",
        ACTIONS_IDENTITY,
    )
    assert override.bot_login == "promobot-bot"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "GITHUB_TOKEN is not set"),
        ({"PROMOBOT_APP_ID": "12"}, "needs both PROMOBOT_APP_ID and PROMOBOT_APP_PRIVATE_KEY"),
    ],
    ids=["nothing", "app-id-without-key"],
)
def test_missing_credentials_say_which_variables_to_set(env: dict[str, str], expected: str) -> None:
    with pytest.raises(UsageError, match=expected):
        credentials_from_env(env, repo="acme/models", base_url="https://api.github.com")


def test_git_authenticates_with_a_basic_header_like_actions_checkout() -> None:
    assert git_auth_header("abc") == "AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46YWJj"


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8080/api/v3", True),
        ("http://localhost:1", True),
        ("http://[::1]:2/api", True),
        ("https://api.github.com", False),
        ("https://ghe.example.com/api/v3", False),
    ],
    ids=["ipv4", "localhost", "ipv6", "github.com", "enterprise"],
)
def test_pacing_is_off_only_against_loopback(url: str, local: bool) -> None:
    assert is_loopback(url) is local
