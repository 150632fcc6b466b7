"""What every use case starts from: the :class:`Context` built by ``cli.py``, the policy and
rejected.yaml as committed on the default branch, and the checks on names every verb shares."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain, starmap
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from bot.core import identity
from bot.core import manifest as manifests
from bot.core import rejected as rejections
from bot.core.model import NAME_RULE, Manifest, Rejection, is_valid_name
from bot.core.paths import POLICY_PATH, REJECTED_PATH, manifest_path
from bot.errors import UsageError
from bot.ports import Cache, Forge, GateRunner, Registry, Workspace

if TYPE_CHECKING:  # annotations only: a warm `status` never builds the policy's types
    from bot.core.policy_model import Policy
    from bot.core.providers import MlflowProvider

logger = logging.getLogger(__name__)


@dataclass
class Context:
    """Everything a use case needs; built once per process by ``cli.py``."""

    forge: Forge
    ws: Workspace
    now: datetime
    actor: str
    parse_policy: Callable[[bytes], Policy]
    """Reads promotion.yaml (``bot.core.policy.load_policy``). Passed in by ``cli.py``: the parser
    and the types it builds are a fifth of the start-up of a read-only command, which on a warm
    cache parses no policy (issue #16)."""
    gates: GateRunner | None = None
    cache: Cache | None = None
    registries: Callable[[MlflowProvider], Registry] | None = None
    """Builds the MLflow client of the policy's provider (README "Keep MLflow in step"); None: no registry."""
    bot_identity: str = identity.COMMIT_IDENTITY
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
            self._policies[sha] = self.parse_policy(raw)
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
    return ctx.parse_policy(raw)


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
    """A cached rejected.yaml, or None when the entry is missing or not the shape we write.

    Checked by the types and lengths of all rows at once and built by ``starmap``: a warm
    ``history`` reads every rejection of the repository (hundreds) for one model's rows."""
    if (
        type(value) is not list
        or not set(map(type, value)) <= {list}
        or not set(map(len, value)) <= {5}
        or not set(map(type, chain.from_iterable(value))) <= {str}
    ):
        return None
    return tuple(starmap(Rejection, value))


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


def read_manifest(ctx: Context, sha: str, env: str, model: str) -> tuple[bytes | None, Manifest | None]:
    """The raw manifest and its parsed form (None, None when the model is not in ``env``)."""
    path = manifest_path(env, model)
    raw = ctx.ws.read(sha, path)
    if raw is None:
        return None, None
    return raw, manifests.load_manifest(raw, path=path, expected_name=model)
