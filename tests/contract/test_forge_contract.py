"""The ``Forge`` port's contract, run on both forges: what makes the local forge a verified fake.

Every test runs twice: on the local forge (``bot/adapters/localforge.py`` over a real git
repository in ``tmp_path``) and on the GitHub forge (``bot/adapters/github.py`` against the
GitHub emulator through the rig). A test here states what the use cases may rely on whatever
the forge; what only one forge does (its state file and locks, GitHub's retries, pages,
request budgets and statuses) stays in ``tests/adapters/test_localforge.py`` and
``tests/adapters/test_github.py``.

A ``Side`` is the forge under test plus what people do around it, which is not part of the
port: push commits, review, comment, be given permissions and teams, run another app's check.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

from bot.adapters.git import GitWorkspace
from bot.adapters.github import ACTIONS_LOGIN, GitHubForge
from bot.adapters.localforge import LocalForge
from bot.core import deployments
from bot.core.model import Deployment, GateOutcome, Permission, ReviewState
from bot.errors import ConflictError, ForgeError, NotApplicable
from bot.ports import Forge
from tests.emulator import Emulator
from tests.helpers.git import commit_to, git
from tests.helpers.rig import BOT_EMAIL, TOKEN, Hub, seed_files

MANIFEST = "environments/prod/fraud.yaml"
BRANCH = "promobot/prod/fraud"
OTHER = "promobot/prod/other"
USERS = {
    "alice": Permission.WRITE,
    "bob": Permission.MAINTAIN,
    "carol": Permission.WRITE,
    "eve": Permission.READ,
}
TEAM = ("@acme/ml-leads", ("Bob", "carol"))
OTHER_APP_TOKEN = "ghs_otherAPPtoken"
REVIEW_STATES: dict[str, ReviewState] = {
    "APPROVE": "APPROVED",
    "REQUEST_CHANGES": "CHANGES_REQUESTED",
    "COMMENT": "COMMENTED",
}


class Side(Protocol):
    """One forge under test and the people around it."""

    @property
    def forge(self) -> Forge: ...

    bot: str
    missing_pr: str
    """What ``get_pr(42)`` says (each forge in its own words, as below)."""
    stale_head: str
    """What a merge of a head that moved since it was evaluated says."""
    not_open: str
    """What a merge of a closed or merged PR says."""

    def push(self, branch: str, files: Mapping[str, str], *, author: str = "alice") -> str:
        """``author`` pushes a commit of ``files`` on ``branch`` (made from main when new)."""
        ...

    def main(self) -> str: ...

    def show(self, ref: str, fmt: str) -> str:
        """``git log -1 --format=fmt ref`` in the repository the forge merges into."""
        ...

    def review(
        self, number: int, login: str, event: str, *, body: str = "", commit_id: str | None = None
    ) -> None:
        """``login`` reviews (APPROVE / REQUEST_CHANGES / COMMENT) the head, or ``commit_id``."""
        ...

    def comment_as(self, number: int, login: str, body: str) -> int: ...

    def reactions(self, comment_id: int) -> list[tuple[str, str]]: ...

    def foreign_check(self, sha: str, name: str, result: GateOutcome) -> None:
        """Another app posts a check named ``name`` on ``sha``."""
        ...


@dataclass
class LocalSide:
    forge: LocalForge
    repo: Path
    bot: str = "promobot"
    missing_pr: str = "no pull request #42 on the local forge — run `promobot pr list`"
    stale_head: str = "moved since it was evaluated"
    not_open: str = "not open"

    def push(self, branch: str, files: Mapping[str, str], *, author: str = "alice") -> str:
        return commit_to(self.repo, branch, files, name=author, email=f"{author}@example.com")

    def main(self) -> str:
        return git(self.repo, "rev-parse", "main")

    def show(self, ref: str, fmt: str) -> str:
        return git(self.repo, "log", "-1", f"--format={fmt}", ref)

    def review(
        self, number: int, login: str, event: str, *, body: str = "", commit_id: str | None = None
    ) -> None:
        self.forge.submit_review(
            number, login=login, state=REVIEW_STATES[event], body=body, commit_id=commit_id
        )

    def comment_as(self, number: int, login: str, body: str) -> int:
        return self.forge.add_comment(number, login=login, body=body).id

    def reactions(self, comment_id: int) -> list[tuple[str, str]]:
        return self.forge.reactions(comment_id)

    def foreign_check(self, sha: str, name: str, result: GateOutcome) -> None:
        self.forge.add_foreign_check(sha, name, result)


@dataclass
class GitHubSide:
    hub: Hub
    forge: GitHubForge
    bot: str = ACTIONS_LOGIN
    missing_pr: str = "no pull request #42 in acme/models"
    stale_head: str = "head moved"
    not_open: str = "Pull Request is not mergeable"

    def push(self, branch: str, files: Mapping[str, str], *, author: str = "alice") -> str:
        email = BOT_EMAIL if author == self.bot else f"{author.lower()}@users.noreply.github.com"

        def change(work: Path) -> None:
            for path, text in files.items():
                (work / path).parent.mkdir(parents=True, exist_ok=True)
                (work / path).write_text(text)

        return self.hub.push_change(change, f"change {branch}", branch=branch, name=author, email=email)[1]

    def main(self) -> str:
        return self.hub.main()

    def show(self, ref: str, fmt: str) -> str:
        return git(self.hub.work, "--git-dir", str(self.hub.emu.git_dir), "log", "-1", f"--format={fmt}", ref)

    def review(
        self, number: int, login: str, event: str, *, body: str = "", commit_id: str | None = None
    ) -> None:
        self.hub.emu.submit_review(number, login, event, body=body, commit_id=commit_id)

    def comment_as(self, number: int, login: str, body: str) -> int:
        return self.hub.emu.comment(number, login, body).id

    def reactions(self, comment_id: int) -> list[tuple[str, str]]:
        return [(r.user, r.content) for r in self.hub.emu.state.reactions if r.comment_id == comment_id]

    def foreign_check(self, sha: str, name: str, result: GateOutcome) -> None:
        other = self.hub.emu.github(OTHER_APP_TOKEN).get_repo("acme/models")
        output = {"title": "other", "summary": "other"}
        if result == "pending":
            other.create_check_run(name=name, head_sha=sha, status="in_progress", output=output)
        else:
            other.create_check_run(name=name, head_sha=sha, conclusion=result, output=output)


def _local(tmp_path: Path) -> Iterator[Side]:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / MANIFEST).parent.mkdir(parents=True)
    (repo / MANIFEST).write_text("version: '1.0'\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    forge = LocalForge(GitWorkspace(repo))
    for login, permission in USERS.items():
        teams = [TEAM[0]] if login in {m.lower() for m in TEAM[1]} else []
        forge.set_user(login, permission, teams=teams)
    yield LocalSide(forge, repo)


def _github(emu: Emulator, tmp_path: Path) -> Iterator[Side]:
    emu.add_user(ACTIONS_LOGIN, "write", type="Bot", token=TOKEN)
    for login, permission in USERS.items():
        emu.add_user(login, permission.name.lower())
    emu.add_team(TEAM[0], list(TEAM[1]))
    emu.add_app("other-ci", token=OTHER_APP_TOKEN)
    seed_files(emu, tmp_path, {MANIFEST: "version: '1.0'\n"}, name=ACTIONS_LOGIN, email=BOT_EMAIL)
    hub = Hub(emu, tmp_path)
    yield GitHubSide(hub, hub.forge)
    hub.close()


@pytest.fixture(params=["local", "github"])
def side(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Side]:
    if request.param == "local":
        yield from _local(tmp_path)
    else:
        yield from _github(request.getfixturevalue("github_emulator"), tmp_path)


def open_pr(side: Side, branch: str = BRANCH, labels: tuple[str, ...] = ("promobot:promotion",)) -> int:
    side.push(branch, {MANIFEST: f"version: '1.1'\n# {branch}\n"}, author=side.bot)
    return side.forge.open_pr(
        head=branch, base="main", title="Promote fraud", body="body", labels=labels
    ).number


# --------------------------------------------------------------------------- pull requests


def test_opening_a_pr_that_is_already_open_adopts_it(side: Side) -> None:
    """Two runs for one change: the second open_pr finds the first run's PR and takes it over."""
    first = open_pr(side, labels=("promobot:promotion",))

    again = side.forge.open_pr(head=BRANCH, base="main", title="Promote fraud 1.1", body="new", labels=("x",))

    assert again.number == first and [p.number for p in side.forge.list_prs(state=None)] == [first]
    got = side.forge.get_pr(first)
    assert (got.title, got.body, got.state) == ("Promote fraud 1.1", "new", "open")
    assert set(got.labels) == {"promobot:promotion", "x"}


