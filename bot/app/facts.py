"""A promobot pull request's facts, gathered once: what it promotes or rolls back, from which
base, who asked for it (promobot's record, never the editable body), and its branch's state."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from bot.app.context import Context, check_env, read_manifest
from bot.app.records import version_of, write_record
from bot.core import manifest as manifests
from bot.core import revert, trailers
from bot.core.branches import BranchRef, parse_branch, rollback_branch
from bot.core.marker import PrState, parse_state
from bot.core.model import Manifest, PullRequest
from bot.core.paths import REJECTED_PATH, manifest_path
from bot.core.plan import BranchState
from bot.core.policy_model import Policy
from bot.errors import (
    BotError,
    ManifestError,
    NotApplicable,
)

logger = logging.getLogger(__name__)


@dataclass
class PrContext:
    pr: PullRequest
    state: PrState
    base_sha: str
    source: Manifest | None
    new_text: bytes
    old_text: bytes | None


def pr_context(ctx: Context, number: int, *, pr: PullRequest | None = None) -> PrContext:
    """Gather what a promobot PR is about; ``NotApplicable`` for PRs that are not promobot's.

    ``pr`` is the PR as just read from the forge, when the caller has it (saves a request).
    """
    pr = pr if pr is not None and pr.number == number else ctx.forge.get_pr(number)
    ref = parse_branch(pr.head_branch)
    marker = parse_state(pr.body)
    # The branch name is authoritative; the marker (in an editable body) must agree with it.
    if ref is None or marker is None or (marker.model, marker.to) != (ref.model, ref.env):
        raise NotApplicable(
            f"pull request #{number} is not a promobot promotion or rollback",
            "promobot only acts on the pull requests it opened (branches promobot/…)",
        )
    if pr.base_branch != ctx.default_branch:
        raise NotApplicable(
            f"pull request #{number} targets {pr.base_branch}, not {ctx.default_branch}",
            "promobot only promotes into the default branch",
        )
    if ref.is_rejection:
        return _rejection_context(ctx, pr, ref, marker)
    base_sha = ctx.tip()
    policy = ctx.policy(base_sha)
    check_env(policy, ref.env)
    path = manifest_path(ref.env, ref.model)
    new_text = ctx.ws.read(pr.head_sha, path) if pr.state != "merged" or pr.merge_sha is None else None
    if new_text is None:
        new_text = b""
    old_text = ctx.ws.read(base_sha, path)
    source: Manifest | None = None
    if marker.action != ref.action:  # an edited body cannot turn a promotion into a rollback
        action: Literal["promote", "rollback"] = "rollback" if ref.action == "rollback" else "promote"
        marker = PrState(action=action, model=ref.model, to=ref.env, version=marker.version)
    if ref.action == "promote":
        env = policy.env(ref.env)
        src_env = env.from_ if env else None
        if src_env:
            try:
                _, source = read_manifest(ctx, base_sha, src_env, ref.model)
            except ManifestError:
                source = None
        marker = marker._replace(from_=src_env)
    else:
        source = restored_manifest(ctx, marker)
    # Versions come from the manifests themselves, never from the (editable) marker.
    facts: dict[str, Any] = {
        "requester": _requester(ctx, pr, marker),
        "version": version_of(new_text, path, ref.model) or marker.version,
        "previous_version": version_of(old_text, path, ref.model),
    }
    state = marker._replace(**facts)
    return PrContext(pr, state, base_sha, source, new_text, old_text)


def _rejection_context(ctx: Context, pr: PullRequest, ref: BranchRef, marker: PrState) -> PrContext:
    """A reject / unreject PR: the branch name says what and which version, never the body."""
    assert ref.version is not None
    base_sha = ctx.tip()
    new_text = (
        ctx.ws.read(pr.head_sha, REJECTED_PATH) if pr.state != "merged" or pr.merge_sha is None else None
    )
    old_text = ctx.ws.read(base_sha, REJECTED_PATH)
    action: Literal["reject", "unreject"] = "reject" if ref.action == "reject" else "unreject"
    state = PrState(
        action=action,
        model=ref.model,
        to="",
        version=ref.version,
        requester=_requester(ctx, pr, marker),
    )
    return PrContext(pr, state, base_sha, None, new_text or b"", old_text)


def _requester(ctx: Context, pr: PullRequest, marker: PrState) -> str | None:
    """Who asked for this PR: promobot's write record on the head says so.

    Never trailers or identities of the head commit. A head promobot did not write has no
    record and is never ready (``foreign_blockers``); only then the (editable) body's marker
    names the requester, which can keep a reviewer from counting but never make one count.
    """
    record = write_record(ctx, pr.head_sha)
    return record.requester if record is not None else marker.requester


def branch_state(ctx: Context, branch: str, path: str, base_sha: str) -> BranchState:
    sha = ctx.ws.resolve(branch)
    pr = ctx.forge.find_pr(branch)
    if sha is None:
        return BranchState(None, pr=pr)
    content = ctx.ws.read(sha, path)
    commits = ctx.ws.commits_between(base_sha, sha)
    only_bot = (
        len(commits) == 1 and ctx.ws.is_ancestor(f"{sha}~1", base_sha) and write_record(ctx, sha) is not None
    )
    if only_bot:
        old = ctx.ws.blob_ids(f"{sha}~1", "environments")
        now = ctx.ws.blob_ids(sha, "environments")
        changed = {p for p in set(old) | set(now) if old.get(p) != now.get(p)}
        only_bot = changed <= {path}
    return BranchState(sha, content, only_bot, pr)


def restored_manifest(ctx: Context, state: PrState) -> Manifest | None:
    """The manifest a rollback PR restores (its integrity/order source), or None when unknown.

    Only a commit on the default branch counts (the marker is in an editable PR body).
    """
    sha = state.restores_sha
    if not revert.is_sha(sha):
        return None
    assert sha is not None
    try:
        if not ctx.ws.is_ancestor(sha, ctx.tip()):
            return None
        raw = ctx.ws.read(sha, manifest_path(state.to, state.model))
        if raw is None:
            return None
        found = manifests.load_manifest(
            raw, path=manifest_path(state.to, state.model), expected_name=state.model
        )
    except BotError:
        return None
    return found


def env_versions(ctx: Context, sha: str, policy: Policy, model: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in policy.names:
        try:
            _, m = read_manifest(ctx, sha, name, model)
        except ManifestError:
            m = None
        out[name] = m.version if m else None
    return out


def reverted_commit(ctx: Context, state: PrState) -> tuple[str, str | None]:
    """(subject of the commit a rollback PR reverts, the reason its branch's commit gives).

    Read from git, never from the (editable) body: the merge message quotes them. Unknown
    parts are empty (the reverted SHA is not a SHA, or git cannot read it: logged).
    """
    bad = state.rollback_of
    if bad is None or not revert.is_sha(bad):
        return "", None
    subject, reason = "", None
    try:
        message = ctx.ws.commit_message(bad)
        subject = message.splitlines()[0] if message else ""
        head = ctx.ws.resolve(rollback_branch(state.to, state.model))
        if head is not None:
            message = ctx.ws.commit_message(head)
            if trailers.parse_trailers(message).get(trailers.ROLLBACK_OF) == bad:
                reason = revert.reason_from_message(message, bad) or None
    except BotError as exc:
        logger.warning("cannot read the reverted commit %s: %s", bad[:12], exc.message)
    return subject, reason
