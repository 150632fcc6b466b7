"""bot/app/blockers.py: everything besides gates and approvals that keeps a promobot PR from
merging, each blocker typed with its kind (bot/core/readiness.py) so that code never reads
the wording."""

from __future__ import annotations

from pathlib import Path

from bot.app.blockers import (
    foreign_blockers,
    readiness_blockers,
    rejection_content_blockers,
    rejection_entry,
    rollback_blockers,
    scope_blockers,
)
from bot.app.facts import pr_context
from bot.core.approvals import ApprovalVerdict, Ignored
from bot.core.marker import PrState
from bot.core.model import CHECK_READY, LABEL_HOLD, GateResult, PullRequest, Rejection
from bot.core.paths import REJECTED_PATH
from bot.core.readiness import Blocker, BlockerKind
from bot.core.rejected import load_rejected
from tests.conftest import Cli
from tests.helpers.git import commit_all, commit_to, git, push_to
from tests.helpers.local import PROD, bad_prod_and_its_rollback, local_context, local_forge

PROD_BRANCH = "promobot/prod/fraud-detector"
ROLLBACK_BRANCH = "promobot/rollback/prod/fraud-detector"
APPROVED = ApprovalVerdict(required=1, counted=("carol",), ignored=(), blocking=())
ENTRY = '  - {{model: {model}, version: {version}, reason: bad, by: sam, at: "2026-11-20T10:00:00Z"}}\n'


def kinds(blockers: list[Blocker]) -> list[BlockerKind]:
    return [b.kind for b in blockers]


def rejected_yaml(*entries: tuple[str, str]) -> str:
    if not entries:
        return "rejected: []\n"
    return "rejected:\n" + "".join(ENTRY.format(model=m, version=v) for m, v in entries)


def test_the_pull_requests_own_state_blocks_with_its_kind(people: Cli) -> None:
    number = people.json("promote", "fraud-detector", "--to", "prod")["pr"]
    ctx = local_context(people.repo)
    pr = ctx.forge.get_pr(number)
    assert readiness_blockers(ctx, pr, pr.head_sha, [], APPROVED) == []
    cases: list[tuple[PullRequest, BlockerKind, str]] = [
        (pr._replace(state="closed"), "state", "the pull request is closed"),
        (
            pr._replace(draft=True),
            "state",
            "the pull request is a draft — mark it ready for review",
        ),
        (
            pr._replace(labels=("promobot:promotion", LABEL_HOLD)),
            "hold",
            f"on hold (label {LABEL_HOLD}) — /unhold lifts it",
        ),
        (
            pr._replace(from_fork=True),
            "fork",
            "the head branch is in a fork — promobot only merges its own branches",
        ),
    ]
    for changed, kind, text in cases:
        (found,) = readiness_blockers(ctx, changed, pr.head_sha, [], APPROVED)
        assert (found.kind, str(found)) == (kind, text)


def test_gates_change_requests_and_missing_approvals_block_one_line_each(people: Cli) -> None:
    ctx = local_context(people.repo)
    results = [
        GateResult("metric auc", "metric", "success", "0.936 ≥ 0.9"),
        GateResult("soak", "soak", "pending", "live in staging for 3h of 24h"),
        GateResult("smoke", "command", "failure", "exit 1"),
    ]
    verdict = ApprovalVerdict(
        required=2, counted=("dave",), ignored=(), blocking=(Ignored("carol", "changes requested"),)
    )
    found = readiness_blockers(ctx, None, None, results, verdict)
    assert [(b.kind, str(b)) for b in found] == [
        ("gate", "gate soak: pending — live in staging for 3h of 24h"),
        ("gate", "gate smoke: failure — exit 1"),
        ("changes-requested", "changes requested by carol"),
        ("approvals", "approvals: 1 of 2"),
    ]


def test_a_check_with_promobots_name_from_another_app_is_an_impostor(people: Cli) -> None:
    people.json("promote", "fraud-detector", "--to", "prod")
    ctx = local_context(people.repo)
    head = git(people.repo, "rev-parse", PROD_BRANCH)
    forge = local_forge(ctx)
    forge.add_foreign_check(head, "ci/tests", "success")  # any other name is not ours to judge
    assert readiness_blockers(ctx, None, head, [], APPROVED) == []
    forge.add_foreign_check(head, CHECK_READY, "success", title="ready to merge")
    (found,) = readiness_blockers(ctx, None, head, [], APPROVED)
    assert found.kind == "impostor-check" and found.startswith(
        f"a check named {CHECK_READY} was posted by someone"
    )


def test_a_head_promobot_did_not_write_is_foreign_and_says_how_to_rebuild(people: Cli) -> None:
    number = people.json("promote", "fraud-detector", "--to", "prod")["pr"]
    ctx = local_context(people.repo)
    state = pr_context(ctx, number).state
    assert foreign_blockers(ctx, state, git(people.repo, "rev-parse", PROD_BRANCH)) == []
    assert foreign_blockers(ctx, state, None) == []

    def hand_edit(repo: Path) -> None:
        (repo / PROD).write_text((repo / PROD).read_text() + "# tuned by hand\n")

    head = push_to(people.repo, PROD_BRANCH, hand_edit, author="carol")
    (found,) = foreign_blockers(ctx, state, head)
    assert found.kind == "foreign-commits"
    assert found == (
        "this branch carries commits promobot did not write — "
        "re-run `promobot promote fraud-detector --to prod` (or `/retest` after a rebuild) to rebuild it"
    )


