"""Everything that keeps a promobot pull request from merging, besides its gates and approvals:
foreign commits, state, scope, a stale rollback, an edited rejected.yaml."""

from __future__ import annotations

from collections.abc import Sequence

from bot.app.context import Context
from bot.app.records import version_of, write_record
from bot.core import approvals as approvals_core
from bot.core.branches import REJECT_ACTIONS
from bot.core.marker import PrState
from bot.core.messages import rebuild_hint
from bot.core.model import (
    CHECK_NAMES,
    LABEL_HOLD,
    GateResult,
    PullRequest,
    Rejection,
)
from bot.core.paths import REJECTED_PATH
from bot.core.readiness import Blocker
from bot.core.rejected import find_rejection, load_rejected
from bot.errors import ManifestError


def foreign_blockers(ctx: Context, state: PrState, head_sha: str | None) -> list[Blocker]:
    """A PR head promobot did not write is never ready: bot branches carry only promobot's commits."""
    if head_sha is None or write_record(ctx, head_sha) is not None:
        return []
    return [
        Blocker(
            "foreign-commits", f"this branch carries commits promobot did not write — {rebuild_hint(state)}"
        )
    ]


def readiness_blockers(
    ctx: Context,
    pr: PullRequest | None,
    head_sha: str | None,
    results: Sequence[GateResult],
    verdict: approvals_core.ApprovalVerdict,
) -> list[Blocker]:
    """Everything that stops a merge now, one line each (empty = ready)."""
    blockers: list[Blocker] = []
    if pr is not None:
        if pr.state != "open":
            blockers.append(Blocker("state", f"the pull request is {pr.state}"))
        if pr.draft:
            blockers.append(Blocker("state", "the pull request is a draft — mark it ready for review"))
        if LABEL_HOLD in pr.labels:
            blockers.append(Blocker("hold", f"on hold (label {LABEL_HOLD}) — /unhold lifts it"))
        if pr.from_fork:
            blockers.append(
                Blocker("fork", "the head branch is in a fork — promobot only merges its own branches")
            )
    for r in results:
        if r.result != "success":
            blockers.append(Blocker("gate", f"gate {r.name}: {r.result} — {r.reason}"))
    if not verdict.satisfied:
        if verdict.blocking:
            for item in verdict.blocking:
                blockers.append(Blocker("changes-requested", f"changes requested by {item.login}"))
        if len(verdict.counted) < verdict.required:
            blockers.append(Blocker("approvals", f"approvals: {len(verdict.counted)} of {verdict.required}"))
    if head_sha:
        for check in ctx.forge.list_checks(head_sha):
            if check.name in CHECK_NAMES and not check.by_promobot:
                blockers.append(
                    Blocker(
                        "impostor-check",
                        f"a check named {check.name} was posted by someone other than promobot — "
                        "promobot ignores it; remove it and require the check from promobot's app only",
                    ),
                )
    return blockers


def scope_blockers(ctx: Context, *, base_sha: str, head_sha: str, action: str, path: str) -> list[Blocker]:
    """A promobot PR may change its target manifest (and rejected.yaml for a rollback), nothing else.

    Anyone with write access can push to the PR's branch; the base policy judges the PR and
    the pusher cannot approve it, but a squash merge would still carry their extra files
    (say, a new promotion.yaml or gate script) onto the default branch.
    """
    allowed = {path, REJECTED_PATH} if action == "rollback" else {path}
    what = f"{action} pull request" if action in REJECT_ACTIONS else "promotion"
    fork = ctx.ws.merge_base(base_sha, head_sha) or base_sha
    extra = sorted(set(ctx.ws.changed_files(fork, head_sha)) - allowed)
    if not extra:
        return []
    shown = ", ".join(extra[:5]) + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
    return [
        Blocker(
            "scope",
            f"the pull request also changes {shown} — a {what} may change only {path}; "
            f"remove those commits or re-run `promobot {action}` to rebuild the branch",
        ),
    ]


