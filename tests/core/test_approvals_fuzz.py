"""Property tests for bot.core.approvals: invariants that must hold for any reviews and policy."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.approvals import ApprovalInputs, count_approvals, logins_to_check
from bot.core.model import Permission, Review, ReviewState
from bot.core.policy_model import ApprovalPolicy

HEAD = "c0ffee1" + "0" * 33
SHAS = [HEAD, "deadbee" + "f" * 33, "f0f0f0f" + "1" * 33]
BOT = "promobot[bot]"
LOGINS = [
    "alice",
    "Alice",
    "bob",
    "BOB",
    "carol",
    "dave",
    "rita",
    "Rita",
    "paul",
    BOT,
    "renovate[bot]",
    "helper",
]
PEOPLE = sorted({name.lower() for name in LOGINS})
STATES: list[ReviewState] = ["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"]
TEAM = "@acme/leads"

reviews_st = st.lists(
    st.builds(
        Review,
        id=st.integers(min_value=1, max_value=10_000),
        login=st.sampled_from(LOGINS),
        state=st.sampled_from(STATES),
        commit_id=st.sampled_from(SHAS),
        is_bot=st.sampled_from([False, False, False, True]),
    ),
    max_size=40,
)

inputs_st = st.builds(
    ApprovalInputs,
    reviews=reviews_st,
    head_sha=st.just(HEAD),
    author=st.sampled_from([BOT, *LOGINS]),
    requester=st.none() | st.sampled_from(LOGINS),
    pushers=st.frozensets(st.sampled_from(PEOPLE), max_size=4),
    bot_login=st.just(BOT),
    policy=st.builds(
        ApprovalPolicy,
        required=st.integers(min_value=0, max_value=4),
        approvers=st.lists(st.sampled_from([*LOGINS, TEAM]), max_size=4).map(tuple),
    ),
    team_members=st.dictionaries(
        st.just(TEAM), st.frozensets(st.sampled_from(PEOPLE), max_size=5), max_size=1
    ),
    permissions=st.dictionaries(st.sampled_from(PEOPLE), st.sampled_from(list(Permission)), max_size=12),
)


def _latest_decisive(reviews: Sequence[Review], login: str) -> Review | None:
    """The reviewer's last review that is neither COMMENTED nor PENDING (independent re-statement)."""
    mine = [
        r for r in reviews if r.login.lower() == login.lower() and r.state not in ("COMMENTED", "PENDING")
    ]
    return mine[-1] if mine else None


@settings(max_examples=300, deadline=None)
@given(inputs_st)
def test_counted_approvals_obey_every_rule(inp: ApprovalInputs) -> None:
    verdict = count_approvals(inp)
    counted = [c.lower() for c in verdict.counted]
    reviewers = {r.login.lower() for r in inp.reviews if r.state != "PENDING"}
    bots = {r.login.lower() for r in inp.reviews if r.is_bot or r.login.lower().endswith("[bot]")}

    assert set(counted) <= reviewers
    assert len(counted) == len(set(counted)), "one person counts once"
    assert inp.author.lower() not in counted
    if inp.requester is not None:
        assert inp.requester.lower() not in counted
    assert not set(counted) & bots
    assert BOT not in counted
    assert not set(counted) & inp.pushers
    for login in counted:
        latest = _latest_decisive(inp.reviews, login)
        assert latest is not None
        assert latest.state == "APPROVED"
        assert latest.commit_id == inp.head_sha
        assert inp.permissions.get(login, Permission.NONE) >= Permission.WRITE
    for blocker in verdict.blocking:
        latest = _latest_decisive(inp.reviews, blocker.login)
        assert latest is not None and latest.state == "CHANGES_REQUESTED"


@settings(max_examples=300, deadline=None)
@given(inputs_st)
def test_every_reviewer_gets_exactly_one_decision_with_a_reason(inp: ApprovalInputs) -> None:
    verdict = count_approvals(inp)
    decided = [c.lower() for c in verdict.counted]
    decided += [i.login.lower() for i in (*verdict.ignored, *verdict.blocking)]

    assert sorted(decided) == sorted({r.login.lower() for r in inp.reviews if r.state != "PENDING"})
    assert all(i.reason for i in (*verdict.ignored, *verdict.blocking))
    assert len(verdict.summary_lines()) == len(decided)


@settings(max_examples=300, deadline=None)
@given(inputs_st)
def test_satisfied_means_enough_approvals_and_no_blockers(inp: ApprovalInputs) -> None:
    verdict = count_approvals(inp)

    assert verdict.required == inp.policy.required
    assert verdict.satisfied == (len(verdict.counted) >= inp.policy.required and not verdict.blocking)
    if verdict.satisfied:
        assert len(verdict.counted) >= verdict.required


@settings(max_examples=300, deadline=None)
@given(inputs_st)
def test_only_checked_logins_can_count_or_block(inp: ApprovalInputs) -> None:
    verdict = count_approvals(inp)
    checked = logins_to_check(inp.reviews)

    assert {c.lower() for c in verdict.counted} <= checked
    assert {b.login.lower() for b in verdict.blocking} <= checked
