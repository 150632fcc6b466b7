"""The one GitHub rig: the emulator's ``acme/models``, its people, and workflow runs against it.

``Hub`` is the emulated repository as a test sees it: a ``context`` per workflow run (a fresh
checkout each run, as ``actions/checkout`` gives, or one shared ``clone``), ``deliver`` for
webhook events, ``push_change`` / ``push_file`` for what people push with plain git,
``forge`` for ``GitHubForge`` itself, ``repo`` for the repository through PyGithub, and
``measure`` for request budgets. ``seed_emulator`` fills it with the example collaborators
and the example ``environments/``; ``seed_files`` with any files instead. Registered as a
pytest plugin (``tests/conftest.py``): the ``hub`` fixture is the seeded repository.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from github import Auth

from bot.adapters.actions import load_event
from bot.adapters.github import ACTIONS_LOGIN, GitHubForge
from bot.app.batch import Outcome
from bot.app.context import Context
from bot.app.events import dispatch
from bot.cli import github_context
from tests.emulator import Emulator, RequestRecord
from tests.helpers.git import DATE, EMAIL, NAME, git, has_ref

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "bot" / "templates" / "init" / "example" / "environments"  # as tests/conftest.py
TOKEN = "ghs_workflowTOKEN"
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # a Friday morning in Berlin: no freeze
BOT_EMAIL = "41898282+github-actions[bot]@users.noreply.github.com"
BUDGETS_SEEN: dict[str, int] = {}
"""Requests per measured flow (``Hub.measure``), printed with ``pytest -s``."""

_SEED: dict[str, Path] = {}


def seed_repo() -> Path:
    """A repository holding the example ``environments/`` in one commit: built once per process."""
    if "seed" not in _SEED or not _SEED["seed"].is_dir():
        base = Path(tempfile.mkdtemp(prefix="promobot-seed-"))
        seed = base / "seed"
        seed.mkdir()
        git(seed, "init", "-q", "-b", "main")
        shutil.copytree(EXAMPLE, seed / "environments")
        git(seed, "add", "-A")
        git(seed, "commit", "-q", "-m", "Example GitOps repository")
        _SEED["seed"] = seed
    return _SEED["seed"]


def seed_emulator(emu: Emulator) -> None:
    """The example collaborators and teams, and the example repository pushed as ``main``."""
    for login in ("alice", "bob", "carol", "dave", "erin"):
        emu.add_user(login, "write")
    emu.add_user("mallory", "read")
    emu.add_team("@acme/ml-leads", ["dave"])
    emu.add_team("@acme/sre", ["erin"])
    git(seed_repo(), "push", "-q", str(emu.git_dir), "main")


def seed_files(
    emu: Emulator, root: Path, files: Mapping[str, str], *, name: str = NAME, email: str = EMAIL
) -> Path:
    """``main`` holding ``files`` in one commit ("initial") by ``name <email>``; returns the
    repository it was committed in (its ``main`` is the emulator's)."""
    seed = root / "seed"
    seed.mkdir(parents=True)
    git(seed, "init", "-q", "-b", "main")
    for path, text in files.items():
        (seed / path).parent.mkdir(parents=True, exist_ok=True)
        (seed / path).write_text(text)
    git(seed, "add", ".")
    git(seed, "commit", "-q", "--allow-empty", "-m", "initial", name=name, email=email)
    git(seed, "push", "-q", str(emu.git_dir), "main")
    return seed


@dataclass
class Hub:
    """The emulated repository, its users, and a checkout per workflow run."""

    emu: Emulator
    work: Path
    sleeps: list[float] = field(default_factory=list)
    now: datetime = NOW
    """The clock of the next workflow run (promobot's ``now``)."""
    environ: dict[str, str] = field(default_factory=dict)
    """More variables for every workflow run (live-data providers' URL and headers, an App's key)."""
    token: str | None = TOKEN
    """The workflow's ``GITHUB_TOKEN`` (None: none, as when promobot runs as a GitHub App)."""
    clone: Path | None = None
    """One checkout every workflow run shares (None: a fresh checkout per run)."""
    _runs: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    # ---------------------------------------------------------------- workflow runs

    def checkout(self) -> Path:
        """A fresh clone of the repository, as a workflow run's checkout step makes."""
        clone = self.work / f"run-{next(self._runs)}"
        git(
            self.work,
            "clone",
            "-q",
            "-c",
            f"user.name={ACTIONS_LOGIN}",
            "-c",
            f"user.email={BOT_EMAIL}",
            str(self.emu.git_dir),
            str(clone),
        )
        return clone

    def context(
        self,
        actor: str = "alice",
        *,
        clone: Path | None = None,
        env: Mapping[str, str] | None = None,
        now: datetime | None = None,
    ) -> Context:
        """One workflow run's context at ``now`` (default: ``self.now``; sleeps recorded, not slept);
        ``env`` adds or replaces variables."""
        environ = {
            "GITHUB_REPOSITORY": "acme/models",
            "GITHUB_API_URL": self.emu.url,
            **({"GITHUB_TOKEN": self.token} if self.token is not None else {}),
            "GITHUB_ACTOR": actor,
            "PATH": "/usr/bin:/bin:/usr/local/bin",
            **self.environ,
            **(env or {}),
        }
        return github_context(
            repo=clone or self.clone or self.checkout(),
            actor=None,
            now=now or self.now,
            environ=environ,
            sleep=self.sleeps.append,
        )

    def deliver(self, name: str, payload: dict[str, Any], *, actor: str = "alice") -> Outcome:
        """Handle one event as ``promobot handle-event`` does, in a fresh workflow run."""
        loaded = load_event(name=name, payload=payload, environ={})
        return dispatch(loaded, self.context(actor) if loaded.needs_context else None)

    # ---------------------------------------------------------------- the repository

    def main(self) -> str:
        return self.rev("main")

    def rev(self, ref: str) -> str:
        return git(self.work, "--git-dir", str(self.emu.git_dir), "rev-parse", ref)

    def push_commit(
        self,
        path: str,
        edit: Callable[[str], str],
        message: str,
        *,
        branch: str = "main",
        date: str = "2026-11-02T09:00:00Z",
        name: str = NAME,
        email: str = EMAIL,
    ) -> tuple[str, str]:
        """``name <email>`` pushes a commit editing ``path`` to ``branch``; returns (before, after)."""

        def change(work: Path) -> None:
            file = work / path
            file.write_text(edit(file.read_text(encoding="utf-8")), encoding="utf-8")

        return self.push_change(change, message, branch=branch, date=date, name=name, email=email)

    def push_file(self, branch: str, path: str, text: str, *, name: str = NAME, email: str = EMAIL) -> str:
        """``name <email>`` writes ``path`` on ``branch`` (made from ``main`` when new) and pushes;
        returns the new head."""

        def change(work: Path) -> None:
            (work / path).parent.mkdir(parents=True, exist_ok=True)
            (work / path).write_text(text)

        return self.push_change(change, f"edit {path}", branch=branch, name=name, email=email)[1]

    def push_change(
        self,
        change: Callable[[Path], None],
        message: str,
        *,
        branch: str,
        date: str = DATE,
        name: str = NAME,
        email: str = EMAIL,
    ) -> tuple[str, str]:
        """Someone checks out ``branch`` (``main`` when it is new), runs ``change`` on the checkout,
        commits everything as ``name <email>`` and pushes; returns (before, after)."""
        work = self.work / "someone"
        if not work.exists():
            git(self.work, "clone", "-q", str(self.emu.git_dir), str(work))
        git(work, "fetch", "-q", "--prune", "origin")
        start = f"origin/{branch}" if has_ref(work, f"origin/{branch}") else "origin/main"
        git(work, "checkout", "-q", "-B", branch, start)
        before = git(work, "rev-parse", "HEAD")
        change(work)
        git(work, "add", "-A")
        git(work, "commit", "-q", "-m", message, date=date, name=name, email=email)
        git(work, "push", "-q", "origin", f"HEAD:refs/heads/{branch}")
        return before, git(work, "rev-parse", "HEAD")

    # ---------------------------------------------------------------- the API

    def make_forge(
        self, token: str | None = None, *, sleeps: list[float] | None = None, **kwargs: Any
    ) -> GitHubForge:
        """A new ``GitHubForge`` on the repository (a later workflow run: nothing cached); its
        waits go to ``sleeps`` (default: the hub's)."""
        return GitHubForge(
            repo="acme/models",
            auth=Auth.Token(token or self.token or TOKEN),
            base_url=self.emu.url,
            sleep=(self.sleeps if sleeps is None else sleeps).append,
            **kwargs,
        )

    @cached_property
    def forge(self) -> GitHubForge:
        """The ``GitHubForge`` of this test (closed by the fixture that made the hub)."""
        return self.make_forge()

    @cached_property
    def repo(self) -> Any:
        """``acme/models`` through PyGithub, with the hub's token."""
        return self.emu.github(self.token or TOKEN).get_repo("acme/models")

    def close(self) -> None:
        if "forge" in self.__dict__:
            self.forge.close_connection()

    def count(self, method: str, template: str) -> int:
        return self.emu.counts[(method, template)]

    def measure(self, flow: str, action: Callable[[], object]) -> tuple[object, list[RequestRecord]]:
        """Run ``action`` and return what it returned with the requests it made (recorded and printed)."""
        self.emu.reset_counts()
        result = action()
        requests = list(self.emu.requests)
        BUDGETS_SEEN[flow] = len(requests)
        shown = Counter(f"{r.method} {r.template}" for r in requests)
        print(f"\n{flow}: {len(requests)} requests")
        for op, n in shown.most_common():
            print(f"  {n} × {op}")
        return result, requests


def setup_hub(emu: Emulator, work: Path) -> Hub:
    """Users, teams and the seeded default branch on a fresh emulator."""
    emu.add_user(ACTIONS_LOGIN, "write", type="Bot", token=TOKEN)
    seed_emulator(emu)
    work.mkdir(parents=True, exist_ok=True)
    return Hub(emu, work)


@contextmanager
def fresh_hub(root: Path, *, validate: bool = False) -> Iterator[Hub]:
    """A started emulator + hub under ``root`` (for scripts and loops; tests use the fixture)."""
    with Emulator(root / "github", validate=validate) as emu:
        yield setup_hub(emu, root / "work")


@contextmanager
def forked_hub(hub: Hub, root: Path) -> Iterator[Hub]:
    """A copy of ``hub``'s repository and state on a new emulator (``Emulator.fork``)."""
    emu = hub.emu.fork(root / "github")
    try:
        (root / "work").mkdir(parents=True, exist_ok=True)
        yield Hub(emu, root / "work", now=hub.now, environ=dict(hub.environ))
    finally:
        emu.stop()


@pytest.fixture
def hub(github_emulator: Emulator, tmp_path: Path) -> Iterator[Hub]:
    """The example repository on the emulator, a fresh checkout per workflow run."""
    made = setup_hub(github_emulator, tmp_path / "work")
    yield made
    made.close()
