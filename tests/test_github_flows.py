"""promobot's use cases end to end on GitHub: the GitHub forge against the emulator.

The emulator's bare repository holds a copy of the example ``environments/``; the
workspace is a clone of it (``origin`` = the bare repository), exactly as a workflow's
checkout is a clone of GitHub's. Every event builds a fresh context with
``github_context`` (one workflow run = one context), and the request count of each flow
is recorded in the rig's ``BUDGETS_SEEN`` and printed (``pytest -s``).
"""

from __future__ import annotations

import pytest

from bot.adapters.github import ACTIONS_LOGIN, GitHubForge
from bot.app.batch import Outcome
from bot.app.comment import CommentOutcome, handle_comment
from bot.app.events import on_review
from bot.app.promote import PromoteResult, promote
from bot.app.records import write_record
from bot.cli import github_context
from bot.core.model import CHECK_NAMES
from bot.core.trailers import parse_trailers
from tests.emulator import RequestRecord
from tests.helpers import rig
from tests.helpers.git import git
from tests.helpers.rig import NOW, TOKEN, Hub


@pytest.fixture
def hub(hub: Hub) -> Hub:
    """The rig's hub with one checkout every workflow run shares (its caches carry over)."""
    hub.clone = hub.checkout()
    return hub


def open_prod_pr(hub: Hub) -> int:
    result = promote(hub.context(), model="fraud-detector", to="prod")
    assert result.pr is not None
    return result.pr


def test_promote_opens_a_pr_with_checks_posted_as_check_runs(hub: Hub) -> None:
    ctx = hub.context()

    result, requests = hub.measure(
        "open a promotion PR", lambda: promote(ctx, model="fraud-detector", to="prod")
    )

    assert isinstance(result, PromoteResult) and result.created and result.pr == 1
    pr = ctx.forge.get_pr(1)
    assert (pr.head_branch, pr.author, pr.state) == ("promobot/prod/fraud-detector", ACTIONS_LOGIN, "open")
    assert set(pr.labels) >= {"promobot:promotion", "promobot:env:prod"}
    runs = {(r.name, r.head_sha, r.app.slug) for r in hub.emu.state.check_runs.values()}
    assert runs == {(name, pr.head_sha, "github-actions") for name in CHECK_NAMES}
    assert "version: 1.4.2" in git(
        hub.work,
        "--git-dir",
        str(hub.emu.git_dir),
        "show",
        f"{pr.head_sha}:environments/prod/fraud-detector.yaml",
    )
    assert len(requests) <= 12


def test_reviews_count_and_a_promote_comment_merges_with_the_evaluated_head(hub: Hub) -> None:
    number = open_prod_pr(hub)
    head = hub.emu.head_sha(number)
    hub.emu.submit_review(number, "carol", "APPROVE")
    hub.emu.submit_review(number, "dave", "APPROVE")

    outcome, review_requests = hub.measure("review event", lambda: on_review(hub.context(), number))
    assert isinstance(outcome, Outcome) and outcome.detail["ready"] is True
    ready = [r for r in hub.emu.state.check_runs.values() if r.name == "promobot/ready"]
    assert [(r.conclusion, r.head_sha) for r in ready] == [("success", head)]

    comment = hub.emu.comment(number, "erin", "/promote")
    done, merge_requests = hub.measure(
        "/promote that merges",
        lambda: handle_comment(
            hub.context("erin"), number=number, comment_id=comment.id, author="erin", body=comment.body
        ),
    )

    assert isinstance(done, CommentOutcome)
    assert done.merged, done.reply
    put = [r for r in merge_requests if r.method == "PUT"]
    assert [(r.template, r.body["sha"], r.body["merge_method"]) for r in put] == [
        ("/repos/{owner}/{repo}/pulls/{pull_number}/merge", head, "squash")
    ]
    message = git(hub.work, "--git-dir", str(hub.emu.git_dir), "log", "-1", "--format=%B", "main")
    assert message.startswith(f"Promote fraud-detector 1.4.2 to prod (#{number})")
    assert parse_trailers(message)["Approved-by"] == "carol, dave"
    assert hub.emu.state.pulls[number].merged is True
    replies = [c.body for c in hub.emu.state.comments.values() if c.user == ACTIONS_LOGIN]
    assert len(replies) == 1 and "merged as" in replies[0]
    reactions = [(r.user, r.content) for r in hub.emu.state.reactions]
    assert reactions == [(ACTIONS_LOGIN, "eyes"), (ACTIONS_LOGIN, "rocket")]
    assert len(review_requests) <= REVIEW_CEILING, _shown(review_requests, hub)
    assert len(merge_requests) <= PROMOTE_CEILING, _shown(merge_requests, hub)


