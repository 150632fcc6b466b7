"""The one way tests run git: hermetic, argv only, a fixed identity and a fixed date.

Every call gets a fresh environment (not the caller's): no user or system config is read
(``GIT_CONFIG_GLOBAL=/dev/null``, ``GIT_CONFIG_NOSYSTEM=1``), author and committer are
``name <email>`` (``alice`` with her GitHub noreply address unless told otherwise, which the
emulator maps to her login) and both dates are ``date``. A repository's own ``user.*``
config therefore never decides who a test commit is by; it still decides who promobot's
commits are by, since promobot runs git with its own environment.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

DATE = "2026-11-01T09:00:00Z"
NAME = "alice"
EMAIL = "alice@users.noreply.github.com"


def run_git(
    cwd: Path,
    *args: str,
    name: str = NAME,
    email: str = EMAIL,
    date: str = DATE,
    input: str | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``git *args`` in ``cwd`` as ``name <email>`` at ``date`` (``env`` adds variables)."""
    full_env = {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(cwd),
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        **(env or {}),
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=full_env, input=input, capture_output=True, text=True, check=check
    )


def git(
    cwd: Path,
    *args: str,
    name: str = NAME,
    email: str = EMAIL,
    date: str = DATE,
    input: str | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """``run_git`` that must succeed; returns its stripped stdout."""
    done = run_git(cwd, *args, name=name, email=email, date=date, input=input, env=env)
    return done.stdout.strip()


def has_ref(cwd: Path, ref: str) -> bool:
    """Whether ``ref`` names a commit in the repository at ``cwd``."""
    return run_git(cwd, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}", check=False).returncode == 0


def init_repo(path: Path) -> Path:
    """An empty repository on ``main`` whose own identity (promobot's commits there) is alice."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "alice")
    git(path, "config", "user.email", "alice@example.com")
    git(path, "config", "commit.gpgsign", "false")
    return path


def commit_all(repo: Path, message: str, *, author: str = "alice", date: str | None = None) -> str:
    """Commit everything in ``repo`` as ``author <author@example.com>``; returns the new HEAD."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message, name=author, email=f"{author}@example.com", date=date or DATE)
    return git(repo, "rev-parse", "HEAD")
