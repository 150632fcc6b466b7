"""Use cases, read side: gather state through the ports, decide in core, report.

The write-side use cases live beside this module (``bot.promotion``, ``bot.commands``,
``bot.rollback``); they all start from a :class:`Context` built in ``cli.py``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeVar

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

    def rejected(self, sha: str) -> tuple[Rejection, ...]:
        """rejected.yaml at ``sha``, parsed from git (decisions never read a cache; the read-only
        commands use ``overview``)."""
        return rejections.load_rejected(self.ws.read(sha, REJECTED_PATH), path=REJECTED_PATH)


class Overview(NamedTuple):
    """What the read-only commands need of promotion.yaml and rejected.yaml."""

    environments: tuple[tuple[str, str | None], ...]
    """``(name, from)`` of every environment, in the policy's order."""
    rejected: tuple[Rejection, ...]
    mlflow: bool = False
    """The policy names an MLflow provider (``status`` then compares the registry's aliases)."""
    verify: tuple[str, ...] = ()
    """The environments with ``verify:`` (none: ``status`` and ``history`` read no policy)."""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.environments)


def overview(ctx: Context, sha: str) -> Overview:
    """promotion.yaml's environments and rejected.yaml at ``sha``: one git process, and on a
    warm cache no YAML parse (entries keep the exact text they were parsed from)."""
    raws = ctx.ws.read_many(sha, [POLICY_PATH, REJECTED_PATH])
    policy_raw, rejected_raw = raws.get(POLICY_PATH), raws.get(REJECTED_PATH)
    outline = _cached_parse(ctx, "p", policy_raw, _outline_from_json) if policy_raw is not None else None
    if outline is None:
        if policy_raw is None or sha not in ctx._policies:
            ctx._policies[sha] = _load_policy(ctx, policy_raw)
        policy = ctx._policies[sha]
        outline = (
            tuple((e.name, e.from_) for e in policy.environments),
            bool(policy.providers.mlflow),
            tuple(e.name for e in policy.environments if e.verify is not None),
        )
        _cache_parse(ctx, "p", policy_raw, [[list(e) for e in outline[0]], outline[1], list(outline[2])])
    envs, mlflow, verify = outline
    found = _cached_parse(ctx, "r", rejected_raw, _cached_rejections) if rejected_raw else None
    if found is None:
        found = rejections.load_rejected(rejected_raw, path=REJECTED_PATH)
        if rejected_raw:
            _cache_parse(ctx, "r", rejected_raw, [[r.model, r.version, r.reason, r.by, r.at] for r in found])
    return Overview(envs, found, mlflow, verify)


def _load_policy(ctx: Context, raw: bytes | None) -> Policy:
    if raw is None:
        raise UsageError(
            f"no {POLICY_PATH} on {ctx.default_branch}",
            "run promobot in a GitOps repository with a promotion policy (see README: formats)",
        )
    return policies.load_policy(raw, path=POLICY_PATH)


_T = TypeVar("_T")


def _cached_parse(
    ctx: Context, key: str, raw: bytes | None, read: Callable[[object], _T | None]
) -> _T | None:
    """The cached parse of ``raw`` under ``key``: only when the entry holds exactly this text."""
    hit = ctx.cache.get(key) if ctx.cache and raw is not None else None
    if not isinstance(hit, list) or len(hit) != 2 or not isinstance(hit[0], str):
        return None
    try:
        same = raw is not None and hit[0] == raw.decode()
    except UnicodeDecodeError:
        return None
    return read(hit[1]) if same else None


def _cache_parse(ctx: Context, key: str, raw: bytes | None, value: object) -> None:
    if ctx.cache and raw is not None:
        with contextlib.suppress(UnicodeDecodeError):  # not UTF-8: parsed (and refused) every time
            ctx.cache.put(key, [raw.decode(), value])


