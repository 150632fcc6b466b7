"""The marker of a generated site (``.promobot-site``, reference §18), decided in pure code.

The marker says which folder ``promobot site`` may replace, and remembers what the last run
wrote so that the next one does as little as it can:

- ``pages``: every model page → the key of what it shows (``site.build_site``): a page whose
  key is unchanged is reused, not rendered again;
- ``index``: the key of everything the whole site shows except the clock (``site_key``), and
  where the clock's two strings sit in ``index.html`` (the byte lengths of the parts between
  them). When the next run's key is the same, nothing but the clock changed: the index is the
  old file with the new time written into those places (``restamp``) — no view-model, no
  template — and it is checked first against the digest of the file as it was written.

A marker that does not parse, or whose index record is not the shape written here, is read as
"no previous site knowledge" (every page built, the index rendered): it is a cache, never trusted
for more than saving work.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

STAMPS = ("generated_at", "generated_iso")
"""The header's two clock strings (``site.Header``): the only clock in a generated site."""


def stamps(now: datetime) -> dict[str, str]:
    """The header's clock strings for ``now`` (plain ASCII: autoescaping leaves them as they are)."""
    utc = now.astimezone(UTC)
    return {
        "generated_at": utc.strftime("%Y-%m-%d %H:%M UTC"),
        "generated_iso": utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


@dataclass(frozen=True, slots=True)
class IndexRecord:
    """How ``index.html`` was written: ``parts`` (byte lengths) alternate with the clock
    strings named in ``slots``; ``stamps`` are the values written; ``digest`` is the sha256 of
    the whole file; ``key`` is ``site_key`` of what it shows."""

    key: str
    digest: str
    parts: tuple[int, ...]
    slots: tuple[str, ...]
    stamps: Mapping[str, str]
    extra: Mapping[str, Any] = field(default_factory=dict)
    """What the caller keeps beside the key (e.g. the commits whose verification it read)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "digest": self.digest,
            "parts": list(self.parts),
            "slots": list(self.slots),
            "stamps": dict(self.stamps),
            "extra": dict(self.extra),
        }


@dataclass(frozen=True, slots=True)
class Marker:
    pages: Mapping[str, str] = field(default_factory=dict)
    index: IndexRecord | None = None


def parse_marker(text: str) -> Marker:
    """The marker's content; anything malformed is dropped (the part it concerns is rebuilt)."""
    try:
        data = json.loads(text)
    except ValueError:
        return Marker()
    if not isinstance(data, dict):
        return Marker()
    raw_pages = data.get("pages")
    pages = (
        {k: v for k, v in raw_pages.items() if isinstance(k, str) and isinstance(v, str)}
        if isinstance(raw_pages, dict)
        else {}
    )
    return Marker(pages, _index_record(data.get("index")))


def _index_record(raw: object) -> IndexRecord | None:
    if not isinstance(raw, dict):
        return None
    key, digest, parts, slots = raw.get("key"), raw.get("digest"), raw.get("parts"), raw.get("slots")
    values, extra = raw.get("stamps"), raw.get("extra")
    if not (isinstance(key, str) and isinstance(digest, str) and isinstance(extra, dict)):
        return None
    if not (isinstance(parts, list) and all(type(n) is int and n >= 0 for n in parts)):
        return None
    if not (isinstance(slots, list) and all(s in STAMPS for s in slots) and len(parts) == len(slots) + 1):
        return None
    if not (isinstance(values, dict) and set(values) == set(STAMPS)):
        return None
    if not all(isinstance(v, str) for v in values.values()):
        return None
    return IndexRecord(key, digest, tuple(parts), tuple(slots), dict(values), extra)


def marker_text(pages: Mapping[str, str], index: IndexRecord | None) -> str:
    data: dict[str, Any] = {"written_by": "promobot site", "pages": dict(pages)}
    if index is not None:
        data["index"] = index.to_json()
    return json.dumps(data, sort_keys=True) + "\n"


def site_key(material: object) -> str:
    """sha256 of everything a site shows but the clock (JSON-able ``material``: the code's
    digest, the commit, the open PRs, the verification states, the links' base)."""
    text = json.dumps(material, sort_keys=True, ensure_ascii=False, default=repr)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def stamped(
    html: str,
    placeholders: Mapping[str, str],
    values: Mapping[str, str],
    *,
    key: str,
    extra: Mapping[str, Any],
) -> tuple[bytes, IndexRecord] | None:
    """The index rendered with ``placeholders`` (clock string name → a unique placeholder) made
    final with ``values``, and the record of where the values sit; None when a placeholder
    was not found (the caller renders with the real values instead)."""
    raw = html.encode("utf-8")
    found: list[tuple[int, str, int]] = []
    for name, mark in placeholders.items():
        needle = mark.encode("utf-8")
        at = raw.find(needle)
        while at >= 0:
            found.append((at, name, len(needle)))
            at = raw.find(needle, at + len(needle))
    if not found:
        return None
    found.sort()
    parts: list[bytes] = []
    slots: list[str] = []
    start = 0
    for at, name, size in found:
        parts.append(raw[start:at])
        slots.append(name)
        start = at + size
    parts.append(raw[start:])
    out = _join(parts, slots, values)
    digest = hashlib.sha256(out).hexdigest()
    record = IndexRecord(key, digest, tuple(len(p) for p in parts), tuple(slots), dict(values), dict(extra))
    return out, record


def restamp(raw: bytes, record: IndexRecord, values: Mapping[str, str]) -> tuple[bytes, IndexRecord] | None:
    """``raw`` (the index as ``record`` says it was written) with the clock strings ``values``
    instead, and its new record; None when ``raw`` is not exactly that file."""
    if hashlib.sha256(raw).hexdigest() != record.digest:
        return None
    parts: list[bytes] = []
    at = 0
    for size, name in zip(record.parts, (*record.slots, None), strict=True):
        parts.append(raw[at : at + size])
        at += size
        if name is not None:
            old = record.stamps[name].encode("utf-8")
            if raw[at : at + len(old)] != old:
                return None
            at += len(old)
    if at != len(raw):
        return None
    out = _join(parts, record.slots, values)
    digest = record.digest if out == raw else hashlib.sha256(out).hexdigest()
    return out, IndexRecord(record.key, digest, record.parts, record.slots, dict(values), record.extra)


def _join(parts: Sequence[bytes], slots: Sequence[str], values: Mapping[str, str]) -> bytes:
    pieces = [parts[0]]
    for name, part in zip(slots, parts[1:], strict=True):
        pieces += [values[name].encode("utf-8"), part]
    return b"".join(pieces)
