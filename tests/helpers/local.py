"""A use case's :class:`~bot.app.context.Context` on a local repository, built as ``cli.py``
builds it (``build_context``: the real git workspace, the local forge, the file cache), at a
fixed clock: for the tests of ``bot/app``'s shared machinery, which call it directly."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.adapters.localforge import LocalForge
from bot.app.context import Context
from bot.cli import Options, build_context

NOW = datetime(2026, 11, 27, 10, tzinfo=UTC)  # as tests/conftest.py NOW: a Friday morning, no freeze


def local_context(repo: Path, actor: str = "alice", *, now: datetime = NOW) -> Context:
    """A fresh context (nothing cached in memory) on ``repo`` as ``actor`` at ``now``."""
    return build_context(Options(repo=repo, forge="local", output="json", actor=actor, now=now))


def local_forge(ctx: Context) -> LocalForge:
    """``ctx``'s forge as the local forge it is (for its test controls: foreign checks, users)."""
    assert isinstance(ctx.forge, LocalForge)
    return ctx.forge
