"""What a dashboard page may hold (reference §18): clipped text, dates, links built only from
validated parts, and the Content-Security-Policy of the generated pages.

Every string the site view-model (``site``, ``site_timeline``) shows passes through ``clip`` or
``when``; every ``href`` comes from ``pr_href``, ``commit_href`` or ``safe_link``, so no
``javascript:`` URL can be made.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime
from functools import cache

WEB_URL_RE = re.compile(r"^https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._-]+){2}$")
SHA_RE = re.compile(r"^[0-9a-f]{7,64}$")
SAFE_LINK_RE = re.compile(r"^https://[^\s<>\"'`]+$")
MAX_TEXT = 300


def csp_hash(text: str) -> str:
    """The CSP source expression that allows exactly one inline ``<script>`` or ``<style>`` body."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy(script: str | None, style: str) -> str:
    """A strict policy for the generated pages: nothing loads, only our one script and one style run.

    ``frame-ancestors``, ``report-uri`` and ``sandbox`` are not allowed in a ``<meta>`` policy
    (browsers ignore them with a console error), so they are left out.
    """
    scripts = csp_hash(script) if script is not None else "'none'"
    return (
        "default-src 'none'; "
        f"script-src {scripts}; "
        f"style-src {csp_hash(style)}; "
        "img-src data:; "
        "base-uri 'none'; "
        "form-action 'none'"
    )


def clip(value: object, limit: int = MAX_TEXT) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_web_url(url: str | None) -> str | None:
    """The repository's web address (``https://github.com/owner/name``), or None when unusable."""
    if not url:
        return None
    url = url.rstrip("/")
    return url if WEB_URL_RE.fullmatch(url) else None


def pr_href(web_url: str | None, number: int | None) -> str | None:
    if web_url is None or number is None or not isinstance(number, int) or number <= 0:
        return None
    return f"{web_url}/pull/{number}"


def commit_href(web_url: str | None, sha: str | None) -> str | None:
    if web_url is None or not sha or not SHA_RE.fullmatch(sha):
        return None
    return f"{web_url}/commit/{sha}"


def safe_link(value: object) -> str | None:
    """``value`` as a link target when it is a plain https URL, else None (shown as text only)."""
    text = str(value) if isinstance(value, str) else ""
    return text if SAFE_LINK_RE.fullmatch(text) and len(text) <= 2000 else None


@cache
def when(at: str | None) -> str:
    """``2026-11-27T10:00:00Z`` → ``2026-11-27 10:00 UTC`` (text as given when unparsable)."""
    if not at:
        return ""
    try:
        parsed = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return clip(at, 40)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
