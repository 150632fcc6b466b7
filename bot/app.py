"""Use cases, read side: gather state through the ports, decide in core, report.

The write-side use cases live beside this module (``bot.promotion``, ``bot.commands``,
``bot.rollback``); they all start from a :class:`Context` built in ``cli.py``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.core import manifest as manifests
from bot.core import policy as policies
from bot.core import rejected as rejections
from bot.core.model import NAME_RULE, HistoryEntry, Manifest, Policy, PullRequest, Rejection, is_valid_name
from bot.core.plan import parse_branch
from bot.core.providers import MlflowProvider
from bot.errors import BotError, ManifestError, UsageError
from bot.ports import Cache, Forge, GateRunner, Registry, Workspace

logger = logging.getLogger(__name__)

ENV_DIR = "environments"
POLICY_PATH = f"{ENV_DIR}/promotion.yaml"
REJECTED_PATH = f"{ENV_DIR}/rejected.yaml"


@dataclass
class Context:
    """Everything a use case needs; built once per process by ``cli.py``."""

    forge: Forge
    ws: Workspace
    now: datetime
    actor: str
    gates: GateRunner | None = None
    cache: Cache | None = None
    registries: Callable[[MlflowProvider], Registry] | None = None
    """Builds the MLflow client of the policy's provider (README "Keep MLflow in step"); None: no registry."""
    bot_identity: str = "promobot <promobot@users.noreply.github.com>"
    """Author of the commits promobot writes (``Name <email>``)."""
    map: Callable[[Callable[[Any], Any], Sequence[Any]], list[Any]] = field(
        default=lambda fn, items: [fn(item) for item in items]
    )
    """How to apply a pure function to many items (the CLI spreads big batches over the cores)."""
    _policies: dict[str, Policy] = field(default_factory=dict)

    @property
    def default_branch(self) -> str:
        return self.ws.default_branch

    def tip(self) -> str:
        sha = self.ws.resolve(self.default_branch)
        if sha is None:
            raise UsageError(
                f"the default branch {self.default_branch!r} has no commits",
                "commit the environments/ folder first",
            )
        return sha

    def policy(self, sha: str) -> Policy:
        """The policy as committed at ``sha`` (always the base branch: never a PR's copy)."""
        if sha not in self._policies:
            raw = self.ws.read(sha, POLICY_PATH)
            if raw is None:
                raise UsageError(
                    f"no {POLICY_PATH} on {self.default_branch}",
                    "run promobot in a GitOps repository with a promotion policy (see README: formats)",
                )
            self._policies[sha] = policies.load_policy(raw, path=POLICY_PATH)
        return self._policies[sha]

    def rejected(self, sha: str, *, cached: bool = False) -> tuple[Rejection, ...]:
        """rejected.yaml at ``sha``.

        With ``cached`` (read-only commands: ``status``, ``history``) it is parsed once per
        content through ``self.cache``; decisions (promote, gates, rollback) always parse the
        file itself, so a cache file that came from elsewhere cannot unreject a version.
        """
        raw = self.ws.read(sha, REJECTED_PATH)
        key = f"r:{hashlib.sha256(raw).hexdigest()}" if raw and cached and self.cache else None
        if key and self.cache:
            hit = _cached_rejections(self.cache.get(key))
            if hit is not None:
                return hit
        found = rejections.load_rejected(raw, path=REJECTED_PATH)
        if key and self.cache:
            self.cache.put(key, [[r.model, r.version, r.reason, r.by, r.at] for r in found])
            self.cache.flush()
        return found


def _cached_rejections(value: object) -> tuple[Rejection, ...] | None:
    """A cached rejected.yaml, or None when the entry is missing or not the shape we write."""
    if not isinstance(value, list):
        return None
    out = []
    for row in value:
        if not isinstance(row, list) or len(row) != 5 or not all(isinstance(f, str) for f in row):
            return None
        out.append(Rejection(*row))
    return tuple(out)


def _cached_summary(value: object) -> ManifestSummary | None:
    """A cached (version, error) pair, or None when the entry is missing or not the shape we write."""
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(v is None or isinstance(v, str) for v in value)
        and (value[0] is None) != (value[1] is None)
    ):
        return ManifestSummary(value[0], value[1])
    return None


def check_model_name(model: str) -> str:
    for suffix in (".yaml", ".yml"):
        stem = model.removesuffix(suffix)
        if stem != model and is_valid_name(stem):  # a file name, not a model name
            raise UsageError(f"{model[:80]!r} is a file name, not a model name", f"name the model: {stem}")
    if not is_valid_name(model):
        shown = model[:80] + ("…" if len(model) > 80 else "")
        raise UsageError(
            f"{shown!r} is not a valid model name",
            NAME_RULE,
        )
    return model


