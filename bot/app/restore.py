"""The rollback commit, decided but not written: what restoring an earlier version writes.

Both routes of ``promobot rollback`` (a PR, or ``--direct``) commit exactly this: the
manifest with the restored version's promoted keys and the current local keys, rejected.yaml
when ``rollback.reject_version`` is true, and a revert-form message with the rollback
trailers (reference §4 step 7, §10).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.app.context import Context
from bot.core import manifest as manifests
from bot.core import revert
from bot.core.model import Manifest, Rejection
from bot.core.paths import REJECTED_PATH, manifest_path
from bot.core.policy_model import Policy
from bot.core.rejected import find_rejection
from bot.errors import ManifestError, NotApplicable, UsageError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Prepared:
    """One rollback commit, decided but not written."""

    target: revert.RollbackTarget
    path: str
    current_text: bytes
    restored: Manifest
    files: dict[str, bytes]
    rejection: Rejection | None
    reason: str | None
    message: str

    @property
    def new_text(self) -> bytes:
        return self.files[self.path]

    @property
    def subject(self) -> str:
        return self.message.splitlines()[0]


def current_version(raw: bytes, path: str, model: str, entries_version: str | None) -> str:
    try:
        return manifests.load_manifest(raw, path=path, expected_name=model).version
    except ManifestError:
        # A broken release must still be roll-back-able: trust the history's version.
        if entries_version is None:
            raise
        return entries_version


def prepare(
    ctx: Context,
    *,
    tip: str,
    policy: Policy,
    model: str,
    env: str,
    to_version: str | None,
    reason: str | None,
    actor: str,
    keep_rejection: Rejection | None = None,
) -> Prepared:
    path = manifest_path(env, model)
    current_raw = ctx.ws.read(tip, path)
    if current_raw is None:
        raise NotApplicable(
            f"{model} is not in {env}, so there is nothing to roll back", "check with `promobot status`"
        )
    entries = ctx.ws.history(path, ref=tip)
    current = current_version(current_raw, path, model, entries[0].version if entries else None)
    rejections = ctx.rejected(tip)
    target = revert.select_target(
        entries, model=model, env=env, current=current, to_version=to_version, rejections=rejections
    )
    restored_raw = ctx.ws.read(target.restores_sha, path)
    if restored_raw is None:  # pragma: no cover - history says the file was there
        raise UsageError(f"{path} is missing at {target.restores_sha[:12]}", "check the repository's history")
    try:
        restored = manifests.load_manifest(restored_raw, path=path, expected_name=model)
    except ManifestError as exc:
        raise UsageError(
            f"the manifest of {model} {target.version} at {target.restores_sha[:12]} does not load: "
            f"{exc.message}",
            "roll back to another version with --to",
        ) from exc
    why = revert.clean_reason(reason)
    rejection: Rejection | None = None
    if policy.rollback.reject_version and find_rejection(rejections, model, current) is None:
        rejection = keep_rejection or revert.rejection(
            model=model,
            version=current,
            reason=why,
            by=actor,
            now=ctx.now,
            default_reason=f"rolled back in {env} to {target.version}",
        )
    rejected_raw = ctx.ws.read(tip, REJECTED_PATH)
    files = revert.rollback_files(
        path=path,
        current_text=current_raw.decode("utf-8"),
        restored_text=restored_raw.decode("utf-8"),
        local_keys=policy.local_keys,
        rejected_path=REJECTED_PATH,
        rejected_text=rejected_raw.decode("utf-8") if rejected_raw is not None else None,
        reject=rejection,
    )
    message = revert.rollback_message(
        model=model,
        env=env,
        version=target.version,
        bad_version=current,
        bad_sha=target.bad_sha,
        bad_subject=target.bad_subject,
        reason=why,
        requester=actor,
    )
    return Prepared(target, path, current_raw, restored, files, rejection, why, message)
