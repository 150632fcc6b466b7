"""The GitHub forge against the GitHub emulator, over real HTTP with PyGithub.

Each test drives ``GitHubForge`` the way the use cases do and checks the emulator's
state (which is GitHub's semantics over a real bare repository). The injected ``sleep``
records waits instead of sleeping.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from github import Auth, GithubException

from bot.adapters.github import (
    ACTIONS_IDENTITY,
    ACTIONS_LOGIN,
    GitHubForge,
    _transient,
    credentials_from_env,
    git_auth_header,
    is_loopback,
)
from bot.core.model import CheckRun, Permission
from bot.errors import ConflictError, ForgeError, OutageError, RateLimited, UsageError
from tests.emulator import Emulator
from tests.helpers.git import git, has_ref

TOKEN = "ghs_actionsTOKENsecret0123456789"
OTHER_APP_TOKEN = "ghs_otherAPPtoken"
ALICE_TOKEN = "alice-token"
BRANCH = "promobot/prod/fraud"
BOT_EMAIL = "41898282+github-actions[bot]@users.noreply.github.com"
REVIEWS = "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"


@dataclass
class World:
    emu: Emulator
    work: Path
    forge: GitHubForge
    sleeps: list[float] = field(default_factory=list)

    def push(
        self, branch: str, text: str, *, email: str | None = None, path: str = "environments/prod/fraud.yaml"
    ) -> str:
        git(
            self.work,
            "checkout",
            "-q",
            "-B",
            branch,
            f"origin/{branch}" if has_ref(self.work, f"origin/{branch}") else "main",
        )
        target = self.work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        git(self.work, "add", path)
        git(self.work, "commit", "-q", "-m", f"edit {path}", name="bot", email=email or BOT_EMAIL)
        git(self.work, "push", "-q", "origin", f"{branch}:{branch}")
        git(self.work, "fetch", "-q", "origin")
        git(self.work, "checkout", "-q", "main")
        return git(self.work, "rev-parse", branch)

    def open(self, branch: str = BRANCH, labels: tuple[str, ...] = ("promobot:promotion",)) -> int:
        self.push(branch, "version: '1.1'\n")
        return self.forge.open_pr(
            head=branch, base="main", title="Promote fraud", body="body", labels=labels
        ).number

    def main_sha(self) -> str:
        return git(self.work, "--git-dir", str(self.emu.git_dir), "rev-parse", "main")

    def count(self, method: str, template: str) -> int:
        return self.emu.counts[(method, template)]


def make_forge(emu: Emulator, sleeps: list[float], token: str = TOKEN, **kwargs: object) -> GitHubForge:
    return GitHubForge(
        repo="acme/models",
        auth=Auth.Token(token),
        base_url=emu.url,
        sleep=sleeps.append,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def world(github_emulator: Emulator, tmp_path: Path) -> Iterator[World]:
    emu = github_emulator
    emu.add_user(ACTIONS_LOGIN, "write", type="Bot", token=TOKEN)
    emu.add_user("alice", "write", token=ALICE_TOKEN)
    emu.add_user("bob", "maintain")
    emu.add_user("eve", "read")
    seed = tmp_path / "seed"
    seed.mkdir()
    git(seed, "init", "-q", "-b", "main")
    (seed / "environments" / "prod").mkdir(parents=True)
    (seed / "environments" / "prod" / "fraud.yaml").write_text("version: '1.0'\n")
    git(seed, "add", ".")
    git(seed, "commit", "-q", "-m", "initial", name="bot", email=BOT_EMAIL)
    git(seed, "push", "-q", str(emu.git_dir), "main")
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(emu.git_dir), str(work))
    sleeps: list[float] = []
    forge = make_forge(emu, sleeps)
    yield World(emu, work, forge, sleeps)
    forge.close_connection()


# --------------------------------------------------------------------------- pull requests


def test_an_opened_pull_request_is_found_by_branch_and_number_with_its_labels(world: World) -> None:
    number = world.open(labels=("promobot:promotion", "promobot:env:prod"))

    found = world.forge.find_pr(BRANCH)
    got = world.forge.get_pr(number)

    assert found == got
    assert (got.state, got.head_branch, got.base_branch, got.author) == (
        "open",
        BRANCH,
        "main",
        ACTIONS_LOGIN,
    )
    assert got.labels == ("promobot:promotion", "promobot:env:prod")
    assert got.head_sha == world.emu.head_sha(number) and got.base_sha == world.main_sha()
    assert got.from_fork is False and got.merge_sha is None
    assert world.forge.find_pr("promobot/prod/other") is None
    assert [p.number for p in world.forge.list_prs()] == [number]


def test_a_missing_pull_request_is_a_usage_error(world: World) -> None:
    with pytest.raises(UsageError, match="no pull request #42 in acme/models"):
        world.forge.get_pr(42)


def test_closed_and_merged_pull_requests_are_told_apart(world: World) -> None:
    first = world.open()
    world.forge.close(first)
    second = world.open("promobot/prod/other")
    world.forge.merge(second, sha=world.emu.head_sha(second), title="t", message="m")

    assert world.forge.find_pr(BRANCH) is None
    assert world.forge.find_pr(BRANCH, state=None) is not None
    assert [(p.number, p.state) for p in world.forge.list_prs(state=None)] == [(1, "closed"), (2, "merged")]
    assert [p.number for p in world.forge.list_prs(state="merged")] == [2]
    assert world.forge.get_pr(second).merge_sha == world.main_sha()


def test_update_pr_edits_title_and_body_and_sends_nothing_when_there_is_nothing_to_change(
    world: World,
) -> None:
    number = world.open()
    world.emu.reset_counts()

    world.forge.update_pr(number, body="new body")
    world.forge.update_pr(number)

    pr = world.forge.get_pr(number)
    assert (pr.title, pr.body) == ("Promote fraud", "new body")
    assert world.count("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}") == 1


def test_labels_are_added_and_removed_and_removing_an_absent_one_is_fine(world: World) -> None:
    number = world.open()

    world.forge.add_labels(number, ["promobot:hold"])
    world.forge.remove_label(number, "promobot:promotion")
    world.forge.remove_label(number, "promobot:not-there")

    assert world.forge.get_pr(number).labels == ("promobot:hold",)


def test_deleting_the_head_branch_closes_the_pr(world: World) -> None:
    number = world.open()

    world.forge.delete_branch(BRANCH)

    assert world.forge.get_pr(number).state == "closed"


def test_github_actions_not_allowed_to_open_prs_gets_the_settings_hint(world: World) -> None:
    world.emu.state.actions_may_open_prs = False
    world.push(BRANCH, "version: '1.1'\n")

    with pytest.raises(ForgeError) as caught:
        world.forge.open_pr(head=BRANCH, base="main", title="t", body="b", labels=[])

    assert "Allow GitHub Actions to create and approve pull requests" in caught.value.message
    assert "GitHub App" in caught.value.message


# --------------------------------------------------------------------------- comments, reviews


def test_comments_are_listed_with_their_authors_and_the_bot_reacts(world: World) -> None:
    number = world.open()
    by_alice = world.emu.comment(number, "alice", "/promote")

    mine = world.forge.comment(number, "On it.")
    world.forge.react(by_alice.id, "eyes")
    world.forge.react(by_alice.id, "eyes")

    listed = world.forge.list_comments(number)
    assert [(c.author, c.body, c.is_bot) for c in listed] == [
        ("alice", "/promote", False),
        (ACTIONS_LOGIN, "On it.", True),
    ]
    assert listed[1] == mine
    assert [(r.user, r.content) for r in world.emu.state.reactions] == [(ACTIONS_LOGIN, "eyes")]


def test_more_than_a_hundred_reviews_are_read_to_the_end_in_two_pages(world: World) -> None:
    number = world.open()
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


def test_permissions_come_from_the_collaborator_api_and_are_read_once_per_login(world: World) -> None:
    world.emu.reset_counts()

    got = {login: world.forge.permission(login) for login in ("alice", "Bob", "eve", "stranger", "alice")}

    assert got == {
        "alice": Permission.WRITE,
        "Bob": Permission.MAINTAIN,
        "eve": Permission.READ,
        "stranger": Permission.NONE,
    }
    assert world.count("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission") == 4


def test_team_members_are_lower_cased_logins(world: World) -> None:
    world.emu.add_team("@acme/ml-leads", ["Bob", "carol"])

    assert world.forge.team_members("@acme/ML-Leads") == frozenset({"bob", "carol"})


def test_a_team_that_cannot_be_resolved_fails_closed_with_a_hint(world: World) -> None:
    with pytest.raises(ForgeError) as caught:
        world.forge.team_members("@acme/sre")

    assert "cannot resolve team @acme/sre with this token" in caught.value.message
    assert "use a GitHub App with members:read, or list users in approvers" in caught.value.message


def test_pushers_are_the_logins_of_commit_authors_and_committers(world: World) -> None:
    number = world.open()
    world.emu.map_email("carol@example.com", "Carol")
    world.push(BRANCH, "version: '1.2'\n", email="carol@example.com")

    assert world.forge.pushers(number) == frozenset({ACTIONS_LOGIN, "carol"})


# --------------------------------------------------------------------------- checks


def _runs(world: World) -> list[tuple[str, str, str | None, str]]:
    return sorted((r.name, r.status, r.conclusion, r.app.slug) for r in world.emu.state.check_runs.values())


def test_checks_are_check_runs_updated_in_place_by_name_and_sha(world: World) -> None:
    number = world.open()
    sha = world.emu.head_sha(number)

    world.forge.set_check(head_sha=sha, name="promobot/gates", result="pending", title="soak", summary="wait")
    world.forge.set_check(
        head_sha=sha, name="promobot/ready", result="failure", title="1 blocker", summary="x"
    )
    fresh = make_forge(world.emu, world.sleeps)  # a later workflow run: nothing cached
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


def test_a_pending_check_is_an_in_progress_run(world: World) -> None:
    number = world.open()
    sha = world.emu.head_sha(number)

    world.forge.set_check(head_sha=sha, name="promobot/gates", result="pending", title="soak", summary="wait")

    assert _runs(world) == [("promobot/gates", "in_progress", None, "github-actions")]
    assert [c.result for c in world.forge.list_checks(sha)] == ["pending"]


def test_an_unchanged_check_is_not_written_again(world: World) -> None:
    number = world.open()
    sha = world.emu.head_sha(number)
    world.forge.list_checks(sha)
    world.forge.set_check(head_sha=sha, name="promobot/ready", result="success", title="ready", summary="s")
    world.emu.reset_counts()

    world.forge.set_check(head_sha=sha, name="promobot/ready", result="success", title="ready", summary="s")
    make_forge(world.emu, world.sleeps).set_check(
        head_sha=sha, name="promobot/ready", result="success", title="ready", summary="s"
    )

    assert [(r.method, r.template) for r in world.emu.requests] == [
        ("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs"),
    ]


def test_checks_of_the_same_name_by_another_app_or_user_are_not_promobots(world: World) -> None:
    number = world.open()
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
    after = {(c.name, c.by_promobot, c.result) for c in make_forge(world.emu, []).list_checks(sha)}

    assert before == {("promobot/ready", False, "success"), ("promobot/approvals", False, "success")}
    # once promobot's own check runs are there, statuses are not read (one request less per event)
    assert after == {("promobot/ready", False, "success"), ("promobot/ready", True, "failure")}


def test_a_token_that_cannot_create_check_runs_posts_statuses_with_the_same_names(world: World) -> None:
    number = world.open()
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
    listed = {(c.name, c.result, c.by_promobot) for c in make_forge(world.emu, []).list_checks(sha)}
    assert listed == {("promobot/gates", "success", True), ("promobot/ready", "failure", True)}
    assert world.count("POST", "/repos/{owner}/{repo}/check-runs") == 1


# --------------------------------------------------------------------------- merge


def test_merge_squashes_with_the_evaluated_head_and_returns_the_new_main(world: World) -> None:
    number = world.open()

    sha = world.forge.merge(
        number, sha=world.emu.head_sha(number), title="Promote (#1)", message="Approved-by: bob"
    )

    assert sha == world.main_sha()
    message = git(world.work, "--git-dir", str(world.emu.git_dir), "log", "-1", "--format=%B", "main")
    assert message.strip() == "Promote (#1)\n\nApproved-by: bob"


def test_merge_with_a_stale_head_is_a_conflict_and_main_does_not_move(world: World) -> None:
    number = world.open()
    evaluated = world.emu.head_sha(number)
    world.push(BRANCH, "version: '6.6.6'\n")
    before = world.main_sha()

    with pytest.raises(ConflictError, match="head moved"):
        world.forge.merge(number, sha=evaluated, title="t", message="m")

    assert world.main_sha() == before
    assert world.forge.get_pr(number).state == "open"


def test_merging_a_closed_pr_is_a_conflict_with_githubs_message(world: World) -> None:
    number = world.open()
    world.forge.close(number)

    with pytest.raises(ConflictError, match="Pull Request is not mergeable"):
        world.forge.merge(number, sha=world.emu.head_sha(number), title="t", message="m")


def test_transaction_is_a_no_op_context(world: World) -> None:
    with world.forge.transaction() as held:
        assert held is world.forge
    assert world.forge.bot_login == ACTIONS_LOGIN


# --------------------------------------------------------------------------- retries and outages


@pytest.mark.parametrize(
    ("kind", "wait"),
    [("5xx", 1.0), ("secondary-rate-limit", 1.0), ("drop", 1.0)],
    ids=["5xx", "secondary-rate-limit-retry-after", "dropped-connection"],
)
def test_a_transient_failure_is_retried_after_waiting(world: World, kind: str, wait: float) -> None:
    number = world.open()
    world.emu.fail(1, kind)  # type: ignore[arg-type]

    assert world.forge.get_pr(number).number == number
    assert world.sleeps == [wait]
    assert [r.fault for r in world.emu.requests[-2:]] == [kind, None]


def test_three_failures_are_an_outage_naming_the_operation(world: World) -> None:
    number = world.open()
    for n in (1, 2, 3):
        world.emu.fail(n, "5xx")

    with pytest.raises(OutageError) as caught:
        world.forge.get_pr(number)

    assert caught.value.message.startswith(f"GitHub answered 502 three times for read pull request #{number}")
    assert "re-run the workflow" in caught.value.message
    assert caught.value.exit_code == 3
    assert world.sleeps == [1.0, 2.0]


def test_a_create_that_failed_is_looked_up_before_it_is_sent_again(world: World) -> None:
    world.push(BRANCH, "version: '1.1'\n")
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


def test_the_primary_rate_limit_is_not_waited_for_but_says_when_it_resets(world: World) -> None:
    number = world.open()
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


def test_the_budget_is_unknown_until_github_sends_rate_limit_headers(world: World) -> None:
    number = world.open()
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
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    number = world.open()
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
