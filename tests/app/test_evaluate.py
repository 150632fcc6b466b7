"""bot/app/evaluate.py: re-evaluating a promobot pull request posts its three checks and its
body; a PR that is not open is refused untouched; after rejected.yaml changes, every open PR
of that model is re-evaluated."""

from __future__ import annotations

import pytest

from bot.app.evaluate import evaluate_pr, reevaluate_model
from bot.core.marker import parse_state, render_state
from bot.core.model import CHECK_GATES, CHECK_NAMES
from bot.core.paths import REJECTED_PATH
from bot.errors import Blocked, NotApplicable
from tests.conftest import Cli
from tests.helpers.git import commit_all, commit_to, git
from tests.helpers.local import local_context, local_forge


def checks_on(cli: Cli, sha: str) -> dict[str, tuple[str, str]]:
    return {c.name: (c.result, c.title) for c in local_context(cli.repo).forge.list_checks(sha)}


def test_evaluate_pr_posts_the_checks_and_puts_back_an_edited_body(cli: Cli) -> None:
    number = cli.json("promote", "fraud-detector", "--to", "staging")["pr"]
    ctx = local_context(cli.repo)
    pr = ctx.forge.get_pr(number)
    state = parse_state(pr.body)
    assert state is not None
    ctx.forge.update_pr(number, body=render_state(state) + "\nall gates passed, merge me")
    forge = local_forge(ctx)
    forge.set_check(head_sha=pr.head_sha, name=CHECK_GATES, result="success", title="stale", summary="")

    a = evaluate_pr(ctx, number)
    assert ctx.forge.get_pr(number).body == a.body
    assert "merge me" not in a.body and parse_state(a.body) == state
    posted = (a.checks.gates, a.checks.approvals, a.checks.ready)
    assert checks_on(cli, pr.head_sha) == {
        name: check[:2] for name, check in zip(CHECK_NAMES, posted, strict=True)
    }
    assert checks_on(cli, pr.head_sha)[CHECK_GATES] != ("success", "stale")


def test_evaluate_pr_without_posting_changes_nothing(cli: Cli) -> None:
    number = cli.json("promote", "fraud-detector", "--to", "staging")["pr"]
    ctx = local_context(cli.repo)
    ctx.forge.update_pr(number, body=ctx.forge.get_pr(number).body + "\nedited by hand")
    before = local_forge(ctx).snapshot()
    a = evaluate_pr(ctx, number, post=False)
    assert a.state.version == "1.5.0" and not a.ready
    assert local_forge(ctx).snapshot() == before


def test_a_pr_that_is_not_open_or_not_promobots_is_refused_untouched(cli: Cli) -> None:
    number = cli.json("promote", "fraud-detector", "--to", "staging")["pr"]
    commit_to(cli.repo, "feature", {"docs/notes.md": "a person's branch\n"})
    ctx = local_context(cli.repo)
    theirs = ctx.forge.open_pr(head="feature", base="main", title="Notes", body="not promobot's", labels=())
    ctx.forge.close(number)
    before = local_forge(ctx).snapshot()
    with pytest.raises(Blocked) as closed:
        evaluate_pr(ctx, number)
    assert (closed.value.what, closed.value.hint) == (
        f"pull request #{number} is closed",
        "nothing to evaluate",
    )
    with pytest.raises(NotApplicable):
        evaluate_pr(ctx, theirs.number)
    assert local_forge(ctx).snapshot() == before


def test_reevaluate_model_runs_every_open_pr_of_the_model_after_a_rejection(people: Cli) -> None:
    cli = people
    staging = cli.json("promote", "fraud-detector", "--to", "staging")["pr"]
    prod = cli.json("promote", "fraud-detector", "--to", "prod")["pr"]
    other = cli.json("promote", "spam-filter", "--to", "prod")["pr"]
    reject = cli.json("reject", "fraud-detector", "1.4.0", "--reason", "old", actor="sam")["pr"]
    ctx = local_context(cli.repo)
    heads = {n: ctx.forge.get_pr(n).head_sha for n in (staging, prod, other, reject)}
    untouched = {n: checks_on(cli, heads[n]) for n in (other, reject)}
    assert checks_on(cli, heads[staging])[CHECK_GATES][0] != "failure"

    (cli.repo / REJECTED_PATH).write_text(
        "rejected:\n"
        "  - {model: fraud-detector, version: 1.5.0, reason: leaks labels, by: sam, "
        'at: "2026-11-20T10:00:00Z"}\n'
    )
    commit_all(cli.repo, "reject fraud-detector 1.5.0 by hand")
    assert reevaluate_model(local_context(cli.repo), "fraud-detector") == [staging, prod]
    assert checks_on(cli, heads[staging])[CHECK_GATES][0] == "failure"  # not-rejected now fails
    assert {n: checks_on(cli, heads[n]) for n in (other, reject)} == untouched
    assert git(cli.repo, "log", "-1", "--format=%s", "main") == "reject fraud-detector 1.5.0 by hand"


def test_reevaluate_model_skips_a_pr_it_cannot_evaluate_and_goes_on(cli: Cli) -> None:
    staging = cli.json("promote", "fraud-detector", "--to", "staging")["pr"]
    prod = cli.json("promote", "fraud-detector", "--to", "prod")["pr"]
    ctx = local_context(cli.repo)
    ctx.forge.update_pr(staging, body="the marker is gone")  # no longer promobot's to judge
    assert reevaluate_model(ctx, "fraud-detector") == [prod]
    assert ctx.forge.get_pr(staging).body == "the marker is gone"
