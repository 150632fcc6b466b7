"""Handling many items in one event (check reruns, pushes, the schedule, fan-out chains):
each item on its own, within GitHub's rate limit, and one outcome for the job summary."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.app import sync, verify
from bot.app.context import Context
from bot.app.evaluate import evaluate_pr
from bot.app.promote import merge, promote
from bot.core.branches import parse_branch
from bot.core.inline import code
from bot.core.marker import PrState
from bot.core.model import PullRequest
from bot.errors import Blocked, BotError, NotApplicable, RateLimited

logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What handling one event did, for the job summary and ``--output json``."""

    event: str
    handled: bool
    summary: str
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"event": self.event, "handled": self.handled, "summary": self.summary, **self.detail}


class HandlerFailures(BotError):
    """Some items of a multi-PR handler failed; the others were handled (see ``outcome``)."""

    def __init__(self, outcome: Outcome, failures: list[tuple[str, BotError]]) -> None:
        listed = "; ".join(f"{item}: {exc.message}" for item, exc in failures[:5])
        more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
        super().__init__(
            f"{outcome.event}: {len(failures)} item(s) failed — {listed}{more}",
            "everything else was handled; fix the cause and re-run the same event (it is safe)",
        )
        self.outcome = outcome
        self.failures = failures
        self.exit_code = max(exc.exit_code for _, exc in failures)


ITEM_RESERVE = 30
"""Requests kept in hand before a multi-PR handler starts an item: enough to finish the
costliest one (an evaluation that merges and opens the chained PR) — reference §14."""


Budget = Callable[[], "tuple[int, datetime] | None"]


@dataclass
class Batch:
    """Runs the items of a multi-PR handler; one failure never stops the others.

    With a ``budget`` (GitHub's rate limit), an item starts only while ``ITEM_RESERVE``
    requests are left: the item in hand always finishes, the rest is left for the next run
    and the summary says so — not a failure, nothing half-applied. An item cut by the limit
    anyway (``RateLimited``: the budget is shared with other workflows) is a failure (exit 3)
    and stops the batch the same way.
    """

    event: str
    title: str
    budget: Budget | None = None
    lines: list[str] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    failures: list[tuple[str, BotError]] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    limit: str | None = None
    """Why the batch stopped starting items (the rate limit), once it did."""

    def run(self, item: str, work: Callable[[], tuple[str, dict[str, Any]]]) -> None:
        if self.limit is None and self.budget is not None:
            found = self.budget()
            if found is not None and found[0] < ITEM_RESERVE:
                remaining, reset = found
                self.limit = (
                    f"GitHub allows this token {remaining} more request(s) until {reset:%Y-%m-%d %H:%M} UTC"
                )
        if self.limit is not None:
            self.left.append(item)
            return
        try:
            line, detail = work()
        except (NotApplicable, Blocked) as exc:
            line, detail = f"{item} skipped: {exc.message}", {"skipped": exc.message}
        except RateLimited as exc:
            logger.warning("%s: %s cut by the rate limit: %s", self.event, item, exc.message)
            self.failures.append((item, exc))
            self.limit = exc.message
            line, detail = f"{item} cut by the rate limit: {exc.message}", {"error": exc.message}
        except BotError as exc:
            logger.warning("%s: %s failed: %s", self.event, item, exc.message)
            self.failures.append((item, exc))
            line, detail = f"{item} failed: {exc.message}", {"error": exc.message}
        self.lines.append(line)
        self.items.append({"item": item, **detail})

    def note(self, line: str) -> None:
        self.lines.append(line)
        self.items.append({"item": line})

    def finish(self, detail: dict[str, Any] | None = None) -> Outcome:
        lines = list(self.lines)
        if self.left:
            shown = ", ".join(self.left[:10]) + (
                f" and {len(self.left) - 10} more" if len(self.left) > 10 else ""
            )
            lines.append(
                f"rate limit: {len(self.left)} item(s) left for the next run ({shown}) — {self.limit}; "
                "with many open pull requests run promobot as a GitHub App (README: Use it on GitHub)"
            )
        body = "; ".join(lines) if lines else "nothing to do"
        extra: dict[str, Any] = {"left": list(self.left)} if self.left else {}
        outcome = Outcome(
            self.event,
            True,
            f"{self.title}: {body}".replace("\n", " "),
            {**(detail or {}), "items": self.items, "failed": len(self.failures), **extra},
        )
        if self.failures:
            raise HandlerFailures(outcome, self.failures)
        return outcome


