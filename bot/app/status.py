"""``promobot status`` (and ``/status``): every model's version in every environment, drift,
rejected versions, open promobot pull requests, registry drift and verification states."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any, NamedTuple

from bot.app import sync
from bot.app.context import Context, Overview, overview
from bot.app.records import bringing_commit, verify_check
from bot.core import manifest as manifests
from bot.core.branches import parse_branch
from bot.core.marker import parse_state
from bot.core.model import PullRequest
from bot.core.paths import ENV_DIR, manifest_path, parse_manifest_path
from bot.errors import BotError, ManifestError


class ManifestSummary(NamedTuple):  # 3,000 per status; a NamedTuple is cheaper to define and build
    version: str | None
    error: str | None = None


def _cached_summary(value: object) -> ManifestSummary | None:
    """A cached (version, error) pair, or None when the entry is missing or not the shape we write."""
    if type(value) is not list or len(value) != 2:
        return None
    version, error = value
    if (type(version) is str and error is None) or (version is None and type(error) is str):
        return ManifestSummary(version, error)
    return None


def summary_key(blob: str, path: str) -> str:
    """The manifest cache's key of one manifest's ``summarize`` result (``[version, error]``)."""
    return f"m:{blob}:{path}"


def summarize(job: tuple[str, str, bytes]) -> tuple[str | None, str | None]:
    """(version, error) of one manifest: the unit of work ``status`` spreads over processes."""
    path, model, raw = job
    try:
        return manifests.load_manifest(raw, path=path, expected_name=model).version, None
    except ManifestError as exc:
        return None, exc.message


def _summaries(
    ctx: Context, ids: Mapping[str, str], names: Sequence[str]
) -> dict[str, dict[str, ManifestSummary]]:
    """``{model: {env: summary}}`` for every manifest in ``ids`` (path → blob id), parsed once per blob."""
    envs = set(names)
    wanted: dict[str, tuple[str, str]] = {}
    for path in ids:
        where = parse_manifest_path(path)
        if where is not None and where[0] in envs:
            wanted[path] = where
    found: dict[str, ManifestSummary] = {}
    missing: list[str] = []
    for path in wanted:
        blob = ids[path]
        hit = _cached_summary(ctx.cache.get(summary_key(blob, path))) if ctx.cache else None
        if hit is not None:
            found[path] = hit
        else:
            missing.append(path)
    if missing:
        contents = ctx.ws.read_blobs({ids[p] for p in missing})
        jobs = [(path, wanted[path][1], contents[ids[path]]) for path in missing]
        for path, (version, error) in zip(missing, ctx.map(summarize, jobs), strict=True):
            found[path] = ManifestSummary(version, error)
            if ctx.cache:
                ctx.cache.put(summary_key(ids[path], path), [version, error])
    out: dict[str, dict[str, ManifestSummary]] = {}
    for path, (env, model) in wanted.items():
        out.setdefault(model, {})[env] = found[path]
    return out


TABLE_KEY = "t"
"""The cache key of the last status's table (``.git/promobot/status.json``; reference §14)."""


class Table(NamedTuple):
    """Every manifest's version and the invalid ones' errors, as ``status`` reports them."""

    models: dict[str, dict[str, str | None]]
    """``{model: {env: version | None}}``, models sorted, environments in the policy's order."""
    errors: dict[str, str]
    """``{manifest path: error}`` of the invalid manifests (version None)."""


def _cached_table(value: object, tree: str, names: Sequence[str]) -> Table | None:
    """The stored table when it is of ``tree`` and these environments and has the shape we
    write; None otherwise (a miss: the cache is never trusted blindly)."""
    if type(value) is not dict or value.get("tree") != tree or value.get("names") != list(names):
        return None
    models, errors = value.get("models"), value.get("errors")
    if type(models) is not dict or type(errors) is not dict or list(models) != sorted(models):
        return None
    want = list(names)
    for row in models.values():
        if type(row) is not dict or list(row) != want:
            return None
        if not all(v is None or type(v) is str for v in row.values()):
            return None
    for path, error in errors.items():
        if type(error) is not str or parse_manifest_path(path) is None:
            return None
    return Table(models, errors)


