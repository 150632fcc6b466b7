"""The dashboard's view-model: what ``promobot site`` shows (reference §18), decided in pure code.

The use case (``bot/app/site.py``) gathers the read-side data — ``status``, ``history`` and the
open pull requests, in their JSON shapes (README: CLI) — and this module turns it into plain
dataclasses that the templates under ``bot/templates/site/`` only lay out. Nothing here builds
HTML: every string that came from a manifest, a commit, a PR or a comment stays a plain ``str``
and the templates escape it (jinja2 autoescaping). Links are built from validated parts only
(a web URL checked once, PR numbers, hex SHAs: ``site_safe``), so no ``javascript:`` URL can be
made.

This module owns the index matrix (a row per model, a cell per environment), the open PRs and
each page's key; a model page's timeline and event table are ``site_timeline``; the HTML is
``site_render``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, overload

from bot.core import site_timeline
from bot.core.model import Rejection, is_valid_name
from bot.core.paths import parse_manifest_path
from bot.core.site_marker import stamps
from bot.core.site_safe import check_web_url, clip, commit_href, pr_href, safe_link, when
from bot.core.site_timeline import Row, Timeline, Verification

RESULTS: dict[str | None, tuple[str, str]] = {
    "success": ("✓", "passed"),
    "failure": ("✕", "failed"),
    "pending": ("◔", "pending"),
    None: ("?", "not posted"),
}


# --------------------------------------------------------------------------- view-model


@dataclass(frozen=True, slots=True)
class Gate:
    name: str
    result: str | None
    reason: str

    @property
    def icon(self) -> str:
        return RESULTS.get(self.result, RESULTS[None])[0]

    @property
    def word(self) -> str:
        return RESULTS.get(self.result, RESULTS[None])[1]


@dataclass(frozen=True, slots=True)
class PullView:
    number: int
    title: str
    action: str
    model: str
    route: str
    version: str
    to: str | None
    ready: bool | None
    href: str | None
    blockers: tuple[str, ...] = ()
    gates: tuple[Gate, ...] = ()
    checks: tuple[Gate, ...] = ()
    approvals_required: int | None = None
    approvals_counted: tuple[str, ...] = ()
    approvals_ignored: tuple[tuple[str, str], ...] = ()

    @property
    def page(self) -> str | None:
        return page_name(self.model) if is_valid_name(self.model) else None

    @property
    def state_word(self) -> str:
        return {True: "ready", False: "blocked", None: "not evaluated"}[self.ready]

    @property
    def state_icon(self) -> str:
        return {True: "✓", False: "⊘", None: "?"}[self.ready]


@dataclass(frozen=True, slots=True)
class Cell:
    env: str
    version: str | None
    invalid: str | None = None
    """The manifest's error, when it does not load."""
    rejected: str | None = None
    """The reason, when the version running here is in rejected.yaml."""
    drift: str | None = None
    """How this environment differs from its source (``None``: in sync, or no source)."""
    pull: PullView | None = None
    verification: Verification | None = None

    @property
    def plain(self) -> bool:
        """Only a version to show (most cells of a big index: the template's short path)."""
        return self.version is not None and not (
            self.invalid or self.rejected or self.drift or self.pull or self.verification
        )


@dataclass(frozen=True, slots=True)
class ModelRow:
    model: str
    page: str
    cells: tuple[Cell, ...]

    @property
    def flags(self) -> tuple[str, ...]:
        out = []
        if any(c.drift for c in self.cells):
            out.append("drift")
        if any(c.pull for c in self.cells):
            out.append("open-pr")
        if any(c.rejected for c in self.cells):
            out.append("rejected")
        if any(c.invalid for c in self.cells):
            out.append("invalid")
        return tuple(out)


@dataclass(frozen=True, slots=True)
class RejectedView:
    version: str
    reason: str
    by: str
    at: str


@dataclass(frozen=True, slots=True)
class Header:
    generated_at: str
    generated_iso: str
    commit: str
    commit_short: str
    commit_href: str | None
    repository: str | None
    """The web address the links point into (None on the local forge)."""


