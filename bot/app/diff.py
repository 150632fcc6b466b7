"""Use case: ``promobot diff MODEL --to ENV`` — what a promotion would change. Changes nothing."""

from __future__ import annotations

from typing import Any

from bot.app.assess import assess
from bot.app.context import Context
from bot.app.promote import candidate
from bot.core import render
from bot.core.marker import PrState
from bot.core.readiness import without


def diff(ctx: Context, *, model: str, to: str) -> dict[str, Any]:

    c = candidate(ctx, model=model, to=to)
    env, source, path, old_raw, new_text = c.env, c.source, c.path, c.old_text, c.new_text
    state = PrState(
        action="promote",
        model=model,
        to=to,
        version=source.version,
        from_=env.from_,
        previous_version=c.previous_version,
        requester=ctx.actor,
    )
    assessment = assess(
        ctx,
        state=state,
        base_sha=c.base_sha,
        new_text=new_text,
        old_text=old_raw,
        source=source,
        pr=None,
        head_sha=None,
    )
    rows = render.metric_rows(assessment.candidate, assessment.incumbent, assessment.results)
    return {
        "model": model,
        "from": env.from_,
        "to": to,
        "version": source.version,
        "previous_version": state.previous_version,
        "changed": old_raw != new_text,
        "new_to_target": old_raw is None,
        "path": path,
        "diff": _unified(path, old_raw, new_text),
        "metrics": [
            {
                "name": r.name,
                "candidate": r.candidate,
                "incumbent": r.incumbent,
                "delta": r.delta,
                "gate": r.mark,
            }
            for r in rows
        ],
        "gates": [
            {"name": r.name, "kind": r.kind, "result": r.result, "reason": r.reason}
            for r in assessment.results
        ],
        "ready_blockers": without(assessment.blockers, "approvals"),
    }


def _unified(path: str, old: bytes | None, new: bytes) -> str:
    import difflib

    lines = difflib.unified_diff(
        (old or b"").decode("utf-8", "replace").splitlines(keepends=True),
        new.decode("utf-8", "replace").splitlines(keepends=True),
        fromfile=f"a/{path}" if old is not None else "/dev/null",
        tofile=f"b/{path}",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)
