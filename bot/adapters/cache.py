"""Small persistent caches in ``.git/promobot/``, stored as JSON and validated on load.

A cache is data that can come from elsewhere (a restored CI cache, a copied ``.git``), so
it is never code: JSON cannot execute anything when read, unlike the pickle this replaced.
Every file carries a format name, a format version and the promobot version that wrote
it; a file that is unreadable, not JSON, of another format or version, or whose shape is
wrong is ignored and rebuilt, never an error and never trusted. Values are validated
again by whoever reads them (``bot.app.context``, ``bot.app.status``): a malformed entry is a miss.

What the caches may decide is limited too: they speed up read-only commands (``status``,
``history``); promotion, gates and rollback always read git itself.

The manifest summaries (``cache.json``), the parsed policy and rejections
(``overview.json``, all ``history`` needs of this cache) and the last ``status`` table
(``status.json``) are three files, each read only when one of its keys is asked for.

Files are rewritten atomically (a temporary file renamed over the old one), and only
when something changed; a read-only ``.git`` only costs the speed-up.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from bot import __version__

logger = logging.getLogger(__name__)

FORMAT = "promobot-cache"
VERSION = 3
"""Bumped whenever the meaning of a stored value changes (1 was the pickle; 2 kept the overview
keys too, so a version-2 file is rebuilt once without them)."""
FILE_NAME = "cache.json"
"""The manifest cache in ``.git/promobot/`` (``cache.pickle`` before format 2; removed on write)."""
OVERVIEW_FORMAT = "promobot-overview"
OVERVIEW_VERSION = 1
OVERVIEW_FILE_NAME = "overview.json"
OVERVIEW_KEYS = frozenset({"p", "r"})
"""Keys kept in their own small file beside ``cache.json``: the parsed promotion.yaml and
rejected.yaml (``bot.app.context.overview``), which every read-only command needs, so that
``history`` does not load the manifest summaries only ``status`` and ``site`` use (a 0.5 MB
file at 3,000 manifests; issue #16)."""
STATUS_FORMAT = "promobot-status"
STATUS_VERSION = 1
STATUS_FILE_NAME = "status.json"
STATUS_KEYS = frozenset({"t"})
"""The versions and errors of every manifest at the last ``status``'s environments tree
(``bot.app.status``): when the tree is the same, ``status`` reads this one entry instead of
listing the tree and looking up each manifest's summary in ``cache.json`` (issue #16)."""
MAX_ENTRIES = 200_000
MAX_BYTES = 256 * 1024 * 1024
"""A cache file larger than this is not read (it is not ours, or something went wrong)."""


def _plain(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists), so equal values compare equal."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def read_json(path: Path, *, fmt: str, version: int) -> dict[str, Any] | None:
    """The JSON object in ``path`` when it is ours (format, format version, promobot version); else None."""
    try:
        with path.open("rb") as fh:
            if os.fstat(fh.fileno()).st_size > MAX_BYTES:
                return None
            raw = fh.read()
        loaded = json.loads(raw)
    except (OSError, ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None
    if (
        not isinstance(loaded, dict)
        or loaded.get("format") != fmt
        or loaded.get("version") != version
        or loaded.get("promobot") != __version__
    ):
        return None
    return loaded


def write_json(path: Path, body: dict[str, Any], *, fmt: str, version: int) -> bool:
    """Atomically replace ``path`` with ``body`` plus the format header; False when it could not."""
    document = {"format": fmt, "version": version, "promobot": __version__, **body}
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        import tempfile  # on a write only: a warm read never pays for it

        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".cache-")
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))  # dump() is ~3× slower
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        Path(tmp).replace(path)
        return True
    except (OSError, TypeError, ValueError) as exc:  # a read-only .git must not break a read command
        logger.warning("could not write the cache %s: %s", path, exc)
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        return False


class _Store:
    """Key → JSON value in one file of format ``fmt``, read on first use, written when changed."""

    __slots__ = ("_data", "_dirty", "fmt", "path", "version")

    def __init__(self, path: Path, fmt: str, version: int) -> None:
        self.path, self.fmt, self.version = path, fmt, version
        self._data: dict[str, Any] | None = None
        self._dirty = False

    def load(self) -> dict[str, Any]:
        if self._data is None:
            loaded = read_json(self.path, fmt=self.fmt, version=self.version)
            entries = loaded.get("entries") if loaded is not None else None
            self._data = entries if isinstance(entries, dict) else {}
            logger.debug("read %s: %d entries", self.path.name, len(self._data))
        return self._data

    def put(self, key: str, plain: Any) -> None:
        data = self.load()
        if data.get(key) != plain:
            data[key] = plain
            self._dirty = True

    def flush(self) -> bool:
        """Write the file when something changed; True when it was written."""
        if not self._dirty or self._data is None:
            return False
        data = self._data
        if len(data) > MAX_ENTRIES:  # keep it bounded: drop the oldest half
            for key in list(data)[: len(data) // 2]:
                del data[key]
        if write_json(self.path, {"entries": data}, fmt=self.fmt, version=self.version):
            self._dirty = False
            return True
        return False


class FileCache:
    """Key → JSON value, in ``path`` and (``OVERVIEW_KEYS``) in ``overview.json`` beside it, each
    file loaded only when one of its keys is asked for; see the module docstring for what is trusted."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._main = _Store(path, FORMAT, VERSION)
        self._overview = _Store(path.parent / OVERVIEW_FILE_NAME, OVERVIEW_FORMAT, OVERVIEW_VERSION)
        self._status = _Store(path.parent / STATUS_FILE_NAME, STATUS_FORMAT, STATUS_VERSION)

    def _store(self, key: str) -> _Store:
        if key in OVERVIEW_KEYS:
            return self._overview
        return self._status if key in STATUS_KEYS else self._main

    def get(self, key: str) -> Any | None:
        return self._store(key).load().get(key)

    def put(self, key: str, value: Any) -> None:
        self._store(key).put(key, _plain(value))

    def flush(self) -> None:
        self._overview.flush()
        self._status.flush()
        if self._main.flush():
            with contextlib.suppress(OSError):  # the pickle of earlier versions: never read, not kept
                (self.path.parent / "cache.pickle").unlink(missing_ok=True)

    @classmethod
    def for_repo(cls, git_common_dir: Path) -> FileCache:
        """The manifest cache of the repository whose common git directory is ``git_common_dir``."""
        return cls(git_common_dir / "promobot" / FILE_NAME)
