"""Applying what a use case decided: a plan of ``bot.core.plan`` actions, or one commit straight
on the default branch with a compare-and-swap that never forces."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

from bot.app.context import Context
from bot.core import due as due_core
from bot.core.plan import (
    HEAD,
    Action,
    AddLabels,
    MoveBranch,
    OpenPr,
    SetCheck,
    UpdatePr,
    WriteCommit,
)
from bot.errors import (
    ConflictError,
)

logger = logging.getLogger(__name__)


def apply(ctx: Context, actions: Sequence[Action]) -> tuple[int | None, str | None]:
    """Apply a plan; returns (the PR number the plan opened or updated, the new head SHA)."""
    head: str | None = None
    number: int | None = None
    for action in actions:
        if isinstance(action, WriteCommit):
            head = ctx.ws.commit(
                parent=action.parent, files=action.files, message=action.message, author=action.author
            )
        elif isinstance(action, MoveBranch):
            sha = head if action.sha == HEAD else action.sha
            assert sha is not None
            ctx.ws.update_branch(action.branch, sha, expected=action.expected, force=action.force)
        elif isinstance(action, OpenPr):
            pr = ctx.forge.open_pr(
                head=action.head,
                base=action.base,
                title=action.title,
                body=due_core.name_head(action.body, head),
                labels=action.labels,
            )
            number = pr.number
            head = head or pr.head_sha
        elif isinstance(action, UpdatePr):
            number = action.number
            if action.title is not None or action.body is not None:
                body = due_core.name_head(action.body, head) if action.body is not None else None
                ctx.forge.update_pr(action.number, title=action.title, body=body)
        elif isinstance(action, AddLabels):
            target = action.number if action.number is not None else number
            assert target is not None
            ctx.forge.add_labels(target, action.labels)
        elif isinstance(action, SetCheck):
            sha = head if action.sha == HEAD else action.sha
            assert sha is not None
            ctx.forge.set_check(
                head_sha=sha,
                name=action.name,
                result=action.result,
                title=action.title,
                summary=action.summary,
                record=action.record,
            )
    return number, head


DIRECT_ATTEMPTS = 3


def commit_direct(ctx: Context, build: Callable[[str], tuple[Mapping[str, bytes | None], str]]) -> str:
    """Commit ``build(tip)`` on the default branch's tip and fast-forward it; retry when it moved."""
    branch = ctx.default_branch
    for attempt in range(1, DIRECT_ATTEMPTS + 1):
        if attempt > 1:
            ctx.ws.refresh()
        tip = ctx.tip()
        files, message = build(tip)
        sha = ctx.ws.commit(parent=tip, files=files, message=message, author=ctx.bot_identity)
        try:
            ctx.ws.update_branch(branch, sha, expected=tip, force=False)
        except ConflictError as exc:
            logger.info("%s moved while committing (attempt %d): %s", branch, attempt, exc.message)
            continue
        logger.info("committed %s on %s", sha, branch)
        return sha
    raise ConflictError(
        f"{branch} kept moving: {DIRECT_ATTEMPTS} attempts to add the commit failed",
        "re-run the same command (nothing was written)",
    )