def table(ctx: Context, sha: str, names: Sequence[str]) -> Table:
    """The versions and errors of every manifest under ``environments/`` at ``sha``.

    A manifest is parsed once per blob (``_summaries``). With a cache, the whole table is
    kept too, keyed by the id of the ``environments`` tree: while that tree is the same, a
    ``status`` reads one entry instead of listing 3,000 files and looking up each one."""
    tree = ctx.ws.tree_id(sha, ENV_DIR) if ctx.cache else None
    if ctx.cache and tree is not None:
        hit = _cached_table(ctx.cache.get(TABLE_KEY), tree, names)
        if hit is not None:
            return hit
    summaries = _summaries(ctx, ctx.ws.blob_ids(sha, ENV_DIR), names)
    models: dict[str, dict[str, str | None]] = {}
    errors: dict[str, str] = {}
    for model in sorted(summaries):
        row = summaries[model]
        models[model] = {env: (row[env].version if env in row else None) for env in names}
        for env, summary in row.items():
            if summary.error:
                errors[manifest_path(env, model)] = summary.error
    if ctx.cache and tree is not None:
        ctx.cache.put(TABLE_KEY, {"tree": tree, "names": list(names), "models": models, "errors": errors})
    return Table(models, errors)


class PrSummary(NamedTuple):
    number: int
    action: str
    model: str
    from_: str | None
    to: str | None
    """None for a reject / unreject PR (it changes rejected.yaml, no environment)."""
    version: str | None
    ready: bool | None
    title: str


