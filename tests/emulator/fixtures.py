"""pytest fixtures for the GitHub emulator (``pytest_plugins = ["tests.emulator.fixtures"]``).

Owns ``github_emulator``: a started ``Emulator`` over a bare repository in ``tmp_path``
that fails the test at teardown when any request or response strayed from GitHub's
OpenAPI description (checked only where ``../shared/github`` is present).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulator.server import Emulator


@pytest.fixture
def github_emulator(tmp_path: Path) -> Iterator[Emulator]:
    """A running emulator for ``acme/models`` (default branch ``main``, no users yet)."""
    with Emulator(tmp_path / "github") as emu:
        yield emu
    if emu.openapi_errors:
        listed = "\n  ".join(emu.openapi_errors)
        message = f"emulator traffic does not match GitHub's OpenAPI description:\n  {listed}"
        pytest.fail(message, pytrace=False)
