"""The GitHub emulator, driven by PyGithub the way the GitHub adapter drives GitHub.

Every test runs against a real bare repository (pushed to with plain git) and, where
``../shared/github`` is present, the ``github_emulator`` fixture fails the test if any
request or response strayed from GitHub's OpenAPI description.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from github import GithubException, RateLimitExceededException
from github.GithubException import BadCredentialsException, UnknownObjectException

from tests.emulator import Emulator, spec_available
from tests.emulator.openapi import shared_checker
from tests.helpers.git import git
from tests.helpers.rig import Hub, seed_files

BOT_TOKEN = "bot-token"
ALICE = "alice-token"
DEV, DEV_EMAIL = "Dev", "dev@users.noreply.github.com"


def commit_file(world: Hub, branch: str, path: str, text: str, *, email: str = DEV_EMAIL) -> str:
    """Dev (or whoever has ``email``) pushes ``path`` on ``branch`` to the emulator with plain git."""
    return world.push_file(branch, path, text, name=DEV, email=email)


def open_pr(world: Hub, branch: str = "promobot/prod/fraud") -> Any:
    commit_file(world, branch, "environments/prod/fraud.yaml", f"version: '1.1'\n# {branch}\n")
    return world.repo.create_pull(title="Promote fraud", body="body", base="main", head=branch)


@pytest.fixture
def world(github_emulator: Emulator, tmp_path: Path) -> Hub:
    """``acme/models`` with one manifest, the ``promobot`` App's token for the hub's PyGithub."""
    emu = github_emulator
    emu.add_app("promobot", token=BOT_TOKEN)
    emu.add_user("alice", "write", token=ALICE)
    emu.add_user("bob", "maintain")
    emu.add_user("eve", "read")
    seed_files(emu, tmp_path, {"environments/prod/fraud.yaml": "version: '1.0'\n"}, name=DEV, email=DEV_EMAIL)
    return Hub(emu, tmp_path, token=BOT_TOKEN)


def test_a_pull_request_opened_on_a_pushed_branch_reports_the_git_head(world: Hub) -> None:
    pr = open_pr(world)
    head = commit_file(world, "promobot/prod/fraud", "environments/prod/fraud.yaml", "version: '1.2'\n")

    again = world.repo.get_pull(pr.number)

    assert (again.number, again.state, again.head.ref) == (1, "open", "promobot/prod/fraud")
    assert again.base.ref == "main"
    assert again.head.sha == head
    assert again.user.login == "promobot[bot]"
    assert again.mergeable is True
    assert [p.number for p in world.repo.get_pulls(state="open", head="acme:promobot/prod/fraud")] == [1]


def test_reviews_keep_the_commit_they_were_given_on(world: Hub) -> None:
    pr = open_pr(world)
    first = pr.head.sha
    world.emu.submit_review(pr.number, "bob", "APPROVE")
    commit_file(world, "promobot/prod/fraud", "environments/prod/fraud.yaml", "version: '1.3'\n")
    alice = world.emu.github(ALICE).get_repo("acme/models").get_pull(pr.number)
    alice.create_review(commit=world.repo.get_commit(first), body="old one", event="REQUEST_CHANGES")
    alice.create_review(body="fine now", event="APPROVE")

    reviews = [(r.user.login, r.state, r.commit_id) for r in world.repo.get_pull(pr.number).get_reviews()]

    new = world.emu.head_sha(pr.number)
    assert reviews == [
        ("bob", "APPROVED", first),
        ("alice", "CHANGES_REQUESTED", first),
        ("alice", "APPROVED", new),
    ]


def test_the_author_cannot_approve_their_own_pull_request(world: Hub) -> None:
    pr = open_pr(world)

    with pytest.raises(GithubException) as caught:
        pr.create_review(body="", event="APPROVE")

    assert caught.value.status == 422


def test_comments_reactions_and_labels_round_trip(world: Hub) -> None:
    pr = open_pr(world)
    by_alice = world.emu.comment(pr.number, "alice", "/promote")
    comment = pr.get_issue_comment(by_alice.id)
    comment.create_reaction("eyes")
    comment.create_reaction("eyes")
    pr.create_issue_comment("On it.")
    pr.add_to_labels("promobot:promotion", "promobot:env:prod")
    pr.remove_from_labels("promobot:promotion")

    comments = [(c.user.login, c.body) for c in pr.get_issue_comments()]
    reactions = [(r.user.login, r.content) for r in comment.get_reactions()]
    labels = [label.name for label in world.repo.get_issue(pr.number).labels]

    assert comments == [("alice", "/promote"), ("promobot[bot]", "On it.")]
    assert reactions == [("promobot[bot]", "eyes")]
    assert labels == ["promobot:env:prod"]
    with pytest.raises(GithubException) as caught:
        pr.remove_from_labels("promobot:hold")
    assert caught.value.status == 404


def test_a_check_run_is_updated_in_place_and_listed_for_its_commit(world: Hub) -> None:
    pr = open_pr(world)
    run = world.repo.create_check_run(name="promobot/gates", head_sha=pr.head.sha, status="in_progress")
    run.edit(status="completed", conclusion="failure", output={"title": "1 gate failed", "summary": "auc"})
    ready = {"title": "ok", "summary": "s"}
    world.repo.create_check_run(
        name="promobot/ready", head_sha=pr.head.sha, conclusion="success", output=ready
    )

    listed = world.repo.get_commit(pr.head.sha).get_check_runs(check_name="promobot/gates")
    runs = [(r.id, r.name, r.status, r.conclusion, r.output.title, r.app.slug) for r in listed]

    assert runs == [(run.id, "promobot/gates", "completed", "failure", "1 gate failed", "promobot")]
    assert listed.totalCount == 1
    assert len(list(world.repo.get_commit(pr.head.sha).get_check_runs())) == 2


def test_pat_mode_refuses_check_runs_like_a_personal_access_token(world: Hub) -> None:
    pr = open_pr(world)
    world.emu.pat_mode = True

    with pytest.raises(GithubException) as caught:
        world.repo.create_check_run(name="promobot/gates", head_sha=pr.head.sha, status="queued")

    assert caught.value.status == 403
    assert caught.value.data["message"] == "Resource not accessible by personal access token"


def test_commit_statuses_are_listed_newest_first_and_combined(world: Hub) -> None:
    pr = open_pr(world)
    commit = world.repo.get_commit(pr.head.sha)
    commit.create_status(state="pending", description="evaluating", context="promobot/gates")
    commit.create_status(state="success", description="all green", context="promobot/gates")
    commit.create_status(state="failure", description="missing", context="promobot/approvals")

    statuses = [(s.context, s.state, s.creator.login) for s in commit.get_statuses()]
    combined = commit.get_combined_status()

    assert statuses[0] == ("promobot/approvals", "failure", "promobot[bot]")
    assert len(statuses) == 3
    assert combined.state == "failure"
    assert sorted((s.context, s.state) for s in combined.statuses) == [
        ("promobot/approvals", "failure"),
        ("promobot/gates", "success"),
    ]


@pytest.mark.parametrize(
    ("login", "permission", "role"),
    [("alice", "write", "write"), ("bob", "write", "maintain"), ("eve", "read", "read")],
    ids=["write", "maintain-reports-legacy-write", "read"],
)
def test_collaborator_permission_reports_legacy_permission_and_role(
    world: Hub, login: str, permission: str, role: str
) -> None:
    assert world.repo.get_collaborator_permission(login) == permission
    assert world.repo.get_collaborator_role_name(login) == role


def test_team_membership_is_answered_by_slug_and_by_team_url(world: Hub) -> None:
    world.emu.add_team("@acme/ml-leads", ["bob", "carol"])
    org = world.emu.github(BOT_TOKEN).get_organization("acme")
    lazy = org.get_team_by_slug("ml-leads")

    members = [u.login for u in lazy.get_members()]
    team = org.get_team_by_slug("ml-leads")
    _ = team.id  # completes the object: its url becomes /organizations/{org_id}/team/{team_id}

    assert members == ["bob", "carol"]
    assert team.get_team_membership("carol").state == "active"
    assert team.has_in_members(world.emu.github(BOT_TOKEN).get_user("bob")) is True
    with pytest.raises(UnknownObjectException):
        team.get_team_membership("eve")


def test_pull_request_commits_map_author_emails_to_logins(world: Hub) -> None:
    pr = open_pr(world)
    world.emu.map_email("carol@example.com", "carol")
    commit_file(world, "promobot/prod/fraud", "notes.txt", "x\n", email="carol@example.com")

    authors = [c.author.login if c.author else None for c in pr.get_commits()]

    assert authors == ["dev", "carol"]


def test_squash_merge_with_the_evaluated_head_writes_one_commit_on_main(world: Hub) -> None:
    pr = open_pr(world)
    main_before = git(world.work, "--git-dir", str(world.emu.git_dir), "rev-parse", "main")

    status = pr.merge(
        commit_title="Promote fraud 1.1 to prod (#1)",
        commit_message="Approved-by: alice",
        merge_method="squash",
        sha=pr.head.sha,
    )

    bare = ["--git-dir", str(world.emu.git_dir)]
    main_after = git(world.work, *bare, "rev-parse", "main")
    assert status.merged and status.sha == main_after
    assert git(world.work, *bare, "rev-parse", "main^@") == main_before
    head_tree = git(world.work, *bare, "rev-parse", f"{pr.head.sha}^{{tree}}")
    assert git(world.work, *bare, "rev-parse", "main^{tree}") == head_tree
    message = git(world.work, *bare, "log", "-1", "--format=%B", "main")
    assert message == "Promote fraud 1.1 to prod (#1)\n\nApproved-by: alice"
    merged = world.repo.get_pull(pr.number)
    assert (merged.state, merged.merged, merged.merge_commit_sha, merged.merged_by.login) == (
        "closed",
        True,
        main_after,
        "promobot[bot]",
    )


def test_merge_with_a_stale_head_sha_is_refused_with_409(world: Hub) -> None:
    pr = open_pr(world)
    evaluated = pr.head.sha
    commit_file(world, "promobot/prod/fraud", "environments/prod/fraud.yaml", "version: '9.9'\n")

    with pytest.raises(GithubException) as caught:
        pr.merge(merge_method="squash", sha=evaluated)

    assert caught.value.status == 409
    assert caught.value.data["message"] == "Head branch was modified. Review and try the merge again."
    assert world.repo.get_pull(pr.number).state == "open"


def test_a_closed_pull_request_cannot_be_merged(world: Hub) -> None:
    pr = open_pr(world)
    pr.edit(state="closed")

    with pytest.raises(GithubException) as caught:
        pr.merge(merge_method="squash", sha=pr.head.sha)

    assert caught.value.status == 405


def test_deleting_the_head_branch_closes_the_pull_request(world: Hub) -> None:
    pr = open_pr(world)

    world.repo.get_git_ref("heads/promobot/prod/fraud").delete()

    closed = world.repo.get_pull(pr.number)
    assert closed.state == "closed" and not closed.merged
    assert closed.head.sha == pr.head.sha
    with pytest.raises(UnknownObjectException):
        world.repo.get_git_ref("heads/promobot/prod/fraud")


def test_git_refs_can_be_created_moved_only_forward_and_read(world: Hub) -> None:
    main = world.repo.get_branch("main").commit.sha
    ref = world.repo.create_git_ref("refs/heads/promobot/staging/fraud", main)
    ahead = commit_file(world, "other", "x.txt", "x\n")

    ref.edit(sha=ahead)
    with pytest.raises(GithubException) as caught:
        ref.edit(sha=main)

    assert caught.value.status == 422
    assert world.repo.get_git_ref("heads/promobot/staging/fraud").object.sha == ahead
    matching = [r.ref for r in world.repo.get_git_matching_refs("heads/promobot/")]
    assert matching == ["refs/heads/promobot/staging/fraud"]


def test_contents_and_compare_read_the_bare_repository(world: Hub) -> None:
    pr = open_pr(world)

    content = world.repo.get_contents("environments/prod/fraud.yaml", ref=pr.head.sha)
    listing = world.repo.get_contents("environments", ref="main")
    comparison = world.repo.compare("main", pr.head.sha)

    assert content.decoded_content == b"version: '1.1'\n# promobot/prod/fraud\n"
    assert [entry.path for entry in listing] == ["environments/prod"]
    assert (comparison.status, comparison.ahead_by, [f.filename for f in comparison.files]) == (
        "ahead",
        1,
        ["environments/prod/fraud.yaml"],
    )
    with pytest.raises(UnknownObjectException):
        world.repo.get_contents("environments/prod/missing.yaml", ref="main")


def test_more_than_a_hundred_reviews_are_read_to_the_end(world: Hub) -> None:
    pr = open_pr(world)
    for i in range(150):
        world.emu.submit_review(pr.number, "bob", "COMMENT", body=f"review {i}")
    world.emu.reset_counts()
    gh = world.emu.github(BOT_TOKEN, per_page=100)

    reviews = list(gh.get_repo("acme/models").get_pull(pr.number).get_reviews())

    assert [r.body for r in reviews] == [f"review {i}" for i in range(150)]
    assert world.emu.counts[("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews")] == 2


def test_requests_are_counted_per_route_template(world: Hub) -> None:
    pr = open_pr(world)
    world.emu.reset_counts()

    world.repo.get_pull(pr.number)
    world.repo.get_pull(pr.number)
    pr.create_issue_comment("hello")

    assert dict(world.emu.counts) == {
        ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}"): 2,
        ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments"): 1,
    }
    assert [(r.method, r.status, r.login) for r in world.emu.requests] == [
        ("GET", 200, "promobot[bot]"),
        ("GET", 200, "promobot[bot]"),
        ("POST", 201, "promobot[bot]"),
    ]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("5xx", GithubException),
        ("secondary-rate-limit", RateLimitExceededException),
        ("drop", requests.exceptions.ConnectionError),
    ],
    ids=["5xx", "secondary-rate-limit", "drop"],
)
def test_the_nth_request_fails_as_asked_and_the_next_one_succeeds(
    world: Hub, kind: str, expected: type[Exception]
) -> None:
    pr = open_pr(world)
    world.emu.fail(2, kind)  # type: ignore[arg-type]
    world.repo.get_pull(pr.number)

    with pytest.raises(expected) as caught:
        world.repo.get_pull(pr.number)

    assert world.repo.get_pull(pr.number).number == pr.number
    if kind == "secondary-rate-limit":
        assert isinstance(caught.value, GithubException)
        assert caught.value.status == 403
        assert caught.value.headers is not None and caught.value.headers["retry-after"] == "1"
    if kind == "5xx":
        assert isinstance(caught.value, GithubException) and caught.value.status == 502
    assert [r.fault for r in world.emu.requests[-3:]] == [None, kind, None]


def test_a_limited_rate_is_reported_on_every_answer_and_enforced(world: Hub) -> None:
    pr = open_pr(world)
    world.emu.limit_rate(1000, remaining=2, reset=1_795_000_000)

    world.repo.get_pull(pr.number)
    world.repo.get_pull(pr.number)
    with pytest.raises(GithubException) as caught:
        world.repo.get_pull(pr.number)

    headers = caught.value.headers or {}
    assert caught.value.status == 403 and "API rate limit exceeded" in str(caught.value.data)
    assert (headers["x-ratelimit-remaining"], headers["x-ratelimit-limit"]) == ("0", "1000")
    assert headers["x-ratelimit-reset"] == "1795000000" and "retry-after" not in headers
    assert world.emu.rate is not None and world.emu.rate.remaining == 0
    world.emu.limit_rate(1000)  # the hour turns
    assert world.repo.get_pull(pr.number).number == pr.number


def test_a_rate_limit_fault_is_a_primary_limit_answer(world: Hub) -> None:
    pr = open_pr(world)
    world.emu.fail(1, "rate-limit")

    with pytest.raises(GithubException) as caught:
        world.repo.get_pull(pr.number)

    headers = caught.value.headers or {}
    assert caught.value.status == 403 and headers["x-ratelimit-remaining"] == "0"
    assert world.repo.get_pull(pr.number).number == pr.number


def test_an_unknown_token_is_refused_with_401(world: Hub) -> None:
    with pytest.raises(BadCredentialsException):
        world.emu.github("nope").get_repo("acme/models").get_pull(1)


def test_an_installation_token_cannot_read_the_authenticated_user(world: Hub) -> None:
    with pytest.raises(GithubException) as caught:
        _ = world.emu.github(BOT_TOKEN).get_user().login

    assert caught.value.status == 403
    assert world.emu.github(ALICE).get_user().login == "alice"


@pytest.mark.skipif(not spec_available(), reason="../shared/github (GitHub's OpenAPI description) is absent")
def test_the_openapi_checker_reports_responses_that_miss_required_fields() -> None:
    checker = shared_checker()
    assert checker is not None

    errors = list(checker.check_response("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", 200, {"id": 1}))
    unknown = list(checker.check_request("GET", "/repos/{owner}/{repo}/nonsense", None))

    assert errors and "required property" in errors[0]
    assert unknown == ["GET /repos/{owner}/{repo}/nonsense: no such operation in GitHub's description"]


@pytest.mark.skipif(not spec_available(), reason="../shared/github (GitHub's OpenAPI description) is absent")
def test_every_request_in_a_full_flow_matches_the_openapi_description(world: Hub) -> None:
    pr = open_pr(world)
    world.emu.submit_review(pr.number, "alice", "APPROVE")
    run = world.repo.create_check_run(name="promobot/ready", head_sha=pr.head.sha, status="queued")
    run.edit(conclusion="success", output={"title": "ready", "summary": "all green"})
    pr.merge(merge_method="squash", sha=pr.head.sha, commit_title="t", commit_message="m")

    assert world.emu.checker is not None
    assert world.emu.openapi_errors == []


def test_a_branch_deleted_with_git_push_closes_its_pull_request(world: Hub) -> None:
    pr = open_pr(world)

    git(world.work / "seed", "push", "-q", str(world.emu.git_dir), "--delete", "promobot/prod/fraud")

    assert world.repo.get_pull(pr.number).state == "closed"
    assert [p.number for p in world.repo.get_pulls(state="open")] == []


@pytest.mark.skipif(not spec_available(), reason="../shared/github (GitHub's OpenAPI description) is absent")
def test_a_request_body_github_would_refuse_is_recorded_as_an_openapi_error(tmp_path: Path) -> None:
    with Emulator(tmp_path / "github") as emu:
        emu.add_app("promobot", token=BOT_TOKEN)
        work = seed_files(emu, tmp_path, {}, name=DEV, email=DEV_EMAIL)
        repo = emu.github(BOT_TOKEN).get_repo("acme/models")

        repo.create_check_run(
            name="promobot/gates", head_sha=git(work, "rev-parse", "HEAD"), status="completed"
        )

    assert len(emu.openapi_errors) == 1
    assert emu.openapi_errors[0].startswith("POST /repos/{owner}/{repo}/check-runs request:")