def test_opened_prs_are_numbered_from_one_and_found_by_number_and_head_branch(side: Side) -> None:
    first = open_pr(side, labels=("promobot:promotion", "promobot:env:prod"))
    second = open_pr(side, OTHER)

    found = side.forge.find_pr(BRANCH)
    got = side.forge.get_pr(first)

    assert (first, second) == (1, 2)
    assert found == got
    assert (got.state, got.head_branch, got.base_branch, got.author) == ("open", BRANCH, "main", side.bot)
    assert (got.title, got.body) == ("Promote fraud", "body")
    assert got.labels == ("promobot:promotion", "promobot:env:prod")
    assert got.head_sha == side.show(BRANCH, "%H") and got.base_sha == side.main()
    assert got.from_fork is False and got.merge_sha is None
    assert side.forge.find_pr("promobot/prod/none") is None
    assert [p.number for p in side.forge.list_prs()] == [1, 2]


def test_a_missing_pr_does_not_apply_and_says_so_in_the_forges_words(side: Side) -> None:
    with pytest.raises(NotApplicable) as caught:
        side.forge.get_pr(42)

    assert side.missing_pr in str(caught.value)


def test_closed_and_merged_prs_are_told_apart_and_find_pr_takes_the_newest_in_the_state_asked_for(
    side: Side,
) -> None:
    old = open_pr(side)
    side.forge.close(old)
    new = side.forge.open_pr(head=BRANCH, base="main", title="again", body="", labels=()).number
    merged = open_pr(side, OTHER)
    side.forge.merge(merged, sha=side.forge.get_pr(merged).head_sha, title="t", message="m")

    assert side.forge.find_pr(BRANCH).number == new  # type: ignore[union-attr]
    assert side.forge.find_pr(BRANCH, state="closed").number == old  # type: ignore[union-attr]
    assert side.forge.find_pr(BRANCH, state=None).number == new  # type: ignore[union-attr]
    assert side.forge.find_pr(OTHER) is None
    assert [(p.number, p.state) for p in side.forge.list_prs(state=None)] == [
        (old, "closed"),
        (new, "open"),
        (merged, "merged"),
    ]
    assert [p.number for p in side.forge.list_prs(state="merged")] == [merged]
    assert side.forge.get_pr(merged).merge_sha == side.main()


