"""Tests for bot.core.approvals: every reference §5 rule, with the reason each decision gives."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pytest

from bot.core.approvals import (
    ApprovalInputs,
    ApprovalVerdict,
    Ignored,
    count_approvals,
    logins_to_check,
    teams_to_resolve,
)
from bot.core.model import Permission, Review, ReviewState
from bot.core.policy_model import ApprovalPolicy

HEAD = "c0ffee1" + "0" * 33
OLD = "deadbee" + "f" * 33  # the head before a plain push
FORCED = "f0f0f0f" + "1" * 33  # the head before a force-push (not an ancestor of HEAD)
BOT = "promobot[bot]"

_ids = itertools.count(1)


def review(login: str, state: ReviewState, sha: str = HEAD, *, is_bot: bool = False) -> Review:
    return Review(id=next(_ids), login=login, state=state, commit_id=sha, is_bot=is_bot)


DEFAULT_PERMISSIONS: Mapping[str, Permission] = {
    "alice": Permission.WRITE,
    "bob": Permission.WRITE,
    "carol": Permission.MAINTAIN,
    "dave": Permission.READ,
    "erin": Permission.ADMIN,
    "rita": Permission.WRITE,
    "paul": Permission.WRITE,
    "renovate[bot]": Permission.WRITE,
    BOT: Permission.WRITE,
}


def inputs(
    reviews: Sequence[Review],
    *,
    required: int = 1,
    approvers: tuple[str, ...] = (),
    author: str = BOT,
    requester: str | None = "rita",
    pushers: frozenset[str] = frozenset({BOT}),
    team_members: Mapping[str, frozenset[str]] | None = None,
    permissions: Mapping[str, Permission] | None = None,
    head_sha: str = HEAD,
) -> ApprovalInputs:
    return ApprovalInputs(
        reviews=reviews,
        head_sha=head_sha,
        author=author,
        requester=requester,
        pushers=pushers,
        bot_login=BOT,
        policy=ApprovalPolicy(required=required, approvers=approvers),
        team_members=team_members or {},
        permissions=DEFAULT_PERMISSIONS if permissions is None else permissions,
    )


@dataclass(frozen=True)
class Case:
    id: str
    reviews: list[Review]
    counted: tuple[str, ...] = ()
    ignored: tuple[tuple[str, str], ...] = ()
    blocking: tuple[tuple[str, str], ...] = ()
    satisfied: bool = False
    options: dict[str, object] = field(default_factory=dict)


CASES = [
    Case("approval-on-head-counts", [review("alice", "APPROVED")], counted=("alice",), satisfied=True),
    Case(
        "approved-then-changes-requested-is-not-an-approval",
        [review("alice", "APPROVED"), review("alice", "CHANGES_REQUESTED")],
        blocking=(("alice", "requested changes"),),
    ),
    Case(
        "changes-requested-then-approved-is-an-approval",
        [review("alice", "CHANGES_REQUESTED"), review("alice", "APPROVED")],
        counted=("alice",),
        satisfied=True,
    ),
    Case(
        "commented-after-approval-does-not-revoke",
        [review("alice", "APPROVED"), review("alice", "COMMENTED")],
        counted=("alice",),
        satisfied=True,
    ),
    Case(
        "commented-after-changes-requested-still-blocks",
        [review("alice", "CHANGES_REQUESTED"), review("alice", "COMMENTED")],
        blocking=(("alice", "requested changes"),),
    ),
    Case("only-commented-is-ignored", [review("alice", "COMMENTED")], ignored=(("alice", "only commented"),)),
    Case(
        "dismissed-approval-counts-as-nothing",
        [review("alice", "DISMISSED")],
        ignored=(("alice", "review dismissed"),),
    ),
    Case(
        "dismissed-latest-review-hides-an-earlier-approval",
        [review("alice", "APPROVED"), review("alice", "DISMISSED")],
        ignored=(("alice", "review dismissed"),),
    ),
    Case(
        "dismissed-change-request-unblocks",
        [review("alice", "CHANGES_REQUESTED"), review("alice", "DISMISSED"), review("bob", "APPROVED")],
        counted=("bob",),
        ignored=(("alice", "review dismissed"),),
        satisfied=True,
    ),
    Case(
        "approval-after-dismissal-counts",
        [review("alice", "DISMISSED"), review("alice", "APPROVED")],
        counted=("alice",),
        satisfied=True,
    ),
    Case(
        "approval-of-an-older-commit-after-a-push-is-stale",
        [review("alice", "APPROVED", OLD)],
        ignored=(("alice", "approved an older commit (deadbee)"),),
    ),
    Case(
        "approval-before-a-force-push-is-stale",
        [review("alice", "APPROVED", FORCED)],
        ignored=(("alice", "approved an older commit (f0f0f0f)"),),
    ),
    Case(
        "re-approval-on-the-new-head-counts",
        [review("alice", "APPROVED", OLD), review("alice", "APPROVED")],
        counted=("alice",),
        satisfied=True,
    ),
    Case(
        "comment-on-head-does-not-refresh-a-stale-approval",
        [review("alice", "APPROVED", OLD), review("alice", "COMMENTED")],
        ignored=(("alice", "approved an older commit (deadbee)"),),
    ),
    Case(
        "the-pr-author-does-not-count",
        [review("alice", "APPROVED")],
        ignored=(("alice", "author"),),
        options={"author": "Alice"},
    ),
    Case(
        "the-requester-does-not-count",
        [review("rita", "APPROVED")],
        ignored=(("rita", "requested this promotion"),),
    ),
    Case(
        "the-requester-is-matched-case-insensitively",
        [review("RiTa", "APPROVED")],
        ignored=(("RiTa", "requested this promotion"),),
    ),
    Case(
        "no-requester-excludes-nobody",
        [review("rita", "APPROVED")],
        counted=("rita",),
        satisfied=True,
        options={"requester": None},
    ),
    Case(
        "a-review-flagged-as-bot-does-not-count",
        [review("ci-helper", "APPROVED", is_bot=True)],
        ignored=(("ci-helper", "bot account"),),
        options={"permissions": {"ci-helper": Permission.ADMIN}},
    ),
    Case(
        "a-bot-suffixed-login-does-not-count",
        [review("renovate[bot]", "APPROVED")],
        ignored=(("renovate[bot]", "bot account"),),
    ),
    Case(
        "the-bot-itself-does-not-count",
        [review(BOT, "APPROVED")],
        ignored=((BOT, "the bot itself"),),
    ),
    Case(
        "the-bot-login-without-suffix-is-the-bot-itself",
        [review("promobot", "APPROVED")],
        ignored=(("promobot", "the bot itself"),),
        options={"permissions": {"promobot": Permission.ADMIN}},
    ),
    Case(
        "someone-who-pushed-to-the-pr-does-not-count",
        [review("paul", "APPROVED")],
        ignored=(("paul", "pushed commits to this PR"),),
        options={"pushers": frozenset({BOT, "paul"})},
    ),
    Case(
        "pushers-are-matched-case-insensitively",
        [review("Paul", "APPROVED")],
        ignored=(("Paul", "pushed commits to this PR"),),
        options={"pushers": frozenset({"PAUL"})},
    ),
    Case(
        "the-bots-own-pushes-disqualify-nobody",
        [review("alice", "APPROVED"), review("bob", "APPROVED")],
        counted=("alice", "bob"),
        satisfied=True,
        options={"pushers": frozenset({BOT}), "required": 2},
    ),
    Case(
        "a-reviewer-not-in-approvers-is-not-eligible",
        [review("alice", "APPROVED")],
        ignored=(("alice", "not an eligible approver"),),
        options={"approvers": ("carol",)},
    ),
    Case(
        "a-listed-approver-counts-case-insensitively",
        [review("CAROL", "APPROVED")],
        counted=("CAROL",),
        satisfied=True,
        options={"approvers": ("Carol",)},
    ),
    Case(
        "a-member-of-a-listed-team-counts",
        [review("Bob", "APPROVED")],
        counted=("Bob",),
        satisfied=True,
        options={"approvers": ("@Acme/ML-Leads",), "team_members": {"@acme/ml-leads": frozenset({"bob"})}},
    ),
    Case(
        "a-team-the-app-could-not-resolve-has-no-members",
        [review("bob", "APPROVED")],
        ignored=(("bob", "not an eligible approver"),),
        options={"approvers": ("@acme/ml-leads",)},
    ),
    Case(
        "a-listed-approver-who-lost-write-permission-does-not-count",
        [review("dave", "APPROVED")],
        ignored=(("dave", "listed as an approver but has read permission, not write"),),
        options={"approvers": ("dave",)},
    ),
    Case(
        "without-approvers-read-permission-is-not-enough",
        [review("dave", "APPROVED")],
        ignored=(("dave", "needs write permission (has read)"),),
    ),
    Case(
        "unknown-permission-fails-closed",
        [review("mallory", "APPROVED")],
        ignored=(("mallory", "needs write permission (has none)"),),
    ),
    Case(
        "same-person-in-two-spellings-counts-once",
        [review("Alice", "APPROVED"), review("alice", "APPROVED")],
        counted=("Alice",),
        options={"required": 2},
    ),
    Case(
        "a-later-change-request-under-another-spelling-blocks",
        [review("Alice", "APPROVED"), review("alice", "CHANGES_REQUESTED")],
        blocking=(("Alice", "requested changes"),),
    ),
    Case(
        "an-eligible-change-request-blocks-despite-enough-approvals",
        [review("alice", "APPROVED"), review("bob", "CHANGES_REQUESTED")],
        counted=("alice",),
        blocking=(("bob", "requested changes"),),
    ),
    Case(
        "a-change-request-on-an-older-commit-still-blocks",
        [review("bob", "CHANGES_REQUESTED", OLD), review("alice", "APPROVED")],
        counted=("alice",),
        blocking=(("bob", "requested changes (on an older commit deadbee)"),),
    ),
    Case(
        "an-ineligible-change-request-does-not-block",
        [review("dave", "CHANGES_REQUESTED"), review("alice", "APPROVED")],
        counted=("alice",),
        ignored=(("dave", "requested changes, ignored: needs write permission (has read)"),),
        satisfied=True,
    ),
    Case(
        "an-unlisted-change-request-does-not-block",
        [review("alice", "CHANGES_REQUESTED"), review("carol", "APPROVED")],
        counted=("carol",),
        ignored=(("alice", "requested changes, ignored: not an eligible approver"),),
        satisfied=True,
        options={"approvers": ("carol",)},
    ),
    Case(
        "a-bot-change-request-does-not-block",
        [review("renovate[bot]", "CHANGES_REQUESTED"), review("alice", "APPROVED")],
        counted=("alice",),
        ignored=(("renovate[bot]", "requested changes, ignored: bot account"),),
        satisfied=True,
    ),
    Case(
        "an-eligible-requester-who-requests-changes-blocks",
        [review("rita", "CHANGES_REQUESTED"), review("alice", "APPROVED")],
        counted=("alice",),
        blocking=(("rita", "requested changes"),),
    ),
    Case("zero-required-with-no-reviews-is-satisfied", [], satisfied=True, options={"required": 0}),
    Case(
        "zero-required-is-not-satisfied-while-blocked",
        [review("bob", "CHANGES_REQUESTED")],
        blocking=(("bob", "requested changes"),),
        options={"required": 0},
    ),
    Case("no-reviews-do-not-satisfy-one-required", [], satisfied=False),
    Case(
        "a-pending-review-is-ignored-entirely",
        [review("alice", "PENDING")],
    ),
    Case(
        "a-pending-review-after-an-approval-changes-nothing",
        [review("alice", "APPROVED"), review("alice", "PENDING", OLD)],
        counted=("alice",),
        satisfied=True,
    ),
    Case(
        "a-review-without-a-login-is-ignored",
        [review("", "APPROVED"), review("alice", "APPROVED")],
        counted=("alice",),
        satisfied=True,
    ),
    Case(
        "two-required-and-one-counted-is-not-enough",
        [review("alice", "APPROVED"), review("bob", "APPROVED", OLD)],
        counted=("alice",),
        ignored=(("bob", "approved an older commit (deadbee)"),),
        options={"required": 2},
    ),
    Case(
        "two-required-and-two-counted-is-enough",
        [review("alice", "APPROVED"), review("erin", "APPROVED"), review("dave", "APPROVED")],
        counted=("alice", "erin"),
        ignored=(("dave", "needs write permission (has read)"),),
        satisfied=True,
        options={"required": 2},
    ),
    Case(
        "ineligibility-is-reported-before-staleness",
        [review("dave", "APPROVED", OLD)],
        ignored=(("dave", "needs write permission (has read)"),),
    ),
    Case(
        "being-the-author-is-reported-before-ineligibility",
        [review("dave", "APPROVED")],
        ignored=(("dave", "author"),),
        options={"author": "dave"},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_approval_rules(case: Case) -> None:
    verdict = count_approvals(inputs(case.reviews, **case.options))  # type: ignore[arg-type]
    assert verdict.counted == case.counted
    assert verdict.ignored == tuple(Ignored(login, reason) for login, reason in case.ignored)
    assert verdict.blocking == tuple(Ignored(login, reason) for login, reason in case.blocking)
    assert verdict.satisfied is case.satisfied


def test_many_reviews_are_all_read() -> None:
    reviews: list[Review] = []
    permissions = {}
    for i in range(50):
        login = f"user{i:02d}"
        permissions[login] = Permission.WRITE
        reviews += [
            review(login, "COMMENTED"),
            review(login, "CHANGES_REQUESTED", OLD),
            review(login, "APPROVED", HEAD if i % 2 == 0 else OLD),
        ]
    reviews += [review(f"user{i:02d}", "PENDING", OLD) for i in range(10)]
    assert len(reviews) == 160

    verdict = count_approvals(inputs(reviews, required=25, permissions=permissions))

    assert verdict.counted == tuple(f"user{i:02d}" for i in range(0, 50, 2))
    assert verdict.ignored == tuple(
        Ignored(f"user{i:02d}", "approved an older commit (deadbee)") for i in range(1, 50, 2)
    )
    assert verdict.blocking == ()
    assert verdict.satisfied


def test_the_last_of_many_reviews_by_one_person_decides() -> None:
    states: list[ReviewState] = ["APPROVED", "CHANGES_REQUESTED", "COMMENTED"] * 60
    reviews = [review("alice", s) for s in states] + [review("alice", "APPROVED")]

    verdict = count_approvals(inputs(reviews))

    assert verdict.counted == ("alice",)
    assert verdict.satisfied


def test_summary_lines_list_counted_then_blocking_then_ignored() -> None:
    verdict = count_approvals(
        inputs(
            [
                review("bob", "APPROVED", OLD),
                review("alice", "APPROVED"),
                review("carol", "CHANGES_REQUESTED"),
            ],
            required=2,
        )
    )

    assert verdict.summary_lines() == [
        "alice: counted",
        "carol: requested changes",
        "bob: approved an older commit (deadbee)",
    ]


def test_summary_lines_are_empty_without_reviews() -> None:
    assert count_approvals(inputs([])).summary_lines() == []


def test_missing_says_how_many_more_approvals_are_needed() -> None:
    verdict = ApprovalVerdict(required=3, counted=("alice",), ignored=(), blocking=())
    assert verdict.missing == 2
    assert ApprovalVerdict(required=1, counted=("a", "b"), ignored=(), blocking=()).missing == 0


def test_logins_to_check_are_humans_whose_latest_review_decides_something() -> None:
    reviews = [
        review("Alice", "APPROVED"),
        review("BOB", "CHANGES_REQUESTED", OLD),
        review("carol", "COMMENTED"),
        review("dave", "APPROVED"),
        review("dave", "DISMISSED"),
        review("erin", "PENDING"),
        review("renovate[bot]", "APPROVED"),
        review("helper", "APPROVED", is_bot=True),
    ]
    assert logins_to_check(reviews) == {"alice", "bob"}


def test_teams_to_resolve_are_the_lower_cased_team_entries_of_approvers() -> None:
    policy = ApprovalPolicy(required=2, approvers=("@Acme/ML-Leads", "carol", "@acme/sre", "Acme/Infra"))
    assert teams_to_resolve(policy) == {"@acme/ml-leads", "@acme/sre", "@acme/infra"}


def test_no_teams_to_resolve_without_team_approvers() -> None:
    assert teams_to_resolve(ApprovalPolicy(required=1, approvers=("carol",))) == set()
