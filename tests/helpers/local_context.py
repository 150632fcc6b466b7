"""A use case's real Context on a local-forge repository, its clock fixed: what ``cli.py``
builds for one command, for tests that call ``bot/app/<x>.py`` functions directly."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.app.context import Context
from bot.cli import Options, build_context

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # tests/conftest.py's NOW: a Friday morning, no freeze


def local_context(repo: Path, *, actor: str = "alice", now: datetime = NOW) -> Context:
    """The Context ``promobot --repo REPO --forge local --as ACTOR`` builds, at ``now``."""
    return build_context(Options(repo, "local", "json", actor, None, clock=now))
