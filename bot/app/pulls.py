"""Use cases: list and show promobot's pull requests (``promobot pr list | show``)."""

from __future__ import annotations

from typing import Any

from bot.app.assess import approvals_for
from bot.app.context import Context
from bot.app.facts import pr_context
from bot.core.branches import REJECT_ACTIONS, parse_branch
from bot.core.marker import parse_state
from bot.core.model import CHECK_NAMES, PullState
from bot.errors import NotApplicable


def list_prs(ctx: Context, *, state: PullState | None) -> list[dict[str, Any]]:
    out = []
    for pr in ctx.forge.list_prs(state=state):
        ref = parse_branch(pr.head_branch)
        marker = parse_state(pr.body) if ref else None
        out.append(
            {
                "number": pr.number,
                "state": pr.state,
                "title": pr.title,
                "model": ref.model if ref else None,
                "from": marker.from_ if marker else None,
                "to": (ref.env or None) if ref else None,
                "version": ref.version if ref and ref.version else marker.version if marker else None,
                "action": ref.action if ref else None,
            }
        )
    return out


def show(ctx: Context, number: int) -> dict[str, Any]:

    pr = ctx.forge.get_pr(number)
    ref = parse_branch(pr.head_branch)
    marker = parse_state(pr.body)
    checks: dict[str, str | None] = dict.fromkeys(CHECK_NAMES)
    foreign = []
    for check in ctx.forge.list_checks(pr.head_sha):
        if check.name in checks and check.by_promobot:
            checks[check.name] = check.result
        elif check.name in checks:
            foreign.append(check.name)
    approvals: dict[str, Any] = {"required": None, "counted": [], "ignored": [], "blocking": []}
    requester = None
    if ref is not None and marker is not None:
        try:
            facts = pr_context(ctx, number)
            requester = facts.state.requester  # promobot's record (the body's marker is editable)
            policy = ctx.policy(facts.base_sha)
            env = policy.env(facts.state.to) if facts.state.to else None
            if env is not None or facts.state.action in REJECT_ACTIONS:
                verdict = approvals_for(ctx, facts.pr, env, facts.state, policy)
                approvals = {
                    "required": verdict.required,
                    "counted": list(verdict.counted),
                    "ignored": [{"login": i.login, "reason": i.reason} for i in verdict.ignored],
                    "blocking": [{"login": i.login, "reason": i.reason} for i in verdict.blocking],
                    "satisfied": verdict.satisfied,
                }
        except NotApplicable:  # not promobot's: no approvals to show
            pass
    return {
        "number": pr.number,
        "state": pr.state,
        "title": pr.title,
        "body": pr.body,
        "head_branch": pr.head_branch,
        "head_sha": pr.head_sha,
        "base_branch": pr.base_branch,
        "author": pr.author,
        "draft": pr.draft,
        "merge_sha": pr.merge_sha,
        "labels": list(pr.labels),
        "model": ref.model if ref else None,
        "from": marker.from_ if marker else None,
        "to": (ref.env or None) if ref else None,
        "version": ref.version if ref and ref.version else marker.version if marker else None,
        "previous_version": marker.previous_version if marker else None,
        "requester": requester,
        "action": ref.action if ref else None,
        "checks": checks,
        "foreign_checks": foreign,
        "approvals": approvals,
        "reviews": [
            {"id": r.id, "login": r.login, "state": r.state, "commit_id": r.commit_id}
            for r in ctx.forge.list_reviews(number)
        ],
        "comments": [
            {"id": c.id, "author": c.author, "body": c.body} for c in ctx.forge.list_comments(number)
        ],
    }
