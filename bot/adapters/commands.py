"""Command gates: run a policy command (argv, no shell) with a timeout and a token-free environment.

reference §3: the command runs from the base branch's checkout (the caller passes it as ``cwd``),
gets the candidate manifest as a JSON file named by ``PROMOBOT_MANIFEST`` plus
``PROMOBOT_MODEL``, ``PROMOBOT_FROM`` and ``PROMOBOT_TO``, and never sees a token: every variable
whose name looks like a credential is dropped. The process runs in its own session; when it
ends (or times out) the whole process group is killed, so nothing it started outlives the gate
or holds its output open. stdout and stderr are merged and only the tail is kept (the last
``TAIL_BYTES``, at most ``TAIL_LINES`` lines; memory stays bounded whatever the command prints).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from bot.core.gate_inputs import CommandOutcome
from bot.core.policy_model import CommandGate

logger = logging.getLogger(__name__)

TAIL_BYTES = 4096
TAIL_LINES = 40
_READ_CHUNK = 8192
_DRAIN_SECONDS = 5.0
"""How long to wait for the output pipe to close once the process group is gone."""

_SECRET_NAME_RE = re.compile(r"TOKEN|SECRET|PASSWORD|PRIVATE_KEY|CREDENTIAL|AUTH", re.IGNORECASE)
_DROPPED_NAMES = frozenset({"GITHUB_TOKEN", "GH_TOKEN", "ACTIONS_RUNTIME_TOKEN"})
_DROPPED_PREFIXES = ("ACTIONS_ID_TOKEN_REQUEST_", "PROMOBOT_APP_")


def scrub_env(base_env: Mapping[str, str]) -> dict[str, str]:
    """``base_env`` without any variable that may carry a token, key or password."""
    return {
        name: value
        for name, value in base_env.items()
        if not _SECRET_NAME_RE.search(name)
        and name.upper() not in _DROPPED_NAMES
        and not name.upper().startswith(_DROPPED_PREFIXES)
    }


def run_command_gate(
    gate: CommandGate,
    *,
    cwd: Path,
    manifest: Mapping[str, Any],
    model: str,
    from_env: str,
    to_env: str,
    base_env: Mapping[str, str],
    extra_env: Mapping[str, str] | None = None,
) -> CommandOutcome:
    """Run ``gate.run`` in ``cwd`` and report how it ended (never raises for a failing command).

    ``extra_env`` (a verification check's ``PROMOBOT_*``) is added after the scrub."""
    argv = list(gate.run)
    if not argv:
        return CommandOutcome(None, False, "", 0.0, error=f"command gate {gate.name} has an empty run list")
    with tempfile.TemporaryDirectory(prefix="promobot-gate-") as tmp:
        manifest_path = Path(tmp) / "manifest.json"
        manifest_path.write_text(json.dumps(manifest, indent=2, default=str, sort_keys=False) + "\n")
        env = scrub_env(base_env)
        env.update(
            {
                "PROMOBOT_MANIFEST": str(manifest_path),
                "PROMOBOT_MODEL": model,
                "PROMOBOT_FROM": from_env,
                "PROMOBOT_TO": to_env,
            }
        )
        env.update(extra_env or {})
        return _run(argv, cwd=cwd, env=env, timeout=gate.timeout)


def _run(argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float) -> CommandOutcome:
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except FileNotFoundError:
        return CommandOutcome(
            None, False, "", time.monotonic() - started, error=f"{argv[0]}: not found (in PATH or {cwd})"
        )
    except PermissionError:
        return CommandOutcome(None, False, "", time.monotonic() - started, error=f"{argv[0]}: not executable")
    except OSError as exc:
        return CommandOutcome(None, False, "", time.monotonic() - started, error=f"{argv[0]}: {exc.strerror}")

    assert proc.stdout is not None
    tail = _TailReader(proc.stdout)
    tail.start()
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        logger.info("command %s timed out after %ss", argv[0], timeout)
    finally:
        # Kill the whole group: on timeout, and any background children left behind after an exit.
        _kill_group(proc.pid)
        proc.wait()
        tail.join(_DRAIN_SECONDS)
        proc.stdout.close()
    duration = time.monotonic() - started
    return CommandOutcome(
        exit_code=None if timed_out else proc.returncode,
        timed_out=timed_out,
        output_tail=tail.text(),
        duration_s=duration,
    )


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


class _TailReader(threading.Thread):
    """Reads a pipe to its end, keeping only the last ``TAIL_BYTES`` (bounded memory)."""

    def __init__(self, stream: IO[bytes]) -> None:
        super().__init__(daemon=True)
        self._stream = stream
        self._chunks: deque[bytes] = deque()
        self._kept = 0
        self._dropped = False
        self._lock = threading.Lock()

    def run(self) -> None:
        # read1 returns what has arrived instead of waiting for a full chunk.
        read: Callable[[int], bytes] = getattr(self._stream, "read1", self._stream.read)
        with contextlib.suppress(OSError, ValueError):
            while chunk := read(_READ_CHUNK):
                with self._lock:
                    self._chunks.append(chunk)
                    self._kept += len(chunk)
                    while self._kept - len(self._chunks[0]) >= TAIL_BYTES:
                        self._kept -= len(self._chunks.popleft())
                        self._dropped = True

    def text(self) -> str:
        with self._lock:
            data = b"".join(self._chunks)
            dropped = self._dropped
        if len(data) > TAIL_BYTES:
            data, dropped = data[-TAIL_BYTES:], True
        lines = data.decode("utf-8", errors="replace").splitlines()
        if len(lines) > TAIL_LINES:
            lines, dropped = lines[-TAIL_LINES:], True
        elif dropped and len(lines) > 1:
            lines = lines[1:]  # the first line was cut in the middle
        body = "\n".join(lines)
        if body:
            body += "\n"
        return f"… (earlier output cut; last {len(lines)} lines)\n{body}" if dropped else body
