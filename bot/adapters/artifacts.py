"""Artifact verification: stream a model artifact through sha256 and compare with its manifest digest.

Supported URIs (reference §2–3):

- ``file:relative/path`` (no ``//``): a file of the repository. The gates read it from the
  commit they evaluate (``committed``), never from the working tree, so an uncommitted edit
  cannot make a gate pass; it must stay inside the repository and be a regular file (a
  symbolic link is refused). Without ``committed`` it is read from the checkout, resolved
  (``..`` and symlinks included) inside it;
- ``file:///abs/path`` (or ``file:/abs/path``, ``file://localhost/abs/path``): an absolute path;
- ``http://`` and ``https://``: fetched with the standard library, proxies from the environment.

Reading stops after ``max_bytes`` + 1 bytes (``too-large``) or when ``timeout`` seconds have
passed in all (``timeout``; each socket operation also times out). Only regular files are read,
so a FIFO or a device cannot hang the bot. Anything else is ``unsupported``: the user is told to
verify it with a command gate.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import posixpath
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import BinaryIO, Protocol

from bot.core.gate_inputs import ArtifactCheck
from bot.core.model import DIGEST_RE

logger = logging.getLogger(__name__)

CHUNK = 64 * 1024


class _Readable(Protocol):
    def read(self, n: int = ..., /) -> bytes: ...


class _Deadline(Exception):
    pass


class _TooLarge(Exception):
    pass


class CommittedFiles(Protocol):
    """The files of one commit (``file:`` artifacts are read there, never from the working tree)."""

    @property
    def where(self) -> str:
        """How a message names the commit, e.g. ``commit 1a2b3c4d5e6f``."""
        ...

    def stat(self, path: str) -> tuple[str, int] | None:
        """``(git mode, size)`` of ``path`` in the commit, or None when it is not there."""
        ...

    def open(self, path: str) -> contextlib.AbstractContextManager[BinaryIO]:
        """A stream of the file's bytes."""
        ...


def verify_artifact(
    uri: str,
    expected_digest: str,
    *,
    repo_root: Path,
    max_bytes: int,
    timeout: float,
    committed: CommittedFiles | None = None,
) -> ArtifactCheck:
    """Hash the artifact at ``uri`` and compare it with ``expected_digest`` (``sha256:<hex>``).

    With ``committed``, a relative ``file:`` artifact is read from that commit (the one the
    gates evaluate), so an uncommitted or untracked file in the working tree changes nothing.
    """
    if DIGEST_RE.fullmatch(expected_digest) is None:
        return ArtifactCheck(
            "unsupported",
            f"the manifest digest {expected_digest!r} is not sha256:<64 hex>; fix artifact.digest",
        )
    parts = urllib.parse.urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme == "file":
        return _verify_file(
            uri,
            parts,
            expected_digest,
            repo_root=repo_root,
            max_bytes=max_bytes,
            timeout=timeout,
            committed=committed,
        )
    if scheme in ("http", "https"):
        return _verify_http(uri, expected_digest, max_bytes=max_bytes, timeout=timeout)
    shown = scheme or "(none)"
    return ArtifactCheck("unsupported", f"cannot verify scheme {shown}; use a command gate")


def _verify_file(
    uri: str,
    parts: urllib.parse.SplitResult,
    expected: str,
    *,
    repo_root: Path,
    max_bytes: int,
    timeout: float,
    committed: CommittedFiles | None = None,
) -> ArtifactCheck:
    if parts.netloc not in ("", "localhost"):
        return ArtifactCheck(
            "unsupported", f"cannot verify file://{parts.netloc}/… (a remote host); use a command gate"
        )
    raw = urllib.parse.unquote(parts.path)
    if not raw:
        return ArtifactCheck("missing", f"{uri} names no file; fix artifact.uri")
    relative = not uri[len("file:") :].startswith("/")
    if relative and committed is not None:
        return _verify_committed(uri, raw, expected, committed, max_bytes=max_bytes, timeout=timeout)
    if relative:
        root = repo_root.resolve()
        path = (root / raw).resolve()
        if not path.is_relative_to(root):
            return ArtifactCheck(
                "escapes-repo",
                f"{uri} resolves outside the repository ({path}); keep file: artifacts inside it",
            )
    else:
        path = Path(raw).resolve()
    if not path.exists():
        return ArtifactCheck("missing", f"{uri}: no such file ({path})")
    if not path.is_file():
        return ArtifactCheck("missing", f"{uri} is not a regular file ({path})")
    deadline = time.monotonic() + timeout
    try:
        with path.open("rb") as fh:
            return _hash_stream(uri, fh, expected, max_bytes=max_bytes, deadline=deadline, timeout=timeout)
    except OSError as exc:
        return ArtifactCheck("missing", f"{uri}: cannot read {path}: {exc.strerror or exc}")


