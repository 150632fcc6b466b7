"""bot/app/facts.py: a promobot pull request's facts come from its branch name, git and
promobot's own record; the (editable) body only has to agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app.context import Context
from bot.app.facts import branch_state, env_versions, pr_context, restored_manifest, reverted_commit
from bot.core.marker import PrState, parse_state, render_state
from bot.core.paths import REJECTED_PATH
from bot.core.plan import BranchState
from bot.errors import NotApplicable
from tests.conftest import Cli
from tests.helpers.git import commit_to, git, push_to
from tests.helpers.local import PROD, bad_prod_and_its_rollback, local_context

STAGING = "environments/staging/fraud-detector.yaml"
BRANCH = "promobot/staging/fraud-detector"


def edit_marker(ctx: Context, number: int, **changes: str | None) -> None:
    """Someone with write access puts an edited state marker in the PR body."""
    body = ctx.forge.get_pr(number).body
    state = parse_state(body)
    assert state is not None
    forged = state._replace(**changes)  # type: ignore[arg-type]
    ctx.forge.update_pr(number, body=body.replace(render_state(state), render_state(forged)))


def test_pr_context_reads_what_a_promotion_promotes_from_git(cli: Cli) -> None:
    number = cli.json("promote", "fraud-detector", "--to", "staging", actor="alice")["pr"]
    ctx = local_context(cli.repo)
    pc = pr_context(ctx, number)
    assert pc.base_sha == git(cli.repo, "rev-parse", "main")
    assert pc.state == PrState(
        action="promote",
        model="fraud-detector",
        to="staging",
        version="1.5.0",
        from_="dev",
        previous_version="1.4.2",
        requester="alice",
    )
    assert pc.new_text.decode() == git(cli.repo, "show", f"{BRANCH}:{STAGING}") + "\n"
    assert pc.old_text == ctx.ws.read(pc.base_sha, STAGING)
    assert pc.source is not None and pc.source.version == "1.5.0"  # dev's manifest at the base


def test_pr_context_refuses_pull_requests_promobot_did_not_open(cli: Cli) -> None:
    number = cli.json("promote", "fraud-detector", "--to", "staging")["pr"]
    ctx = local_context(cli.repo)
    body = ctx.forge.get_pr(number).body
    commit_to(cli.repo, "feature/x", {STAGING: "hand edit\n"})
    copied = ctx.forge.open_pr(
        head="feature/x", base="main", title="looks like promobot's", body=body, labels=()
    )
    git(cli.repo, "branch", "release", "main~0")
    elsewhere = ctx.forge.open_pr(head=BRANCH, base="release", title="into release", body=body, labels=())

    with pytest.raises(NotApplicable) as foreign:
        pr_context(ctx, copied.number)  # promobot's body on someone's branch
    assert foreign.value.what == f"pull request #{copied.number} is not a promobot promotion or rollback"
    assert foreign.value.hint == "promobot only acts on the pull requests it opened (branches promobot/…)"
    with pytest.raises(NotApplicable, match=f"#{elsewhere.number} targets release, not main"):
        pr_context(ctx, elsewhere.number)
    edit_marker(ctx, number, model="search-ranker")  # the body disagrees with the branch name
    with pytest.raises(NotApplicable, match="is not a promobot promotion"):
        pr_context(ctx, number)
    ctx.forge.update_pr(number, body="no marker at all")
    with pytest.raises(NotApplicable, match="is not a promobot promotion"):
        pr_context(ctx, number)


def test_an_edited_body_changes_neither_the_action_nor_the_versions_nor_the_source(cli: Cli) -> None:
    number = cli.json("promote", "fraud-detector", "--to", "staging", actor="alice")["pr"]
    ctx = local_context(cli.repo)
    edit_marker(
        ctx,
        number,
        action="rollback",
        version="9.9.9",
        previous_version="0.0.1",
        from_="prod",
        restores_sha=git(cli.repo, "rev-parse", "main"),
    )
    state = pr_context(ctx, number).state
    assert (state.action, state.version, state.previous_version, state.from_) == (
        "promote",
        "1.5.0",
        "1.4.2",
        "dev",
    )


def test_the_requester_is_promobots_record_and_the_body_only_for_a_head_it_did_not_write(cli: Cli) -> None:
    number = cli.json("promote", "fraud-detector", "--to", "staging", actor="alice")["pr"]
    ctx = local_context(cli.repo)
    edit_marker(ctx, number, requester="mallory")
    assert pr_context(ctx, number).state.requester == "alice"

    def hand_edit(repo: Path) -> None:
        (repo / STAGING).write_text((repo / STAGING).read_text().replace("replicas: 2", "replicas: 3"))

    push_to(cli.repo, BRANCH, hand_edit, author="carol")
    pc = pr_context(ctx, number)
    assert pc.pr.head_sha == git(cli.repo, "rev-parse", BRANCH)
    assert pc.state.requester == "mallory"  # no record: the body's word (it can only keep a review out)
    assert b"replicas: 3" in pc.new_text


def test_a_reject_pr_is_read_from_its_branch_name_not_its_body(people: Cli) -> None:
    cli = people
    number = cli.json("reject", "fraud-detector", "1.5.0", "--reason", "leaks labels", actor="sam")["pr"]
    ctx = local_context(cli.repo)
    edit_marker(ctx, number, version="1.4.2", requester="carol")
    pc = pr_context(ctx, number)
    assert (pc.state.action, pc.state.model, pc.state.to, pc.state.version) == (
        "reject",
        "fraud-detector",
        "",
        "1.5.0",
    )
    assert pc.state.requester == "sam" and pc.source is None
    assert b"version: 1.5.0" in pc.new_text and b"leaks labels" in pc.new_text
    assert pc.old_text == ctx.ws.read(pc.base_sha, REJECTED_PATH)


def test_branch_state_says_whether_the_branch_is_promobots_one_commit(cli: Cli) -> None:
    ctx = local_context(cli.repo)
    assert branch_state(ctx, BRANCH, STAGING, ctx.tip()) == BranchState(None)  # no branch, no PR
    number = cli.json("promote", "fraud-detector", "--to", "staging")["pr"]
    head = git(cli.repo, "rev-parse", BRANCH)
    state = branch_state(ctx, BRANCH, STAGING, ctx.tip())
    assert (state.sha, state.only_bot_change) == (head, True)
    assert state.pr is not None and state.pr.number == number
    assert state.content == ctx.ws.read(head, STAGING) and state.carries(state.content or b"")

    def add_notes(repo: Path) -> None:
        (repo / "notes.txt").write_text("mine\n")

    push_to(cli.repo, BRANCH, add_notes, author="carol")
    after = branch_state(ctx, BRANCH, STAGING, ctx.tip())
    assert after.sha != head and not after.only_bot_change
    assert not after.carries(after.content or b"")  # promote then rebuilds the branch


def test_env_versions_and_the_manifest_a_rollback_restores(people: Cli) -> None:
    ctx = local_context(people.repo)
    tip = ctx.tip()
    policy = ctx.policy(tip)
    assert env_versions(ctx, tip, policy, "fraud-detector") == {
        "dev": "1.5.0",
        "staging": "1.4.2",
        "prod": "1.4.1",
    }
    assert env_versions(ctx, tip, policy, "churn-predictor") == {
        "dev": "0.3.0",
        "staging": None,
        "prod": None,
    }

    number, _ = bad_prod_and_its_rollback(people)
    ctx = local_context(people.repo)
    state = pr_context(ctx, number).state
    restored = restored_manifest(ctx, state)
    assert restored is not None and restored.version == "1.4.1" and state.restores_sha == tip
    side = commit_to(people.repo, "side", {PROD: git(people.repo, "show", f"{tip}:{PROD}") + "\n"})
    for sha in (side, "not-a-sha", None):  # only a commit on the default branch counts
        assert restored_manifest(ctx, state._replace(restores_sha=sha)) is None


def test_reverted_commit_reads_the_subject_and_the_reason_from_git(people: Cli) -> None:
    number, bad = bad_prod_and_its_rollback(people, reason="AUC dropped in prod")
    ctx = local_context(people.repo)
    state = pr_context(ctx, number).state
    assert state.rollback_of == bad
    edit_marker(ctx, number, requester="mallory")  # whatever the body says besides
    assert reverted_commit(ctx, state) == ("Hand-made bump of prod to 1.4.2", "AUC dropped in prod")
    first = git(people.repo, "rev-list", "--max-parents=0", "main")
    # Another commit than the branch's: its subject, and no reason (the branch reverts another).
    assert reverted_commit(ctx, state._replace(rollback_of=first)) == (
        "Example GitOps repository",
        None,
    )
    for unknown in ("not-a-sha", None, "0" * 40):
        assert reverted_commit(ctx, state._replace(rollback_of=unknown)) == ("", None)
