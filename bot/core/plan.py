"""Decide, purely, what a use case will do: a list of actions the app then applies.

``--dry-run`` renders the same list instead of applying it, so what a dry run shows
is exactly what a real run does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.core.model import CHECK_APPROVALS, CHECK_GATES, CHECK_READY, GateOutcome, PullRequest

HEAD = "@head"
"""Placeholder for the SHA of the commit a plan writes (known only once applied)."""

# --------------------------------------------------------------------------- actions


@dataclass(frozen=True, slots=True)
class WriteCommit:
    """Write a commit on ``parent`` changing ``files``; its SHA becomes ``@head``."""

    parent: str
    files: Mapping[str, bytes | None]
    message: str
    author: str | None = None

    def describe(self) -> str:
        paths = ", ".join(sorted(self.files))
        return f"commit on {self.parent[:12]}: {self.message.splitlines()[0]} ({paths})"


@dataclass(frozen=True, slots=True)
class MoveBranch:
    branch: str
    sha: str
    expected: str | None
    force: bool = False

    def describe(self) -> str:
        verb = "create" if self.expected is None else ("reset" if self.force else "fast-forward")
        return f"{verb} branch {self.branch} → {self.sha[:12] if self.sha != HEAD else 'the new commit'}"


@dataclass(frozen=True, slots=True)
class OpenPr:
    head: str
    base: str
    title: str
    body: str
    labels: tuple[str, ...]

    def describe(self) -> str:
        return (
            f"open pull request {self.head} → {self.base}: {self.title!r} (labels: {', '.join(self.labels)})"
        )


@dataclass(frozen=True, slots=True)
class UpdatePr:
    number: int
    title: str | None
    body: str | None

    def describe(self) -> str:
        what = [w for w, v in (("title", self.title), ("body", self.body)) if v is not None]
        return f"update pull request #{self.number} ({', '.join(what)})"


@dataclass(frozen=True, slots=True)
class AddLabels:
    number: int | None
    """None: the PR opened by this plan."""
    labels: tuple[str, ...]

    def describe(self) -> str:
        return f"label {'the new PR' if self.number is None else f'#{self.number}'}: {', '.join(self.labels)}"


@dataclass(frozen=True, slots=True)
class SetCheck:
    sha: str
    name: str
    result: GateOutcome
    title: str
    summary: str
    record: str | None = None
    """promobot's write record (``marker.render_record``) for a commit the plan writes."""

    def describe(self) -> str:
        on = "the new commit" if self.sha == HEAD else self.sha[:12]
        return f"check {self.name} = {self.result} on {on}: {self.title}"


Action = WriteCommit | MoveBranch | OpenPr | UpdatePr | AddLabels | SetCheck


@dataclass(frozen=True, slots=True)
class Checks:
    """The three check results for a PR head, with their titles and summaries."""

    gates: tuple[GateOutcome, str, str]
    approvals: tuple[GateOutcome, str, str]
    ready: tuple[GateOutcome, str, str]

    def actions(self, sha: str, *, record: str | None = None) -> list[SetCheck]:
        """The three checks on ``sha``; ``record`` (each carries it) when the plan wrote ``sha``."""
        return [
            SetCheck(sha, CHECK_GATES, *self.gates, record=record),
            SetCheck(sha, CHECK_APPROVALS, *self.approvals, record=record),
            SetCheck(sha, CHECK_READY, *self.ready, record=record),
        ]


@dataclass(frozen=True, slots=True)
class BranchState:
    """What the forge and git say about the bot's branch for this promotion."""

    sha: str | None
    """Tip of the branch, None when it does not exist."""
    content: bytes | None = None
    """The target manifest on the branch tip."""
    only_bot_change: bool = False
    """The branch is one commit promobot wrote (its write record says so) on a commit of the
    default branch (its tip, or an earlier one when only other files moved on since), touching
    only the target manifest."""
    pr: PullRequest | None = None

    def carries(self, content: bytes) -> bool:
        """The branch already holds exactly ``content`` as the bot's one commit: keep its head."""
        return self.sha is not None and self.content == content and self.only_bot_change


@dataclass(frozen=True, slots=True)
class PromotionPlan:
    actions: list[Action] = field(default_factory=list)
    created: bool = False
    commit_needed: bool = False
    nothing_to_do: str | None = None


def plan_pr_update(
    *,
    branch: str,
    base_branch: str,
    base_sha: str,
    path: str,
    new_text: bytes,
    extra_files: Mapping[str, bytes | None] | None = None,
    message: str,
    author: str | None,
    title: str,
    body: str,
    labels: Sequence[str],
    state: BranchState,
    checks: Checks,
    record: str,
) -> PromotionPlan:
    """Open or refresh the one PR for ``branch`` so that it carries ``new_text`` at ``path``.

    The branch is rebuilt from ``base_sha`` only when its content differs (or it has
    foreign commits); an unchanged branch gets no commit, and an existing PR no second PR.
    The checks of a commit the plan writes carry ``record`` (promobot's write record).
    """
    actions: list[Action] = []
    files: dict[str, bytes | None] = {path: new_text, **(extra_files or {})}
    up_to_date = state.carries(new_text) and not extra_files
    head = state.sha if up_to_date and state.sha else HEAD
    if not up_to_date:
        actions.append(WriteCommit(base_sha, files, message, author))
        actions.append(MoveBranch(branch, HEAD, state.sha, force=state.sha is not None))
    pr = state.pr
    if pr is None:
        actions.append(OpenPr(branch, base_branch, title, body, tuple(labels)))
    else:
        actions.append(
            UpdatePr(pr.number, title if pr.title != title else None, body if pr.body != body else None)
        )
        missing = tuple(label for label in labels if label not in pr.labels)
        if missing:
            actions.append(AddLabels(pr.number, missing))
    actions.extend(checks.actions(head, record=None if up_to_date else record))
    return PromotionPlan(actions=actions, created=pr is None, commit_needed=not up_to_date)


def describe(actions: Sequence[Action]) -> list[str]:
    return [
        a.describe() for a in actions if not (isinstance(a, UpdatePr) and a.title is None and a.body is None)
    ]
