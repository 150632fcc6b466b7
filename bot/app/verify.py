"""``promobot verify [MODEL] [--env ENV]`` and the schedule: post-deploy verification (reference §15).

For every environment with ``verify:`` and every model in it, the verification is the commit
that brought the running version to the default branch (a promotion's or a rollback's squash
commit; a hand edit is not verified). Its state is the ``promobot/verify`` check run on that
commit; a terminal state (success, failure) is final and never re-evaluated. Judging is pure
(:mod:`bot.core.verify`); this module gathers the evidence and records the result, writing the
check only when it changed (a quiet scheduled run costs reads only)."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

from bot.app import deployments
from bot.app.context import Context, check_env, check_model_name
from bot.app.evaluate import evaluate_pr
from bot.app.records import bringing_commit, verify_check
from bot.app.rollback import rollback
from bot.core import deployments as deployments_core
from bot.core import promql
from bot.core import verify as verify_core
from bot.core.gate_inputs import CommandOutcome
from bot.core.inline import code, plain
from bot.core.manifest import load_manifest
from bot.core.marker import parse_state
from bot.core.model import CHECK_VERIFY, LABEL_HOLD, HistoryEntry
from bot.core.paths import env_dir, manifest_path, parse_manifest_path
from bot.core.policy_model import CommandGate, EnvironmentPolicy, Policy
from bot.core.promql import Evidence, PrometheusGate
from bot.core.verify import Verification, VerifyPolicy
from bot.errors import BotError, NotAuthorized, UsageError

logger = logging.getLogger(__name__)


def run(ctx: Context, *, model: str | None = None, env: str | None = None) -> list[Verification]:
    """Evaluate every open verification now (all environments with ``verify:``, or one)."""
    tip = ctx.tip()
    policy = ctx.policy(tip)
    if env is not None:
        check_env(policy, env)
        found = policy.env(env)
        if found is None or found.verify is None:
            raise UsageError(
                f"environment {env!r} has no verify: section", "add verify: to it in promotion.yaml"
            )
    if model is not None:
        check_model_name(model)
    targets = [e for e in policy.environments if e.verify is not None and (env is None or e.name == env)]
    results: list[Verification] = []
    for target in targets:
        names = sorted(
            where[1]
            for path in ctx.ws.blob_ids(tip, env_dir(target.name))
            if (where := parse_manifest_path(path)) is not None
        )
        for name in names:
            if model is not None and name != model:
                continue
            result = verify_one(ctx, policy, target, name, tip)
            if result is not None:
                results.append(result)
    return results


def verify_one(
    ctx: Context, policy: Policy, env: EnvironmentPolicy, model: str, tip: str
) -> Verification | None:
    assert env.verify is not None
    entries = ctx.ws.history(manifest_path(env.name, model), ref=tip)
    brought = bringing_commit(entries)
    if brought is None or brought.version is None or brought.action not in ("promote", "rollback"):
        return None
    existing = verify_check(ctx, brought.sha)
    _, end = env.verify.window(brought.at)
    if existing is not None and existing.result in ("success", "failure"):
        final = Verification(
            env.name, model, brought.version, brought.sha, brought.at, existing.result, existing.title, end
        )
        recorded = deployments.current_record(ctx, existing)
        if deployments_core.owes_refresh(recorded):  # an earlier run stopped before finishing
            _settle(ctx, final, existing.title, existing.summary, recorded)
        return final
    evidence = gather(ctx, policy, env.name, env.verify, model, brought, ctx.now)
    errors_before, slot_before = (
        verify_core.previous_errors(existing.summary) if existing is not None else (0, None)
    )
    result = verify_core.decide(
        env.verify,
        env=env.name,
        model=model,
        version=brought.version,
        commit=brought.sha,
        started=brought.at,
        now=ctx.now,
        evidence=evidence,
        errors_before=errors_before,
        error_slot_before=slot_before,
    )
    title = result.reason if len(result.reason) <= 200 else result.reason[:199] + "…"
    summary = f"{verify_core.marker(result.errors, result.error_slot)}\n{_summary(result)}"
    rolled_back: dict[str, object] | None = None
    if result.state == "failure":
        # Act before recording the failure: a run that dies in between acts again next time,
        # and every action below finds what an earlier run already did (never twice).
        rolled_back = on_failure(ctx, policy, env, result, brought)
    record = deployments.follow(ctx, result, existing)  # GitHub's Environments page follows it
    if result.state in ("success", "failure"):
        record = deployments_core.owing_refresh(record)  # until the downstream PRs were re-evaluated
    recorded = deployments.current_record(ctx, existing)
    # A commit status (no check runs for this token) holds no summary: compare what it holds.
    held = (existing.summary or summary) if existing is not None else ""
    if existing is None or (existing.result, existing.title, held, recorded) != (
        result.state,
        title,
        summary,
        record,
    ):
        assert result.state != "inactive"
        ctx.forge.set_check(
            head_sha=brought.sha,
            name=CHECK_VERIFY,
            result=result.state,
            title=title,
            summary=summary,
            record=record,
        )
    if result.state in ("success", "failure"):
        _settle(ctx, result, title, summary, record)  # their verified gate just changed
    return result if rolled_back is None else dataclasses.replace(result, rollback=rolled_back)


def _settle(ctx: Context, result: Verification, title: str, summary: str, record: str) -> None:
    """Re-evaluate the downstream PRs, then drop the check record's "refresh owed" mark."""
    if refresh_downstream(ctx, result):
        ctx.forge.set_check(
            head_sha=result.commit,
            name=CHECK_VERIFY,
            result="success" if result.state == "success" else "failure",
            title=title,
            summary=summary,
            record=deployments_core.settled(record),
        )


