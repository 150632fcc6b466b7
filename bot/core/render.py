"""Markdown the bot shows people: PR bodies, check summaries, replies, plans.

Untrusted text (anything from a manifest, a comment or a login) only ever reaches
markdown through :func:`bot.core.inline.code`, which makes it an inline code span: no
links, no mentions, no HTML, no table breaks.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from bot.core.inline import RESULT_ICON, code, fenced, plain
from bot.core.marker import PrState, render_state
from bot.core.model import GateResult, Manifest, Rejection

if TYPE_CHECKING:
    import jinja2

    from bot.core.policy_model import Policy


@cache
def _env() -> jinja2.Environment:
    import jinja2  # imported lazily: `promobot --help` must stay fast

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bot", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
    )
    env.filters["code"] = lambda v: _markup(code(v))
    return env


def _markup(text: str) -> Any:
    """Mark text the bot built (already neutralised) as safe for the autoescaping templates."""
    import markupsafe

    return markupsafe.Markup(text)  # noqa: S704 - callers pass text already neutralised


def gates_table(results: Sequence[GateResult]) -> str:
    if not results:
        return "_No gates evaluated._"
    lines = ["| gate | result | reason |", "| --- | :---: | --- |"]
    for r in results:
        lines.append(f"| {code(r.name)} | {RESULT_ICON[r.result]} {r.result} | {plain(r.reason)} |")
    return "\n".join(lines)


def gates_details(results: Sequence[GateResult]) -> str:
    parts = [gates_table(results)]
    for r in results:
        if r.details:
            parts.append(f"**{plain(r.name)}**\n\n{fenced(r.details)}")
    return "\n\n".join(parts)


@dataclass(frozen=True, slots=True)
class MetricRow:
    name: str
    candidate: str
    incumbent: str
    delta: str
    mark: str


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def metric_rows(
    candidate: Manifest | None, incumbent: Manifest | None, results: Sequence[GateResult]
) -> list[MetricRow]:
    cand = dict(candidate.metrics) if candidate else {}
    inc = dict(incumbent.metrics) if incumbent else {}
    marks: dict[str, str] = {}
    for r in results:
        if r.kind in ("metric", "compare"):
            metric = r.name.split(" ", 1)[1] if " " in r.name else r.name
            icon = RESULT_ICON[r.result]
            marks[metric] = icon if marks.get(metric) in (None, "✅") else marks[metric]
    rows = []
    for name in sorted(set(cand) | set(inc)):
        c, i = cand.get(name), inc.get(name)
        delta = "—" if c is None or i is None else f"{c - i:+.6g}"
        rows.append(MetricRow(name, _num(c), _num(i), delta, marks.get(name, "")))
    return rows


def manifest_diff(path: str, old: str | None, new: str) -> str:
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"a/{path}" if old is not None else "/dev/null",
        tofile=f"b/{path}",
    )
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    return fenced(text or "(no change)\n", "diff")


def chain_nodes(
    policy: Policy, versions: Mapping[str, str | None]
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    nodes = [
        {"id": f"e{i}", "name": e.name, "version": versions.get(e.name) or "—"}
        for i, e in enumerate(policy.environments)
    ]
    ids = {e.name: f"e{i}" for i, e in enumerate(policy.environments)}
    edges = [{"src": ids[e.from_], "dst": ids[e.name]} for e in policy.environments if e.from_]
    return nodes, edges


@dataclass(frozen=True, slots=True)
class PrBody:
    state: PrState
    policy: Policy
    versions: Mapping[str, str | None]
    results: Sequence[GateResult]
    candidate: Manifest | None
    incumbent: Manifest | None
    path: str
    old_text: str | None
    new_text: str
    approvals_text: str
    commands: Sequence[str]
    reason: str | None = None
    incumbent_error: str | None = None
    """Why the target's manifest exists but does not load: the body says so, never "new to"."""


def pr_body(b: PrBody) -> str:
    nodes, edges = chain_nodes(b.policy, b.versions)
    eval_note = ""
    if b.candidate and b.incumbent:
        cd, idg = b.candidate.eval_dataset_digest, b.incumbent.eval_dataset_digest
        if cd and idg and cd != idg:
            eval_note = "⚠️ The two versions were evaluated on different datasets; deltas are not comparable."
    lineage = [(k, v) for k, v in (b.candidate.lineage.items() if b.candidate else [])]
    return str(
        _env()
        .get_template("pr_body.md.j2")
        .render(
            s=b.state,
            requester=b.state.requester,
            reason=b.reason,
            incumbent_error=b.incumbent_error,
            local_keys=list(b.policy.local_keys),
            chain=nodes,
            edges=edges,
            gates_table=_markup(gates_table(b.results)),
            metrics=metric_rows(b.candidate, b.incumbent, b.results),
            eval_note=eval_note,
            lineage=lineage,
            approvals_text=_markup(b.approvals_text),
            path=b.path,
            diff_block=_markup(manifest_diff(b.path, b.old_text, b.new_text)),
            commands=[_markup(c) for c in b.commands],
            marker=_markup(render_state(b.state)),
        )
    )


def rejection_body(
    state: PrState, entry: Rejection | None, *, rejected_path: str, approvals: str, commands: Sequence[str]
) -> str:
    """The body of a reject / unreject PR (``entry``: the rejection it adds or removes, when known)."""
    return str(
        _env()
        .get_template("reject_body.md.j2")
        .render(
            s=state,
            entry=entry,
            reason_block=_markup(fenced(entry.reason)) if entry is not None else "",
            rejected_path=rejected_path,
            approvals_text=_markup(approvals),
            commands=[_markup(c) for c in commands],
            marker=_markup(render_state(state)),
        )
    )


def bullet_list(items: Iterable[str]) -> str:
    return "\n".join(f"- {item}" for item in items)