def test_the_pr_head_follows_pushes_to_its_branch(side: Side) -> None:
    number = open_pr(side)

    pushed = side.push(BRANCH, {MANIFEST: "version: '1.2'\n"}, author="carol")

    assert side.forge.get_pr(number).head_sha == pushed


def test_update_pr_changes_title_and_body_only_where_given(side: Side) -> None:
    number = open_pr(side)

    side.forge.update_pr(number, body="new body")
    side.forge.update_pr(number, title="new title")
    side.forge.update_pr(number)

    pr = side.forge.get_pr(number)
    assert (pr.title, pr.body) == ("new title", "new body")


def test_labels_are_added_once_and_removing_an_absent_one_is_fine(side: Side) -> None:
    number = open_pr(side)

    side.forge.add_labels(number, ["promobot:env:prod", "promobot:hold"])
    side.forge.add_labels(number, ["PROMOBOT:hold"])
    side.forge.remove_label(number, "promobot:promotion")
    side.forge.remove_label(number, "promobot:not-there")

    assert side.forge.get_pr(number).labels == ("promobot:env:prod", "promobot:hold")


def test_deleting_the_head_branch_closes_the_pr_and_keeps_its_head(side: Side) -> None:
    number = open_pr(side)
    head = side.forge.get_pr(number).head_sha

    side.forge.delete_branch(BRANCH)

    pr = side.forge.get_pr(number)
    assert (pr.state, pr.head_sha) == ("closed", head)
    assert side.forge.find_pr(BRANCH) is None


def test_a_body_or_comment_longer_than_github_accepts_is_refused(side: Side) -> None:
    number = open_pr(side)

    with pytest.raises(ForgeError, match="65536"):
        side.forge.update_pr(number, body="x" * 65537)
    with pytest.raises(ForgeError, match="65536"):
        side.forge.comment(number, "x" * 65537)
    assert side.forge.get_pr(number).body == "body"
    assert side.forge.list_comments(number) == []


# --------------------------------------------------------------------------- comments, reactions, reviews


