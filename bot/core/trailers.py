"""Commit trailers (reference §8): writing them into commit messages and reading them back.

Pure: no git, no I/O. ``parse_trailers`` follows git's own rules (``git
interpret-trailers``) closely enough for the audit trail:

- the trailer block is the *last paragraph* of the message, and never the first one
  (the subject paragraph);
- a trailer line is ``Key: value`` where ``Key`` is letters, digits and ``-``;
  a line starting with whitespace continues the previous trailer's value;
- the paragraph is a trailer block when every line is a trailer, or when at least
  25 % are and one of them is a well-known key (promobot's own, ``Signed-off-by``,
  ``Co-authored-by``) — git's "25 % and one configured trailer" rule;
- keys compare case-insensitively; promobot's keys are returned in their canonical
  spelling (``promobot-version`` → ``Promobot-Version``), other keys as written;
- a repeated ``Approved-by`` is joined with ``", "``; for any other repeated key the
  last one wins.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

ACTION = "Promobot-Action"
MODEL = "Promobot-Model"
FROM = "Promobot-From"
TO = "Promobot-To"
VERSION = "Promobot-Version"
PREVIOUS_VERSION = "Promobot-Previous-Version"
ROLLBACK_OF = "Promobot-Rollback-Of"
APPROVED_BY = "Approved-by"
REQUESTED_BY = "Promobot-Requested-By"
PR = "Promobot-PR"
VERIFICATION = "Promobot-Verification"
"""On a rollback promobot started after a failed post-deploy verification: ``failed <check>``."""

TRAILER_KEYS: tuple[str, ...] = (
    ACTION,
    MODEL,
    FROM,
    TO,
    VERSION,
    PREVIOUS_VERSION,
    ROLLBACK_OF,
    APPROVED_BY,
    REQUESTED_BY,
    PR,
    VERIFICATION,
)
"""Every trailer promobot writes, in the order it writes them."""

_CANONICAL = {k.lower(): k for k in TRAILER_KEYS}
_WELL_KNOWN = frozenset({*_CANONICAL, "signed-off-by", "co-authored-by"})
_KEY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_LINE_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*?)[ \t]*$")

Trailers = Sequence[tuple[str, str]] | Mapping[str, str]


def canonical_key(key: str) -> str:
    """``promobot-version`` → ``Promobot-Version``; unknown keys come back unchanged."""
    return _CANONICAL.get(key.lower(), key)


def _check_single_line(what: str, text: str) -> None:
    for ch in text:
        if unicodedata.category(ch) in {"Cc", "Zl", "Zp"}:
            raise ValueError(f"{what} {text!r} contains a newline or control character")


def format_trailers(pairs: Trailers) -> str:
    """``Key: value`` lines, one per pair, without a trailing newline.

    Raises ``ValueError`` for a malformed key or a value holding a newline or any other
    control character (a value could otherwise smuggle in a forged trailer).
    """
    items = list(pairs.items()) if isinstance(pairs, Mapping) else list(pairs)
    lines = []
    for key, value in items:
        if _KEY_RE.fullmatch(key) is None:
            raise ValueError(f"trailer key {key!r} must be letters, digits and '-'")
        _check_single_line(f"trailer {key} value", value)
        lines.append(f"{canonical_key(key)}: {value.strip()}")
    return "\n".join(lines)


def build_message(subject: str, body: str, trailers: Trailers) -> str:
    """``subject``, a blank line, ``body`` (if any), a blank line and the trailer block.

    The result ends with one newline. Raises ``ValueError`` for a multi-line or empty
    subject and for bad trailers (see ``format_trailers``).
    """
    subject = subject.strip()
    if not subject:
        raise ValueError("a commit subject must not be empty")
    _check_single_line("commit subject", subject)
    parts = [subject]
    body = body.strip("\n")
    if body.strip():
        parts.append(body.rstrip())
    block = format_trailers(trailers)
    if block:
        parts.append(block)
    return "\n\n".join(parts) + "\n"


def _paragraphs(message: str) -> list[list[str]]:
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for line in message.replace("\r\n", "\n").split("\n"):
        if line.strip():
            current.append(line)
        elif current:
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    return paragraphs


def parse_trailers(message: str) -> dict[str, str]:
    """The trailers of a commit message (see the module docstring for the rules)."""
    paragraphs = _paragraphs(message)
    if len(paragraphs) < 2:
        return {}
    block = paragraphs[-1]
    found: list[tuple[str, str]] = []
    others = 0
    for line in block:
        if line[0] in " \t" and found:
            key, value = found[-1]
            found[-1] = (key, f"{value} {line.strip()}".strip())
            continue
        match = _LINE_RE.match(line)
        if match is None:
            others += 1
            continue
        found.append((canonical_key(match.group(1)), match.group(2)))
    if not found:
        return {}
    if others and (
        len(found) * 4 < len(found) + others or not any(k.lower() in _WELL_KNOWN for k, _ in found)
    ):
        return {}
    return collect_trailers(found)


def collect_trailers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``{canonical key: value}`` from trailer pairs already found (e.g. by git itself).

    A repeated ``Approved-by`` is joined with ``", "``; otherwise the last one wins.
    """
    result: dict[str, str] = {}
    for raw_key, raw_value in pairs:
        key, value = canonical_key(raw_key.strip()), raw_value.strip()
        if key == APPROVED_BY and result.get(key):
            result[key] = f"{result[key]}, {value}" if value else result[key]
        else:
            result[key] = value
    return result
