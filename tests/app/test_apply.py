"""bot/app/apply.py: a plan of actions applied in order on real git and the local forge, and a
direct commit on the default branch by compare-and-swap that retries and never forces."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from bot.app.apply import DIRECT_ATTEMPTS, apply, commit_direct
from bot.app.records import write_record
from bot.core.due import HEAD_PLACEHOLDER, Due, parse_due, render_due
from bot.core.marker import WriteRecord, render_record
from bot.core.model import CHECK_NAMES
from bot.core.plan import HEAD, AddLabels, Checks, MoveBranch, OpenPr, SetCheck, UpdatePr, WriteCommit
from bot.errors import ConflictError
from tests.conftest import Cli
from tests.helpers.git import commit_to, git
from tests.helpers.local import local_context

STAGING = "environments/staging/fraud-detector.yaml"
BRANCH = "promobot/staging/fraud-detector"
CHECKS = Checks(
    gates=("success", "3 gates passed", "all good"),
    approvals=("pending", "0 of 1 approvals", "waiting"),
    ready=("pending", "1 blocker(s)", "approvals"),
)
DUE = render_due(Due("never", "0123456789abcdef", HEAD_PLACEHOLDER))


def test_a_plan_writes_the_commit_moves_the_branch_opens_the_pr_and_records_the_head(cli: Cli) -> None:
    ctx = local_context(cli.repo)
    tip = ctx.tip()
    text = (cli.repo / STAGING).read_bytes().replace(b"version: 1.4.2", b"version: 1.5.0")
    number, head = apply(
        ctx,
        [
            WriteCommit(parent=tip, files={STAGING: text}, message="Promote it", author=ctx.bot_identity),
            MoveBranch(BRANCH, HEAD, expected=None),
            OpenPr(
                head=BRANCH,
                base="main",
                title="Promote it",
                body=f"body\n{DUE}\n",
                labels=("promobot:promotion",),
            ),
            AddLabels(None, ("promobot:env:staging",)),
            *CHECKS.actions(HEAD, record=render_record("alice")),
        ],
    )
    assert number == 1 and head == git(cli.repo, "rev-parse", BRANCH)
    assert git(cli.repo, "rev-parse", f"{head}~1") == tip == git(cli.repo, "rev-parse", "main")
    assert git(cli.repo, "show", f"{head}:{STAGING}") + "\n" == text.decode()
    assert git(cli.repo, "log", "-1", "--format=%an <%ae>", head) == ctx.bot_identity
    pr = ctx.forge.get_pr(number)
    assert (pr.head_sha, pr.head_branch, pr.labels) == (
        head,
        BRANCH,
        ("promobot:promotion", "promobot:env:staging"),
    )
    due = parse_due(pr.body)
    assert due is not None and due.head == head  # the placeholder names the commit the plan wrote
    checks = {c.name: (c.result, c.title) for c in ctx.forge.list_checks(head)}
    assert checks == {
        "promobot/gates": ("success", "3 gates passed"),
        "promobot/approvals": ("pending", "0 of 1 approvals"),
        "promobot/ready": ("pending", "1 blocker(s)"),
    }
    assert write_record(ctx, head) == WriteRecord("alice")


def test_a_plan_without_a_commit_updates_the_pr_and_checks_the_sha_it_names(cli: Cli) -> None:
    number = cli.json("promote", "fraud-detector", "--to", "staging")["pr"]
    ctx = local_context(cli.repo)
    head = git(cli.repo, "rev-parse", BRANCH)
    assert apply(ctx, [UpdatePr(number, None, None)]) == (number, None)
    before = ctx.forge.get_pr(number)
    assert apply(ctx, [UpdatePr(number, "Renamed", f"new body\n{DUE}\n")]) == (number, None)
    after = ctx.forge.get_pr(number)
    assert (after.title, after.body) == ("Renamed", f"new body\n{DUE}\n") != (before.title, before.body)
    apply(ctx, [SetCheck(head, CHECK_NAMES[2], "failure", "blocked", "why")])
    (ready,) = [c for c in ctx.forge.list_checks(head) if c.name == CHECK_NAMES[2]]
    assert (ready.result, ready.title, ready.by_promobot) == ("failure", "blocked", True)
    assert write_record(ctx, head) == WriteRecord("alice")  # a check without a record keeps the record


def test_a_branch_that_moved_since_the_plan_was_made_is_not_overwritten(cli: Cli) -> None:
    cli.json("promote", "fraud-detector", "--to", "staging")
    ctx = local_context(cli.repo)
    planned_on = git(cli.repo, "rev-parse", BRANCH)
    pushed = commit_to(cli.repo, BRANCH, {"notes.txt": "someone pushed\n"})
    tip = ctx.tip()
    with pytest.raises(ConflictError):
        apply(
            ctx,
            [
                WriteCommit(parent=tip, files={STAGING: b"x"}, message="rebuild"),
                MoveBranch(BRANCH, HEAD, expected=planned_on, force=True),
                *CHECKS.actions(HEAD),
            ],
        )
    assert git(cli.repo, "rev-parse", BRANCH) == pushed  # kept, and nothing after the move ran
    assert ctx.forge.list_checks(pushed) == []


def test_commit_direct_commits_on_the_tip_as_promobot(cli: Cli) -> None:
    ctx = local_context(cli.repo)
    tip = ctx.tip()
    seen: list[str] = []

    def build(at: str) -> tuple[Mapping[str, bytes | None], str]:
        seen.append(at)
        return {"environments/notes.txt": b"direct\n"}, "A direct change"

    sha = commit_direct(ctx, build)
    assert seen == [tip] and sha == git(cli.repo, "rev-parse", "main")
    assert git(cli.repo, "rev-parse", f"{sha}~1") == tip
    assert git(cli.repo, "log", "-1", "--format=%an <%ae>|%s", sha) == f"{ctx.bot_identity}|A direct change"


def test_commit_direct_rebuilds_on_the_new_tip_when_the_default_branch_moved(cli: Cli) -> None:
    ctx = local_context(cli.repo)
    seen: list[str] = []
    pushed: list[str] = []

    def build(at: str) -> tuple[Mapping[str, bytes | None], str]:
        seen.append(at)
        if not pushed:  # someone pushes to main while promobot prepares its commit
            pushed.append(commit_to(cli.repo, "main", {"environments/theirs.txt": "theirs\n"}))
        return {"environments/notes.txt": f"built on {at}\n".encode()}, "A direct change"

    sha = commit_direct(ctx, build)
    assert seen == [seen[0], pushed[0]] and seen[0] != pushed[0]
    assert git(cli.repo, "rev-parse", f"{sha}~1") == pushed[0]  # on top of theirs: nothing forced away
    assert git(cli.repo, "show", f"{sha}:environments/theirs.txt") == "theirs"
    assert git(cli.repo, "show", f"{sha}:environments/notes.txt") == f"built on {pushed[0]}"


def test_commit_direct_gives_up_after_bounded_attempts_and_writes_nothing(cli: Cli) -> None:
    ctx = local_context(cli.repo)
    seen: list[str] = []

    def build(at: str) -> tuple[Mapping[str, bytes | None], str]:
        seen.append(at)
        commit_to(
            cli.repo, "main", {"environments/theirs.txt": f"push {len(seen)}\n"}, message="Someone else"
        )
        return {"environments/notes.txt": b"mine\n"}, "A direct change"

    with pytest.raises(ConflictError) as refused:
        commit_direct(ctx, build)
    assert refused.value.what == f"main kept moving: {DIRECT_ATTEMPTS} attempts to add the commit failed"
    assert refused.value.hint == "re-run the same command (nothing was written)"
    assert len(seen) == DIRECT_ATTEMPTS
    log = git(cli.repo, "log", "--format=%s", "main").splitlines()
    assert log[:DIRECT_ATTEMPTS] == ["Someone else"] * DIRECT_ATTEMPTS and "A direct change" not in log