def test_scope_allows_only_the_target_manifest_and_for_a_rollback_rejected_yaml(cli: Cli) -> None:
    ctx = local_context(cli.repo)
    base = ctx.tip()
    own = commit_to(cli.repo, "own", {PROD: "anything\n", REJECTED_PATH: "rejected: []\n# x\n"})
    assert scope_blockers(ctx, base_sha=base, head_sha=own, action="rollback", path=PROD) == []
    (promotion,) = scope_blockers(ctx, base_sha=base, head_sha=own, action="promote", path=PROD)
    assert promotion.kind == "scope"
    assert promotion.startswith(
        f"the pull request also changes {REJECTED_PATH} — a promotion may change only {PROD}; "
    )
    extra = {f"environments/checks/gate{i}.py": "print()\n" for i in range(7)}
    wide = commit_to(cli.repo, "wide", {PROD: "x\n", "environments/promotion.yaml": "{}\n", **extra})
    (found,) = scope_blockers(ctx, base_sha=base, head_sha=wide, action="reject", path=REJECTED_PATH)
    assert found.kind == "scope" and "and 4 more — a reject pull request may change only" in found
    assert (
        "environments/checks/gate0.py" in found and "re-run `promobot reject` to rebuild the branch" in found
    )


def test_a_rollback_is_stale_once_the_environment_no_longer_runs_the_bad_version(people: Cli) -> None:
    number, _ = bad_prod_and_its_rollback(people)
    ctx = local_context(people.repo)
    pc = pr_context(ctx, number)
    head = pc.pr.head_sha
    assert rollback_blockers(ctx, state=pc.state, base_sha=ctx.tip(), head_sha=head, path=PROD) == []
    path = people.repo / PROD
    path.write_text(path.read_text().replace("version: 1.4.2", "version: 1.4.3", 1))
    moved = commit_all(people.repo, "prod runs 1.4.3 now")
    (found,) = rollback_blockers(ctx, state=pc.state, base_sha=moved, head_sha=head, path=PROD)
    assert found.kind == "stale"
    assert found.startswith(
        "stale: prod now runs fraud-detector 1.4.3, not 1.4.2 that this rollback rolls back"
    )


def test_a_rollback_may_only_add_its_own_version_to_rejected_yaml(people: Cli) -> None:
    number, _ = bad_prod_and_its_rollback(people)
    ctx = local_context(people.repo)
    pc = pr_context(ctx, number)
    base = ctx.tip()
    assert load_head_rejections(people) == [("fraud-detector", "1.4.2")]
    more = commit_to(
        people.repo,
        ROLLBACK_BRANCH,
        {REJECTED_PATH: rejected_yaml(("fraud-detector", "1.4.2"), ("search-ranker", "2.1.0"))},
    )
    (found,) = rollback_blockers(ctx, state=pc.state, base_sha=base, head_sha=more, path=PROD)
    assert found.kind == "rejected-list"
    assert found.startswith(f"the branch changes other entries of {REJECTED_PATH} — a rollback may only add ")
    assert "may only add fraud-detector 1.4.2; re-run `promobot rollback fraud-detector --env prod`" in found
    broken = commit_to(people.repo, ROLLBACK_BRANCH, {REJECTED_PATH: "rejected: {oops"})
    (unreadable,) = rollback_blockers(ctx, state=pc.state, base_sha=base, head_sha=broken, path=PROD)
    assert unreadable.kind == "rejected-list" and unreadable.startswith(
        f"{REJECTED_PATH} on the branch does not load"
    )


def load_head_rejections(cli: Cli) -> list[tuple[str, str]]:
    text = git(cli.repo, "show", f"{ROLLBACK_BRANCH}:{REJECTED_PATH}") + "\n"
    return [(r.model, r.version) for r in load_rejected(text)]


def test_a_reject_or_unreject_branch_must_change_exactly_its_own_entry(cli: Cli) -> None:
    ctx = local_context(cli.repo)
    base = ctx.tip()
    reject = PrState("reject", "fraud-detector", "", "1.5.0")
    good = rejected_yaml(("fraud-detector", "1.5.0")).encode()

    def blockers(state: PrState, new: bytes, base_sha: str = base) -> list[tuple[BlockerKind, str]]:
        found = rejection_content_blockers(ctx, state=state, base_sha=base_sha, head_sha=None, new_text=new)
        return [(b.kind, str(b)) for b in found]

    assert blockers(reject, good) == []
    assert rejection_entry(ctx, reject, good, None) == Rejection(
        "fraud-detector", "1.5.0", "bad", "sam", "2026-11-20T10:00:00Z"
    )
    assert blockers(reject, b"rejected: []\n") == [
        (
            "rejected-list",
            f"the branch does not add fraud-detector 1.5.0 to {REJECTED_PATH} — re-run promobot reject",
        )
    ]
    widened = rejected_yaml(("fraud-detector", "1.5.0"), ("spam-filter", "3.2.0")).encode()
    assert kinds(
        rejection_content_blockers(ctx, state=reject, base_sha=base, head_sha=None, new_text=widened)
    ) == ["rejected-list"]
    assert blockers(reject, b"rejected: [")[0][1].startswith(f"{REJECTED_PATH} on the branch does not load")

    unreject = reject._replace(action="unreject")
    assert blockers(unreject, b"rejected: []\n") == [
        ("rejected-list", "fraud-detector 1.5.0 is not rejected on main — /cancel this pull request")
    ]
    (cli.repo / REJECTED_PATH).write_text(good.decode())
    rejected_base = commit_all(cli.repo, "reject 1.5.0 by hand")
    assert blockers(unreject, b"rejected: []\n", rejected_base) == []
    assert [k for k, _ in blockers(reject, good, rejected_base)] == ["rejected-list"]  # already rejected
