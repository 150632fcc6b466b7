"""Events → use cases: one handler per event kind, shared by GitHub and the local forge.

Pushes and check reruns are handled in ``push``, the schedule in ``schedule``.

``handle-event`` parses the GitHub payload into a typed event (``bot.core.events``) and
calls :func:`dispatch`; ``promobot pr review`` / ``pr comment`` on the local forge call the
same use cases (``on_review``, ``comment.handle_comment``), so both forges follow one
code path.

Routing (reference §4, §11):

* ``pull_request`` opened / synchronize / reopened / ready_for_review on a promobot branch
  → gates + approvals + ready (and ``auto_merge`` when ready); closed and merged → the
  chain: every environment with ``from`` = the PR's environment and ``auto_promote`` gets
  its promotion PR opened or refreshed (``promote`` is idempotent, so a chain that already
  ran when promobot merged in the same run is harmless). Other PRs, fork PRs and PRs
  closed unmerged → a one-line notice.
* ``pull_request_review`` submitted / dismissed → ``on_review``.
* ``issue_comment`` created on a pull request → slash-commands; plain issues, edits,
  deletions and bot comments → a notice.
* ``check_run`` / ``check_suite`` rerequested → re-evaluate the promobot PRs with that head.
* ``push`` to the default branch touching ``environments/**`` → for each changed manifest
  ``environments/<env>/<model>.yaml``, promote the model into every downstream
  environment with ``auto_promote``; open PRs into a changed environment are
  re-evaluated, and a changed ``promotion.yaml`` or ``rejected.yaml`` re-evaluates every
  open promobot PR. When the payload's path list may be cut short (20 commits or more,
  or a forced push) the paths come from ``git diff before after``; when git cannot tell
  either (a new branch, commits missing) ``promote --all`` runs for every
  ``auto_promote`` environment. Pushes elsewhere → a notice.
* ``workflow_dispatch`` with ``inputs.action`` promote / rollback → the CLI's flows, the
  dispatching user being the requester.
* ``schedule`` → run the verifications, list the open PRs once (100 a page) and
  re-evaluate only those whose due marker (``bot.core.due``) says time may have changed
  them, or cannot vouch for them (missing, forged, another head, other inputs); then merge
  the ready ones whose environment has ``auto_merge``. Reviews, comments and pushes are
  their own events: an idle scheduled run costs ``ceil(N/100)`` requests (reference §11).
* anything else → ``Outcome(handled=False, "promobot ignores <name> events")``.

Multi-PR handlers (check reruns, push, schedule, fan-out chains) handle each item on its
own: a ``BotError`` in one is recorded in the outcome and the loop goes on; at the end
:class:`~bot.app.batch.HandlerFailures` (a ``BotError``, exit 1 — or 3 if one was an outage) is raised
carrying the outcome, so the run fails visibly while nothing else was skipped. A PR that
turns out not to be promobot's (``NotApplicable``) or is already closed (``Blocked``) is
skipped with a note, not counted as a failure.

Handlers that may read history (soak, integrity, rollback) run after
``ctx.ws.ensure_history()``: a shallow clone is deepened in remote mode, or the run stops
with a ``WorkspaceError`` saying how to fix the checkout — never a wrong soak result.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from typing import Protocol, cast

from bot.app.batch import Batch, Outcome, evaluate_outcome, promote_line, verify_line
from bot.app.comment import handle_comment
from bot.app.context import Context, read_manifest
from bot.app.evaluate import reevaluate_model
from bot.app.facts import pr_context
from bot.app.push import on_check_rerequest, on_push
from bot.app.rollback import rollback
from bot.app.schedule import on_schedule
from bot.core import events
from bot.core.branches import BranchRef, parse_branch
from bot.core.events import (
    CheckRerequestEvent,
    CommentEvent,
    DispatchEvent,
    Event,
    InvalidEvent,
    PullRequestEvent,
    PushEvent,
    ReviewEvent,
    ScheduleEvent,
    UnknownEvent,
)
from bot.core.inline import code
from bot.core.marker import PrState
from bot.errors import Blocked, NotApplicable, UsageError

logger = logging.getLogger(__name__)


class _HasEvent(Protocol):
    @property
    def event(self) -> Event: ...


def dispatch(loaded_or_event: _HasEvent | Event, ctx: Context | None) -> Outcome:
    """Route one event to its handler; ``ctx`` may be None for events ignored without it.

    Raises ``UsageError`` for an invalid payload or missing ``workflow_dispatch`` inputs,
    ``HandlerFailures`` when some items of a multi-PR handler failed, and whatever
    ``BotError`` a single-item handler raises.
    """
    if isinstance(loaded_or_event, events.EVENT_TYPES):
        event = cast(Event, loaded_or_event)
    else:
        event = cast(_HasEvent, loaded_or_event).event
    name = events.event_name(event)
    if isinstance(event, InvalidEvent):
        raise UsageError(
            f"refusing the {name} event: {event.problem}",
            "promobot acts only on well-formed GitHub payloads; check what sent this event",
        )
    reason = events.ignore_reason(event)
    if reason is not None:
        logger.info("ignored %s: %s", name, reason)
        return Outcome(name, False, reason, {"ignored": True})
    if ctx is None:
        raise UsageError(
            f"the {name} event needs the repository and the forge, but none were given",
            "call dispatch with a Context (this is a bug in the caller)",
        )
    ctx.ws.ensure_history()
    if isinstance(event, PullRequestEvent):
        return _on_pull_request(ctx, event)
    if isinstance(event, ReviewEvent):
        return _on_review_event(ctx, event)
    if isinstance(event, CommentEvent):
        return _on_comment(ctx, event)
    if isinstance(event, CheckRerequestEvent):
        return on_check_rerequest(ctx, event)
    if isinstance(event, PushEvent):
        return on_push(ctx, event)
    if isinstance(event, DispatchEvent):
        return _on_dispatch(ctx, event)
    if isinstance(event, ScheduleEvent):
        return on_schedule(ctx, event)
    assert isinstance(event, UnknownEvent)  # ignore_reason covers it; kept for exhaustiveness
    return Outcome(name, False, f"promobot ignores {name} events")


def _evaluate_or_notice(ctx: Context, number: int, event: str) -> Outcome:
    try:
        return evaluate_outcome(ctx, number, event)
    except (NotApplicable, Blocked) as exc:
        return Outcome(event, False, f"#{number}: ignored — {exc.message}", {"pr": number, "ignored": True})


def on_review(ctx: Context, number: int) -> Outcome:
    """A review was submitted or dismissed: re-count approvals, update checks, auto-merge."""
    return _evaluate_or_notice(ctx, number, "pull_request_review")


def _on_review_event(ctx: Context, event: ReviewEvent) -> Outcome:
    outcome = on_review(ctx, event.number)
    outcome.detail.setdefault("review", {"reviewer": event.reviewer, "state": event.state})
    return outcome


def _on_pull_request(ctx: Context, event: PullRequestEvent) -> Outcome:
    if event.action != "closed":
        return _evaluate_or_notice(ctx, event.number, event.name)
    ref = parse_branch(event.head_branch)
    assert ref is not None  # ignore_reason made sure
    if ref.is_rejection:
        # rejected.yaml changed on the default branch: the model's open PRs are judged again now.
        again = reevaluate_model(ctx, ref.model) if event.base_branch == ctx.default_branch else []
        return Outcome(
            event.name,
            True,
            f"#{event.number} merged: a {ref.action} of {code(ref.model)} {code(ref.version)}; "
            f"nothing to chain; re-evaluated {len(again)} open pull request(s) of {code(ref.model)}",
            {"pr": event.number, "reevaluated": again},
        )
    if ref.action != "promote":
        return Outcome(
            event.name,
            True,
            f"#{event.number} merged: a {ref.action} of {code(ref.model)} in {code(ref.env)}; "
            "nothing to chain",
            {"pr": event.number},
        )
    if event.base_branch != ctx.default_branch:
        return Outcome(
            event.name,
            False,
            f"#{event.number} merged into {code(event.base_branch)}, "
            f"not {code(ctx.default_branch)}: nothing to chain",
            {"pr": event.number, "ignored": True},
        )
    policy = ctx.policy(ctx.tip())
    targets = [e.name for e in policy.downstream(ref.env) if e.auto_promote]
    if not targets:
        return Outcome(
            event.name,
            True,
            f"#{event.number} merged: no environment auto-promotes from {code(ref.env)}",
            {"pr": event.number, "chained": []},
        )
    batch = Batch(event.name, f"#{event.number} merged into {code(ref.env)}; chain", ctx.forge.rate_budget)
    upstream = _merged_state(ctx, event.number, ref)
    for target in targets:
        work = functools.partial(promote_line, ctx, ref.model, target, upstream)
        batch.run(f"promote {ref.model} to {target}", work)
    return batch.finish({"pr": event.number})


def _on_comment(ctx: Context, event: CommentEvent) -> Outcome:

    result = handle_comment(
        ctx,
        number=event.number,
        comment_id=event.comment_id,
        author=event.author,
        body=event.body,
        action=event.action,
    )
    summary = f"#{event.number}: comment {event.comment_id} by {code(event.author)}: {result.reason}"
    if result.commands:
        summary += " (" + ", ".join(f"`/{c}`" for c in result.commands) + ")"
    if result.merged:
        summary += "; merged"
    return Outcome(event.name, result.handled, summary, {"pr": event.number, "comment": result.to_json()})


def _merged_state(ctx: Context, number: int, ref: BranchRef) -> PrState:
    """What the merged promotion PR ``number`` was about, with its requester (promobot's record).

    The chained PRs keep that requester: the event's sender merged or approved upstream and
    must stay free to approve downstream.
    """

    try:
        return pr_context(ctx, number).state
    except NotApplicable:  # not promobot's after all: nobody's request is known
        return PrState(action="promote", model=ref.model, to=ref.env, version="-")


def _require_inputs(event: DispatchEvent, names: tuple[str, ...]) -> None:
    missing = [n for n in names if getattr(event, n) is None]
    if missing:
        raise UsageError(
            f"workflow_dispatch action={event.action} needs the input(s): {', '.join(missing)}",
            "run the workflow again and fill in " + ", ".join(missing),
        )


def _on_dispatch(ctx: Context, event: DispatchEvent) -> Outcome:
    if event.action == "verify":  # model and env are optional filters here
        line, detail = verify_line(
            dataclasses.replace(ctx, actor=event.actor or ctx.actor), event.model, event.env
        )
        return Outcome(event.name, True, f"workflow_dispatch: {line}", detail)
    _require_inputs(event, ("model", "env"))
    assert event.model is not None and event.env is not None
    actor = event.actor or ctx.actor
    ctx = dataclasses.replace(ctx, actor=actor)
    if event.action == "promote":
        if event.version is not None:
            _check_source_version(ctx, model=event.model, to=event.env, version=event.version)
        line, detail = promote_line(ctx, event.model, event.env)
        return Outcome(event.name, True, f"workflow_dispatch by {code(actor)}: {line}", detail)

    result = rollback(
        ctx,
        model=event.model,
        env=event.env,
        to_version=event.version,
        direct=False,
        reason=f"workflow_dispatch by {actor}",
        actor=actor,
        dry_run=False,
    )
    where = f"PR #{result.pr}" if result.pr is not None else f"commit {(result.sha or '')[:12]}"
    summary = (
        f"workflow_dispatch by {code(actor)}: roll back {code(event.model)} in {code(event.env)} "
        f"from {result.rolled_back} to {result.version}: {where}"
    )
    return Outcome(event.name, True, summary, result.to_json())


def _check_source_version(ctx: Context, *, model: str, to: str, version: str) -> None:
    """``inputs.version`` on a promote must be what the source environment runs now."""
    tip = ctx.tip()
    env = ctx.policy(tip).env(to)
    if env is None or env.from_ is None:
        return  # promote() explains these
    _, source = read_manifest(ctx, tip, env.from_, model)
    if source is not None and source.version != version:
        raise UsageError(
            f"{env.from_} runs {model} {source.version}, not {version}, "
            f"so {version} cannot be promoted to {to}",
            "leave the version input empty to promote what the source runs, or promote that version first",
        )
