"""What promobot itself recorded, read back: its write record on a commit, its verification
check, the commit that brought a version, and a rejection a bot branch already carries.

Only promobot's own records are believed (SECURITY.md): commit identities and trailers are
text any pusher can type."""

from __future__ import annotations

from collections.abc import Sequence

from bot.app.context import Context
from bot.core import manifest as manifests
from bot.core.marker import WriteRecord, parse_record
from bot.core.model import (
    CHECK_VERIFY,
    CheckRun,
    HistoryEntry,
    Rejection,
)
from bot.core.paths import REJECTED_PATH
from bot.core.rejected import find_rejection, load_rejected
from bot.errors import (
    ManifestError,
)


def write_record(ctx: Context, sha: str | None) -> WriteRecord | None:
    """promobot's write record on commit ``sha`` — None when promobot did not write it.

    The record lives on promobot's own checks of the commit (GitHub: the check run's
    ``external_id``), which nobody else's credentials can write; commit authors, committers,
    trailers and the PR body are text any pusher can type (SECURITY.md). Free on GitHub:
    the checks of a commit are read once per run and needed for readiness anyway.
    """
    if sha is None:
        return None
    for check in ctx.forge.list_checks(sha):
        if check.by_promobot:
            found = parse_record(check.record)
            if found is not None:
                return found
    return None


def version_of(text: bytes | None, path: str, model: str) -> str | None:
    if not text:
        return None
    try:
        return manifests.load_manifest(text, path=path, expected_name=model).version
    except ManifestError:
        return None


def bringing_commit(entries: Sequence[HistoryEntry], version: str | None = None) -> HistoryEntry | None:
    """The newest commit that brought ``version`` (default: the current one) into the manifest."""
    if not entries:
        return None
    want = entries[0].version if version is None else version
    found: HistoryEntry | None = None
    for entry in entries:
        if entry.version != want:
            if found is not None:
                break
            continue
        found = entry
        if entry.previous_version != want:
            break
    return found


def verify_check(ctx: Context, sha: str) -> CheckRun | None:
    for check in ctx.forge.list_checks(sha):
        if check.name == CHECK_VERIFY and check.by_promobot:
            return check
    return None


def branch_rejection(ctx: Context, branch: str, model: str, version: str) -> Rejection | None:
    """The rejection the existing branch already carries (so that a re-run keeps its time)."""
    sha = ctx.ws.resolve(branch)
    if sha is None:
        return None
    try:
        return find_rejection(load_rejected(ctx.ws.read(sha, REJECTED_PATH)), model, version)
    except ManifestError:
        return None
