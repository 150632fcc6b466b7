"""Use case: ``promobot site --out DIR``, a static dashboard of the GitOps repository (reference §18).

It reads what ``status``, ``history`` and ``pr list`` / ``pr show`` read — the default
branch's manifests and git log, rejected.yaml, the open pull requests and their checks —
decides the view in ``bot.core.site`` and writes plain files: ``index.html`` and
``models/<model>.html``. No server, nothing fetched by the pages (README: the dashboard).
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import hashlib
import inspect
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeGuard, TypeVar, cast

from bot import __version__
from bot.app import history as histories
from bot.app import status as statuses
from bot.app.context import Context, Overview, overview
from bot.app.records import bringing_commit, verify_check
from bot.core import manifest as manifests
from bot.core import site as views
from bot.core import site_marker, site_render, site_safe, site_timeline
from bot.core.branches import parse_branch
from bot.core.model import HistoryEntry, Rejection
from bot.core.paths import ENV_DIR, manifest_path, parse_manifest_path
from bot.core.site_marker import IndexRecord
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


def verified_commits(envs: Sequence[str], entries: Mapping[str, list[HistoryEntry]]) -> list[list[str]]:
    """``[model, env, commit]`` for each model's running version in each environment of ``envs``
    (those with ``verify:``): the commit that brought it, whose ``promobot/verify`` check holds
    its verification (a hand edit is never verified)."""
    out: list[list[str]] = []
    for model, rows in entries.items():
        for env in envs:
            bringing = bringing_commit([e for e in rows if e.env == env])
            if bringing is not None and bringing.action != "manual":
                out.append([model, env, bringing.sha])
    return out


def verification_states(
    ctx: Context, commits: Sequence[Sequence[str]]
) -> dict[tuple[str, str], Verification]:
    """Post-deploy verification (README: verification): (model, env) → its state, from the
    ``promobot/verify`` check (what ``promobot verify`` writes) on each of ``verified_commits``.
    One forge read per commit; none when no environment verifies."""
    words = {"success": "passed", "failure": "failed", "pending": "pending"}
    out: dict[tuple[str, str], Verification] = {}
    for model, env, sha in commits:
        check = verify_check(ctx, sha)
        if check is not None and check.result in words:
            out[(model, env)] = Verification(
                words[check.result], site_safe.clip(check.title), at=None, commit=sha
            )
    return out


ShowPr = Callable[[Context, int], dict[str, Any]]
"""``pulls.show`` (``promobot pr show``'s JSON), passed in by ``cli.py``: it brings the approval
machinery, which a site without open promobot PRs never needs to import."""


def _open_pulls(ctx: Context, show_pr: ShowPr) -> list[dict[str, Any]]:
    """``pr show`` of every open promobot PR (``pr list``'s rows with a model), with the
    summaries of its three checks."""
    out = []
    for pr in ctx.forge.list_prs(state="open"):
        if parse_branch(pr.head_branch) is None:
            continue
        data = show_pr(ctx, pr.number)
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


_T = TypeVar("_T")


class _Background(Generic[_T]):
    """``fn()`` run in a thread, its result (or exception) taken by ``result()``."""

    def __init__(self, fn: Callable[[], _T]) -> None:
        self._fn = fn
        self._value: _T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="promobot-site-history", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._fn()
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def result(self) -> _T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return cast(_T, self._value)


def build(
    ctx: Context,
    tip: str,
    over: Overview,
    open_pulls: list[dict[str, Any]],
    *,
    web_url: str | None,
    previous: Mapping[str, str],
) -> tuple[views.Site, list[list[str]], dict[tuple[str, str], Verification]]:
    """The view-model of the site of ``tip`` with ``open_pulls``; model pages whose key is in
    ``previous`` (page → key of the last run) are not built (``Site.reused``). Also the commits
    whose verification it read and what they said (part of the site's key)."""
    found = _details(ctx, tip, over.names)  # before status: its cache write keeps these too
    report = statuses.status(ctx, (tip, over))
    status = report.to_json()
    manifests = {}  # only manifests status loaded: the first environment that has a version
    for model, row in report.models.items():
        env = next((e for e in report.environments if row.get(e) is not None), None)
        if env is not None and model in found and found[model][0] == manifest_path(env, model):
            manifests[model] = found[model][1]
    # git reads the log in its own process: meanwhile this one imports jinja2 and compiles the
    # templates (no fork and no other use of ``ctx`` while the thread runs)
    reading = _Background(lambda: _histories(ctx, tip, report.models, over.rejected))
    try:
        site_render.prepare()
    finally:
        histories, entries, history_ids = reading.result()
    verified = verified_commits(over.verify, entries)
    verifications = verification_states(ctx, verified)
    site = views.build_site(
        status=status,
        sources=dict(over.environments),
        histories=histories,
        history_ids=history_ids,
        pulls=open_pulls,
        rejections=over.rejected,
        manifests=manifests,
        now=ctx.now,
        commit=tip,
        web_url=web_url,
        verifications=verifications,
        salt=code_digest(inspect.getfile(type(ctx.ws))),
        previous=previous,
    )
    return site, verified, verifications


def site_key(
    ctx: Context,
    tip: str,
    web_url: str | None,
    open_pulls: list[dict[str, Any]],
    verifications: Mapping[tuple[str, str], Verification],
) -> str:
    """The key of everything the site of ``tip`` shows but the clock: the git tree at ``tip``
    (through ``tip``: commits are content-addressed), what the forge said (the open PRs and
    their checks, the verifications), the links' base, and the code and templates that turn
    them into pages (``code_digest``, and every module of promobot: the status and the policy
    the index shows are read by them)."""
    states = [[model, env, repr(state)] for (model, env), state in verifications.items()]
    code = code_digest(inspect.getfile(type(ctx.ws)))
    return site_marker.site_key([code, package_digest(), tip, web_url, open_pulls, states])


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


@functools.cache
def package_digest() -> str:
    """sha256 of every module and template of the installed promobot package (the site's key:
    a site written by other code is built again)."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")  # walked in this order
        for name in sorted(files):
            path = Path(folder) / name
            digest.update(f"{path.relative_to(root)}\0".encode("utf-8", "surrogateescape"))
            digest.update(path.read_bytes())
    return digest.hexdigest()


_JOB: tuple[Path, Sequence[views.ModelPage]] | None = None
"""(staging folder, model pages) of the site being written; ``ctx.map`` forks its workers after
it is set, so each worker builds its pages from here (``site.Pages``) and only page numbers
cross between processes (pickling 1,000 page view-models would cost more than rendering them)."""


def _write_page(number: int) -> int:
    """Build and render model page ``number`` of ``_JOB`` into its staging folder."""
    assert _JOB is not None
    staging, pages = _JOB
    page = pages[number]
    _create(staging / page.page, site_render.render_model_page(page).encode("utf-8"))
    return number


def _create(path: Path, data: bytes) -> None:
    """Write a new file (``open``'s mode and umask) with one system call per step: a cold run
    creates a thousand pages, and a text-mode file object costs as much as the write."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file", "give --out a folder (it is created when missing)")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise UsageError(
            f"{out} is not empty and was not written by promobot site",
            "choose an empty or new folder, or one that promobot site wrote before",
        )


def previous(out: Path) -> site_marker.Marker:
    """What the site promobot wrote into ``out`` before remembers (nothing when there is none)."""
    try:
        text = (out / MARKER).read_text(encoding="utf-8")
    except (OSError, ValueError):
        return site_marker.Marker()
    return site_marker.parse_marker(text)


def _stage(out: Path) -> Path:
    """A new, empty sibling of ``out`` to write the site into (``models/`` made)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".promobot-site-", dir=out.parent))
    try:
        staging.chmod(0o755)  # a site is for reading by a web server too (mkdtemp makes it 0700)
        (staging / "models").mkdir()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def _publish(staging: Path, out: Path, files: Mapping[str, bytes], *, reuse: Iterable[str]) -> None:
    """Complete ``staging`` (``files``, the reused pages linked from ``out``), then put it in
    ``out``'s place."""
    for name, data in files.items():
        (staging / name).write_bytes(data)
    for name in reuse:
        src, dst = out / name, staging / name
        try:
            os.link(src, dst)
        except OSError:
            shutil.copyfile(src, dst)
    if out.exists():
        old = out.with_name(f".{out.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
        staging.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(out)


def _holds_exactly(out: Path, keys: Iterable[str]) -> bool:
    """True when ``out`` is a site promobot wrote whose files are exactly the index, the marker
    and the model pages in ``keys`` (nothing stale, nothing foreign)."""
    try:
        top = {entry.name for entry in os.scandir(out)}
        pages = {f"models/{entry.name}" for entry in os.scandir(out / "models") if entry.is_file()}
    except OSError:
        return False
    return top == {"index.html", "models", MARKER} and pages == set(keys)


def _replace_in_place(out: Path, files: Mapping[str, bytes]) -> None:
    """When no model page changed: replace only those of ``files`` (the index and the marker)
    whose bytes changed, each at once (a temporary sibling, then a rename), instead of relinking
    every page into a new folder."""
    for name, data in files.items():
        try:
            if (out / name).read_bytes() == data:
                continue
        except OSError:
            pass
        tmp = out / f".{name}.new"
        tmp.write_bytes(data)
        tmp.replace(out / name)


def _render_index(
    view: views.Site, now: datetime, key: str, extra: Mapping[str, Any]
) -> tuple[bytes, IndexRecord | None]:
    """The index's bytes, and where its clock strings sit (rendered with unique placeholders in
    their place, which are then filled: the same bytes as rendering the real strings, since
    autoescaping leaves both as they are)."""
    values = site_marker.stamps(now)
    token = os.urandom(12).hex()
    marks = {name: f"promobot{token}{i}" for i, name in enumerate(values)}
    header = dataclasses.replace(view.index.header, **marks)
    html = site_render.render_index(
        dataclasses.replace(view, index=dataclasses.replace(view.index, header=header))
    )
    done = site_marker.stamped(html, marks, values, key=key, extra=extra)
    if done is None or token.encode() in done[0].lower():  # no clock shown, or not as it is
        return site_render.render_index(view).encode("utf-8"), None
    return done


def _restamp(out: Path, marker: site_marker.Marker, key: str, now: datetime) -> bool:
    """When nothing but the clock changed since the site in ``out`` was written (same key,
    same files): write the new time into its index, and True. False: build the site."""
    record = marker.index
    if record is None or record.key != key or not _holds_exactly(out, marker.pages):
        return False
    try:
        raw = (out / "index.html").read_bytes()
    except OSError:
        return False
    done = site_marker.restamp(raw, record, site_marker.stamps(now))
    if done is None:
        return False
    data, new = done
    if data != raw:
        _replace_in_place(
            out, {"index.html": data, MARKER: site_marker.marker_text(marker.pages, new).encode()}
        )
    return True


def site(ctx: Context, *, out: Path, show_pr: ShowPr, web_url: str | None = None) -> SiteResult:
    """Render the site of the default branch's tip into ``out``.

    The site is written into a new sibling folder that then replaces ``out`` whole (``check_out``
    says which folders may be replaced), so ``out`` is never half-written. A model page whose key
    (everything it shows, and the code that shows it) is the one recorded by the last run into
    ``out`` is neither built nor rendered: its file is linked into the new folder — or, when no
    page changed at all, only the index and the marker are replaced, each at once. When nothing
    the site shows changed but the clock (``site_key``), the index is not even rendered: the
    last one gets the new time (``site_marker.restamp``).
    """
    global _JOB
    check_out(out)
    marker = previous(out)
    tip = ctx.tip()
    over = overview(ctx, tip)
    open_pulls = _open_pulls(ctx, show_pr)
    extra = marker.index.extra if marker.index is not None else {}
    verified = extra.get("verified") if extra.get("tip") == tip else None
    if _verified_rows(verified, over.verify, len(marker.pages)):
        key = site_key(ctx, tip, web_url, open_pulls, verification_states(ctx, verified))
        if _restamp(out, marker, key, ctx.now):
            return SiteResult(out=out, pages=1 + len(marker.pages), models=len(marker.pages), commit=tip)
    old = {p: key for p, key in marker.pages.items() if (out / p).is_file()}
    staging = _stage(out)
    try:
        gc.disable()  # tens of thousands of small, acyclic objects: collecting them finds nothing
        try:
            view, verified, verifications = build(ctx, tip, over, open_pulls, web_url=web_url, previous=old)
            key = site_key(ctx, tip, web_url, open_pulls, verifications)
            # compiles the templates before any fork
            index, record = _render_index(view, ctx.now, key, {"tip": tip, "verified": verified})
            _JOB = (staging, view.models)
            # ~0.7 ms a page to render and write: a cold run on 1,000 models spreads them over the cores
            if view.models:
                ctx.map(_write_page, range(len(view.models)))
        finally:
            _JOB = None
            gc.enable()
        files = {"index.html": index, MARKER: site_marker.marker_text(view.keys, record).encode()}
        if not view.models and _holds_exactly(out, view.keys):
            shutil.rmtree(staging, ignore_errors=True)
            _replace_in_place(out, files)
        else:
            _publish(staging, out, files, reuse=view.reused)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    pages = 1 + len(view.models) + len(view.reused)
    return SiteResult(out=out, pages=pages, models=len(view.index.rows), commit=tip)


def _verified_rows(rows: object, envs: Sequence[str], models: int) -> TypeGuard[list[list[str]]]:
    """``rows`` is a ``verified_commits`` answer for ``envs`` (at most one per model and
    environment): the marker is read as a cache, never trusted for more forge reads than a
    full run makes."""
    return (
        isinstance(rows, list)
        and len(rows) <= models * len(envs)
        and all(
            isinstance(row, list)
            and len(row) == 3
            and all(isinstance(x, str) for x in row)
            and row[1] in envs
            for row in rows
        )
    )