class StatusReport(NamedTuple):
    environments: tuple[str, ...]
    models: dict[str, dict[str, str | None]]
    errors: dict[str, str]
    drift: dict[str, list[str]]
    rejected: dict[str, list[str]]
    pull_requests: list[PrSummary]
    registry: dict[str, dict[str, dict[str, Any]]] | None = None
    """MLflow aliases vs git (README "Keep MLflow in step"); None without an mlflow provider."""
    registry_error: str | None = None
    verification: dict[str, dict[str, str | None]] | None = None
    """Post-deploy verification state per model × environment with verify: (None: no verify)."""
    verification_details: dict[str, dict[str, dict[str, str] | None]] | None = None
    """Beside ``verification``: version, commit, until (the window's end) and reason of each."""

    def to_json(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.registry is not None or self.registry_error is not None:
            extra = {"registry": self.registry or {}, "registry_error": self.registry_error}
        if self.verification is not None:
            extra["verification"] = self.verification
            extra["verification_details"] = self.verification_details or {}
        return extra | {
            "environments": list(self.environments),
            "models": self.models,
            "errors": self.errors,
            "drift": self.drift,
            "rejected": self.rejected,
            "pull_requests": [
                {
                    "number": p.number,
                    "action": p.action,
                    "model": p.model,
                    "from": p.from_,
                    "to": p.to,
                    "version": p.version,
                    "ready": p.ready,
                    "title": p.title,
                }
                for p in self.pull_requests
            ],
        }


def pr_summaries(ctx: Context, prs: list[PullRequest]) -> list[PrSummary]:

    out = []
    for pr in prs:
        ref = parse_branch(pr.head_branch)
        if ref is None:
            continue
        state = parse_state(pr.body)
        ready = None
        for check in ctx.forge.list_checks(pr.head_sha) if pr.state == "open" else []:
            if check.name == "promobot/ready" and check.by_promobot:
                ready = check.result == "success"
        out.append(
            PrSummary(
                number=pr.number,
                action=ref.action,
                model=ref.model,
                from_=state.from_ if state else None,
                to=ref.env or None,
                version=ref.version or (state.version if state else None),
                ready=ready,
                title=pr.title,
            )
        )
    return out


def status(ctx: Context, at: tuple[str, Overview] | None = None) -> StatusReport:
    """The status of the default branch's tip; ``at`` is that tip and its overview when the
    caller read them already (``site``: one tip for the whole site, read once)."""
    if at is None:
        sha = ctx.tip()
        over = overview(ctx, sha)
    else:
        sha, over = at
    names = over.names
    models, errors = table(ctx, sha, names)
    if ctx.cache:
        ctx.cache.flush()
    bad = {(r.model, r.version) for r in over.rejected}
    invalid = {where for where in map(parse_manifest_path, errors) if where is not None}
    git_order = sorted(names, key=lambda env: f"{env}/")  # the order of the files in git's tree
    drift: dict[str, list[str]] = {}
    flagged: dict[str, list[str]] = {}
    for model, row in models.items():
        if bad:
            for env in git_order:
                version = row[env]
                if version and (model, version) in bad:
                    flagged.setdefault(model, []).append(env)
        notes = []
        for name, from_ in over.environments:
            if from_ is None or (from_, model) in invalid or (name, model) in invalid:
                continue  # an invalid manifest is reported, not compared
            src, dst = row.get(from_), row.get(name)
            if src is not None and src != dst:
                if dst is None:
                    notes.append(f"{name} does not have it yet ({from_} runs {src})")
                else:
                    notes.append(f"{name} runs {dst}, {from_} runs {src}")
        if notes:
            drift[model] = notes
    prs = pr_summaries(ctx, ctx.forge.list_prs(state="open"))
    registry, registry_error = _registry_drift(ctx, sha, over)
    verification = _verification_states(ctx, sha, models, over)
    return StatusReport(
        names,
        models,
        errors,
        drift,
        flagged,
        prs,
        registry,
        registry_error,
        verification[0] if verification else None,
        verification[1] if verification else None,
    )


def _verification_states(
    ctx: Context, sha: str, models: dict[str, dict[str, str | None]], over: Overview
) -> tuple[dict[str, dict[str, str | None]], dict[str, dict[str, dict[str, str] | None]]] | None:
    """``{model: {env: state | None}}`` for environments with verify: (README: Verify with live
    data), and beside it the details ``{model: {env: {"state", "version", "commit", "until",
    "reason"} | None}}``. None: no environment has verify:. A version that did not arrive by
    a promotion or rollback (a hand edit) is not verified: None."""
    if not over.verify:  # the policy is parsed only when an environment verifies
        return None
    envs = [e for e in ctx.policy(sha).environments if e.verify is not None]
    if not envs:
        return None

    states: dict[str, dict[str, str | None]] = {}
    details: dict[str, dict[str, dict[str, str] | None]] = {}
    for model, row in models.items():
        states[model], details[model] = {}, {}
        for env in envs:
            assert env.verify is not None
            state: str | None = None
            detail: dict[str, str] | None = None
            if row.get(env.name) is not None:
                brought = bringing_commit(ctx.ws.history(manifest_path(env.name, model), ref=sha))
                if brought is not None and brought.action in ("promote", "rollback"):
                    check = verify_check(ctx, brought.sha)
                    state = check.result if check is not None else "pending"
                    _, until = env.verify.window(brought.at)
                    detail = {
                        "state": state,
                        "version": brought.version or "",
                        "commit": brought.sha,
                        "until": until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "reason": check.title
                        if check is not None
                        else "not evaluated yet: run promobot verify",
                    }
            states[model][env.name] = state
            details[model][env.name] = detail
    return states, details


def _registry_drift(
    ctx: Context, sha: str, over: Overview
) -> tuple[dict[str, dict[str, dict[str, Any]]] | None, str | None]:
    """Where the MLflow aliases point vs what git says; an outage is reported, not raised."""
    if not over.mlflow:
        return None, None

    try:
        return sync.drift(ctx, sha, ctx.policy(sha)), None
    except BotError as exc:
        return None, exc.message
