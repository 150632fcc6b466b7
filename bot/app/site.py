"""Use case: ``promobot site --out DIR``, a static dashboard of the GitOps repository (reference §18).

It reads what ``status``, ``history`` and ``pr list`` / ``pr show`` read — the default
branch's manifests and git log, rejected.yaml, the open pull requests and their checks —
decides the view in ``bot.core.site`` and writes plain files: ``index.html`` and
``models/<model>.html``. No server, nothing fetched by the pages (README: the dashboard).
"""

from __future__ import annotations

import functools
import gc
import hashlib
import inspect
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import __version__
from bot.app import history as histories
from bot.app import pulls
from bot.app import status as statuses
from bot.app.context import Context
from bot.app.records import bringing_commit, verify_check
from bot.core import manifest as manifests
from bot.core import site as views
from bot.core import site_render, site_safe, site_timeline
from bot.core.model import HistoryEntry, Rejection
from bot.core.paths import ENV_DIR, manifest_path, parse_manifest_path
from bot.core.policy_model import Policy
from bot.core.site_timeline import Verification
from bot.errors import ManifestError, UsageError

logger = logging.getLogger(__name__)

MARKER = ".promobot-site"
"""A file in every generated site: ``--out`` may replace a folder only when it holds one."""


@dataclass(frozen=True, slots=True)
class SiteResult:
    out: Path
    pages: int
    models: int
    commit: str

    def to_json(self) -> dict[str, Any]:
        return {"out": str(self.out), "pages": self.pages, "models": self.models, "commit": self.commit}


def verification_states(
    ctx: Context, policy: Policy, entries: Mapping[str, list[HistoryEntry]]
) -> dict[tuple[str, str], Verification]:
    """Post-deploy verification (README: verification): (model, env) → its state.

    For each environment with ``verify:``, the ``promobot/verify`` check on the commit that
    brought each model's running version (what ``promobot verify`` writes). One forge read
    per model there; none when no environment verifies.
    """
    envs = [env.name for env in policy.environments if env.verify is not None]
    out: dict[tuple[str, str], Verification] = {}
    if not envs:
        return out

    words = {"success": "passed", "failure": "failed", "pending": "pending"}
    for model, rows in entries.items():
        for env in envs:
            bringing = bringing_commit([e for e in rows if e.env == env])
            if bringing is None or bringing.action == "manual":
                continue
            check = verify_check(ctx, bringing.sha)
            if check is None or check.result not in words:
                continue
            out[(model, env)] = Verification(
                words[check.result], site_safe.clip(check.title), at=None, commit=bringing.sha
            )
    return out


def _open_pulls(ctx: Context) -> list[dict[str, Any]]:
    """``pr show`` of every open promobot PR, with the summaries of its three checks."""
    out = []
    for row in pulls.list_prs(ctx, state="open"):
        if row["model"] is None:
            continue
        data = pulls.show(ctx, row["number"])
        data["check_summaries"] = {
            check.name: check.summary
            for check in ctx.forge.list_checks(data["head_sha"])
            if check.by_promobot and check.name.startswith("promobot/")
        }
        out.append(data)
    return out


class HistoryRows(Mapping[str, list[dict[str, Any]]]):
    """model → ``history`` JSON rows (reference §9), made when a page asks for them: a run that
    reuses most pages never builds the rows of the others."""

    def __init__(self, entries: Mapping[str, list[HistoryEntry]], rejected: Sequence[Rejection]) -> None:
        self._entries = entries
        self._rejected: dict[str, list[Rejection]] = {}
        for rej in rejected:
            self._rejected.setdefault(rej.model, []).append(rej)
        self._rows: dict[str, list[dict[str, Any]]] = {}

    def __getitem__(self, model: str) -> list[dict[str, Any]]:
        if model not in self._rows:
            self._rows[model] = histories.history_json(
                self._entries[model], rejected=self._rejected.get(model, ())
            )
        return self._rows[model]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


def _histories(
    ctx: Context, tip: str, models: Mapping[str, Mapping[str, str | None]], rejected: Sequence[Rejection]
) -> tuple[HistoryRows, dict[str, list[HistoryEntry]], dict[str, str]]:
    """Every model's history (its rows, its entries, and what identifies it) from ONE git log
    over environments/.

    Newest first in graph order, as ``promobot history`` shows them: the same
    ``GitWorkspace.history_many`` (``git log --topo-order``) that ``history`` reads, grouped
    by model without re-sorting — commit dates can be skewed, so they never order anything.
    A history is identified by its commits and environments: commits are content-addressed, and
    the code that reads them is part of ``code_digest``.
    """
    paths = [
        manifest_path(env, model)
        for model, row in models.items()
        for env, version in row.items()
        if version is not None
    ]
    entries: list[HistoryEntry] = []
    if paths:  # read-only, so the history cache may serve it
        entries = ctx.ws.history_many(paths, ref=tip, cached=True, under=ENV_DIR)
    by_model: dict[str, list[HistoryEntry]] = {}
    for entry in entries:
        by_model.setdefault(entry.model, []).append(entry)
    ids = {model: " ".join([e.sha + e.env for e in rows]) for model, rows in by_model.items()}
    return HistoryRows(by_model, rejected), by_model, ids