def test_a_merge_into_staging_chains_the_prod_pull_request(hub: Hub) -> None:
    result = promote(hub.context(), model="fraud-detector", to="staging")
    assert result.pr == 1 and not result.ready
    hub.emu.submit_review(1, "bob", "APPROVE")

    outcome, requests = hub.measure("review that auto-merges + chains", lambda: on_review(hub.context(), 1))

    assert isinstance(outcome, Outcome)
    merged = outcome.detail["merged"]
    assert merged["merged"] is True
    assert [(c["to"], c["version"], c["pr"]) for c in merged["chained"]] == [("prod", "1.5.0", 2)]
    prod = hub.emu.state.pulls[2]
    assert (prod.head_ref, prod.state) == ("promobot/prod/fraud-detector", "open")
    delete = next(i for i, r in enumerate(requests) if r.method == "DELETE")
    rig.BUDGETS_SEEN["chained prod PR (after the merge)"] = len(requests) - delete - 1
    print(f"  of which the chained prod PR: {len(requests) - delete - 1}")


def test_a_push_that_moves_the_head_before_the_merge_is_refused_and_reported(hub: Hub) -> None:
    number = open_prod_pr(hub)
    hub.emu.submit_review(number, "carol", "APPROVE")
    hub.emu.submit_review(number, "dave", "APPROVE")
    main_before = hub.main()
    ctx = hub.context("erin")
    assert isinstance(ctx.forge, GitHubForge)
    ctx.forge = _RacingForge.wrap(ctx.forge, hub)
    comment = hub.emu.comment(number, "erin", "/promote")

    done = handle_comment(ctx, number=number, comment_id=comment.id, author="erin", body=comment.body)

    assert not done.merged
    assert done.reply is not None and "head moved" in done.reply
    assert hub.main() == main_before
    assert hub.emu.state.pulls[number].state == "open"
    assert [r.content for r in hub.emu.state.reactions] == ["eyes", "confused"]


def test_with_a_personal_access_token_the_checks_are_commit_statuses(hub: Hub) -> None:
    hub.emu.pat_mode = True

    number = open_prod_pr(hub)

    head = hub.emu.head_sha(number)
    assert hub.emu.state.check_runs == {}
    # promobot's write record (SECURITY.md rule 15) is a status of its own: statuses have no external id
    expected = {(name, head) for name in CHECK_NAMES} | {("promobot/record", head)}
    assert {(s.context, s.sha) for s in hub.emu.state.statuses} == expected
    record = next(s for s in hub.emu.state.statuses if s.context == "promobot/record")
    assert record.description == "promobot:wrote requested-by=alice"
    assert write_record(hub.context(), head) is not None


def _shown(requests: list[RequestRecord], hub: Hub) -> str:
    lines = [f"{r.method} {r.path} {r.status} {r.fault}" for r in requests]
    return "\n".join([*lines, f"sleeps: {hub.sleeps}"])


class _RacingForge(GitHubForge):
    """The real forge, except that someone pushes to the PR branch just before the merge."""

    hub: Hub

    @classmethod
    def wrap(cls, forge: GitHubForge, hub: Hub) -> _RacingForge:
        racing = cls.__new__(cls)
        racing.__dict__.update(forge.__dict__)
        racing.hub = hub
        return racing

    def merge(self, number: int, *, sha: str, title: str, message: str) -> str:
        branch = self.hub.emu.state.pulls[number].head_ref
        self.hub.push_commit(
            "environments/prod/fraud-detector.yaml",
            lambda _: "version: '9.9.9'\n",
            "sneak in a change",
            branch=branch,
        )
        return super().merge(number, sha=sha, title=title, message=message)


# reference §14 request budgets, asserted exactly: a review event ≤ 8, a /promote that merges ≤ 12
# (with two approvers named by login, whose current permission is still checked).
REVIEW_CEILING = 8  # reference §14
PROMOTE_CEILING = 12  # reference §14


def test_github_context_reads_the_workflow_environment(hub: Hub) -> None:
    ctx = hub.context(actor="carol")

    assert isinstance(ctx.forge, GitHubForge)
    assert (ctx.actor, ctx.forge.bot_login, ctx.default_branch) == ("carol", ACTIONS_LOGIN, "main")
    assert ctx.bot_identity.startswith("github-actions[bot] <41898282+github-actions[bot]@")
    assert TOKEN not in repr(ctx.ws) and TOKEN not in repr(ctx.forge)
    assert ctx.tip() == hub.main()


def test_github_context_without_a_repository_says_what_to_set(hub: Hub) -> None:
    from bot.errors import UsageError

    with pytest.raises(UsageError, match="GITHUB_REPOSITORY is not set"):
        github_context(repo=hub.checkout(), actor=None, now=NOW, environ={"GITHUB_TOKEN": TOKEN})
