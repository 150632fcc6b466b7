"""Events → use cases: one handler per event kind, shared by GitHub and the local forge.

``handle-event`` parses the GitHub payload into a typed event (``bot.core.events``) and
calls :func:`dispatch`; ``promobot pr review`` / ``pr comment`` on the local forge call the
same use cases (``on_review``, ``commands.handle_comment``), so both forges follow one
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
:class:`HandlerFailures` (a ``BotError``, exit 1 — or 3 if one was an outage) is raised
carrying the outcome, so the run fails visibly while nothing else was skipped. A PR that
turns out not to be promobot's (``UsageError``) or is already closed (``Blocked``) is
skipped with a note, not counted as a failure.

Handlers that may read history (soak, integrity, rollback) run after
``ctx.ws.ensure_history()``: a shallow clone is deepened in remote mode, or the run stops
with a ``WorkspaceError`` saying how to fix the checkout — never a wrong soak result.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast

from bot.app import POLICY_PATH, REJECTED_PATH, Context, manifest_path, read_manifest
from bot.core import due as due_core
from bot.core import events
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
from bot.core.marker import PrState
from bot.core.model import LABEL_HOLD, PullRequest, is_valid_name
from bot.core.plan import BranchRef, parse_branch
from bot.core.render import code
from bot.errors import Blocked, BotError, RateLimited, UsageError

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


class _HasEvent(Protocol):
    @property
    def event(self) -> Event: ...


# --------------------------------------------------------------------------- dispatch


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
    ensure_history(ctx)
    if isinstance(event, PullRequestEvent):
        return _on_pull_request(ctx, event)
    if isinstance(event, ReviewEvent):
        return _on_review_event(ctx, event)
    if isinstance(event, CommentEvent):
        return _on_comment(ctx, event)
    if isinstance(event, CheckRerequestEvent):
        return _on_check_rerequest(ctx, event)
    if isinstance(event, PushEvent):
        return _on_push(ctx, event)
    if isinstance(event, DispatchEvent):
        return _on_dispatch(ctx, event)
    if isinstance(event, ScheduleEvent):
        return _on_schedule(ctx, event)
    assert isinstance(event, UnknownEvent)  # ignore_reason covers it; kept for exhaustiveness
    return Outcome(name, False, f"promobot ignores {name} events")


def ensure_history(ctx: Context) -> None:
    """Deepen a shallow clone (remote mode) or raise ``WorkspaceError`` saying how to fix it.

    Workspaces without ``ensure_history`` (test doubles, full clones by construction) pass.
    """
    ensure: Callable[[], None] | None = getattr(ctx.ws, "ensure_history", None)
    if callable(ensure):
        ensure()


# --------------------------------------------------------------------------- one PR


def _evaluate(ctx: Context, number: int, event: str, pr: PullRequest | None = None) -> Outcome:
    """Gates + approvals + ready for PR ``number``, then ``auto_merge`` when it is ready.

    Raises ``UsageError`` (not a promobot PR) and ``Blocked`` (not open) for callers to
    turn into notices.
    """
    from bot import promotion

    a = promotion.evaluate_pr(ctx, number, pr=pr)
    detail: dict[str, Any] = {
        "pr": number,
        "ready": a.ready,
        "gates": a.gates_outcome,
        "blockers": a.blockers,
        "approvals": {"required": a.verdict.required, "counted": list(a.verdict.counted)},
    }
    approvals = f"{len(a.verdict.counted)} of {a.verdict.required} approvals"
    summary = f"#{number}: gates {a.gates_outcome}, {approvals}, " + (
        "ready" if a.ready else f"{len(a.blockers)} blocker(s)"
    )
    if a.ready and a.env is not None and a.env.auto_merge:
        merged = promotion.merge(ctx, number, actor=None)
        detail["merged"] = merged.to_json()
        if merged.merged:
            summary += f"; merged as {(merged.sha or '')[:12]}"
            opened = [c.pr for c in merged.chained if c.pr is not None]
            if opened:
                summary += "; chained " + ", ".join(f"#{n}" for n in opened)
    return Outcome(event, True, summary, detail)


def _evaluate_or_notice(ctx: Context, number: int, event: str) -> Outcome:
    try:
        return _evaluate(ctx, number, event)
    except (UsageError, Blocked) as exc:
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
        from bot import promotion

        # rejected.yaml changed on the default branch: the model's open PRs are judged again now.
        again = promotion.reevaluate_model(ctx, ref.model) if event.base_branch == ctx.default_branch else []
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
    batch = _Batch(event.name, f"#{event.number} merged into {code(ref.env)}; chain", _budget(ctx))
    upstream = _merged_state(ctx, event.number, ref)
    for target in targets:
        work = functools.partial(_promote_line, ctx, ref.model, target, upstream)
        batch.run(f"promote {ref.model} to {target}", work)
    return batch.finish({"pr": event.number})


# --------------------------------------------------------------------------- comments


def _on_comment(ctx: Context, event: CommentEvent) -> Outcome:
    from bot import commands

    result = commands.handle_comment(
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


# --------------------------------------------------------------------------- many PRs


ITEM_RESERVE = 30
"""Requests kept in hand before a multi-PR handler starts an item: enough to finish the
costliest one (an evaluation that merges and opens the chained PR) — reference §14."""

Budget = Callable[[], "tuple[int, datetime] | None"]


def _budget(ctx: Context) -> Budget | None:
    """The forge's request budget reader (GitHub: ``X-RateLimit-*``), or None (local forge)."""
    found: Budget | None = getattr(ctx.forge, "rate_budget", None)
    return found if callable(found) else None


