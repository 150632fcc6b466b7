"""Keep the model registry in step with git (reference §16; README "Keep MLflow in step").

Git is the source of truth; MLflow follows. A manifest that names ``registry.mlflow: {model,
version}`` says which registered model version runs in its environment, and the environment's
alias (``registry_alias``, default its name) must point there. This module:

- gathers what the registry says about a manifest for the ``registry`` gate and for
  ``source: mlflow`` metric/compare gates (:func:`gate_evidence`);
- moves one alias after a promotion or rollback merges (:func:`follow`): best effort, because
  the merge is already done — an outage is logged and reported, and the next ``sync`` (or the
  scheduled run) fixes the alias; nothing here ever blocks a promotion;
- reports drift for ``status`` (:func:`drift`) and moves every alias to what git says
  (:func:`sync`), tagging each moved version ``promobot.<env>.commit = <sha>`` so the registry
  points back at the audit trail.

Nothing happens unless the policy lists an mlflow provider: without one ``registry.mlflow`` is
inert (the example repository relies on that to run without a server).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from bot.app.context import Context, check_env, check_model_name
from bot.core import manifest as manifests
from bot.core.model import Manifest
from bot.core.paths import ENV_DIR, manifest_path
from bot.core.registry import RegistryEvidence, RegistryLookup, RegistryRef
from bot.errors import BotError, ManifestError, RegistryUnavailable
from bot.ports import Registry

if TYPE_CHECKING:
    from bot.core.policy_model import Gate, Policy

logger = logging.getLogger(__name__)


def commit_tag(env: str) -> str:
    """The model-version tag that names the commit which brought the version to ``env``."""
    return f"promobot.{env}.commit"


def connect(ctx: Context, policy: Policy) -> Registry | None:
    """The registry of the policy's mlflow provider; None when the policy lists none.

    Raises ``ProviderConfigError`` (a BotError) when its URI or token variable is not set.
    """
    if not policy.providers.mlflow or ctx.registries is None:
        return None
    provider = next(iter(policy.providers.mlflow.values()))
    return ctx.registries(provider)


# --------------------------------------------------------------------------- gate evidence


def lookup(registry: Registry, ref: RegistryRef) -> RegistryLookup:
    """What the registry says about ``ref``: its version and source run, or why it could not tell."""
    try:
        version = registry.model_version(ref.model, ref.version)
        run = None
        if version is not None and version.run_id is not None and not version.is_deleted:
            run = registry.run(version.run_id)
    except RegistryUnavailable as exc:
        return RegistryLookup(ref, unavailable=exc.message)
    except BotError as exc:
        return RegistryLookup(ref, problem=exc.message)
    return RegistryLookup(ref, version=version, run=run)


def gate_evidence(
    ctx: Context,
    policy: Policy,
    *,
    candidate: Manifest | None,
    incumbent: Manifest | None,
    gates: Sequence[Gate],
) -> RegistryEvidence | None:
    """The registry's view for the gates, or None when the policy lists no mlflow provider."""
    if not policy.providers.mlflow or ctx.registries is None:
        return None
    wants_incumbent = any(getattr(g, "source", "") == "mlflow" and g.kind == "compare" for g in gates)
    refs = [
        candidate.registry if candidate is not None else None,
        incumbent.registry if incumbent is not None and wants_incumbent else None,
    ]
    try:
        registry = connect(ctx, policy)
    except BotError as exc:
        found = [RegistryLookup(ref, problem=exc.message) if ref else None for ref in refs]
        return RegistryEvidence(found[0], found[1])
    if registry is None:
        return None
    found = [lookup(registry, ref) if ref else None for ref in refs]
    return RegistryEvidence(found[0], found[1])


# --------------------------------------------------------------------------- moving aliases


class Target(NamedTuple):
    """Where git says one environment's alias must point."""

    model: str
    env: str
    alias: str
    ref: RegistryRef
    commit: str
    """The commit that brought this version to ``env`` (for the ``promobot.<env>.commit`` tag)."""


class Move(NamedTuple):
    model: str
    env: str
    alias: str
    registered_model: str
    from_: str | None
    to: str

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "env": self.env,
            "alias": self.alias,
            "registered_model": self.registered_model,
            "from": self.from_,
            "to": self.to,
        }


def _apply(registry: Registry, target: Target, *, dry_run: bool) -> Move | None:
    """Point the alias at the target version and tag it; None when both already hold."""
    ref = target.ref
    current = registry.alias(ref.model, target.alias)
    now = current.version if current is not None else None
    tag = commit_tag(target.env)
    tagged = current is not None and now == ref.version and current.tags.get(tag) == target.commit
    if now == ref.version and tagged:
        return None
    if not dry_run:
        if now != ref.version:
            registry.set_alias(ref.model, target.alias, ref.version)
        registry.set_version_tag(ref.model, ref.version, tag, target.commit)
    if now == ref.version:
        return None  # only the tag was missing: the alias did not move
    return Move(target.model, target.env, target.alias, ref.model, now, ref.version)


class FollowResult(NamedTuple):
    """What happened to the registry after a merge (never raised: the merge is already done)."""

    moved: Move | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"moved": self.moved.to_json() if self.moved else None, "error": self.error}


def follow(
    ctx: Context, *, policy: Policy, env: str, model: str, manifest_text: bytes | None, commit: str
) -> FollowResult | None:
    """After a promotion or rollback merged ``commit`` into ``env``: move the alias there.

    Best effort and idempotent. None when there is nothing to follow (no provider, or the
    manifest names no registry version). A failure is logged and returned, never raised: the
    merge stands, and ``promobot sync`` (also run on schedule) moves the alias later.
    """
    if not policy.providers.mlflow or ctx.registries is None or manifest_text is None:
        return None
    env_policy = policy.env(env)
    if env_policy is None:
        return None
    try:
        manifest = manifests.load_manifest(manifest_text, path=manifest_path(env, model), expected_name=model)
    except ManifestError:
        return None
    if manifest.registry is None:
        return None
    target = Target(model, env, env_policy.alias, manifest.registry, commit)
    try:
        registry = connect(ctx, policy)
        if registry is None:
            return None
        move = _apply(registry, target, dry_run=False)
    except BotError as exc:
        logger.warning(
            "merged, but the MLflow alias %s of %s was not moved: %s — `promobot sync` (or the "
            "scheduled run) moves it",
            target.alias,
            target.ref.model,
            exc.message,
        )
        return FollowResult(error=exc.message)
    if move is not None:
        logger.info("moved MLflow alias %s of %s to version %s", move.alias, move.registered_model, move.to)
    return FollowResult(moved=move)


def follow_current(ctx: Context, *, policy: Policy, env: str, model: str) -> FollowResult | None:
    """Like :func:`follow`, for what ``env`` runs now at the default branch's tip.

    A re-run on an already merged PR uses this: the environment may have moved on since that
    merge, and the alias must follow git as it is now, never an older merge.
    """
    tip = ctx.tip()
    text = ctx.ws.read(tip, manifest_path(env, model))
    if text is None or not policy.providers.mlflow:
        return None
    try:
        version = manifests.load_manifest(text, path=manifest_path(env, model), expected_name=model).version
    except ManifestError:
        return None
    commit = _brought_by(ctx, tip, env, model, version)
    return follow(ctx, policy=policy, env=env, model=model, manifest_text=text, commit=commit)


def _brought_by(ctx: Context, sha: str, env: str, model: str, version: str) -> str:
    """The commit that made ``version`` what ``env`` runs (the newest one that changed it)."""
    entries = ctx.ws.history(manifest_path(env, model), ref=sha)
    brought = entries[0].sha if entries else sha
    for entry in entries:  # newest first: walk back while the version is the one we want
        if entry.version != version:
            break
        brought = entry.sha
        if entry.previous_version != version:
            break
    return brought


def targets(ctx: Context, sha: str, policy: Policy, *, env: str | None = None) -> list[Target]:
    """Every (model, environment) at ``sha`` whose manifest names a registry version."""
    out: list[Target] = []
    ids = ctx.ws.blob_ids(sha, ENV_DIR)
    wanted = [e for e in policy.environments if env is None or e.name == env]
    for env_policy in wanted:
        prefix = f"{ENV_DIR}/{env_policy.name}/"
        paths = sorted(
            p for p in ids if p.startswith(prefix) and p.endswith(".yaml") and "/" not in p[len(prefix) :]
        )
        contents = ctx.ws.read_blobs({ids[p] for p in paths}) if paths else {}
        for path in paths:
            model = path[len(prefix) : -len(".yaml")]
            try:
                check_model_name(model)
                manifest = manifests.load_manifest(contents[ids[path]], path=path, expected_name=model)
            except BotError:
                continue  # `validate` reports broken manifests; sync moves what it can read
            if manifest.registry is None:
                continue
            commit = _brought_by(ctx, sha, env_policy.name, model, manifest.version)
            out.append(Target(model, env_policy.name, env_policy.alias, manifest.registry, commit))
    return out


class SyncResult(NamedTuple):
    """What ``sync`` did: the aliases it moved and how many already pointed right."""

    moved: list[Move]
    unchanged: int = 0
    dry_run: bool = False
    configured: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "moved": [m.to_json() for m in self.moved],
            "unchanged": self.unchanged,
            "dry_run": self.dry_run,
        }


def sync(ctx: Context, *, env: str | None = None, dry_run: bool = False) -> SyncResult:
    """Move every alias to what the default branch says (only ``env``'s with ``env``).

    An unreachable registry raises ``RegistryUnavailable`` (exit 3): what moved before it stays
    moved, and a re-run finishes the rest.
    """
    tip = ctx.tip()
    policy = ctx.policy(tip)
    if env is not None:
        check_env(policy, env)
    registry = connect(ctx, policy)
    if registry is None:
        return SyncResult([], dry_run=dry_run, configured=False)
    moved: list[Move] = []
    unchanged = 0
    for target in targets(ctx, tip, policy, env=env):
        move = _apply(registry, target, dry_run=dry_run)
        if move is None:
            unchanged += 1
        else:
            moved.append(move)
    return SyncResult(moved, unchanged, dry_run)


# --------------------------------------------------------------------------- status


def drift(ctx: Context, sha: str, policy: Policy) -> dict[str, dict[str, dict[str, Any]]] | None:
    """``{model: {env: {alias, version, drift}}}`` for models that name a registry version.

    None when the policy lists no mlflow provider. An unreachable registry raises
    ``RegistryUnavailable``; the caller decides whether that fails the command.
    """
    registry = connect(ctx, policy)
    if registry is None:
        return None
    out: dict[str, dict[str, dict[str, Any]]] = {}
    by_model: dict[str, dict[str, str]] = {}
    for target in targets(ctx, sha, policy):
        if target.ref.model not in by_model:
            by_model[target.ref.model] = registry.aliases(target.ref.model) or {}
        actual = by_model[target.ref.model].get(target.alias)
        out.setdefault(target.model, {})[target.env] = {
            "alias": target.alias,
            "registered_model": target.ref.model,
            "version": actual,
            "expected": target.ref.version,
            "drift": actual != target.ref.version,
        }
    return out