def check_env(policy: Policy, env: str) -> str:
    if policy.env(env) is None:
        raise UsageError(
            f"unknown environment {env[:80]!r}",
            f"environments in {POLICY_PATH}: {', '.join(policy.names)}",
        )
    return env


def manifest_path(env: str, model: str) -> str:
    return f"{ENV_DIR}/{env}/{model}.yaml"


def read_manifest(ctx: Context, sha: str, env: str, model: str) -> tuple[bytes | None, Manifest | None]:
    """The raw manifest and its parsed form (None, None when the model is not in ``env``)."""
    path = manifest_path(env, model)
    raw = ctx.ws.read(sha, path)
    if raw is None:
        return None, None
    return raw, manifests.load_manifest(raw, path=path, expected_name=model)


# --------------------------------------------------------------------------- status


@dataclass(frozen=True, slots=True)
class ManifestSummary:
    version: str | None
    error: str | None = None


def summarize(job: tuple[str, str, bytes]) -> tuple[str | None, str | None]:
    """(version, error) of one manifest: the unit of work ``status`` spreads over processes."""
    path, model, raw = job
    try:
        return manifests.load_manifest(raw, path=path, expected_name=model).version, None
    except ManifestError as exc:
        return None, exc.message


def _summaries(ctx: Context, sha: str, policy: Policy) -> dict[str, dict[str, ManifestSummary]]:
    """``{model: {env: summary}}`` for every manifest at ``sha``, parsed once per blob id."""
    ids = ctx.ws.blob_ids(sha, ENV_DIR)
    envs = set(policy.names)
    wanted: dict[str, tuple[str, str]] = {}
    for path in ids:
        parts = path.split("/")
        if len(parts) != 3 or parts[1] not in envs or not parts[2].endswith(".yaml"):
            continue
        wanted[path] = (parts[1], parts[2][: -len(".yaml")])
    found: dict[str, ManifestSummary] = {}
    missing: list[str] = []
    for path in wanted:
        blob = ids[path]
        hit = _cached_summary(ctx.cache.get(f"m:{blob}:{path}")) if ctx.cache else None
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
                ctx.cache.put(f"m:{ids[path]}:{path}", [version, error])
        if ctx.cache:
            ctx.cache.flush()
    out: dict[str, dict[str, ManifestSummary]] = {}
    for path, (env, model) in wanted.items():
        out.setdefault(model, {})[env] = found[path]
    return out


@dataclass(frozen=True, slots=True)
class PrSummary:
    number: int
    action: str
    model: str
    from_: str | None
    to: str | None
    """None for a reject / unreject PR (it changes rejected.yaml, no environment)."""
    version: str | None
    ready: bool | None
    title: str


