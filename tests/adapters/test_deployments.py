"""GitHub's deployment rules (reference §15.3) as the emulator applies them.

What both forges do with deployments is the forge contract's (``tests/contract/``); this is
what the GitHub adapter steers around: ``auto_inactive``'s default, required contexts and
over-long descriptions, checked against the emulator (which validates every request and answer
against GitHub's OpenAPI description).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.adapters.github import ACTIONS_LOGIN
from tests.emulator import Emulator
from tests.helpers.git import git

TOKEN = "ghs_deployTOKEN"


def _commit(repo: Path, n: int) -> str:
    (repo / "environments" / "staging").mkdir(parents=True, exist_ok=True)
    (repo / "environments" / "staging" / "m.yaml").write_text(f"version: '{n}'\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", f"version {n}")
    return git(repo, "rev-parse", "HEAD")


def test_the_emulator_applies_githubs_deployment_rules(github_emulator: Emulator, tmp_path: Path) -> None:
    """What the adapter avoids: auto_inactive's default, required contexts, over-long descriptions."""
    emu = github_emulator
    emu.add_user(ACTIONS_LOGIN, "write", type="Bot", token=TOKEN)
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    one, two = _commit(repo, 1), _commit(repo, 2)
    git(repo, "push", "-q", str(emu.git_dir), "main")
    gh = emu.github(TOKEN).get_repo("acme/models")
    a = gh.create_deployment(
        ref=one, environment="staging", task="deploy:a", required_contexts=[], auto_merge=False
    )
    a.create_status("success")
    b = gh.create_deployment(
        ref=two, environment="staging", task="deploy:b", required_contexts=[], auto_merge=False
    )
    b.create_status("success")  # auto_inactive defaults to true: a becomes inactive
    assert [s.state for s in a.get_statuses()] == ["inactive", "success"]
    gh.get_commit(two).create_status("failure", context="ci")
    with pytest.raises(Exception) as refused:  # required_contexts omitted: every status must pass
        gh.create_deployment(ref=two, environment="staging", task="deploy:c")
    assert getattr(refused.value, "status", None) == 409
    with pytest.raises(Exception) as too_long:
        b.create_status("failure", description="x" * 141)
    assert getattr(too_long.value, "status", None) == 422
    assert not emu.openapi_errors