BOT_REQUESTER = "promobot"


def on_failure(
    ctx: Context, policy: Policy, env: EnvironmentPolicy, result: Verification, brought: HistoryEntry
) -> dict[str, object] | None:
    """``on_failure`` of a verification that just failed: rollback, hold or notify.

    A rollback's own failed verification only notifies: promobot never rolls back a rollback.
    Nor does a broken check (its query cannot be built or is refused, its command cannot
    start): that is a problem with the policy, not evidence about the model (reference §15).
    """
    assert env.verify is not None
    action = env.verify.on_failure
    if brought.action == "rollback" and action == "rollback":
        action = "notify"
    if result.broken:
        action = "notify"
    check = result.failed_check or "verify"
    done: dict[str, object] | None = None
    if action == "rollback":
        reason = f"{verify_core.REASON_PREFIX}{check}"
        # Direct only when the policy says so explicitly (rollback.direct and verify_direct);
        # never from a permission lookup of the login "promobot", which anyone could register.
        direct = policy.rollback.direct and policy.rollback.verify_direct
        try:
            outcome = rollback(
                ctx,
                model=result.model,
                env=result.env,
                direct=direct,
                reason=reason,
                actor=BOT_REQUESTER,
                by_bot=True,
            )
        except NotAuthorized:  # the policy at the tip moved under us: the bot opens a PR instead
            outcome = rollback(
                ctx, model=result.model, env=result.env, direct=False, reason=reason, actor=BOT_REQUESTER
            )
        done = {"pr": outcome.pr, "sha": outcome.sha}
    downstream = _downstream_prs(ctx, result)
    if action == "hold":
        for number in downstream:
            ctx.forge.add_labels(number, [LABEL_HOLD])
    _comment_once(ctx, brought, result, action, done)
    return done


def refresh_downstream(ctx: Context, result: Verification) -> bool:
    """Re-evaluate the open promotion PRs of this version out of ``result.env``.

    True when every one was; a PR that could not be is logged and left to the next run.
    """

    done = True
    for number in _downstream_prs(ctx, result):
        try:
            evaluate_pr(ctx, number)
        except BotError as exc:  # the next run (the check's record says so) refreshes it
            logger.warning("could not refresh #%s after the verification: %s", number, exc.message)
            done = False
    return done


def _downstream_prs(ctx: Context, result: Verification) -> list[int]:
    found = []
    for pr in ctx.forge.list_prs(state="open"):
        state = parse_state(pr.body)
        if (
            state is not None
            and state.action == "promote"
            and state.model == result.model
            and state.from_ == result.env
            and state.version == result.version
        ):
            found.append(pr.number)
    return found


