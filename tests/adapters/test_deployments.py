"""Deployments (reference §15.3) on both forges: the same contract, GitHub's rules as the reference.

The GitHub forge runs against the emulator (which validates every request and answer against
GitHub's OpenAPI description and applies GitHub's ``auto_inactive`` and ``required_contexts``
rules); the local forge keeps the same records in its state file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from github import Auth

from bot.adapters.git import GitWorkspace
from bot.adapters.github import ACTIONS_LOGIN, GitHubForge
from bot.adapters.localforge import LocalForge
from bot.ports import Forge
from tests.emulator import Emulator
from tests.helpers.git import git

TOKEN = "ghs_deployTOKEN"


def _commit(repo: Path, n: int) -> str:
    (repo / "environments" / "staging").mkdir(parents=True, exist_ok=True)
    (repo / "environments" / "staging" / "m.yaml").write_text(f"version: '{n}'\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", f"version {n}")
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture(params=["local", "github"])
def setup(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Forge, list[str], Emulator | None]]:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    shas = [_commit(repo, n) for n in (1, 2)]
    if request.param == "local":
        yield LocalForge(GitWorkspace(repo)), shas, None
        return
    emu: Emulator = request.getfixturevalue("github_emulator")
    emu.add_user(ACTIONS_LOGIN, "write", type="Bot", token=TOKEN)
    git(repo, "push", "-q", str(emu.git_dir), "main")
    forge = GitHubForge(repo="acme/models", auth=Auth.Token(TOKEN), base_url=emu.url, sleep=lambda s: None)
    yield forge, shas, emu
    forge.close_connection()


def test_a_deployment_is_listed_by_environment_and_task_newest_first_with_its_state(
    setup: tuple[Forge, list[str], Emulator | None],
) -> None:
    forge, (one, two), _ = setup
    first = forge.create_deployment(
        sha=one,
        environment="staging",
        task="deploy:m",
        description="m 1",
        payload={"model": "m", "version": "1"},
    )
    assert (first.sha, first.environment, first.task, first.description) == (
        one,
        "staging",
        "deploy:m",
        "m 1",
    )
    assert forge.deployment_state(first.id) is None
    forge.set_deployment_state(first.id, "in_progress", "m 1: verifying")
    forge.set_deployment_state(first.id, "success", "m 1: verified")
    assert forge.deployment_state(first.id) == "success"

    second = forge.create_deployment(
        sha=two,
        environment="staging",
        task="deploy:m",
        description="m 2",
        payload={"model": "m", "version": "2"},
    )
    forge.create_deployment(sha=two, environment="prod", task="deploy:m", description="m 2", payload={})
    forge.create_deployment(sha=two, environment="staging", task="deploy:other", description="o", payload={})
    listed = forge.list_deployments(environment="staging", task="deploy:m")
    assert [d.id for d in listed] == [second.id, first.id]


def test_a_success_never_inactivates_another_models_deployment(
    setup: tuple[Forge, list[str], Emulator | None],
) -> None:
    """Models share an environment: GitHub's default auto_inactive would hide the others'."""
    forge, (one, two), _ = setup
    a = forge.create_deployment(
        sha=one, environment="staging", task="deploy:a", description="a 1", payload={}
    )
    forge.set_deployment_state(a.id, "success", "a 1: verified")
    b = forge.create_deployment(
        sha=two, environment="staging", task="deploy:b", description="b 1", payload={}
    )
    forge.set_deployment_state(b.id, "success", "b 1: verified")
    assert forge.deployment_state(a.id) == "success"


def test_a_long_description_is_cut_to_githubs_limit(setup: tuple[Forge, list[str], Emulator | None]) -> None:
    from bot.core import deployments

    forge, (one, _), _ = setup
    text = deployments.description("m", "1", "failure", "x" * 500)
    assert len(text) == 140
    d = forge.create_deployment(
        sha=one, environment="staging", task="deploy:m", description="m 1", payload={}
    )
    forge.set_deployment_state(d.id, "failure", text)
    assert forge.deployment_state(d.id) == "failure"


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