def rollback_blockers(
    ctx: Context, *, state: PrState, base_sha: str, head_sha: str, path: str
) -> list[Blocker]:
    """A rollback PR rolls back the version its branch was built on, and rejects only that one.

    The branch forks from the default branch where the environment ran the bad version. It
    is ready only while the environment still runs it (a later merge makes it stale), and its
    only change to rejected.yaml is the entry promobot adds for that version: a hand edit
    could otherwise unreject other versions or leave the file invalid (``rejected.yaml`` on
    the head must load, as the schema gate requires of the base).
    """
    fork = ctx.ws.merge_base(base_sha, head_sha) or base_sha
    bad = version_of(ctx.ws.read(fork, path), path, state.model)
    now = version_of(ctx.ws.read(base_sha, path), path, state.model)
    blockers: list[Blocker] = []
    if bad is not None and now != bad:
        blockers.append(
            Blocker(
                "stale",
                f"stale: {state.to} now runs {state.model} {now or 'nothing'}, not {bad} that this rollback "
                f"rolls back — {rebuild_hint(state)}",
            ),
        )
    try:
        head = load_rejected(ctx.ws.read(head_sha, REJECTED_PATH))
    except ManifestError as exc:
        why = f"{REJECTED_PATH} on the branch does not load: {exc.message}"
        return [*blockers, Blocker("rejected-list", f"{why} — {rebuild_hint(state)}")]
    before = ctx.rejected(fork)
    own = (state.model, bad)

    def others(entries: Sequence[Rejection]) -> list[Rejection]:
        return [r for r in entries if (r.model, r.version) != own]

    kept = find_rejection(before, state.model, bad or "")  # already rejected: must stay as it is
    if others(before) != others(head) or (
        kept is not None and find_rejection(head, state.model, bad or "") != kept
    ):
        what = f"{state.model} {bad}" if bad else "the rolled-back version"
        blockers.append(
            Blocker(
                "rejected-list",
                f"the branch changes other entries of {REJECTED_PATH} — a rollback may only add {what}; "
                f"{rebuild_hint(state)}",
            ),
        )
    return blockers


def rejection_entry(
    ctx: Context, state: PrState, new_text: bytes, old_text: bytes | None
) -> Rejection | None:
    """The entry the PR adds (reject, from its head) or removes (unreject, from the base)."""
    try:
        entries = load_rejected(new_text if state.action == "reject" else old_text)
    except ManifestError:
        return None
    return find_rejection(entries, state.model, state.version)


def rejection_content_blockers(
    ctx: Context, *, state: PrState, base_sha: str, head_sha: str | None, new_text: bytes
) -> list[Blocker]:
    """The branch's rejected.yaml must add (remove) exactly its own entry and agree with the base."""
    what = f"{state.model} {state.version}"
    try:
        new = load_rejected(new_text)
    except ManifestError as exc:
        return [Blocker("rejected-list", f"{REJECTED_PATH} on the branch does not load: {exc.message}")]
    base = ctx.rejected(base_sha)
    on_base = find_rejection(base, state.model, state.version) is not None
    on_head = find_rejection(new, state.model, state.version) is not None
    blockers: list[Blocker] = []
    if state.action == "reject":
        if on_base:
            blockers.append(
                Blocker(
                    "rejected-list",
                    f"{what} is already rejected on {ctx.default_branch} — `/cancel` this pull request",
                ),
            )
        if not on_head:
            blockers.append(
                Blocker(
                    "rejected-list",
                    f"the branch does not add {what} to {REJECTED_PATH} — re-run promobot reject",
                )
            )
    else:
        if not on_base:
            blockers.append(
                Blocker(
                    "rejected-list",
                    f"{what} is not rejected on {ctx.default_branch} — /cancel this pull request",
                )
            )
        if on_head:
            blockers.append(
                Blocker(
                    "rejected-list",
                    f"the branch still lists {what} in {REJECTED_PATH} — re-run promobot unreject",
                )
            )
    fork = (ctx.ws.merge_base(base_sha, head_sha) if head_sha else None) or base_sha
    before = base if fork == base_sha else ctx.rejected(fork)

    def others(entries: Sequence[Rejection]) -> list[Rejection]:
        return [r for r in entries if (r.model, r.version) != (state.model, state.version)]

    if others(before) != others(new):
        blockers.append(
            Blocker(
                "rejected-list",
                f"the branch changes other entries of {REJECTED_PATH} — a {state.action} pull request may "
                f"change only {what}; re-run `promobot {state.action}` to rebuild it",
            ),
        )
    return blockers
