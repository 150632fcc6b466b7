"""A push to the default branch, and check reruns: promote what changed downstream and
re-evaluate the pull requests whose inputs moved (reference §11)."""

from __future__ import annotations

import functools
import logging
from typing import Any

from bot.app.batch import Batch, Outcome, evaluate_line, open_promobot_prs, promote_line
from bot.app.context import Context
from bot.app.promote import promote_all
from bot.core import events
from bot.core.branches import parse_branch
from bot.core.events import (
    CheckRerequestEvent,
    PushEvent,
)
from bot.core.inline import code
from bot.core.model import is_valid_name
from bot.core.paths import POLICY_PATH, REJECTED_PATH, manifest_path, parse_manifest_path
from bot.errors import BotError

logger = logging.getLogger(__name__)


def on_check_rerequest(ctx: Context, event: CheckRerequestEvent) -> Outcome:
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
    batch = Batch(event.name, f"{event.kind} rerequested on {event.head_sha[:12]}", ctx.forge.rate_budget)
    for number in numbers:
        batch.run(f"#{number}", functools.partial(evaluate_line, ctx, number, event.name))
    return batch.finish()


def _changed_manifests(paths: tuple[str, ...], envs: tuple[str, ...]) -> set[tuple[str, str]]:
    """``{(env, model)}`` for the paths that are manifests ``environments/<env>/<model>.yaml``."""
    found = set()
    for path in paths:
        where = parse_manifest_path(path)
        if where is not None and where[0] in envs and is_valid_name(where[1]):
            found.add(where)
    return found


def _push_paths(ctx: Context, event: PushEvent) -> tuple[str, ...] | None:
    """The paths the push changed: the payload's list, or git's diff when the list may be cut
    short; None when neither can tell (then every auto-promoting environment is checked)."""
    if not (event.truncated or event.forced or event.created):
        return event.changed_paths
    if event.created:
        return None
    if ctx.ws.resolve(event.before) is None or ctx.ws.resolve(event.after) is None:
        return None
    try:
        return tuple(ctx.ws.changed_files(event.before, event.after))
    except BotError as exc:
        logger.warning("cannot diff %s..%s: %s", event.before[:12], event.after[:12], exc.message)
        return None


def on_push(ctx: Context, event: PushEvent) -> Outcome:

    reason = events.push_ignore_reason(event, ctx.default_branch)
    if reason is not None:
        return Outcome(event.name, False, reason, {"ignored": True})
    tip = ctx.tip()
    policy = ctx.policy(tip)
    batch = Batch(event.name, f"push to {code(ctx.default_branch)}", ctx.forge.rate_budget)
    handled: set[int] = set()
    paths = _push_paths(ctx, event)
    if paths is None:
        batch.note("the changed paths may be incomplete, so every auto-promoting environment is checked")
        for env in policy.environments:
            if env.auto_promote and env.from_:

                def promote_every(to: str = env.name) -> tuple[str, dict[str, Any]]:
                    results, failed = promote_all(ctx, to=to)
                    handled.update(r.pr for r in results if r.pr is not None)
                    prs = [f"#{r.pr}" for r in results if r.pr is not None]
                    line = f"promote --all to {code(to)}: {', '.join(prs) or 'nothing to promote'}"
                    if failed:  # reported as this item's failure, after every other model was promoted
                        listed = "; ".join(f"{m}: {e}" for m, e in sorted(failed.items()))
                        raise BotError(f"{line}; failed: {listed}", "fix those manifests and re-run")
                    return line, {"results": [r.to_json() for r in results]}

                batch.run(f"promote --all to {env.name}", promote_every)
        recheck = set(open_promobot_prs(ctx))
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
                    line, detail = promote_line(ctx, m, t)
                    if isinstance(detail.get("pr"), int):
                        handled.add(detail["pr"])
                    return line, detail

                batch.run(f"promote {model} to {target}", promote_one)
        if {POLICY_PATH, REJECTED_PATH} & set(paths):
            recheck = set(open_promobot_prs(ctx))
        else:
            recheck = set()
            for pr in ctx.forge.list_prs(state="open"):
                ref = parse_branch(pr.head_branch)
                if ref is not None and (ref.env, ref.model) in changed:
                    recheck.add(pr.number)
    for number in sorted(recheck - handled):
        batch.run(f"#{number}", functools.partial(evaluate_line, ctx, number, event.name))
    return batch.finish({"after": event.after})
