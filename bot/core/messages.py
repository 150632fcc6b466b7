"""Every commit and merge message promobot writes, and the short texts around its pull requests.

One owner for each kind of PR (promotion, rollback, reject, unreject): the commit on the
bot branch and the squash-merge on the default branch carry the same subject and trailers
(reference §10), plus ``Promobot-PR`` and ``Approved-by`` on the merge.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core import inline, render, revert, trailers
from bot.core.approvals import ApprovalVerdict
from bot.core.branches import REJECT_ACTIONS
from bot.core.marker import PrState
from bot.core.model import Rejection


def promotion_title(state: PrState) -> str:
    return f"Promote {state.model} {state.version} to {state.to}"


def promotion_message(state: PrState, *, extra: Sequence[tuple[str, str]] = ()) -> str:
    """The commit message of a promotion: its title and the promotion trailers."""
    pairs = [
        (trailers.ACTION, "promote"),
        (trailers.MODEL, state.model),
        (trailers.FROM, state.from_ or ""),
        (trailers.TO, state.to),
        (trailers.VERSION, state.version),
    ]
    if state.previous_version:
        pairs.append((trailers.PREVIOUS_VERSION, state.previous_version))
    if state.requester:
        pairs.append((trailers.REQUESTED_BY, state.requester))
    pairs.extend(extra)
    return trailers.build_message(promotion_title(state), "", pairs)


def rejection_message(
    state: PrState, entry: Rejection | None, *, extra: Sequence[tuple[str, str]] = ()
) -> str:
    """The commit (and squash-merge) message of a reject / unreject: subject, why, trailers.

    ``entry`` is the rejection added (reject) or removed (unreject), when known.
    """
    what = f"{state.model} {state.version}"
    if state.action == "reject":
        subject, body = f"Reject {what}", entry.reason if entry else ""
    else:
        subject = f"Unreject {what}"
        body = (
            f"{what} may be promoted again (it was rejected by {entry.by or 'someone'} at {entry.at}: "
            f"{entry.reason})."
            if entry
            else f"{what} may be promoted again."
        )
    pairs = [
        (trailers.ACTION, state.action),
        (trailers.MODEL, state.model),
        (trailers.VERSION, state.version),
    ]
    if state.requester:
        pairs.append((trailers.REQUESTED_BY, state.requester))
    return trailers.build_message(subject, body, [*pairs, *extra])


def rollback_pr_message(
    state: PrState, *, reverted_subject: str, reason: str | None, extra: Sequence[tuple[str, str]] = ()
) -> str:
    """The squash-merge message of a rollback PR (revert form plus trailers and ``extra``)."""
    return revert.rollback_message(
        model=state.model,
        env=state.to,
        version=state.version,
        bad_version=state.previous_version or "unknown",
        bad_sha=state.rollback_of or "",
        bad_subject=reverted_subject,
        reason=reason,
        requester=state.requester,
        extra=extra,
    )


def merge_message(
    state: PrState,
    *,
    number: int,
    approved_by: Sequence[str],
    rejection: Rejection | None = None,
    reverted_subject: str = "",
    reason: str | None = None,
) -> tuple[str, str]:
    """``(title, body)`` of the squash merge of promobot PR ``number``, whatever its kind.

    ``rejection``: the entry a reject / unreject PR adds or removes; ``reverted_subject`` and
    ``reason``: the reverted commit's subject and the rollback's reason (rollback PRs).
    """
    extra = [(trailers.PR, str(number))]
    if approved_by:
        extra.append((trailers.APPROVED_BY, ", ".join(approved_by)))
    if state.action == "promote":
        message = promotion_message(state, extra=extra)
        subject = promotion_title(state)
    elif state.action in REJECT_ACTIONS:
        message = rejection_message(state, rejection, extra=extra)
        subject = message.splitlines()[0]
    else:
        message = rollback_pr_message(state, reverted_subject=reverted_subject, reason=reason, extra=extra)
        subject = message.splitlines()[0]
    body = message.split("\n", 1)[1].lstrip("\n") if "\n" in message else ""
    return f"{subject} (#{number})", body


def rebuild_hint(state: PrState) -> str:
    """The command that rebuilds the branch of a promobot PR like ``state``'s."""
    if state.action == "rollback":
        return f"re-run `promobot rollback {state.model} --env {state.to}` to rebuild it"
    if state.action == "reject":
        return f"re-run `promobot reject {state.model} {state.version} --reason …` to rebuild it"
    if state.action == "unreject":
        return f"re-run `promobot unreject {state.model} {state.version}` to rebuild it"
    return (
        f"re-run `promobot promote {state.model} --to {state.to}` (or `/retest` after a rebuild) "
        "to rebuild it"
    )


def approvals_text(verdict: ApprovalVerdict) -> str:
    """The approvals section of a PR body and of the ``promobot/approvals`` check."""
    head = f"**{len(verdict.counted)} of {verdict.required}** required approvals"
    if verdict.blocking:
        head += f"; blocked by {len(verdict.blocking)} change request(s)"
    lines = [inline.code(line) for line in verdict.summary_lines()]
    return head + ("\n\n" + render.bullet_list(lines) if lines else "")


def blockers_reply(number: int, blockers: Sequence[str]) -> str:
    """The reply to a ``/promote`` that could not merge."""
    lines = [inline.plain(b) for b in blockers]
    return f"Pull request #{number} is not ready to merge:\n\n" + render.bullet_list(lines)
