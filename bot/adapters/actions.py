"""The GitHub Actions runtime: the event file, the step summary and workflow-command annotations.

``load_event`` reads ``$GITHUB_EVENT_NAME`` / ``$GITHUB_EVENT_PATH`` (or the ``--name`` /
``--payload`` the CLI passes) and parses the payload into a core event
(``bot.core.events``); ``LoadedEvent.needs_context`` tells the CLI whether the event
needs the repository and the forge at all, so that unrelated events exit at once with a
one-line notice. ``write_summary`` appends to ``$GITHUB_STEP_SUMMARY``;
``annotate_error`` formats an ``::error::`` workflow command.

This is the only module that reads the Actions environment for events; the mapping is
passed in (``environ``) so tests never touch ``os.environ``. Nothing here logs or prints a
token: text that goes to the log or the summary passes ``redact`` first.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core import events
from bot.errors import UsageError

logger = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 25 * 1024 * 1024
"""GitHub caps webhook payloads at 25 MB."""

NOT_IN_ACTIONS_HINT = "not running in GitHub Actions? pass --name and --payload"

_TOKEN_RE = re.compile(
    r"(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|x-access-token:[^@\s]+|"
    r"(?i:authorization:\s*(?:basic|bearer|token)\s+)\S+)"
)


@dataclass(frozen=True, slots=True)
class LoadedEvent:
    """An event as the workflow run received it."""

    name: str
    event: events.Event

    @property
    def notice(self) -> str | None:
        """The one-line notice when promobot ignores this event without the repository."""
        return events.ignore_reason(self.event)

    @property
    def needs_context(self) -> bool:
        """False when the router answers without git or the forge (ignored or invalid events)."""
        return not isinstance(self.event, events.InvalidEvent) and self.notice is None


def load_event(
    *,
    name: str | None = None,
    payload: Path | str | Mapping[str, Any] | None = None,
    environ: Mapping[str, str],
) -> LoadedEvent:
    """The event to handle: ``name``/``payload`` when given, else the Actions environment.

    ``payload`` is a path to the JSON file (or the already-parsed object). Raises
    ``UsageError`` when there is no event, the file is missing or is not a JSON object.
    """
    if name is None:
        name = environ.get("GITHUB_EVENT_NAME") or None
        if name is None:
            raise UsageError("no event to handle: GITHUB_EVENT_NAME is not set", NOT_IN_ACTIONS_HINT)
    name = name.strip()
    if payload is None:
        path_text = environ.get("GITHUB_EVENT_PATH") or None
        if path_text is not None:
            payload = Path(path_text)
        elif name == "schedule":
            payload = {}  # `promobot handle-event --name schedule` needs no payload
        else:
            raise UsageError(
                f"no payload for the {name[:64]!r} event: GITHUB_EVENT_PATH is not set", NOT_IN_ACTIONS_HINT
            )
    data = payload if isinstance(payload, Mapping) else _read_payload(Path(payload))
    event = events.from_payload(name, data)
    logger.info("event %s parsed as %s", events.event_name(event), type(event).__name__)
    return LoadedEvent(name=name, event=event)


def _read_payload(path: Path) -> Mapping[str, Any]:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_PAYLOAD_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(f"the event payload file {path} does not exist", NOT_IN_ACTIONS_HINT) from None
    except IsADirectoryError:
        raise UsageError(f"the event payload {path} is a directory", "pass the JSON file") from None
    except OSError as exc:
        raise UsageError(
            f"cannot read the event payload {path}: {exc.strerror}", NOT_IN_ACTIONS_HINT
        ) from None
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise UsageError(
            f"the event payload {path} is over {MAX_PAYLOAD_BYTES // (1024 * 1024)} MB",
            "GitHub never sends payloads this large; pass the event's own JSON file",
        )
    try:
        data: Any = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise UsageError(
            f"the event payload {path} is not UTF-8 text", "pass the event's JSON file"
        ) from None
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"the event payload is not valid JSON: {exc.msg}",
            "pass the event's JSON file (in Actions: $GITHUB_EVENT_PATH)",
            file=str(path),
            line=exc.lineno,
            column=exc.colno,
        ) from None
    if not isinstance(data, Mapping):
        raise UsageError(f"the event payload {path} is not a JSON object", "pass the event's JSON file")
    return data


def redact(text: str) -> str:
    """``text`` with anything that looks like a GitHub token or credential replaced by ``***``."""
    return _TOKEN_RE.sub("***", text)


def write_summary(markdown: str, *, environ: Mapping[str, str]) -> bool:
    """Append ``markdown`` to ``$GITHUB_STEP_SUMMARY`` when it is set; True when written.

    A summary that cannot be written is logged, never fatal: the job's real work is done.
    """
    target = environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return False
    text = redact(markdown)
    try:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")
    except OSError as exc:
        logger.warning("cannot write the step summary %s: %s", target, exc.strerror)
        return False
    return True


def escape_data(text: str) -> str:
    """Escape a workflow command's message: ``%``, ``\\r`` and ``\\n`` (GitHub's rules)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def annotate_error(message: str) -> str:
    """The ``::error::`` workflow command that shows ``message`` as an error annotation."""
    return f"::error::{escape_data(redact(message))}"


def annotate_notice(message: str) -> str:
    """The ``::notice::`` workflow command for a one-line notice (e.g. an ignored event)."""
    return f"::notice::{escape_data(redact(message))}"
