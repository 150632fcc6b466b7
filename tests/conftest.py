"""Shared fixtures: real git repositories in tmp_path, the CLI, no network, a fixed clock."""

from __future__ import annotations

import json
import shutil
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.helpers.git import commit_all, init_repo

pytest_plugins = [
    "tests.emulator.fixtures",
    "tests.helpers.rig",
    "tests.servers.chromium",
    "tests.servers.mlflow",
    "tests.servers.prometheus",
]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "bot" / "templates" / "init" / "example" / "environments"
"""The example exactly as `promobot init --example` ships it (byte for byte the committed
environments/, tests/app/test_init.py checks that). Never the checkout's environments/: the README's
tour runs elsewhere, but tests must not depend on what a user did in the checkout."""
NOW = "2026-11-27T10:00:00Z"  # a Friday morning in Berlin: outside every example freeze window


@pytest.fixture
def example_repo(tmp_path: Path) -> Path:
    """A git repository holding a copy of the project's example environments/ (one commit)."""
    repo = init_repo(tmp_path / "gitops")
    shutil.copytree(EXAMPLE, repo / "environments")
    commit_all(repo, "Example GitOps repository", date="2026-11-01T09:00:00Z")
    return repo


def console_argv(repo: Path, *args: str) -> list[str]:
    """``promobot --repo REPO --forge local ARGS`` as a separate process runs it (the console
    script's entry point, whatever is on PATH): no fixed clock can reach it."""
    return [sys.executable, "-m", "bot", "--repo", str(repo), "--forge", "local", *args]


def invoke(args: list[str], *, now: str = NOW) -> Result:
    """Run the CLI in this process with its clock fixed at ``now`` for every command, writes
    included (``FixedClock``: no command line reaches it; the hidden ``--now`` only previews)."""
    from datetime import datetime

    from bot.cli import FixedClock, cli

    clock = FixedClock(datetime.fromisoformat(now.replace("Z", "+00:00")))
    return CliRunner().invoke(cli, args, obj=clock, catch_exceptions=False)


@dataclass
class Cli:
    repo: Path
    now: str = NOW

    def __call__(
        self,
        *args: str,
        actor: str | None = None,
        output: str | None = None,
        expect: int | None = 0,
        now: str | None = None,
    ) -> Result:
        argv = ["--repo", str(self.repo), "--forge", "local"]
        if actor:
            argv += ["--as", actor]
        if output:
            argv += ["--output", output]
        result = invoke([*argv, *args], now=now or self.now)
        if expect is not None:
            assert result.exit_code == expect, (
                f"exit {result.exit_code}, expected {expect}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result

    def json(
        self, *args: str, actor: str | None = None, expect: int | None = 0, now: str | None = None
    ) -> Any:
        result = self(*args, actor=actor, output="json", expect=expect, now=now)
        return json.loads(result.stdout)


@pytest.fixture
def cli(example_repo: Path) -> Cli:
    return Cli(example_repo)


@pytest.fixture
def make_cli() -> Callable[[Path], Cli]:
    return Cli


USERS = {
    "alice": ("write", ()),
    "carol": ("write", ()),
    "dave": ("write", ("@acme/ml-leads",)),
    "erin": ("write", ()),
    "mallory": ("read", ()),
    "sam": ("maintain", ("@acme/sre",)),
}
"""Collaborators of the example repository: writers, a reader (mallory) and an SRE (sam)."""


@pytest.fixture
def people(cli: Cli) -> Cli:
    """The example repository on the local forge with USERS set as collaborators."""
    for login, (permission, teams) in USERS.items():
        args = ["pr", "users", "set", login, "--permission", permission]
        for team in teams:
            args += ["--team", team]
        cli(*args)
    return cli


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any connection to a non-loopback address fails the test."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if (
            isinstance(host, str)
            and host not in ("127.0.0.1", "localhost", "::1")
            and not host.startswith("/")
        ):
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield
