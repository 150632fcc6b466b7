"""One hermetic way for tests to run git: a fixed identity, no user or system config, argv only."""

from __future__ import annotations

import subprocess
from pathlib import Path


def hermetic_git(
    cwd: Path,
    *args: str,
    name: str = "alice",
    email: str = "alice@users.noreply.github.com",
    date: str | None = None,
) -> str:
    """Run ``git *args`` in ``cwd`` as ``name <email>`` (and at ``date``), return its stripped stdout."""
    env = {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(cwd),
        "PATH": "/usr/bin:/bin:/usr/local/bin",
    }
    if date is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()
