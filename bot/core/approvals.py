"""Approval counting: PR reviews + approval policy + head SHA → an ``ApprovalVerdict`` (reference §5).

Pure: the app fetches reviews, pushers, team members and permissions through the forge
(``logins_to_check`` and ``teams_to_resolve`` say what to fetch) and hands them in.

The rules, in the order they are applied to each reviewer (logins compare
case-insensitively; a reviewer is shown with the spelling of their first review):

1. ``PENDING`` reviews (drafts nobody else can see) are ignored entirely, as are
   reviews without a login.
2. The reviewer's **latest review that is not** ``COMMENTED`` decides. A reviewer who
   only commented is listed as ignored ("only commented"). A ``DISMISSED`` latest
   review counts as nothing ("review dismissed"), even when an earlier review
   approved.
3. Who the reviewer is: the bot itself ("the bot itself"), any bot account — a review
   flagged ``is_bot`` or a login ending in ``[bot]`` ("bot account") —, the PR author
   ("author"), the promotion's requester ("requested this promotion") and anyone who
   pushed a commit to the PR ("pushed commits to this PR"; the bot's own pushes never
   disqualify anyone else) never count.
4. Eligibility now. With a non-empty ``approvers`` list the reviewer must be listed,
   directly or through a listed ``@org/team`` ("not an eligible approver"), **and**
   still have write permission or more ("listed as an approver but has read permission,
   not write"): a listed approver whose access was cut back must not keep approving. With an empty
   list the reviewer needs write permission or more ("needs write permission (has
   read)"). A login missing from ``permissions`` has ``NONE``, and a team missing
   from ``team_members`` has no members (fail closed).
5. An ``APPROVED`` review counts only on the current head SHA ("approved an older
   commit (abc1234)"); a push or a force-push makes it stale alike.
6. A ``CHANGES_REQUESTED`` latest review blocks — whatever commit it was given on,
   as on GitHub, until that reviewer approves or the review is dismissed — when the
   reviewer is eligible (rule 4) and not a bot. The author, the requester or a
   pusher who is otherwise eligible **does** block: their approval must not count,
   but their "stop" is worth honouring, and they can lift it themselves. Change
   requests from bots or ineligible reviewers are listed as ignored.

``required == 0`` is satisfied whenever nothing blocks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.core import identity
from bot.core.model import Permission, Review
from bot.core.policy_model import ApprovalPolicy

_DECISIVE = frozenset({"APPROVED", "CHANGES_REQUESTED", "DISMISSED"})

COUNTED = "counted"


@dataclass(frozen=True, slots=True)
class ApprovalInputs:
    """Everything ``count_approvals`` needs, already fetched by the app."""

    reviews: Sequence[Review]
    """Every review of the PR in submission order (oldest first)."""
    head_sha: str
    author: str
    requester: str | None
    """Who ran ``promote`` / ``/rollback`` / the ``workflow_dispatch`` (from the PR state marker)."""
    pushers: frozenset[str]
    """Lower-case logins of the authors/committers of the PR's commits."""
    bot_login: str
    policy: ApprovalPolicy
    team_members: Mapping[str, frozenset[str]]
    """``"@org/team"`` (lower-case) → lower-case member logins."""
    permissions: Mapping[str, Permission]
    """Lower-case login → current repository permission."""


@dataclass(frozen=True, slots=True)
class Ignored:
    """A reviewer who did not count (or who blocks), and why."""

    login: str
    reason: str


@dataclass(frozen=True, slots=True)
class ApprovalVerdict:
    """The outcome of counting: who counted, who did not and why, and who blocks."""

    required: int
    counted: tuple[str, ...]
    ignored: tuple[Ignored, ...]
    blocking: tuple[Ignored, ...]
    """``CHANGES_REQUESTED`` latest reviews by eligible reviewers."""

    @property
    def satisfied(self) -> bool:
        return len(self.counted) >= self.required and not self.blocking

    @property
    def missing(self) -> int:
        """How many more approvals are needed (0 when enough counted; blockers aside)."""
        return max(0, self.required - len(self.counted))

    def summary_lines(self) -> list[str]:
        """One ``"login: reason"`` line per reviewer: counted first, then blockers, then the ignored.

        Empty when nobody reviewed; the caller renders the "n of m" headline from the fields.
        """
        lines = [f"{login}: {COUNTED}" for login in self.counted]
        lines += [f"{b.login}: {b.reason}" for b in self.blocking]
        lines += [f"{i.login}: {i.reason}" for i in self.ignored]
        return lines


# --------------------------------------------------------------------------- helpers


def _short(sha: str) -> str:
    return sha[:7]


def _is_team(name: str) -> bool:
    return "/" in name


def _team_key(name: str) -> str:
    """``"Acme/ML-Leads"`` or ``"@acme/ml-leads"`` → ``"@acme/ml-leads"``."""
    return "@" + name.strip().lstrip("@").lower()


@dataclass(slots=True)
class _Reviewer:
    display: str
    is_bot: bool
    decisive: Review | None = None


def _latest_by_reviewer(reviews: Sequence[Review]) -> dict[str, _Reviewer]:
    """Lower-case login → reviewer with their latest non-COMMENTED review, in first-seen order."""
    by_login: dict[str, _Reviewer] = {}
    # Being a bot is a property of the account: any review flagged so marks the login (fail closed),
    # PENDING ones included.
    bots = {r.login.strip().lower() for r in reviews if r.is_bot}
    for review in reviews:
        if review.state == "PENDING" or not review.login.strip():
            continue
        key = review.login.strip().lower()
        reviewer = by_login.get(key)
        if reviewer is None:
            reviewer = by_login[key] = _Reviewer(display=review.login.strip(), is_bot=False)
        reviewer.is_bot = reviewer.is_bot or key in bots or identity.is_bot_account(key)
        if review.state in _DECISIVE:
            reviewer.decisive = review
    return by_login


