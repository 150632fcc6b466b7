"""A use case's :class:`~bot.app.context.Context` on a local repository, built as ``cli.py``
builds it (``build_context``: the real git workspace, the local forge, the file cache), at a
fixed clock: for the tests of ``bot/app``'s shared machinery, which call it directly."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.adapters.localforge import LocalForge
from bot.app.context import Context
from bot.cli import Options, build_context
from tests.conftest import Cli
from tests.helpers.git import commit_all

NOW = datetime(2026, 11, 27, 10, tzinfo=UTC)  # as tests/conftest.py NOW: a Friday morning, no freeze


def local_context(repo: Path, actor: str = "alice", *, now: datetime = NOW) -> Context:
    """The Context ``promobot --repo REPO --forge local --as ACTOR`` builds (nothing cached in
    memory), its clock fixed at ``now`` in-process (``--now`` stays unset, as on every real run)."""
    return build_context(Options(repo, "local", "json", actor, None, clock=now))


def local_forge(ctx: Context) -> LocalForge:
    """``ctx``'s forge as the local forge it is (for its test controls: foreign checks, users)."""
    assert isinstance(ctx.forge, LocalForge)
    return ctx.forge


PROD = "environments/prod/fraud-detector.yaml"


def bad_prod_and_its_rollback(cli: Cli, *, reason: str = "AUC dropped in prod") -> tuple[int, str]:
    """Someone bumps prod's fraud-detector to 1.4.2 by hand; sam (maintain, ``people``) opens the
    rollback PR back to 1.4.1. Returns (the PR's number, the hand-made commit it reverts)."""
    path = cli.repo / PROD
    path.write_text(path.read_text().replace("version: 1.4.1", "version: 1.4.2", 1))
    bad = commit_all(cli.repo, "Hand-made bump of prod to 1.4.2", date="2026-11-02T09:00:00Z")
    opened = cli.json("rollback", "fraud-detector", "--env", "prod", "--reason", reason, actor="sam")
    assert opened["reverts"] == bad and opened["merged"] is None, opened
    return int(opened["pr"]), bad