def _outline_from_json(
    value: object,
) -> tuple[tuple[tuple[str, str | None], ...], bool, tuple[str, ...]] | None:
    """A cached ``[[[name, from], …], mlflow, [verified env, …]]``, or None when it is not the
    shape we write (an entry of an earlier version too: it is parsed and written again)."""
    if type(value) is not list or len(value) != 3 or type(value[0]) is not list or type(value[1]) is not bool:
        return None
    envs = []
    for row in value[0]:
        if type(row) is not list or len(row) != 2:
            return None
        name, from_ = row
        if type(name) is not str or not (from_ is None or type(from_) is str):
            return None
        envs.append((name, from_))
    verify = value[2]
    if type(verify) is not list or not all(type(v) is str for v in verify):
        return None
    names = {name for name, _ in envs}
    if not envs or not names.issuperset(verify):
        return None
    return tuple(envs), value[1], tuple(verify)


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
    if type(value) is not list or len(value) != 2:
        return None
    version, error = value
    if (type(version) is str and error is None) or (version is None and type(error) is str):
        return ManifestSummary(version, error)
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


class ManifestSummary(NamedTuple):  # 3,000 per status; a NamedTuple is cheaper to define and build
    version: str | None
    error: str | None = None


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
        parts = path.split("/")
        if len(parts) != 3 or parts[1] not in envs or not parts[2].endswith(".yaml"):
            continue
        wanted[path] = (parts[1], parts[2][: -len(".yaml")])
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
    over = overview(ctx, sha)
    table = _summaries(ctx, ctx.ws.blob_ids(sha, ENV_DIR), over.names)
    if ctx.cache:
        ctx.cache.flush()
    bad = {(r.model, r.version): r for r in over.rejected}
    models: dict[str, dict[str, str | None]] = {}
    errors: dict[str, str] = {}
    drift: dict[str, list[str]] = {}
    flagged: dict[str, list[str]] = {}
    for model in sorted(table):
        row = table[model]
        models[model] = {env: (row[env].version if env in row else None) for env in over.names}
        for env, summary in row.items():
            if summary.error:
                errors[manifest_path(env, model)] = summary.error
            if summary.version and (model, summary.version) in bad:
                flagged.setdefault(model, []).append(env)
        notes = []
        for name, from_ in over.environments:
            if from_ is None or any(row[e].error for e in (from_, name) if e in row):
                continue  # an invalid manifest is reported, not compared
            src, dst = models[model].get(from_), models[model].get(name)
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
        over.names,
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
    from bot import verify
    from bot.core import verify as verify_core

    states: dict[str, dict[str, str | None]] = {}
    details: dict[str, dict[str, dict[str, str] | None]] = {}
    for model, row in models.items():
        states[model], details[model] = {}, {}
        for env in envs:
            assert env.verify is not None
            state: str | None = None
            detail: dict[str, str] | None = None
            if row.get(env.name) is not None:
                brought = verify.bringing_commit(ctx.ws.history(manifest_path(env.name, model), ref=sha))
                if brought is not None and brought.action in ("promote", "rollback"):
                    check = verify.verify_check(ctx, brought.sha)
                    state = check.result if check is not None else "pending"
                    _, until = verify_core.window(env.verify, brought.at)
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
    from bot import sync  # only policies with an mlflow provider pay for it

    try:
        return sync.drift(ctx, sha, ctx.policy(sha)), None
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
    return _history(ctx, sha, overview(ctx, sha), model, env)


def history_rows(ctx: Context, model: str, env: str | None = None) -> list[dict[str, Any]]:
    """``history`` as reference §9 rows, each saying whether its version is rejected now."""
    check_model_name(model)
    sha = ctx.tip()
    over = overview(ctx, sha)
    if ctx.cache:
        ctx.cache.flush()
    entries = _history(ctx, sha, over, model, env)
    return history_json(entries, over.rejected, _verifications(ctx, sha, entries, over))