@dataclass(frozen=True, slots=True)
class _People:
    """The inputs' identities, normalised once: lower-case, teams keyed ``@org/team``."""

    bot_ids: frozenset[str]
    author: str
    requester: str | None
    pushers: frozenset[str]
    permissions: Mapping[str, Permission]
    approvers: frozenset[str]
    approver_teams: frozenset[str]
    team_members: Mapping[str, frozenset[str]]
    open_to_writers: bool

    @classmethod
    def from_inputs(cls, inputs: ApprovalInputs) -> _People:
        bot_ids = identity.promobot_logins(inputs.bot_login)
        approvers = inputs.policy.approvers
        return cls(
            bot_ids=bot_ids,
            author=inputs.author.strip().lower(),
            requester=None if inputs.requester is None else inputs.requester.strip().lower(),
            pushers=frozenset(p.strip().lower() for p in inputs.pushers) - bot_ids,
            permissions={k.strip().lower(): v for k, v in inputs.permissions.items()},
            approvers=frozenset(e.strip().lstrip("@").lower() for e in approvers if not _is_team(e)),
            approver_teams=frozenset(_team_key(e) for e in approvers if _is_team(e)),
            team_members={
                _team_key(k): frozenset(m.strip().lower() for m in v) for k, v in inputs.team_members.items()
            },
            open_to_writers=not approvers,
        )

    def identity_reason(self, key: str, reviewer: _Reviewer) -> str | None:
        """Why this person may never approve this PR, or None (module docstring, rule 3)."""
        if key in self.bot_ids:
            return "the bot itself"
        if reviewer.is_bot:
            return "bot account"
        if key == self.author:
            return "author"
        if key == self.requester:
            return "requested this promotion"
        if key in self.pushers:
            return "pushed commits to this PR"
        return None

    def eligibility_reason(self, key: str) -> str | None:
        """Why this person is not an eligible approver now, or None (module docstring, rule 4)."""
        permission = self.permissions.get(key, Permission.NONE)
        if self.open_to_writers:
            if permission < Permission.WRITE:
                return f"needs write permission (has {permission.label})"
            return None
        listed = key in self.approvers or any(
            key in self.team_members.get(team, frozenset()) for team in self.approver_teams
        )
        if not listed:
            return "not an eligible approver"
        if permission < Permission.WRITE:
            has = (
                "no access to this repository"
                if permission == Permission.NONE
                else f"{permission.label} permission"
            )
            return f"listed as an approver but has {has}, not write"
        return None


# --------------------------------------------------------------------------- public API


def count_approvals(inputs: ApprovalInputs) -> ApprovalVerdict:
    """Decide who counts, who is ignored and who blocks (rules in the module docstring)."""
    counted: list[str] = []
    ignored: list[Ignored] = []
    blocking: list[Ignored] = []
    people = _People.from_inputs(inputs)
    for key, reviewer in _latest_by_reviewer(inputs.reviews).items():
        who = reviewer.display
        review = reviewer.decisive
        if review is None:
            ignored.append(Ignored(who, "only commented"))
            continue
        if review.state == "DISMISSED":
            ignored.append(Ignored(who, "review dismissed"))
            continue
        identity = people.identity_reason(key, reviewer)
        eligibility = people.eligibility_reason(key)
        if review.state == "CHANGES_REQUESTED":
            if reviewer.is_bot or key in people.bot_ids:
                ignored.append(Ignored(who, f"requested changes, ignored: {identity}"))
            elif eligibility is not None:
                ignored.append(Ignored(who, f"requested changes, ignored: {eligibility}"))
            elif review.commit_id == inputs.head_sha:
                blocking.append(Ignored(who, "requested changes"))
            else:
                blocking.append(
                    Ignored(who, f"requested changes (on an older commit {_short(review.commit_id)})")
                )
            continue
        # APPROVED
        reason = identity or eligibility
        if reason is None and review.commit_id != inputs.head_sha:
            reason = f"approved an older commit ({_short(review.commit_id)})"
        if reason is None:
            counted.append(who)
        else:
            ignored.append(Ignored(who, reason))
    return ApprovalVerdict(
        required=inputs.policy.required,
        counted=tuple(counted),
        ignored=tuple(ignored),
        blocking=tuple(blocking),
    )


def logins_to_check(inputs_reviews: Sequence[Review]) -> set[str]:
    """Lower-case logins whose repository permission the app must look up.

    Only human reviewers whose latest non-COMMENTED review approves or requests changes:
    nobody else's permission can change the verdict.
    """
    return {
        key
        for key, reviewer in _latest_by_reviewer(inputs_reviews).items()
        if not reviewer.is_bot
        and reviewer.decisive is not None
        and reviewer.decisive.state in ("APPROVED", "CHANGES_REQUESTED")
    }


def teams_to_resolve(policy: ApprovalPolicy) -> set[str]:
    """The ``@org/team`` entries of ``policy.approvers``, lower-case, as ``team_members`` keys."""
    return {_team_key(entry) for entry in policy.approvers if _is_team(entry)}
