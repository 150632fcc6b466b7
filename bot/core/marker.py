"""Hidden markers in bodies the bot writes: the PR state marker and reply markers.

The state marker (``<!-- promobot:state {json} -->``) records what a promotion PR is
about and who asked for it; reply markers (``<!-- promobot:reply 1234 -->``) name the
comment a reply answers, so a redelivered event never replies twice.

Markers are only trusted in text the bot itself wrote; the JSON is escaped so that
no value can close the HTML comment early. A PR body is editable by anyone with write
access, so the state marker is a description, never evidence: who asked for a PR and
whether promobot wrote its head commit come from the *write record* (``render_record``),
which promobot stores on its own checks of each commit it writes — on GitHub the check
run's ``external_id``, which only promobot's credentials can set (SECURITY.md).
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal, NamedTuple

from bot.core.model import is_valid_name

_STATE_RE = re.compile(r"<!-- promobot:state (\{.*?\}) -->")
_REPLY_RE = re.compile(r"<!-- promobot:reply (\d{1,20}) -->")
_VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._+-]{0,127}$")


class PrState(NamedTuple):
    """What a promobot pull request is about."""

    action: Literal["promote", "rollback", "reject", "unreject"]
    model: str
    to: str
    """The environment whose manifest changes; ``""`` for reject / unreject (rejected.yaml)."""
    version: str
    from_: str | None = None
    previous_version: str | None = None
    requester: str | None = None
    rollback_of: str | None = None
    """For rollbacks: the commit that brought the bad version."""
    restores_sha: str | None = None
    """For rollbacks: the commit whose manifest is restored."""


def render_state(state: PrState) -> str:
    data = {k: v for k, v in state._asdict().items() if v is not None}
    text = json.dumps(data, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    # No value may end the HTML comment or open a tag.
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f"<!-- promobot:state {text} -->"


def parse_state(body: str | None) -> PrState | None:
    """The state marker in ``body``, or None when absent or malformed (never raises)."""
    if not body:
        return None
    match = _STATE_RE.search(body)
    if match is None:
        return None
    try:
        data: Any = json.loads(match.group(1))
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    try:
        state = PrState(
            action=data["action"],
            model=data["model"],
            to=data["to"],
            version=data["version"],
            from_=data.get("from_"),
            previous_version=data.get("previous_version"),
            requester=data.get("requester"),
            rollback_of=data.get("rollback_of"),
            restores_sha=data.get("restores_sha"),
        )
    except (KeyError, TypeError):
        return None
    if state.action in ("reject", "unreject"):
        # These name no environment: rejected.yaml is shared by all of them.
        if state.to != "" or state.from_ is not None:
            return None
        names = [state.model]
    elif state.action in ("promote", "rollback"):
        names = [state.model, state.to] + ([state.from_] if state.from_ else [])
    else:
        return None
    if not all(isinstance(n, str) and is_valid_name(n) for n in names):
        return None
    if not isinstance(state.version, str) or not _VERSION_RE.match(state.version):
        return None
    return state


WROTE = "promobot:wrote"
"""The write record's prefix: promobot wrote the commit this check is on."""
_REQUESTER_RE = re.compile(r"^[^\s]{1,100}$")


class WriteRecord(NamedTuple):
    """What promobot noted about a commit it wrote: that it wrote it, and who asked."""

    requester: str | None = None


def render_record(requester: str | None) -> str:
    """``promobot:wrote`` or ``promobot:wrote requested-by=LOGIN``."""
    if requester and _REQUESTER_RE.match(requester):
        return f"{WROTE} requested-by={requester}"
    return WROTE


def parse_record(text: str) -> WriteRecord | None:
    """The write record in ``text``, or None when ``text`` is not one (never raises)."""
    if text == WROTE:
        return WriteRecord()
    prefix = f"{WROTE} requested-by="
    if text.startswith(prefix) and _REQUESTER_RE.match(text[len(prefix) :]):
        return WriteRecord(text[len(prefix) :])
    return None


def reply_marker(comment_id: int) -> str:
    return f"<!-- promobot:reply {comment_id} -->"


def replied_to(body: str) -> int | None:
    """The comment id a bot reply answers, or None."""
    match = _REPLY_RE.search(body)
    return int(match.group(1)) if match else None