@dataclass(frozen=True, slots=True)
class ModelPage:
    model: str
    page: str
    header: Header
    environments: tuple[str, ...]
    cells: tuple[Cell, ...]
    timeline: Timeline
    events: tuple[Row, ...]
    pulls: tuple[PullView, ...]
    rejected: tuple[RejectedView, ...]
    details: tuple[tuple[str, str, str | None], ...]
    """(key, value, link) from the manifest of the first environment that has the model."""


@dataclass(frozen=True, slots=True)
class IndexPage:
    header: Header
    environments: tuple[str, ...]
    sources: tuple[tuple[str, str | None], ...]
    rows: tuple[ModelRow, ...]
    pulls: tuple[PullView, ...]
    counts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PageInputs:
    """What one model page is made of besides the model's history (see ``build_site``)."""

    row: ModelRow
    rejections: tuple[Rejection, ...]
    pulls: tuple[PullView, ...]
    details: tuple[tuple[str, str, str | None], ...]
    verifications: Mapping[str, Verification]


class Pages(Sequence[ModelPage]):
    """The model pages to render, each built when it is asked for (``pages[i]``): ``promobot
    site`` asks in the processes that render them, so building them is spread over the cores
    too. Not kept: each page is asked for once."""

    def __init__(self, inputs: Sequence[PageInputs], make: Callable[[PageInputs], ModelPage]) -> None:
        self._inputs = tuple(inputs)
        self._make = make

    @overload
    def __getitem__(self, index: int) -> ModelPage: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[ModelPage, ...]: ...

    def __getitem__(self, index: int | slice) -> ModelPage | tuple[ModelPage, ...]:
        if isinstance(index, slice):
            return tuple(self._make(item) for item in self._inputs[index])
        return self._make(self._inputs[index])

    def __len__(self) -> int:
        return len(self._inputs)


@dataclass(frozen=True, slots=True)
class Site:
    index: IndexPage
    models: Sequence[ModelPage]
    """The model pages to render (not those in ``reused``), built when asked for (``Pages``)."""
    keys: Mapping[str, str] = field(default_factory=dict)
    """Every model page → the key of what it shows (see ``build_site``)."""
    reused: frozenset[str] = frozenset()
    """Model pages whose key is the previous run's: not built, the old file stays."""


# --------------------------------------------------------------------------- building


def page_name(model: str) -> str:
    """The model page's path inside the site (model names are already safe path parts)."""
    return f"models/{model}.html"


_GATE_ROW_RE = re.compile(r"^\|\s*(.+?)\s*\|\s*(?:\S+\s+)?(success|failure|pending)\s*\|\s*(.*?)\s*\|\s*$")
_MD_ESCAPE_RE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~])")


def _unmarkdown(cell: str) -> str:
    text = cell.strip()
    if len(text) >= 2 and text.startswith("`") and text.endswith("`"):
        text = text[1:-1]
    return _MD_ESCAPE_RE.sub(r"\1", text)


def gate_rows(summary: str) -> tuple[Gate, ...]:
    """The gate table of a ``promobot/gates`` check summary (promobot wrote it) as rows."""
    gates = []
    for line in summary.splitlines():
        found = _GATE_ROW_RE.match(line.strip())
        if found and found.group(1) not in ("gate", "---"):
            gates.append(
                Gate(clip(_unmarkdown(found.group(1)), 80), found.group(2), clip(_unmarkdown(found.group(3))))
            )
    return tuple(gates)


def blocker_lines(summary: str) -> tuple[str, ...]:
    """The ``- …`` lines of a ``promobot/ready`` check summary (its blockers)."""
    return tuple(
        clip(_unmarkdown(line.strip()[2:])) for line in summary.splitlines() if line.strip().startswith("- ")
    )


