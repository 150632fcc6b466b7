"""``/retest``, a review, a push, the schedule: re-evaluate a promobot pull request and post
its checks and body."""

from __future__ import annotations

import logging

from bot.app.apply import apply
from bot.app.assess import Assessment, assess_pr
from bot.app.context import Context
from bot.app.facts import pr_context
from bot.core.branches import parse_branch
from bot.core.model import (
    PullRequest,
)
from bot.core.plan import Action, UpdatePr
from bot.errors import Blocked, BotError, OutageError

logger = logging.getLogger(__name__)


def evaluate_pr(ctx: Context, number: int, *, post: bool = True, pr: PullRequest | None = None) -> Assessment:
    """Re-evaluate gates, approvals and readiness of PR ``number`` and update its checks and body.

    ``pr`` is the PR as just read from the forge, when the caller has it (saves assessment request).
    """
    with ctx.forge.transaction():
        facts = pr_context(ctx, number, pr=pr)
        if facts.pr.state != "open":
            raise Blocked(f"pull request #{number} is {facts.pr.state}", "nothing to evaluate")
        assessment = assess_pr(ctx, facts)
        if post:
            actions: list[Action] = list(assessment.checks.actions(facts.pr.head_sha))
            if facts.pr.body != assessment.body:
                actions.append(UpdatePr(number, None, assessment.body))
            apply(ctx, actions)
    return assessment


def reevaluate_model(ctx: Context, model: str) -> list[int]:
    """After rejected.yaml changed: re-evaluate every open promotion / rollback PR of ``model`` now.

    Their not-rejected gate reads rejected.yaml from the default branch; without this a PR of
    a just-rejected version would stay ready until someone re-ran its gates. Best effort: the
    change is already on the default branch, and a PR missed here is re-evaluated by its next
    event (``/retest``, the schedule). Returns the PR numbers re-evaluated.
    """
    done = []
    for pr in ctx.forge.list_prs(state="open"):
        ref = parse_branch(pr.head_branch)
        if ref is None or ref.is_rejection or ref.model != model:
            continue
        try:
            evaluate_pr(ctx, pr.number, pr=pr)
        except OutageError:
            raise
        except BotError as exc:
            logger.warning("re-evaluating #%d after rejected.yaml changed failed: %s", pr.number, exc.message)
            continue
        done.append(pr.number)
    return done
