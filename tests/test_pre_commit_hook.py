"""promobot's pre-commit hook (.pre-commit-hooks.yaml), used by a GitOps repository from a local clone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

HOOKS = ROOT / ".pre-commit-hooks.yaml"


def test_the_hook_runs_promobot_validate_on_environments_without_filenames() -> None:
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert [h["id"] for h in hooks] == ["promobot-validate"]
    hook = hooks[0]
    assert hook["entry"] == "promobot validate" and hook["language"] == "python"
    assert hook["pass_filenames"] is False and hook["files"] == "^environments/"


def test_the_readme_shows_the_three_line_repos_entry() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "  - repo: https://github.com/OWNER/promobot\n    rev: " in readme
    assert "    hooks: [{id: promobot-validate}]" in readme


def local_indexes() -> list[str]:
    """The file:// package indexes pip is configured with (pre-commit installs the hook with pip)."""
    out = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False
    ).stdout
    urls: list[str] = []
    for line in out.splitlines():
        key, _, value = line.partition("=")
        if key.endswith(("index-url", "extra-index-url")):
            urls += value.strip("'\"").split()
    return [u for u in urls if u.startswith("file://") and Path(u.removeprefix("file://")).is_dir()]


def pre_commit() -> str | None:
    return shutil.which(
        "pre-commit", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    )


@pytest.mark.slow
@pytest.mark.skipif(pre_commit() is None, reason="pre-commit is not installed (pip install -e '.[dev]')")
def test_an_example_repository_uses_the_hook_from_a_local_clone_offline(tmp_path: Path) -> None:
    indexes = local_indexes()
    if not indexes:
        pytest.skip(
            "pre-commit pip-installs the hook's promobot and its dependencies; no local (file://) "
            "package index is configured here, and tests never touch the network"
        )
    hermetic = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PIP_INDEX", "PIP_EXTRA"))}
    env = {
        **hermetic,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache"),
        "PIP_INDEX_URL": indexes[0],
        "PIP_EXTRA_INDEX_URL": " ".join(indexes[1:]),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
    }
    clone = tmp_path / "promobot"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, capture_output=True, env=env)
    demo = tmp_path / "demo"
    subprocess.run(["promobot", "init", "--example", "--no-workflow", str(demo)], check=True, env=env)

    def try_repo() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [pre_commit() or "pre-commit", "try-repo", str(clone), "promobot-validate", "--all-files"],
            cwd=demo,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    ok = try_repo()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "promobot validate" in ok.stdout and "Passed" in ok.stdout

    manifest = demo / "environments/dev/fraud-detector.yaml"
    manifest.write_text(manifest.read_text().replace("version: 1.5.0", "version: 1.10"))
    bad = try_repo()
    assert bad.returncode == 1 and "Failed" in bad.stdout
    assert "environments/dev/fraud-detector.yaml" in bad.stdout and "quote" in bad.stdout
