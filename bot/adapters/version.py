"""What promobot is: its version and, when it runs from a git checkout of its own source, the commit.

The one version source is ``[project].version`` in pyproject.toml. An installed wheel carries
it in its metadata; a source checkout (an editable install, or the action building from its
own checkout) reads pyproject.toml itself, so a bumped version shows without reinstalling.
The commit is that of *promobot's own* directory, never of the repository promobot is
pointed at: git runs in the package's parent folder with every ``GIT_*`` variable removed,
and only when that folder is the top level of a work tree (README "Install").
"""

from __future__ import annotations

import os
import subprocess
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "promobot"
SOURCE_ROOT = Path(__file__).resolve().parents[2]
"""The folder holding the ``bot`` package: a checkout's top level, or site-packages."""


@dataclass(frozen=True, slots=True)
class VersionInfo:
    version: str
    commit: str | None

    def text(self) -> str:
        line = f"promobot, version {self.version}"
        return f"{line} (commit {self.commit})" if self.commit else line

    def to_json(self) -> dict[str, str | None]:
        return {"version": self.version, "commit": self.commit}


def describe(source_root: Path = SOURCE_ROOT) -> VersionInfo:
    """The version of the running promobot, and its commit when ``source_root`` is its git checkout."""
    checkout_version = _pyproject_version(source_root)
    if checkout_version is None:
        return VersionInfo(version=_installed_version(), commit=None)
    return VersionInfo(version=checkout_version, commit=_checkout_commit(source_root))


def _installed_version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # imported from a folder that was never installed
        return "unknown"


def _pyproject_version(source_root: Path) -> str | None:
    """``[project].version`` when ``source_root`` is promobot's source tree, else None."""
    try:
        data = tomllib.loads((source_root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    project = data.get("project")
    if not isinstance(project, dict) or project.get("name") != DISTRIBUTION:
        return None
    version = project.get("version")
    return version if isinstance(version, str) else None


def _checkout_commit(source_root: Path) -> str | None:
    if not (source_root / ".git").exists():  # a directory, or a file in a linked worktree
        return None
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    try:
        done = subprocess.run(
            ["git", "-C", str(source_root), "rev-parse", "--show-toplevel", "HEAD"],
            capture_output=True,
            text=True,
            env=env,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = done.stdout.split()
    if done.returncode != 0 or len(lines) != 2:
        return None
    toplevel, commit = lines
    if Path(toplevel).resolve() != source_root.resolve():
        return None
    return commit
