"""Use case: ``promobot diff MODEL --to ENV`` — what a promotion would change. Changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot.app import Context, check_env, check_model_name, manifest_path, read_manifest
from bot.core import manifest as manifests
from bot.core import render
from bot.core.marker import PrState
from bot.errors import UsageError


def diff(ctx: Context, *, model: str, to: str) -> dict[str, Any]:
    from bot.promotion import assess

    check_model_name(model)
    base_sha = ctx.tip()
    policy = ctx.policy(base_sha)
    env = policy.env(check_env(policy, to))
    assert env is not None
    if env.from_ is None:
        raise UsageError(
            f"{to} is the first environment; nothing is promoted into it",
            f"diff against one of: {', '.join(e.name for e in policy.environments if e.from_)}",
        )
    src_raw, source = read_manifest(ctx, base_sha, env.from_, model)
    if src_raw is None or source is None:
        raise UsageError(f"{model} is not in {env.from_}", "check the name with `promobot status`")
    path = manifest_path(to, model)
    old_raw = ctx.ws.read(base_sha, path)
    new_text = manifests.apply_promotion(
        src_raw.decode(), old_raw.decode() if old_raw is not None else None, policy.local_keys
    ).encode()
    _, incumbent = read_manifest(ctx, base_sha, to, model) if old_raw is not None else (None, None)
    state = PrState(
        action="promote",
        model=model,
        to=to,
        version=source.version,
        from_=env.from_,
        previous_version=incumbent.version if incumbent else None,
        requester=ctx.actor,
    )
    a = assess(
        ctx,
        state=state,
        base_sha=base_sha,
        new_text=new_text,
        old_text=old_raw,
        source=source,
        pr=None,
        head_sha=None,
    )
    rows = render.metric_rows(a.candidate, a.incumbent, a.results)
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
            {"name": r.name, "kind": r.kind, "result": r.result, "reason": r.reason} for r in a.results
        ],
        "ready_blockers": [b for b in a.blockers if not b.startswith("approvals")],
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


def render_diff(data: Mapping[str, Any], *, markdown: bool, gates: Callable[..., str]) -> str:
    from bot.core.report import table

    head = f"{data['model']}: {data['from']} → {data['to']}, " + (
        f"{data['previous_version']} → {data['version']}"
        if data["previous_version"]
        else f"new in {data['to']} ({data['version']})"
    )
    parts = [head, ""]
    if not data["changed"]:
        parts.append(f"{data['to']} already has these promoted keys; nothing to promote.")
        return "\n".join(parts)
    parts.append(render.fenced(data["diff"], "diff") if markdown else data["diff"].rstrip("\n"))
    metrics: Sequence[Mapping[str, str]] = data["metrics"]
    if metrics:
        parts += [
            "",
            table(
                ["metric", "candidate", data["to"], "delta", "gate"],
                [[m["name"], m["candidate"], m["incumbent"], m["delta"], m["gate"]] for m in metrics],
                markdown=markdown,
            ),
        ]
    parts += ["", gates(data["gates"], markdown=markdown)]
    return "\n".join(parts)