@dataclass(frozen=True, slots=True)
class StatusReport:
    environments: tuple[str, ...]
    models: dict[str, dict[str, str | None]]
    errors: dict[str, str]
    drift: dict[str, list[str]]
    rejected: dict[str, list[str]]
    pull_requests: list[PrSummary]
    registry: dict[str, dict[str, dict[str, Any]]] | None = None
    """MLflow aliases vs git (README "Keep MLflow in step"); None without an mlflow provider."""
    registry_error: str | None = None

    def to_json(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.registry is not None or self.registry_error is not None:
            extra = {"registry": self.registry or {}, "registry_error": self.registry_error}
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
    from bot.core.marker import parse_state

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


def status(ctx: Context) -> StatusReport:
    sha = ctx.tip()
    policy = ctx.policy(sha)
    table = _summaries(ctx, sha, policy)
    rejected = ctx.rejected(sha, cached=True)
    bad = {(r.model, r.version): r for r in rejected}
    models: dict[str, dict[str, str | None]] = {}
    errors: dict[str, str] = {}
    drift: dict[str, list[str]] = {}
    flagged: dict[str, list[str]] = {}
    for model in sorted(table):
        row = table[model]
        models[model] = {env: (row[env].version if env in row else None) for env in policy.names}
        for env, summary in row.items():
            if summary.error:
                errors[manifest_path(env, model)] = summary.error
            if summary.version and (model, summary.version) in bad:
                flagged.setdefault(model, []).append(env)
        notes = []
        for target in policy.environments:
            broken = {target.from_, target.name} & {env for env, s in row.items() if s.error}
            if target.from_ is None or broken:  # an invalid manifest is reported, not compared
                continue
            src, dst = models[model].get(target.from_), models[model].get(target.name)
            if src is not None and src != dst:
                if dst is None:
                    notes.append(f"{target.name} does not have it yet ({target.from_} runs {src})")
                else:
                    notes.append(f"{target.name} runs {dst}, {target.from_} runs {src}")
        if notes:
            drift[model] = notes
    prs = pr_summaries(ctx, ctx.forge.list_prs(state="open"))
    registry, registry_error = _registry_drift(ctx, sha, policy)
    return StatusReport(policy.names, models, errors, drift, flagged, prs, registry, registry_error)


def _registry_drift(
    ctx: Context, sha: str, policy: Policy
) -> tuple[dict[str, dict[str, dict[str, Any]]] | None, str | None]:
    """Where the MLflow aliases point vs what git says; an outage is reported, not raised."""
    if not policy.providers.mlflow:
        return None, None
    from bot import sync  # only policies with an mlflow provider pay for it

    try:
        return sync.drift(ctx, sha, policy), None
    except BotError as exc:
        return None, exc.message


# --------------------------------------------------------------------------- history


def history(ctx: Context, model: str, env: str | None = None) -> list[HistoryEntry]:
    """Every change of ``model`` (in ``env``, or in every environment), newest first.

    Newest first means graph order, one ``git log --topo-order`` over all the paths, the
    order rollback picks its target in: commit dates can be skewed, so they never sort.
    Read-only, so it may use the history cache (README: caches).
    """
    check_model_name(model)
    sha = ctx.tip()
    policy = ctx.policy(sha)
    envs = [check_env(policy, env)] if env else list(policy.names)
    entries = ctx.ws.history_many([manifest_path(name, model) for name in envs], ref=sha, cached=True)
    if not entries and not any(ctx.ws.read(sha, manifest_path(n, model)) for n in envs):
        raise UsageError(
            f"{model} is not in {', '.join(envs)}",
            "check the name with `promobot status`",
        )
    return entries


def history_json(entries: list[HistoryEntry], rejected: Sequence[Rejection] = ()) -> list[dict[str, Any]]:
    """DESIGN §9 history rows; with ``rejected`` (rejected.yaml at the tip), each row also says
    whether the version it brought is rejected: ``{"reason", "by", "at"}`` or None."""
    bad = {(r.model, r.version): r for r in rejected}

    def rejection(e: HistoryEntry) -> dict[str, str] | None:
        hit = bad.get((e.model, e.version or ""))
        return {"reason": hit.reason, "by": hit.by, "at": hit.at} if hit else None

    return [
        {
            "sha": e.sha,
            "at": e.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "action": e.action,
            "model": e.model,
            "env": e.env,
            "version": e.version,
            "previous_version": e.previous_version,
            "pr": e.pr,
            "approved_by": list(e.approved_by),
            "rollback_of": e.rollback_of,
            "from": e.from_env,
            "subject": e.subject,
            "author": e.author,
            "rejected": rejection(e),
        }
        for e in entries
    ]


# --------------------------------------------------------------------------- validate


@dataclass(frozen=True, slots=True)
class Finding:
    file: str
    line: int | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "message": self.message}


@dataclass(frozen=True, slots=True)
class ValidationReport:
    errors: list[Finding]
    warnings: list[Finding]
    checked: int

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "errors": [f.to_json() for f in self.errors],
            "warnings": [f.to_json() for f in self.warnings],
        }


def _finding(exc: BotError, path: str) -> Finding:
    return Finding(exc.file or path, exc.line, exc.message)


def validate(files: Mapping[str, bytes]) -> ValidationReport:
    """Check the policy, rejected.yaml and every manifest among ``files`` (path → content)."""
    errors: list[Finding] = []
    warnings: list[Finding] = []
    checked = 0
    policy: Policy | None = None
    if POLICY_PATH not in files:
        errors.append(Finding(POLICY_PATH, None, f"{POLICY_PATH} is missing — create the promotion policy"))
    else:
        checked += 1
        try:
            policy = policies.load_policy(files[POLICY_PATH], path=POLICY_PATH)
        except ManifestError as exc:
            errors.append(_finding(exc, POLICY_PATH))
    if REJECTED_PATH in files:
        checked += 1
        try:
            rejections.load_rejected(files[REJECTED_PATH], path=REJECTED_PATH)
        except ManifestError as exc:
            errors.append(_finding(exc, REJECTED_PATH))
    envs = set(policy.names) if policy else None
    for path in sorted(files):
        parts = path.split("/")
        if len(parts) != 3 or parts[0] != ENV_DIR or not parts[2].endswith((".yaml", ".yml")):
            continue
        if envs is not None and parts[1] not in envs:
            if not parts[1].startswith(".") and parts[1] not in ("artifacts", "checks"):
                warnings.append(
                    Finding(path, None, f"{parts[1]!r} is not an environment in {POLICY_PATH}; ignored")
                )
            continue
        if parts[2].endswith(".yml"):
            errors.append(Finding(path, None, "manifests end in .yaml — rename the file"))
            continue
        checked += 1
        model = parts[2][: -len(".yaml")]
        try:
            m = manifests.load_manifest(files[path], path=path, expected_name=model)
        except ManifestError as exc:
            errors.append(_finding(exc, path))
            continue
        for key in manifests.unknown_keys(m):
            warnings.append(Finding(path, None, f"unknown top-level key {key!r} (it will be promoted)"))
    return ValidationReport(errors, warnings, checked)
