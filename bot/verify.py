"""Post-deploy verification: ``promobot verify [MODEL] [--env ENV]`` and the scheduled run.

For every environment with ``verify:`` and every model in it, the verification is the commit
that brought the running version to the default branch (a promotion's or a rollback's squash
commit; a hand edit is not verified). Its state is the ``promobot/verify`` check run on that
commit; a terminal state (success, failure) is final and never re-evaluated. Judging is pure
(:mod:`bot.core.verify`); this module gathers the evidence and records the result, writing the
check only when it changed (a quiet scheduled run costs reads only).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from bot.app import Context, check_env, check_model_name, manifest_path
from bot.core import promql
from bot.core import verify as verify_core
from bot.core.model import CheckRun, EnvironmentPolicy, HistoryEntry, Policy
from bot.core.promql import Evidence, PrometheusGate
from bot.core.verify import CHECK_VERIFY, Verification, VerifyPolicy
from bot.errors import UsageError

logger = logging.getLogger(__name__)


def bringing_commit(entries: Sequence[HistoryEntry], version: str | None = None) -> HistoryEntry | None:
    """The newest commit that brought ``version`` (default: the current one) into the manifest."""
    if not entries:
        return None
    want = entries[0].version if version is None else version
    found: HistoryEntry | None = None
    for entry in entries:
        if entry.version != want:
            if found is not None:
                break
            continue
        found = entry
        if entry.previous_version != want:
            break
    return found


def verify_check(ctx: Context, sha: str) -> CheckRun | None:
    for check in ctx.forge.list_checks(sha):
        if check.name == CHECK_VERIFY and check.by_promobot:
            return check
    return None


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
            path.rsplit("/", 1)[1].removesuffix(".yaml")
            for path in ctx.ws.blob_ids(tip, f"environments/{target.name}")
            if path.endswith(".yaml") and path.count("/") == 2
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
    _, end = verify_core.window(env.verify, brought.at)
    if existing is not None and existing.result in ("success", "failure"):
        return Verification(
            env.name, model, brought.version, brought.sha, brought.at, existing.result, existing.title, end
        )
    evidence = gather(ctx, policy, env.name, env.verify, model, brought, ctx.now)
    result = verify_core.decide(
        env.verify,
        env=env.name,
        model=model,
        version=brought.version,
        commit=brought.sha,
        started=brought.at,
        now=ctx.now,
        evidence=evidence,
        errors_before=verify_core.previous_errors(existing.summary) if existing is not None else 0,
    )
    title = result.reason if len(result.reason) <= 200 else result.reason[:199] + "…"
    summary = f"{verify_core.marker(result.errors)}\n{_summary(result)}"
    if existing is None or (existing.result, existing.title, existing.summary) != (
        result.state,
        title,
        summary,
    ):
        assert result.state != "inactive"
        ctx.forge.set_check(
            head_sha=brought.sha, name=CHECK_VERIFY, result=result.state, title=title, summary=summary
        )
    return result


def gather(
    ctx: Context,
    policy: Policy,
    env: str,
    spec: VerifyPolicy,
    model: str,
    brought: HistoryEntry,
    now: datetime,
) -> dict[PrometheusGate, Evidence | str]:
    begin, end = verify_core.window(spec, brought.at)
    found: dict[PrometheusGate, Evidence | str] = {}
    if now < begin or ctx.gates is None or brought.version is None:
        return found
    stop = min(now, end).timestamp()
    for check in spec.checks:
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
        "rollback": None,
    }
