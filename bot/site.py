"""Use case: ``promobot site --out DIR``, a static dashboard of the GitOps repository.

It reads what ``status``, ``history`` and ``pr list`` / ``pr show`` read — the default
branch's manifests and git log, rejected.yaml, the open pull requests and their checks —
decides the view in ``bot.core.site`` and writes plain files: ``index.html`` and
``models/<model>.html``. No server, nothing fetched by the pages (README: the dashboard).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import app, pulls
from bot.core import manifest as manifests
from bot.core import site as views
from bot.core.model import HistoryEntry, Rejection
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


def verification_states(ctx: app.Context, models: list[str]) -> dict[tuple[str, str], views.Verification]:
    """The hook for live-data verification (README: verification): (model, env) → its state.

    Nothing records verification results yet, so every cell shows none; when they exist,
    read them here and the matrix and timeline show them (``bot.core.site.Verification``).
    """
    return {}


def _open_pulls(ctx: app.Context) -> list[dict[str, Any]]:
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


def _histories(
    ctx: app.Context, tip: str, models: Mapping[str, Mapping[str, str | None]]
) -> dict[str, list[Any]]:
    """``history`` JSON rows of every model, from ONE git log over environments/."""
    paths = [
        app.manifest_path(env, model)
        for model, row in models.items()
        for env, version in row.items()
        if version is not None
    ]
    entries: list[HistoryEntry] = []
    if paths:  # read-only, so the history cache may serve it
        entries = ctx.ws.history_many(paths, ref=tip, cached=True, under=app.ENV_DIR)
    by_model: dict[str, list[HistoryEntry]] = {}
    for entry in entries:
        by_model.setdefault(entry.model, []).append(entry)
    rejected: dict[str, list[Rejection]] = {}
    for rej in ctx.rejected(tip):
        rejected.setdefault(rej.model, []).append(rej)
    out: dict[str, list[Any]] = {}
    for model, rows in by_model.items():
        rows.sort(key=lambda e: e.at, reverse=True)
        out[model] = app.history_json(rows, rejected=rejected.get(model, ()))
    return out


def _details(ctx: app.Context, tip: str, envs: tuple[str, ...], models: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest each model page describes: the model's in its first environment (parsed once
    per blob and cached, like ``status``)."""
    wanted: dict[str, str] = {}
    for model, row in models.items():
        env = next((e for e in envs if row.get(e) is not None), None)
        if env is not None:
            wanted[model] = app.manifest_path(env, model)
    ids = ctx.ws.blob_ids(tip, app.ENV_DIR)
    out: dict[str, Any] = {}
    missing: dict[str, str] = {}
    for model, path in wanted.items():
        blob = ids.get(path)
        if blob is None:
            continue
        hit = ctx.cache.get(f"site:{blob}") if ctx.cache else None
        if hit is not None:
            out[model] = hit
        else:
            missing[model] = blob
    if missing:
        contents = ctx.ws.read_blobs(set(missing.values()))
        for model, blob in missing.items():
            try:
                m = manifests.load_manifest(contents[blob], path=wanted[model], expected_name=model)
            except ManifestError:
                continue  # status reports it as invalid
            keep = {k: m.data.get(k) for k in ("owner", "model_card", "artifact") if k in m.data}
            out[model] = keep
            if ctx.cache:
                ctx.cache.put(f"site:{blob}", keep)
        if ctx.cache:
            ctx.cache.flush()
    return out


def build(ctx: app.Context, *, web_url: str | None = None) -> tuple[views.Site, str]:
    """The site's view-model and the commit it shows."""
    tip = ctx.tip()
    policy = ctx.policy(tip)
    report = app.status(ctx)
    status = report.to_json()
    rejections: tuple[Rejection, ...] = ctx.rejected(tip)
    site = views.build_site(
        status=status,
        sources={env.name: env.from_ for env in policy.environments},
        histories=_histories(ctx, tip, report.models),
        pulls=_open_pulls(ctx),
        rejections=rejections,
        manifests=_details(ctx, tip, report.environments, report.models),
        now=ctx.now,
        commit=tip,
        web_url=web_url,
        verifications=verification_states(ctx, list(report.models)),
    )
    return site, tip


def write_site(files: Mapping[str, str], out: Path) -> None:
    """Write the pages into ``out`` all at once: a sibling temporary folder, then a rename.

    ``out`` may be missing, empty, or a site promobot wrote before (it holds ``.promobot-site``);
    anything else is refused rather than overwritten.
    """
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file", "give --out a folder (it is created when missing)")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise UsageError(
            f"{out} is not empty and was not written by promobot site",
            "choose an empty or new folder, or one that promobot site wrote before",
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".promobot-site-", dir=out.parent))
    try:
        (staging / "models").mkdir()
        for name, html in files.items():
            (staging / name).write_text(html, encoding="utf-8")
        (staging / MARKER).write_text("written by `promobot site`; the folder is replaced on each run\n")
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            staging.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def site(ctx: app.Context, *, out: Path, web_url: str | None = None) -> SiteResult:
    """Render the site of the default branch's tip into ``out``."""
    view, tip = build(ctx, web_url=web_url)
    files = views.render_site(view)
    write_site(files, out)
    return SiteResult(out=out, pages=len(files), models=len(view.models), commit=tip)
