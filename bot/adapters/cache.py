"""A small persistent cache in ``.git/promobot/``: parsed manifest summaries by blob id.

Keys include the blob id, so an entry can never be stale: a changed file is a new blob.
The file is rewritten atomically and only when something new was added; a corrupt or
unreadable cache is ignored (and rebuilt), never an error.
"""

from __future__ import annotations

import logging
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

_FORMAT = 1
MAX_ENTRIES = 200_000


class FileCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: dict[str, Any] | None = None
        self._dirty = False

    def _load(self) -> dict[str, Any]:
        if self._data is None:
            try:
                with self.path.open("rb") as fh:
                    loaded = pickle.load(fh)  # noqa: S301 - our own file inside .git/
                ok = isinstance(loaded, dict) and loaded.get("format") == _FORMAT
                self._data = loaded["entries"] if ok else {}
            except (
                OSError,
                EOFError,
                pickle.UnpicklingError,
                KeyError,
                TypeError,
                AttributeError,
                ValueError,
            ):
                self._data = {}
        return self._data

    def get(self, key: str) -> Any | None:
        return self._load().get(key)

    def put(self, key: str, value: Any) -> None:
        data = self._load()
        if data.get(key) != value:
            data[key] = value
            self._dirty = True

    def flush(self) -> None:
        if not self._dirty or self._data is None:
            return
        data = self._data
        if len(data) > MAX_ENTRIES:  # keep it bounded: drop the oldest half
            for key in list(data)[: len(data) // 2]:
                del data[key]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".cache-")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump({"format": _FORMAT, "entries": data}, fh, protocol=pickle.HIGHEST_PROTOCOL)
            Path(tmp).replace(self.path)
            self._dirty = False
        except OSError as exc:  # a read-only .git must not break `status`
            logger.warning("could not write the cache %s: %s", self.path, exc)