def test_comments_are_listed_in_order_with_authors_bots_flagged_and_ids_increasing(side: Side) -> None:
    one = open_pr(side)
    two = open_pr(side, OTHER)
    by_alice = side.comment_as(one, "alice", "/promote")

    mine = side.forge.comment(one, "On it.")
    elsewhere = side.comment_as(two, "bob", "/hold")
    side.comment_as(one, "dependabot[bot]", "bump")

    listed = side.forge.list_comments(one)
    assert [(c.author, c.body, c.is_bot) for c in listed] == [
        ("alice", "/promote", False),
        (side.bot, "On it.", True),
        ("dependabot[bot]", "bump", True),
    ]
    assert listed[1] == mine
    assert by_alice < mine.id < elsewhere
    assert [(c.author, c.body) for c in side.forge.list_comments(two)] == [("bob", "/hold")]


def test_the_same_reaction_twice_is_kept_once(side: Side) -> None:
    number = open_pr(side)
    cid = side.comment_as(number, "alice", "/promote")

    side.forge.react(cid, "eyes")
    side.forge.react(cid, "eyes")
    side.forge.react(cid, "rocket")

    assert side.reactions(cid) == [(side.bot, "eyes"), (side.bot, "rocket")]


def test_a_review_carries_the_head_it_was_given_on_in_submission_order(side: Side) -> None:
    number = open_pr(side)
    first = side.forge.get_pr(number).head_sha
    side.review(number, "carol", "APPROVE")
    new = side.push(BRANCH, {MANIFEST: "version: '1.3'\n"}, author=side.bot)
    side.review(number, "bob", "REQUEST_CHANGES", body="no")
    side.review(number, "eve", "COMMENT", body="looked at the first head", commit_id=first)

    reviews = side.forge.list_reviews(number)

    assert [(r.login, r.state, r.commit_id, r.is_bot) for r in reviews] == [
        ("carol", "APPROVED", first, False),
        ("bob", "CHANGES_REQUESTED", new, False),
        ("eve", "COMMENTED", first, False),
    ]
    assert len({r.id for r in reviews}) == 3


# --------------------------------------------------------------------------- checks


def test_checks_are_updated_in_place_by_name_and_sha_and_keep_their_record(side: Side) -> None:
    number = open_pr(side)
    head, main = side.forge.get_pr(number).head_sha, side.main()

    side.forge.set_check(head_sha=head, name="promobot/gates", result="pending", title="t1", summary="s1")
    side.forge.set_check(
        head_sha=head, name="promobot/gates", result="success", title="t2", summary="s2", record="r1"
    )
    side.forge.set_check(head_sha=head, name="promobot/gates", result="success", title="t3", summary="s3")
    side.forge.set_check(
        head_sha=head, name="promobot/ready", result="failure", title="1 blocker", summary="x"
    )
    side.forge.set_check(head_sha=main, name="promobot/gates", result="failure", title="no", summary="n")

    on_head = sorted(side.forge.list_checks(head), key=lambda c: c.name)
    assert [(c.name, c.head_sha, c.result, c.title, c.summary, c.by_promobot) for c in on_head] == [
        ("promobot/gates", head, "success", "t3", "s3", True),
        ("promobot/ready", head, "failure", "1 blocker", "x", True),
    ]
    assert on_head[0].record == "r1"
    assert [(c.name, c.result) for c in side.forge.list_checks(main)] == [("promobot/gates", "failure")]


def test_another_apps_check_of_the_same_name_is_kept_apart_and_not_promobots(side: Side) -> None:
    number = open_pr(side)
    sha = side.forge.get_pr(number).head_sha
    side.foreign_check(sha, "promobot/ready", "success")

    side.forge.set_check(head_sha=sha, name="promobot/ready", result="failure", title="no", summary="s")

    checks = {(c.name, c.result, c.by_promobot) for c in side.forge.list_checks(sha)}
    assert checks == {("promobot/ready", "failure", True), ("promobot/ready", "success", False)}


# --------------------------------------------------------------------------- people


def test_permissions_are_the_configured_ones_case_insensitively_and_strangers_have_none(side: Side) -> None:
    got = {login: side.forge.permission(login) for login in ("alice", "Bob", "eve", "stranger")}

    assert got == {
        "alice": Permission.WRITE,
        "Bob": Permission.MAINTAIN,
        "eve": Permission.READ,
        "stranger": Permission.NONE,
    }


def test_team_members_are_lower_cased_logins_and_an_unknown_team_fails_closed(side: Side) -> None:
    assert side.forge.team_members("@acme/ML-Leads") == frozenset({"bob", "carol"})
    with pytest.raises(ForgeError):
        side.forge.team_members("@acme/nobody")


def test_pushers_are_the_lower_cased_logins_of_the_pr_commits_the_bot_included(side: Side) -> None:
    side.push("feature", {MANIFEST: "version: '2'\n"}, author="Bob")
    side.push("feature", {"README.md": "hi\n"}, author=side.bot)
    number = side.forge.open_pr(head="feature", base="main", title="t", body="", labels=()).number

    assert side.forge.pushers(number) == frozenset({"bob", side.bot})