def _comment_once(
    ctx: Context, brought: HistoryEntry, result: Verification, action: str, done: dict[str, object] | None
) -> None:
    """Tell the promotion PR that brought the version (once: the comment carries a marker)."""
    if brought.pr is None:
        return
    mark = f"<!-- promobot:verify-failed {result.commit} -->"
    if any(mark in c.body for c in ctx.forge.list_comments(brought.pr)):
        return
    if action == "rollback" and done is not None:
        what = f"promobot rolled it back (#{done['pr']})" if done.get("pr") else "promobot rolled it back"
    elif action == "hold":
        what = "downstream promotions are on hold"
    elif result.broken:
        what = "no automatic action: the check itself is broken — fix it in promotion.yaml"
    else:
        what = "no automatic action (on_failure: notify)"
    ctx.forge.comment(
        brought.pr,
        f"{mark}\n❌ Post-deploy verification of {code(result.version)} in {code(result.env)} failed: "
        f"{plain(result.reason)}\n\n{what}.",
    )


def gather(
    ctx: Context,
    policy: Policy,
    env: str,
    spec: VerifyPolicy,
    model: str,
    brought: HistoryEntry,
    now: datetime,
) -> dict[PrometheusGate | CommandGate, Evidence | CommandOutcome | str]:
    begin, end = spec.window(brought.at)
    found: dict[PrometheusGate | CommandGate, Evidence | CommandOutcome | str] = {}
    if now < begin or ctx.gates is None or brought.version is None:
        return found
    stop = min(now, end).timestamp()
    for check in spec.checks:
        if check.kind == "command":
            found[check] = _run_command_check(
                ctx, check, env, model, brought, begin, min(now, end), now >= end
            )
            continue
        values = verify_core.render_values(model, brought.version, check.env or env, brought.previous_version)
        try:
            query = promql.render(check.query, values)
            traffic = promql.render(check.traffic.query, values) if check.traffic is not None else None
        except ValueError as exc:
            found[check] = f"the query cannot be built: {exc}"
            continue
        provider = policy.providers.prometheus[check.provider]
        found[check] = ctx.gates.prometheus(
            provider, check, query, traffic, start=begin.timestamp(), end=stop
        )
    return found


def _run_command_check(
    ctx: Context,
    check: CommandGate,
    env: str,
    model: str,
    brought: HistoryEntry,
    begin: datetime,
    stop: datetime,
    final: bool,
) -> CommandOutcome | str:
    """Run a command check like a command gate (reference §3): from a checkout of the default
    branch's tip, argv without a shell, a timeout, no token in its environment; it gets the
    environment's manifest (``PROMOBOT_MANIFEST``) and the verification in ``PROMOBOT_*``."""
    assert ctx.gates is not None and brought.version is not None
    tip = ctx.tip()
    try:
        path = manifest_path(env, model)
        manifest = load_manifest(ctx.ws.read(tip, path) or "", path=path)
    except BotError as exc:
        return f"the manifest cannot be read: {exc.message}"
    return ctx.gates.run_command(
        check,
        base_sha=tip,
        manifest=dict(manifest.data),
        model=model,
        from_env=env,
        to_env=env,
        extra_env={
            "PROMOBOT_ENV": env,
            "PROMOBOT_VERSION": brought.version,
            "PROMOBOT_PREVIOUS_VERSION": brought.previous_version or "",
            "PROMOBOT_COMMIT": brought.sha,
            "PROMOBOT_VERIFY_START": verify_core.when(begin),
            "PROMOBOT_VERIFY_END": verify_core.when(stop),
            "PROMOBOT_VERIFY_FINAL": "1" if final else "0",
        },
    )


def _summary(result: Verification) -> str:
    lines = [
        f"Verification of `{result.model}` `{result.version}` in `{result.env}` "
        f"(commit `{result.commit[:12]}`): **{result.state}** — {result.reason}",
    ]
    if result.details:
        lines += ["", "```", result.details.replace("```", "ˋˋˋ"), "```"]
    return "\n".join(lines)


def to_json(result: Verification) -> dict[str, object]:
    return {
        "env": result.env,
        "model": result.model,
        "version": result.version,
        "commit": result.commit,
        "state": result.state,
        "reason": result.reason,
        "until": result.until.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "rollback": dict(result.rollback) if result.rollback is not None else None,
    }
