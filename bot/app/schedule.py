"""The scheduled run: verify, then evaluate only the open promobot pull requests whose due
marker says time may have changed them, then move MLflow aliases a failed run left behind."""

from __future__ import annotations

import functools

from bot.app.assess import model_inputs
from bot.app.batch import Batch, Outcome, evaluate_line, sync_line, verify_line
from bot.app.context import Context
from bot.core import due as due_core
from bot.core.branches import parse_branch
from bot.core.events import (
    ScheduleEvent,
)
from bot.core.model import LABEL_HOLD, PullRequest


def on_schedule(ctx: Context, event: ScheduleEvent) -> Outcome:
    """Verify, then evaluate the open promobot PRs whose due marker says time may have changed them.

    One paginated list of the open PRs (100 a page) carries every body, so a PR whose
    marker vouches that nothing time-driven is due costs no request (``bot.core.due``).
    """

    tip = ctx.tip()
    policy = ctx.policy(tip)
    registry = bool(policy.providers.mlflow)
    verifying = any(e.verify is not None for e in policy.environments)
    batch = Batch(event.name, "schedule", ctx.forge.rate_budget)
    if verifying:  # README "Verify with live data": first, so the PRs below see fresh verified gates
        batch.run("verify", functools.partial(verify_line, ctx, None, None))
    prs = [
        (pr, ref)
        for pr in ctx.forge.list_prs(state="open")
        if (ref := parse_branch(pr.head_branch)) is not None
    ]
    if not prs and not registry and not verifying:
        return Outcome(event.name, True, "schedule: no open promobot pull requests", {"items": []})
    blob_ids = ctx.ws.blob_ids(tip, "environments") if prs else {}
    due: list[tuple[PullRequest, str]] = []
    for pr, ref in prs:
        inputs = model_inputs(ctx, tip, policy, ref.model, blob_ids)
        flags = due_core.pr_flags(draft=pr.draft, labels=pr.labels, hold_label=LABEL_HOLD)
        reason = due_core.due_reason(
            due_core.parse_due(pr.body), head_sha=pr.head_sha, inputs=inputs, now=ctx.now, flags=flags
        )
        if reason is not None:
            due.append((pr, reason))
    waiting = len(prs) - len(due)
    batch.title = (
        f"schedule: {len(prs)} open promobot pull request(s), {len(due)} due, "
        f"{waiting} waiting for people or a later time"
    )
    for pr, reason in due:
        before = len(batch.items)
        batch.run(f"#{pr.number}", functools.partial(evaluate_line, ctx, pr.number, event.name, pr))
        if len(batch.items) > before:  # not left for the next run
            batch.items[-1]["due"] = reason
    if registry:  # README "Keep MLflow in step": the schedule moves aliases a failed run left behind
        batch.run("MLflow sync", functools.partial(sync_line, ctx))
    return batch.finish({"open": len(prs), "due": len(due), "waiting": waiting})