def _verify_committed(
    uri: str, raw: str, expected: str, committed: CommittedFiles, *, max_bytes: int, timeout: float
) -> ArtifactCheck:
    path = posixpath.normpath(raw)
    if path.startswith("/") or path == ".." or path.startswith("../") or path in ("", "."):
        return ArtifactCheck(
            "escapes-repo", f"{uri} resolves outside the repository ({path}); keep file: artifacts inside it"
        )
    found = committed.stat(path)
    if found is None:
        return ArtifactCheck("missing", f"{uri}: no such file in {committed.where} (commit the artifact)")
    mode, size = found
    if mode == "120000":
        return ArtifactCheck(
            "missing", f"{uri} is a symbolic link in {committed.where}; commit the file itself"
        )
    if mode not in ("100644", "100755"):
        return ArtifactCheck("missing", f"{uri} is not a regular file in {committed.where}")
    if size > max_bytes:
        return ArtifactCheck(
            "too-large",
            f"{uri} is {size} bytes, over the {max_bytes}-byte limit; raise artifact max_bytes or verify it"
            " with a command gate",
        )
    deadline = time.monotonic() + timeout
    try:
        with committed.open(path) as fh:
            return _hash_stream(uri, fh, expected, max_bytes=max_bytes, deadline=deadline, timeout=timeout)
    except OSError as exc:
        return ArtifactCheck("missing", f"{uri}: cannot read it from {committed.where}: {exc}")


def _verify_http(uri: str, expected: str, *, max_bytes: int, timeout: float) -> ArtifactCheck:
    deadline = time.monotonic() + timeout
    headers = {"User-Agent": "promobot", "Accept-Encoding": "identity"}
    request = urllib.request.Request(uri, headers=headers)  # noqa: S310 - http(s) only, checked above
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) > max_bytes:
                return ArtifactCheck(
                    "too-large",
                    f"{uri} is {length} bytes, over the {max_bytes}-byte limit; raise artifact max_bytes"
                    " or verify it with a command gate",
                )
            return _hash_stream(
                uri, response, expected, max_bytes=max_bytes, deadline=deadline, timeout=timeout
            )
    except urllib.error.HTTPError as exc:
        return ArtifactCheck("unreachable", f"{uri} answered HTTP {exc.code} {exc.reason}")
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            return _timed_out(uri, timeout, 0)
        return ArtifactCheck("unreachable", f"cannot reach {uri}: {exc.reason}")
    except TimeoutError:
        return _timed_out(uri, timeout, 0)
    except OSError as exc:
        return ArtifactCheck("unreachable", f"cannot reach {uri}: {exc}")


def _timed_out(uri: str, timeout: float, read: int) -> ArtifactCheck:
    return ArtifactCheck(
        "timeout",
        f"{uri} did not finish within {timeout:g}s ({read} bytes read); retry with /retest or raise the"
        " artifact gate's timeout",
        bytes_read=read,
    )


def _hash_stream(
    uri: str,
    stream: BinaryIO | _Readable,
    expected: str,
    *,
    max_bytes: int,
    deadline: float,
    timeout: float,
) -> ArtifactCheck:
    digest = hashlib.sha256()
    read = 0
    # read1 returns whatever has arrived, so a trickling server cannot stretch one read past the deadline.
    reader = getattr(stream, "read1", None) or stream.read
    try:
        while True:
            if time.monotonic() > deadline:
                raise _Deadline
            chunk: bytes = reader(CHUNK)
            if not chunk:
                break
            read += len(chunk)
            if read > max_bytes:
                raise _TooLarge
            digest.update(chunk)
    except _Deadline:
        return _timed_out(uri, timeout, read)
    except TimeoutError:
        return _timed_out(uri, timeout, read)
    except _TooLarge:
        return ArtifactCheck(
            "too-large",
            f"{uri} is over the {max_bytes}-byte limit; raise artifact max_bytes or verify it with a"
            " command gate",
            bytes_read=read,
        )
    except OSError as exc:
        return ArtifactCheck(
            "unreachable", f"reading {uri} failed after {read} bytes: {exc}", bytes_read=read
        )
    actual = f"sha256:{digest.hexdigest()}"
    if actual != expected:
        logger.info("artifact digest mismatch for %s", uri)
        return ArtifactCheck(
            "mismatch", f"{uri} hashes to {actual}, the manifest says {expected}", actual, read
        )
    return ArtifactCheck("ok", f"{uri} hashes to {actual}", actual, read)