def _verifications(
    ctx: Context, sha: str, entries: Sequence[HistoryEntry], over: Overview
) -> dict[str, dict[str, str]]:
    """``{commit: {"state", "reason"}}``: the ``promobot/verify`` check of each promotion or
    rollback into an environment with ``verify:`` (one check read per such commit; none without
    verify, so a repository that does not verify pays nothing)."""
    envs = set(over.verify)
    if not envs:
        return {}
    from bot import verify  # only policies with verify: pay for it

    current: dict[str, str | None] = {}
    for env in envs:
        brought = verify.bringing_commit([e for e in entries if e.env == env])
        current[env] = brought.sha if brought is not None else None
    found: dict[str, dict[str, str]] = {}
    for entry in entries:
        if entry.env in envs and entry.action in ("promote", "rollback") and entry.sha not in found:
            check = verify.verify_check(ctx, entry.sha)
            if check is None:
                continue
            if check.result == "pending" and current.get(entry.env) != entry.sha:
                # A later version replaced it before it ended: closed, not failed (reference §15).
                found[entry.sha] = {"state": "inactive", "reason": "replaced by a later version"}
            else:
                found[entry.sha] = {"state": check.result, "reason": check.title}
    return found


def _history(ctx: Context, sha: str, over: Overview, model: str, env: str | None) -> list[HistoryEntry]:
    if env is not None and env not in over.names:
        check_env(ctx.policy(sha), env)  # raises, naming the environments
    envs = [env] if env else list(over.names)
    entries = ctx.ws.history_many([manifest_path(name, model) for name in envs], ref=sha, cached=True)
    if not entries and not any(ctx.ws.read(sha, manifest_path(n, model)) for n in envs):
        raise UsageError(
            f"{model} is not in {', '.join(envs)}",
            "check the name with `promobot status`",
        )
    return entries


def history_json(
    entries: list[HistoryEntry],
    rejected: Sequence[Rejection] = (),
    verifications: Mapping[str, Mapping[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """reference §9 history rows; with ``rejected`` (rejected.yaml at the tip), each row also says
    whether the version it brought is rejected: ``{"reason", "by", "at"}`` or None.

    Post-deploy verification (reference §15), beside the rollbacks it caused:
    ``verification`` is the ``promobot/verify`` check of the commit (``verifications``, by
    sha) as ``{"state", "reason", "rolled_back_by"}`` — ``rolled_back_by`` the rollback
    commit that reverted it, or None — or None when the commit has no verification;
    ``caused_by_verification`` is, on a rollback promobot started because a verification
    failed (its ``Promobot-Verification`` trailer), ``{"check", "commit"}`` — the check that
    failed and the commit whose verification it was — or None.
    """
    bad = {(r.model, r.version): r for r in rejected}
    checks = verifications or {}
    reverted_by: dict[str, str] = {}
    for e in entries:
        if e.action == "rollback" and e.rollback_of and e.rollback_of not in reverted_by:
            reverted_by[e.rollback_of] = e.sha  # newest first: keep the newest rollback of a commit

    def rejection(e: HistoryEntry) -> dict[str, str] | None:
        hit = bad.get((e.model, e.version or ""))
        return {"reason": hit.reason, "by": hit.by, "at": hit.at} if hit else None

    def verification(e: HistoryEntry) -> dict[str, str | None] | None:
        check = checks.get(e.sha)
        if check is None:
            return None
        return {"state": check["state"], "reason": check["reason"], "rolled_back_by": reverted_by.get(e.sha)}

    def caused_by(e: HistoryEntry) -> dict[str, str | None] | None:
        if e.action != "rollback" or e.verification is None:
            return None
        words = e.verification.split()
        check = words[1] if len(words) > 1 and words[0].lower() == "failed" else e.verification
        return {"check": check, "commit": e.rollback_of}

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
            "verification": verification(e),
            "caused_by_verification": caused_by(e),
        }
        for e in entries
    ]


# --------------------------------------------------------------------------- validate


class Finding(NamedTuple):
    file: str
    line: int | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "message": self.message}


class ValidationReport(NamedTuple):
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
