"""Real servers the tests start on loopback (Prometheus, MLflow, a headless browser).

Each server module starts its program per test session and stops its whole process group
at the end. When a program is not installed the tests that need it skip with a reason; under
``PROMOBOT_REQUIRE_SERVERS=1`` (which ``.ci/run`` sets) they fail instead, so CI can never pass
by skipping what it was meant to run.
"""

from __future__ import annotations

import os
import socket

import pytest


def servers_required() -> bool:
    """True when a missing server must fail the test run (CI), not skip."""
    return os.environ.get("PROMOBOT_REQUIRE_SERVERS") == "1"


def unavailable(reason: str) -> None:
    """Skip the calling test with ``reason``, or fail it when servers are required."""
    if servers_required():
        pytest.fail(f"{reason} (PROMOBOT_REQUIRE_SERVERS=1: a missing server is a failure)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