@dataclass
class _Batch:
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
        except (UsageError, Blocked) as exc:
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


def _merged_state(ctx: Context, number: int, ref: BranchRef) -> PrState:
    """What the merged promotion PR ``number`` was about, with its requester (promobot's record).

    The chained PRs keep that requester: the event's sender merged or approved upstream and
    must stay free to approve downstream.
    """
    from bot import promotion

    try:
        return promotion.pr_context(ctx, number).state
    except UsageError:  # not promobot's after all: nobody's request is known
        return PrState(action="promote", model=ref.model, to=ref.env, version="-")


def _promote_line(
    ctx: Context, model: str, to: str, upstream: PrState | None = None
) -> tuple[str, dict[str, Any]]:
    from bot import promotion

    result = promotion.promote(ctx, model=model, to=to, chained_from=upstream)
    if result.note is not None:
        return f"{code(model)} → {code(to)}: {result.note}", result.to_json()
    verb = "opened" if result.created else ("updated" if result.changed else "re-evaluated")
    line = f"{code(model)} {result.version} → {code(to)}: #{result.pr} {verb}, " + (
        "ready" if result.ready else f"{len(result.blockers)} blocker(s)"
    )
    if result.merged is not None and result.merged.merged:
        line += f", merged as {(result.merged.sha or '')[:12]}"
    return line, result.to_json()


def _evaluate_line(
    ctx: Context, number: int, event: str, pr: PullRequest | None = None
) -> tuple[str, dict[str, Any]]:
    outcome = _evaluate(ctx, number, event, pr)
    return outcome.summary, outcome.detail


def _open_promobot_prs(ctx: Context) -> list[int]:
    return [pr.number for pr in ctx.forge.list_prs(state="open") if parse_branch(pr.head_branch) is not None]


def _on_check_rerequest(ctx: Context, event: CheckRerequestEvent) -> Outcome:
    numbers = [n for n, b in zip(event.pull_numbers, event.head_branches, strict=False) if parse_branch(b)]
    if not event.pull_numbers:
        numbers = [
            pr.number
            for pr in ctx.forge.list_prs(state="open")
            if pr.head_sha == event.head_sha and parse_branch(pr.head_branch) is not None and not pr.from_fork
        ]
    if not numbers:
        return Outcome(
            event.name,
            False,
            f"{event.kind} rerequested on {event.head_sha[:12]}: no open promobot pull request has that head",
            {"ignored": True},
        )
    batch = _Batch(event.name, f"{event.kind} rerequested on {event.head_sha[:12]}", _budget(ctx))
    for number in numbers:
        batch.run(f"#{number}", functools.partial(_evaluate_line, ctx, number, event.name))
    return batch.finish()


def _changed_manifests(paths: tuple[str, ...], envs: tuple[str, ...]) -> set[tuple[str, str]]:
    """``{(env, model)}`` for the paths that are manifests ``environments/<env>/<model>.yaml``."""
    found = set()
    for path in paths:
        parts = path.split("/")
        if len(parts) != 3 or parts[0] != "environments" or not parts[2].endswith(".yaml"):
            continue
        env, model = parts[1], parts[2][: -len(".yaml")]
        if env in envs and is_valid_name(model):
            found.add((env, model))
    return found


def _push_paths(ctx: Context, event: PushEvent) -> tuple[str, ...] | None:
    """The paths the push changed: the payload's list, or git's diff when the list may be cut
    short; None when neither can tell (then every auto-promoting environment is checked)."""
    if not (event.truncated or event.forced or event.created):
        return event.changed_paths
    diff: Callable[[str, str], list[str]] | None = getattr(ctx.ws, "changed_files", None)
    if diff is None or event.created:
        return None
    if ctx.ws.resolve(event.before) is None or ctx.ws.resolve(event.after) is None:
        return None
    try:
        return tuple(diff(event.before, event.after))
    except BotError as exc:
        logger.warning("cannot diff %s..%s: %s", event.before[:12], event.after[:12], exc.message)
        return None


