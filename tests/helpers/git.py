"""The one way tests run git: hermetic, argv only, a fixed identity and a fixed date.

Every call gets a fresh environment (not the caller's): no user or system config is read
(``GIT_CONFIG_GLOBAL=/dev/null``, ``GIT_CONFIG_NOSYSTEM=1``), author and committer are
``name <email>`` (``alice`` with her GitHub noreply address unless told otherwise, which the
emulator maps to her login) and both dates are ``date``. A repository's own ``user.*``
config therefore never decides who a test commit is by; it still decides who promobot's
commits are by, since promobot runs git with its own environment (the ``isolated_git_config``
fixture keeps that environment free of the user's config too).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypedDict, Unpack

import pytest

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


class Options(TypedDict, total=False):
    """``run_git``'s keywords, for ``git`` (same meanings, same defaults)."""

    name: str
    email: str
    date: str
    input: str | None
    env: dict[str, str] | None


def git(cwd: Path, *args: str, **options: Unpack[Options]) -> str:
    """``run_git`` that must succeed; returns its stripped stdout."""
    return run_git(cwd, *args, **options).stdout.strip()


def has_ref(cwd: Path, ref: str) -> bool:
    """Whether ``ref`` names a commit in the repository at ``cwd``."""
    return run_git(cwd, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}", check=False).returncode == 0


def commit_to(
    repo: Path,
    branch: str,
    files: Mapping[str, str],
    *,
    start: str = "main",
    message: str | None = None,
    name: str = NAME,
    email: str = EMAIL,
) -> str:
    """Commit ``files`` on ``branch`` (made from ``start`` when new) as ``name <email>`` without
    touching the working tree or the index, as a push to that branch would; returns the new head."""
    parent = git(repo, "rev-parse", f"refs/heads/{branch}") if has_ref(repo, f"refs/heads/{branch}") else None
    parent = parent or git(repo, "rev-parse", start)
    index = Path(git(repo, "rev-parse", "--absolute-git-dir")) / f"tmp-index-{os.getpid()}"
    env = {"GIT_INDEX_FILE": str(index)}
    git(repo, "read-tree", parent, env=env)
    for path, content in files.items():
        blob = git(repo, "hash-object", "-w", "--stdin", input=content)
        git(repo, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
    tree = git(repo, "write-tree", env=env)
    index.unlink()
    message = message or f"change {branch}"
    sha = git(repo, "commit-tree", tree, "-p", parent, "-m", message, env=env, name=name, email=email)
    git(repo, "update-ref", f"refs/heads/{branch}", sha)
    return sha


def init_repo(path: Path) -> Path:
    """An empty repository on ``main`` whose own identity (promobot's commits there) is alice."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "alice")
    git(path, "config", "user.email", "alice@example.com")
    git(path, "config", "commit.gpgsign", "false")
    return path


def edit(repo: Path, path: str, old: str, new: str) -> None:
    """Replace the first ``old`` in ``repo``'s file ``path`` with ``new`` (``old`` must be there)."""
    target = repo / path
    text = target.read_text()
    assert old in text, f"{old!r} not in {path}"
    target.write_text(text.replace(old, new, 1))


def commit_all(repo: Path, message: str, *, author: str = "alice", date: str | None = None) -> str:
    """Commit everything in ``repo`` as ``author <author@example.com>``; returns the new HEAD."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message, name=author, email=f"{author}@example.com", date=date or DATE)
    return git(repo, "rev-parse", "HEAD")


def push_to(repo: Path, branch: str, edit: Callable[[Path], None], *, author: str) -> str:
    """``author`` commits ``edit`` on ``branch`` of the local repository by hand, like a push to
    the PR branch (the checkout goes back to ``main``); returns the new head."""
    git(repo, "checkout", "-q", branch)
    try:
        edit(repo)
        return commit_all(repo, f"hand edit by {author}", author=author)
    finally:
        git(repo, "checkout", "-q", "main")


@pytest.fixture(autouse=True)
def isolated_git_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No global or system git config (and no identity) reaches the git promobot runs in this
    module (``from tests.helpers.git import isolated_git_config as isolated_git_config``)."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "global.gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("GIT_CONFIG_COUNT", raising=False)
