"""Deployments that follow post-deploy verifications on the forge (reference §15.3).

What each state means is decided in :mod:`bot.core.deployments`; this module makes the forge
say it, idempotently: every step first finds what an earlier (perhaps interrupted) run already
did, so a re-run never creates a second deployment for one verification nor repeats a status.

Cost on GitHub: nothing when the ``promobot/verify`` check's record already says the wanted
state (a quiet scheduled run); otherwise one list, at most one create, one status read and one
status write for the verification's deployment, plus, for a new verification, one read (and
one write) for the deployment it replaces.
"""

from __future__ import annotations

import logging

from bot.app.context import Context
from bot.core import deployments as core
from bot.core.model import CheckRun, Deployment, DeploymentState
from bot.core.verify import Verification

logger = logging.getLogger(__name__)


def follow(ctx: Context, result: Verification, check: CheckRun | None) -> str:
    """Bring the deployment of ``result`` to its state; returns the record for the check.

    ``check`` is the verification's ``promobot/verify`` check as it was before this run.
    """
    want = core.state_for(result.state)
    known = core.parse_record(current_record(ctx, check))
    if known is not None and known[1] == want:
        return core.record(known[0], want)
    description = core.description(result.model, result.version, want, _short(result.reason))
    if known is not None:
        deployment_id = known[0]
        if ctx.forge.deployment_state(deployment_id) != want:
            ctx.forge.set_deployment_state(deployment_id, want, description)
        return core.record(deployment_id, want)
    # No record yet: a new verification (or a run interrupted before it wrote the check).
    task = core.task(result.model)
    listed = ctx.forge.list_deployments(environment=result.env, task=task)
    ours = next((d for d in listed if d.sha == result.commit), None)
    if ours is None:
        ours = ctx.forge.create_deployment(
            sha=result.commit,
            environment=result.env,
            task=task,
            description=f"{result.model} {result.version}",
            payload={"model": result.model, "version": result.version},
        )
        current = None
    else:
        current = ctx.forge.deployment_state(ours.id)
    if current != want:
        ctx.forge.set_deployment_state(ours.id, want, description)
    supersede(ctx, [d for d in listed if d.id < ours.id], result)
    return core.record(ours.id, want)


def current_record(ctx: Context, check: CheckRun | None) -> str:
    """The record a verification's ``promobot/verify`` check carries ("" when none).

    A check run keeps it itself (``external_id``); a commit status has no room for it, so with
    statuses (a token that cannot create check runs) it is promobot's record status on the same
    commit — read from the listing the forge already holds, no extra request.
    """
    if check is None or not check.by_promobot:
        return ""
    if check.record:
        return check.record
    for other in ctx.forge.list_checks(check.head_sha):
        if other.by_promobot and core.parse_record(other.record) is not None:
            return other.record
    return ""


def supersede(ctx: Context, older: list[Deployment], result: Verification) -> None:
    """Mark ``inactive`` the earlier deployments of the model to the environment (newest first).

    Stops at the first one already inactive: everything before it was replaced earlier.
    """
    for deployment in older:
        state = ctx.forge.deployment_state(deployment.id)
        if state == "inactive":
            return
        version = deployment.description.rsplit(" ", 1)[-1] or "?"
        why = f"replaced by {result.version} ({result.commit[:12]})"
        ctx.forge.set_deployment_state(
            deployment.id, "inactive", core.description(result.model, version, "inactive", why)
        )


def _short(reason: str) -> str:
    return reason.splitlines()[0] if reason else ""


def state_of(ctx: Context, check: CheckRun | None) -> tuple[int, DeploymentState] | None:
    """The deployment a verification's check records (for ``--output json``), or None."""
    if check is None or not check.by_promobot:
        return None
    return core.parse_record(check.record)
