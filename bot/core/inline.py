"""Safe inline markdown: the one way untrusted text (a manifest value, a comment, a login)
reaches markdown — :func:`code` makes it an inline code span (no links, no mentions, no HTML,
no table breaks) — and :func:`plain` for reasons the bot wrote that may quote such values.

Apart from ``render.py`` (PR bodies, summaries, replies): the terminal and job-summary tables
(``report.py``) need these and none of render's templates or diffs (issue #16).
"""

from __future__ import annotations

import re

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
RESULT_ICON = {"success": "✅", "failure": "❌", "pending": "⏳"}
MAX_INLINE = 200


def code(value: object) -> str:
    """``value`` as a safe inline code span (truncated, no backticks, pipes escaped)."""
    text = _CONTROL_RE.sub(" ", str(value)).replace("`", "ˋ")
    if len(text) > MAX_INLINE:
        text = text[: MAX_INLINE - 1] + "…"
    text = text.replace("|", "\\|")
    if not text.strip():
        return "`·`" if not text else f"`{text}`"
    return f"`{text}`"


def plain(text: str) -> str:
    """Reason text the bot wrote, which may quote untrusted values: neutralise markdown."""
    cleaned = _CONTROL_RE.sub(" ", text)
    cleaned = re.sub(r"([\\`*_\[\]<>|!~])", r"\\\1", cleaned)  # '#' is safe inline: no headings
    return cleaned.replace("@", "@\u200b")


def fenced(text: str, lang: str = "") -> str:
    """A fenced block that ``text`` cannot close early."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = text if text.endswith("\n") else text + "\n"
    return f"{fence}{lang}\n{body}{fence}"