def _on_push(ctx: Context, event: PushEvent) -> Outcome:
    from bot import promotion

    reason = events.push_ignore_reason(event, ctx.default_branch)
    if reason is not None:
        return Outcome(event.name, False, reason, {"ignored": True})
    tip = ctx.tip()
    policy = ctx.policy(tip)
    batch = _Batch(event.name, f"push to {code(ctx.default_branch)}", _budget(ctx))
    handled: set[int] = set()
    paths = _push_paths(ctx, event)
    if paths is None:
        batch.note("the changed paths may be incomplete, so every auto-promoting environment is checked")
        for env in policy.environments:
            if env.auto_promote and env.from_:

                def promote_every(to: str = env.name) -> tuple[str, dict[str, Any]]:
                    results, failed = promotion.promote_all(ctx, to=to)
                    handled.update(r.pr for r in results if r.pr is not None)
                    prs = [f"#{r.pr}" for r in results if r.pr is not None]
                    line = f"promote --all to {code(to)}: {', '.join(prs) or 'nothing to promote'}"
                    if failed:  # reported as this item's failure, after every other model was promoted
                        listed = "; ".join(f"{m}: {e}" for m, e in sorted(failed.items()))
                        raise BotError(f"{line}; failed: {listed}", "fix those manifests and re-run")
                    return line, {"results": [r.to_json() for r in results]}

                batch.run(f"promote --all to {env.name}", promote_every)
        recheck = set(_open_promobot_prs(ctx))
    else:
        changed = _changed_manifests(paths, policy.names)
        for env_name, model in sorted(changed):
            downstream = [e.name for e in policy.downstream(env_name) if e.auto_promote]
            if not downstream:
                continue
            if ctx.ws.read(tip, manifest_path(env_name, model)) is None:
                batch.note(f"{code(model)} was removed from {code(env_name)}: nothing to promote")
                continue
            for target in downstream:

                def promote_one(m: str = model, t: str = target) -> tuple[str, dict[str, Any]]:
                    line, detail = _promote_line(ctx, m, t)
                    if isinstance(detail.get("pr"), int):
                        handled.add(detail["pr"])
                    return line, detail

                batch.run(f"promote {model} to {target}", promote_one)
        if {POLICY_PATH, REJECTED_PATH} & set(paths):
            recheck = set(_open_promobot_prs(ctx))
        else:
            recheck = set()
            for pr in ctx.forge.list_prs(state="open"):
                ref = parse_branch(pr.head_branch)
                if ref is not None and (ref.env, ref.model) in changed:
                    recheck.add(pr.number)
    for number in sorted(recheck - handled):
        batch.run(f"#{number}", functools.partial(_evaluate_line, ctx, number, event.name))
    return batch.finish({"after": event.after})


def _on_schedule(ctx: Context, event: ScheduleEvent) -> Outcome:
    """Verify, then evaluate the open promobot PRs whose due marker says time may have changed them.

    One paginated list of the open PRs (100 a page) carries every body, so a PR whose
    marker vouches that nothing time-driven is due costs no request (``bot.core.due``).
    """
    from bot import promotion

    tip = ctx.tip()
    policy = ctx.policy(tip)
    registry = bool(policy.providers.mlflow)
    verifying = any(e.verify is not None for e in policy.environments)
    batch = _Batch(event.name, "schedule", _budget(ctx))
    if verifying:  # README "Verify with live data": first, so the PRs below see fresh verified gates
        batch.run("verify", functools.partial(_verify_line, ctx, None, None))
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
        inputs = promotion.model_inputs(ctx, tip, policy, ref.model, blob_ids)
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
        batch.run(f"#{pr.number}", functools.partial(_evaluate_line, ctx, pr.number, event.name, pr))
        if len(batch.items) > before:  # not left for the next run
            batch.items[-1]["due"] = reason
    if registry:  # README "Keep MLflow in step": the schedule moves aliases a failed run left behind
        batch.run("MLflow sync", functools.partial(_sync_line, ctx))
    return batch.finish({"open": len(prs), "due": len(due), "waiting": waiting})


def _verify_line(ctx: Context, model: str | None, env: str | None) -> tuple[str, dict[str, Any]]:
    from bot import verify

    found = verify.run(ctx, model=model, env=env)
    states = ", ".join(f"{code(v.model)} {code(v.version)} in {code(v.env)}: {v.state}" for v in found)
    line = f"verify: {states}" if states else "verify: no open verifications"
    return line, {"verifications": [verify.to_json(v) for v in found]}


def _sync_line(ctx: Context) -> tuple[str, dict[str, Any]]:
    from bot import sync

    result = sync.sync(ctx)
    moved = ", ".join(f"{m.alias} of {m.registered_model} → {m.to}" for m in result.moved)
    line = f"MLflow sync: moved {moved}" if moved else "MLflow sync: every alias is where git says"
    return line, {"sync": result.to_json()}


# --------------------------------------------------------------------------- workflow_dispatch


def _require_inputs(event: DispatchEvent, names: tuple[str, ...]) -> None:
    missing = [n for n in names if getattr(event, n) is None]
    if missing:
        raise UsageError(
            f"workflow_dispatch action={event.action} needs the input(s): {', '.join(missing)}",
            "run the workflow again and fill in " + ", ".join(missing),
        )


def _on_dispatch(ctx: Context, event: DispatchEvent) -> Outcome:
    if event.action == "verify":  # model and env are optional filters here
        line, detail = _verify_line(
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
        line, detail = _promote_line(ctx, event.model, event.env)
        return Outcome(event.name, True, f"workflow_dispatch by {code(actor)}: {line}", detail)
    from bot import rollback

    result = rollback.rollback(
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