# --------------------------------------------------------------------------- merge


def test_merge_squashes_the_evaluated_head_onto_main_and_marks_the_pr_merged(side: Side) -> None:
    before = side.main()
    number = open_pr(side)
    head = side.push(BRANCH, {"environments/prod/new.yaml": "n\n"}, author=side.bot)

    merged = side.forge.merge(number, sha=head, title="Promote fraud (#1)", message="Approved-by: carol")

    assert side.main() == merged
    assert side.show(merged, "%P") == before
    assert side.show(merged, "%T") == side.show(head, "%T")
    assert side.show(merged, "%B") == "Promote fraud (#1)\n\nApproved-by: carol"
    pr = side.forge.get_pr(number)
    assert (pr.state, pr.merge_sha, pr.head_sha) == ("merged", merged, head)


def test_merge_with_a_stale_head_is_a_conflict_and_main_does_not_move(side: Side) -> None:
    number = open_pr(side)
    evaluated = side.forge.get_pr(number).head_sha
    side.push(BRANCH, {MANIFEST: "version: '6.6.6'\n"}, author="carol")
    before = side.main()

    with pytest.raises(ConflictError, match=side.stale_head):
        side.forge.merge(number, sha=evaluated, title="t", message="m")

    assert side.main() == before
    assert side.forge.get_pr(number).state == "open"


@pytest.mark.parametrize("how", ["closed", "merged"])
def test_a_pr_that_is_not_open_does_not_merge(side: Side, how: str) -> None:
    number = open_pr(side)
    head = side.forge.get_pr(number).head_sha
    if how == "closed":
        side.forge.close(number)
    else:
        side.forge.merge(number, sha=head, title="t", message="m")
    before = side.main()

    with pytest.raises(ConflictError, match=side.not_open):
        side.forge.merge(number, sha=head, title="again", message="m")

    assert side.main() == before


def test_a_transaction_holds_a_whole_find_or_open(side: Side) -> None:
    with side.forge.transaction():
        assert side.forge.find_pr(BRANCH) is None
        number = open_pr(side)

    assert side.forge.find_pr(BRANCH).number == number  # type: ignore[union-attr]


# --------------------------------------------------------------------------- deployments


def deploy(side: Side, sha: str, task: str, description: str, *, environment: str = "staging") -> Deployment:
    version = description.split()[-1]
    return side.forge.create_deployment(
        sha=sha, environment=environment, task=task, description=description, payload={"version": version}
    )


def test_a_deployment_is_listed_by_environment_and_task_newest_first_with_its_state(side: Side) -> None:
    one = side.main()
    two = side.push("main", {MANIFEST: "version: '2.0'\n"}, author=side.bot)
    first = deploy(side, one, "deploy:m", "m 1")
    assert (first.sha, first.environment, first.task, first.description) == (
        one,
        "staging",
        "deploy:m",
        "m 1",
    )
    assert side.forge.deployment_state(first.id) is None
    side.forge.set_deployment_state(first.id, "in_progress", "m 1: verifying")
    side.forge.set_deployment_state(first.id, "success", "m 1: verified")
    assert side.forge.deployment_state(first.id) == "success"

    second = deploy(side, two, "deploy:m", "m 2")
    deploy(side, two, "deploy:m", "m 2", environment="prod")
    deploy(side, two, "deploy:other", "o 1")
    listed = side.forge.list_deployments(environment="staging", task="deploy:m")
    assert [d.id for d in listed] == [second.id, first.id]


def test_a_success_never_inactivates_another_models_deployment(side: Side) -> None:
    """Models share an environment: GitHub's default auto_inactive would hide the others'."""
    a = deploy(side, side.main(), "deploy:a", "a 1")
    side.forge.set_deployment_state(a.id, "success", "a 1: verified")
    b = deploy(side, side.main(), "deploy:b", "b 1")
    side.forge.set_deployment_state(b.id, "success", "b 1: verified")

    assert side.forge.deployment_state(a.id) == "success"


def test_a_long_description_is_cut_to_githubs_limit(side: Side) -> None:
    text = deployments.description("m", "1", "failure", "x" * 500)
    assert len(text) == 140
    d = deploy(side, side.main(), "deploy:m", "m 1")

    side.forge.set_deployment_state(d.id, "failure", text)

    assert side.forge.deployment_state(d.id) == "failure"
