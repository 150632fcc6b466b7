"""Readiness: the typed blockers of a promobot pull request and the three checks built from them.

A blocker is a line a person reads ("gate soak: pending — …") that also says what kind of
thing blocks (:class:`BlockerKind`), so code decides on the kind and never on the wording:
``promobot diff`` leaves out the approval blockers a new PR always has, for instance. A
:class:`Blocker` is a ``str`` (the line itself), so JSON output and replies stay plain text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from bot.core import gates as gates_core
from bot.core import inline, render
from bot.core.approvals import ApprovalVerdict
from bot.core.messages import approvals_text
from bot.core.model import GateOutcome, GateResult
from bot.core.plan import Checks

BlockerKind = Literal[
    "state",  # closed, merged or a draft
    "hold",  # the hold label
    "fork",  # the head branch is in a fork
    "gate",  # a gate that did not pass
    "changes-requested",  # a reviewer's change request
    "approvals",  # not enough approvals yet
    "impostor-check",  # a check with promobot's name posted by someone else
    "foreign-commits",  # commits promobot did not write on its branch
    "scope",  # files outside what the PR may change
    "stale",  # a rollback of a version the environment no longer runs
    "rejected-list",  # rejected.yaml on the branch does not load or changes other entries
]


class Blocker(str):
    """One reason a PR cannot merge now: the line people read, with its :attr:`kind`."""

    kind: BlockerKind

    def __new__(cls, kind: BlockerKind, text: str) -> Blocker:
        made = super().__new__(cls, text)
        made.kind = kind
        return made


def without(blockers: Sequence[str], *kinds: BlockerKind) -> list[str]:
    """The blockers not of ``kinds``."""
    return [b for b in blockers if not (isinstance(b, Blocker) and b.kind in kinds)]


def make_checks(results: Sequence[GateResult], verdict: ApprovalVerdict, blockers: Sequence[str]) -> Checks:
    """The ``promobot/gates``, ``promobot/approvals`` and ``promobot/ready`` checks (reference §6)."""
    outcome = gates_core.overall(results)
    failing = [r for r in results if r.result != "success"]
    gates_title = (
        f"{len(results)} gates passed"
        if outcome == "success"
        else f"{len(failing)} of {len(results)} gates {outcome}: " + ", ".join(r.name for r in failing[:4])
    )
    appr_outcome: GateOutcome = (
        "success" if verdict.satisfied else ("failure" if verdict.blocking else "pending")
    )
    appr_title = f"{len(verdict.counted)} of {verdict.required} approvals"
    if verdict.blocking:
        appr_title += f", {len(verdict.blocking)} change request(s)"
    ready: GateOutcome = "success" if not blockers else ("pending" if outcome != "failure" else "failure")
    ready_title = "ready to merge" if not blockers else f"{len(blockers)} blocker(s): {blockers[0]}"[:140]
    ready_summary = (
        "Ready: `/promote` merges it."
        if not blockers
        else render.bullet_list(inline.plain(b) for b in blockers)
    )
    return Checks(
        gates=(outcome, gates_title, render.gates_details(results)),
        approvals=(appr_outcome, appr_title, approvals_text(verdict)),
        ready=(ready, ready_title, ready_summary),
    )