def parse_manifest(job: tuple[str, str, bytes]) -> tuple[str | None, str | None, dict[str, Any] | None]:
    """``status.summarize`` of one manifest (version, error) and, from the same strict load, the
    keys its model page shows (owner, model_card, artifact.uri), or None when it did not load.

    The unit of work a cold ``promobot site`` spreads over processes: it parses each manifest
    once for both ``status`` and the pages, where a second parse of 1,000 manifests for the
    pages was most of what ``promobot site`` added to a cold ``status``.
    """
    path, model, raw = job
    try:
        loaded = manifests.load_manifest(raw, path=path, expected_name=model)
    except ManifestError as exc:
        return None, exc.message, None
    keep: dict[str, Any] = {
        name: loaded.data[name] for name in ("owner", "model_card") if isinstance(loaded.data.get(name), str)
    }
    keep["artifact"] = {"uri": loaded.artifact_uri}
    return loaded.version, None, keep


def _details(ctx: Context, tip: str, envs: Sequence[str]) -> dict[str, tuple[str, dict[str, Any]]]:
    """model → (path, details) of the manifest its page describes: the model's in its first
    environment, parsed once per blob and cached like ``status``.

    Runs before ``status``: every manifest ``status`` would parse (not in its cache) is parsed
    here instead, in one ``ctx.map`` with the pages' manifests, and its summary cached for
    ``status`` to find; ``build`` keeps only the details of manifests ``status`` loaded.
    """
    ids = ctx.ws.blob_ids(tip, ENV_DIR)
    order = {env: i for i, env in enumerate(envs)}
    models: dict[str, str] = {}
    wanted: dict[str, tuple[int, str]] = {}
    for path in ids:
        where = parse_manifest_path(path)
        if where is not None and where[0] in order:
            model, rank = where[1], order[where[0]]
            models[path] = model
            if model not in wanted or rank < wanted[model][0]:
                wanted[model] = (rank, path)
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    pages = {path for _, path in wanted.values()}
    jobs: list[str] = []
    for path, model in models.items():
        blob = ids[path]
        if path in pages:
            hit = ctx.cache.get(f"site-detail:{blob}") if ctx.cache else None
            if isinstance(hit, dict):
                out[model] = (path, hit)
        for_status = ctx.cache is not None and ctx.cache.get(statuses.summary_key(blob, path)) is None
        if for_status or (path in pages and model not in out):
            jobs.append(path)
    if not jobs:
        return out
    contents = ctx.ws.read_blobs({ids[path] for path in jobs})
    parsed = ctx.map(parse_manifest, [(path, models[path], contents.get(ids[path], b"")) for path in jobs])
    for path, (version, error, keep) in zip(jobs, parsed, strict=True):
        if ctx.cache:
            ctx.cache.put(statuses.summary_key(ids[path], path), [version, error])
        if keep is not None and path in pages and models[path] not in out:
            out[models[path]] = (path, keep)
            if ctx.cache:
                ctx.cache.put(f"site-detail:{ids[path]}", keep)
    return out


def build(
    ctx: Context, *, web_url: str | None = None, previous: Mapping[str, str] | None = None
) -> tuple[views.Site, str]:
    """The site's view-model and the commit it shows; model pages whose key is in ``previous``
    (page → key of the last run) are not built (``Site.reused``)."""
    tip = ctx.tip()
    policy = ctx.policy(tip)
    found = _details(ctx, tip, policy.names)  # before status: its cache write keeps these too
    report = statuses.status(ctx)
    status = report.to_json()
    manifests = {}  # only manifests status loaded: the first environment that has a version
    for model, row in report.models.items():
        env = next((e for e in report.environments if row.get(e) is not None), None)
        if env is not None and model in found and found[model][0] == manifest_path(env, model):
            manifests[model] = found[model][1]
    rejections: tuple[Rejection, ...] = ctx.rejected(tip)
    histories, entries, history_ids = _histories(ctx, tip, report.models, rejections)
    site = views.build_site(
        status=status,
        sources={env.name: env.from_ for env in policy.environments},
        histories=histories,
        history_ids=history_ids,
        pulls=_open_pulls(ctx),
        rejections=rejections,
        manifests=manifests,
        now=ctx.now,
        commit=tip,
        web_url=web_url,
        verifications=verification_states(ctx, policy, entries),
        salt=code_digest(inspect.getfile(type(ctx.ws))),
        previous=previous,
    )
    return site, tip


_VIEW_CODE = (views.__file__, site_timeline.__file__, site_safe.__file__, site_render.__file__)
"""The modules that turn a model's data into its page's view-model and HTML."""


@functools.cache
def code_digest(workspace: str) -> str:
    """sha256 of what turns a model's data into its page: promobot's version, the templates,
    and the code that reads histories and builds the view (this module, ``bot.app.status``,
    ``bot.app.history``, ``bot.core.site*`` and ``workspace``, the file of the workspace class
    that parses the git log). A page written by other code is rendered again."""

    digest = hashlib.sha256(f"{__version__}\0{site_render.templates_digest()}\0".encode())
    for module in (*_VIEW_CODE, __file__, statuses.__file__, histories.__file__, workspace):
        digest.update(Path(module).read_bytes())
    return digest.hexdigest()