def pull_view(pr: Mapping[str, Any], web_url: str | None) -> PullView:
    """A view of one open PR from ``pr show``'s JSON plus ``check_summaries`` (name → summary)."""
    summaries: Mapping[str, str] = pr.get("check_summaries") or {}
    approvals: Mapping[str, Any] = pr.get("approvals") or {}
    checks = tuple(Gate(name, result, "") for name, result in (pr.get("checks") or {}).items())
    ready_result = (pr.get("checks") or {}).get("promobot/ready")
    ready = {"success": True, "failure": False, "pending": False}.get(ready_result or "")
    action = str(pr.get("action") or "")
    src, dst = pr.get("from"), pr.get("to")
    if action == "promote":
        route = f"{src or '?'} → {dst or '?'}"
    elif action == "rollback":
        route = f"roll back {dst or '?'}"
    else:
        route = action or "?"
    return PullView(
        number=int(pr["number"]),
        title=clip(pr.get("title")),
        action=action,
        model=str(pr.get("model") or ""),
        route=clip(route, 80),
        version=clip(pr.get("version") or "?", 80),
        to=dst,
        ready=ready,
        href=pr_href(web_url, pr.get("number")),
        blockers=blocker_lines(summaries.get("promobot/ready", "")) if ready is False else (),
        gates=gate_rows(summaries.get("promobot/gates", "")),
        checks=checks,
        approvals_required=approvals.get("required"),
        approvals_counted=tuple(str(x) for x in approvals.get("counted") or ()),
        approvals_ignored=tuple(
            (str(i.get("login")), clip(i.get("reason"))) for i in approvals.get("ignored") or ()
        ),
    )


def _drift(version: str | None, source: str | None, source_version: str | None) -> str | None:
    if source is None or source_version is None or source_version == version:
        return None
    if version is None:
        return f"not here yet; {source} runs {source_version}"
    return f"{source} runs {source_version}"


def _details(manifest: Mapping[str, Any] | None) -> tuple[tuple[str, str, str | None], ...]:
    if not manifest:
        return ()
    out = []
    for key in ("owner", "model_card"):
        value = manifest.get(key)
        if value is not None and not isinstance(value, dict | list):
            out.append((key, clip(value), safe_link(value)))
    artifact = manifest.get("artifact")
    if isinstance(artifact, dict) and artifact.get("uri") is not None:
        out.append(("artifact", clip(artifact.get("uri")), None))
    return tuple(out)


