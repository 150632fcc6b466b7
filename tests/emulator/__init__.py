"""A stateful GitHub REST emulator for tests (docs/reference.md §13).

Serves the parts of GitHub's REST API promobot uses on loopback, over a real bare git
repository, with fault injection and OpenAPI conformance checks. Start it with
``Emulator(tmp_path)`` as a context manager, or use the ``github_emulator`` fixture
from ``tests.emulator.fixtures``.
"""

from __future__ import annotations

from tests.emulator.openapi import SHARED_DIR, spec_available
from tests.emulator.server import Emulator, RequestRecord
from tests.emulator.state import ApiError, RepoState

__all__ = ["SHARED_DIR", "ApiError", "Emulator", "RepoState", "RequestRecord", "spec_available"]