def evaluate_outcome(ctx: Context, number: int, event: str, pr: PullRequest | None = None) -> Outcome:
    """Gates + approvals + ready for PR ``number``, then ``auto_merge`` when it is ready.

    Raises ``NotApplicable`` (not assessment promobot PR) and ``Blocked`` (not open) for callers to
    turn into notices.
    """

    assessment = evaluate_pr(ctx, number, pr=pr)
    detail: dict[str, Any] = {
        "pr": number,
        "ready": assessment.ready,
        "gates": assessment.gates_outcome,
        "blockers": assessment.blockers,
        "approvals": {"required": assessment.verdict.required, "counted": list(assessment.verdict.counted)},
    }
    approvals = f"{len(assessment.verdict.counted)} of {assessment.verdict.required} approvals"
    summary = f"#{number}: gates {assessment.gates_outcome}, {approvals}, " + (
        "ready" if assessment.ready else f"{len(assessment.blockers)} blocker(s)"
    )
    if assessment.ready and assessment.env is not None and assessment.env.auto_merge:
        merged = merge(ctx, number, actor=None)
        detail["merged"] = merged.to_json()
        if merged.merged:
            summary += f"; merged as {(merged.sha or '')[:12]}"
            opened = [c.pr for c in merged.chained if c.pr is not None]
            if opened:
                summary += "; chained " + ", ".join(f"#{n}" for n in opened)
    return Outcome(event, True, summary, detail)


def evaluate_line(
    ctx: Context, number: int, event: str, pr: PullRequest | None = None
) -> tuple[str, dict[str, Any]]:
    outcome = evaluate_outcome(ctx, number, event, pr)
    return outcome.summary, outcome.detail


def promote_line(
    ctx: Context, model: str, to: str, upstream: PrState | None = None
) -> tuple[str, dict[str, Any]]:

    result = promote(ctx, model=model, to=to, chained_from=upstream)
    if result.note is not None:
        return f"{code(model)} → {code(to)}: {result.note}", result.to_json()
    verb = "opened" if result.created else ("updated" if result.changed else "re-evaluated")
    line = f"{code(model)} {result.version} → {code(to)}: #{result.pr} {verb}, " + (
        "ready" if result.ready else f"{len(result.blockers)} blocker(s)"
    )
    if result.merged is not None and result.merged.merged:
        line += f", merged as {(result.merged.sha or '')[:12]}"
    return line, result.to_json()


def open_promobot_prs(ctx: Context) -> list[int]:
    return [pr.number for pr in ctx.forge.list_prs(state="open") if parse_branch(pr.head_branch) is not None]


def verify_line(ctx: Context, model: str | None, env: str | None) -> tuple[str, dict[str, Any]]:

    found = verify.run(ctx, model=model, env=env)
    states = ", ".join(f"{code(v.model)} {code(v.version)} in {code(v.env)}: {v.state}" for v in found)
    line = f"verify: {states}" if states else "verify: no open verifications"
    return line, {"verifications": [verify.to_json(v) for v in found]}


def sync_line(ctx: Context) -> tuple[str, dict[str, Any]]:

    result = sync.sync(ctx)
    moved = ", ".join(f"{m.alias} of {m.registered_model} → {m.to}" for m in result.moved)
    line = f"MLflow sync: moved {moved}" if moved else "MLflow sync: every alias is where git says"
    return line, {"sync": result.to_json()}