def build_site(
    *,
    status: Mapping[str, Any],
    sources: Mapping[str, str | None],
    histories: Mapping[str, Sequence[Mapping[str, Any]]],
    pulls: Sequence[Mapping[str, Any]],
    rejections: Sequence[Rejection],
    manifests: Mapping[str, Mapping[str, Any]],
    now: datetime,
    commit: str,
    web_url: str | None = None,
    verifications: Mapping[tuple[str, str], Verification] | None = None,
    salt: str = "",
    previous: Mapping[str, str] | None = None,
    history_ids: Mapping[str, str] | None = None,
) -> Site:
    """The whole site's view-model.

    ``status``: ``promobot status`` JSON; ``sources``: environment → the environment it is
    promoted from; ``histories``: model → ``promobot history`` JSON rows (newest first, graph
    order); ``pulls``: ``promobot pr show`` JSON of each open PR, with ``check_summaries`` added;
    ``manifests``: model → the parsed manifest shown on its page; ``verifications``: the hook
    for live-data verification, (model, env) → state.

    Every model page gets a key (``Site.keys``): the sha256 of everything the page shows and of
    ``salt`` (the caller's digest of the code and templates that make pages). A page whose key
    is the one in ``previous`` (page → key of the last run) is not built at all: it is in
    ``Site.reused`` and the caller keeps its old file. ``history_ids`` (model → a text that
    identifies its history, e.g. its commits and environments) stands in for the history rows
    in the keys; then ``histories`` is read only for the pages that are built, so it may be a
    mapping that makes rows on demand.
    """
    web = check_web_url(web_url)
    envs = tuple(status["environments"])
    clock = stamps(now)
    header = Header(
        generated_at=clock["generated_at"],
        generated_iso=clock["generated_iso"],
        commit=commit,
        commit_short=commit[:12],
        commit_href=commit_href(web, commit),
        repository=web,
    )
    reasons = {(r.model, r.version): r for r in rejections}
    invalid: dict[tuple[str, str], str] = {}
    for path, err in (status.get("errors") or {}).items():
        where = parse_manifest_path(str(path))
        if where is not None:
            invalid[(where[1], where[0])] = clip(err)
    views = sorted((pull_view(p, web) for p in pulls), key=lambda v: v.number)
    by_target: dict[tuple[str, str], PullView] = {}
    pulls_by_model: dict[str, list[PullView]] = {}
    for view in views:
        pulls_by_model.setdefault(view.model, []).append(view)
        if view.to:
            by_target.setdefault((view.model, view.to), view)
    checks_by_model: dict[str, dict[str, Verification]] = {}
    for (model, env), check in (verifications or {}).items():
        checks_by_model.setdefault(model, {})[env] = check
    rejected_by_model: dict[str, list[Rejection]] = {}
    for item in rejections:
        rejected_by_model.setdefault(item.model, []).append(item)
    previous = previous or {}
    rows = []
    pages: list[PageInputs] = []
    keys: dict[str, str] = {}
    reused: set[str] = set()
    for model, versions in status["models"].items():
        checks = checks_by_model.get(model, {})
        cells = []
        for env in envs:
            version = versions.get(env)
            source = sources.get(env)
            rej = reasons.get((model, version)) if version else None
            cells.append(
                Cell(
                    env=env,
                    version=clip(version, 40) if version is not None else None,
                    invalid=invalid.get((model, env)),
                    rejected=clip(rej.reason) if rej else None,
                    drift=_drift(version, source, versions.get(source) if source else None),
                    pull=by_target.get((model, env)),
                    verification=checks.get(env),
                )
            )
        row = ModelRow(model, page_name(model), tuple(cells))
        rows.append(row)
        mine = rejected_by_model.get(model, [])
        theirs = pulls_by_model.get(model, [])
        details = _details(manifests.get(model))
        if history_ids is not None:
            history_id = history_ids.get(model, "")
        else:
            history_id = json.dumps(histories.get(model, ()), ensure_ascii=False, default=str)
        key = _page_key(salt, row, envs, history_id, mine, theirs, details, web)
        keys[row.page] = key
        if previous.get(row.page) == key:
            reused.add(row.page)
            continue
        pages.append(PageInputs(row, tuple(mine), tuple(theirs), details, checks))
    counts = {
        "models": len(rows),
        "drift": sum(1 for r in rows if any(c.drift for c in r.cells)),
        "open": len(views),
        "rejected": sum(1 for r in rows if any(c.rejected for c in r.cells)),
    }
    index = IndexPage(
        header=header,
        environments=envs,
        sources=tuple((env, sources.get(env)) for env in envs),
        rows=tuple(rows),
        pulls=tuple(views),
        counts=counts,
    )

    def make(page: PageInputs) -> ModelPage:
        history = histories.get(page.row.model, ())
        last = str(history[0].get("sha") or "") if history else ""
        return ModelPage(
            model=page.row.model,
            page=page.row.page,
            # No clock and no tip here: a model page changes only when its model does, so
            # an unchanged page is reused rather than rendered again (see _page_key).
            header=Header("", "", last, last[:12], commit_href(web, last), web),
            environments=envs,
            cells=page.row.cells,
            timeline=site_timeline.timeline(history, envs, page.rejections, web, page.verifications),
            events=site_timeline.event_rows(history, web),
            pulls=page.pulls,
            rejected=tuple(
                RejectedView(clip(r.version, 80), clip(r.reason), clip(r.by, 80), when(r.at))
                for r in sorted(page.rejections, key=lambda r: r.at, reverse=True)
            ),
            details=page.details,
        )

    return Site(index, Pages(pages, make), keys, frozenset(reused))


def _page_key(
    salt: str,
    row: ModelRow,
    envs: tuple[str, ...],
    history: str,
    rejections: Sequence[Rejection],
    pulls: Sequence[PullView],
    details: tuple[tuple[str, str, str | None], ...],
    web: str | None,
) -> str:
    """sha256 of what a model page is made of: its cells (versions, errors, rejections, drift,
    the PR and the verification on each), its history (``history``: the rows, or what
    identifies them), rejections, open PRs and manifest details, the links' base, and ``salt``
    (the code and templates that turn them into HTML). Nothing else — no clock, no tip — goes
    into a model page."""
    cells = [
        (
            c.env,
            c.version,
            c.invalid,
            c.rejected,
            c.drift,
            c.pull and repr(c.pull),
            c.verification and repr(c.verification),
        )
        for c in row.cells
    ]
    extra = repr(rejections) + repr(pulls) if rejections or pulls else ""  # rare: dataclass reprs
    material = repr((salt, row.model, envs, cells, details, web, extra))
    digest = hashlib.sha256(material.encode("utf-8", "surrogatepass"))
    digest.update(history.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()