_JOB: tuple[Path, tuple[views.ModelPage, ...]] | None = None
"""(staging folder, model pages) of the site being written; ``ctx.map`` forks its workers after
it is set, so each worker reads its pages here and only page numbers cross between processes
(pickling 1,000 page view-models would cost more than rendering them)."""


def _write_page(number: int) -> int:
    """Render model page ``number`` of ``_JOB`` into its staging folder."""
    assert _JOB is not None
    staging, pages = _JOB
    page = pages[number]
    (staging / page.page).write_text(site_render.render_model_page(page), encoding="utf-8")
    return number


def check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file", "give --out a folder (it is created when missing)")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise UsageError(
            f"{out} is not empty and was not written by promobot site",
            "choose an empty or new folder, or one that promobot site wrote before",
        )


def previous_keys(out: Path) -> dict[str, str]:
    """``{page: page_key}`` of the site promobot wrote into ``out`` before (empty when none)."""
    try:
        data = json.loads((out / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    pages = data.get("pages") if isinstance(data, dict) else None
    if not isinstance(pages, dict):
        return {}
    return {k: v for k, v in pages.items() if isinstance(k, str) and isinstance(v, str)}


def _stage(out: Path) -> Path:
    """A new, empty sibling of ``out`` to write the site into (``models/`` made)."""
    check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".promobot-site-", dir=out.parent))
    try:
        staging.chmod(0o755)  # a site is for reading by a web server too (mkdtemp makes it 0700)
        (staging / "models").mkdir()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def _publish(
    staging: Path, out: Path, files: Mapping[str, str], *, keys: Mapping[str, str], reuse: Iterable[str]
) -> None:
    """Complete ``staging`` (``files``, the reused pages linked from ``out``, the marker), then
    put it in ``out``'s place."""
    for name, html in files.items():
        (staging / name).write_text(html, encoding="utf-8")
    for name in reuse:
        src, dst = out / name, staging / name
        try:
            os.link(src, dst)
        except OSError:
            shutil.copyfile(src, dst)
    (staging / MARKER).write_text(_marker(keys), encoding="utf-8")
    if out.exists():
        old = out.with_name(f".{out.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
        staging.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(out)


def _marker(keys: Mapping[str, str]) -> str:
    return json.dumps({"written_by": "promobot site", "pages": dict(keys)}, sort_keys=True) + "\n"


def _holds_exactly(out: Path, keys: Mapping[str, str]) -> bool:
    """True when ``out`` is a site promobot wrote whose files are exactly the index, the marker
    and the model pages in ``keys`` (nothing stale, nothing foreign)."""
    try:
        top = {entry.name for entry in os.scandir(out)}
        pages = {f"models/{entry.name}" for entry in os.scandir(out / "models") if entry.is_file()}
    except OSError:
        return False
    return top == {"index.html", "models", MARKER} and pages == set(keys)


def _replace_in_place(out: Path, files: Mapping[str, str]) -> None:
    """When no model page changed: replace only ``files`` (the index and the marker), each at
    once (a temporary sibling, then a rename), instead of relinking every page into a new folder."""
    for name, text in files.items():
        tmp = out / f".{name}.new"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out / name)


def site(ctx: Context, *, out: Path, web_url: str | None = None) -> SiteResult:
    """Render the site of the default branch's tip into ``out``.

    The site is written into a new sibling folder that then replaces ``out`` whole (``check_out``
    says which folders may be replaced), so ``out`` is never half-written. A model page whose key
    (everything it shows, and the code that shows it) is the one recorded by the last run into
    ``out`` is neither built nor rendered: its file is linked into the new folder — or, when no
    page changed at all, only the index and the marker are replaced, each at once. The index is
    always rendered (it carries the time and the tip).
    """
    global _JOB
    old = {p: key for p, key in previous_keys(out).items() if (out / p).is_file()}
    staging = _stage(out)
    try:
        gc.disable()  # tens of thousands of small, acyclic objects: collecting them finds nothing
        try:
            view, tip = build(ctx, web_url=web_url, previous=old)
            index = site_render.render_index(view)  # compiles the templates before any fork
            _JOB = (staging, view.models)
            # ~0.7 ms a page to render and write: a cold run on 1,000 models spreads them over the cores
            if view.models:
                ctx.map(_write_page, range(len(view.models)))
        finally:
            _JOB = None
            gc.enable()
        if not view.models and _holds_exactly(out, view.keys):
            shutil.rmtree(staging, ignore_errors=True)
            _replace_in_place(out, {"index.html": index, MARKER: _marker(view.keys)})
        else:
            _publish(staging, out, {"index.html": index}, keys=view.keys, reuse=view.reused)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    pages = 1 + len(view.models) + len(view.reused)
    return SiteResult(out=out, pages=pages, models=len(view.index.rows), commit=tip)
