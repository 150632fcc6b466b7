"""Global options (--repo, --forge, --output, --as, hidden --now) work before or after the command name."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from bot.cli import GLOBAL_OPTIONS, cli
from tests.conftest import NOW, Cli, invoke


def run(*argv: str, expect: int = 0, clock: bool = False) -> str:
    """``promobot ARGV``; with ``clock``, in a process whose clock is fixed at NOW (writes)."""
    result = invoke(list(argv)) if clock else CliRunner().invoke(cli, list(argv), catch_exceptions=False)
    assert result.exit_code == expect, result.output
    return result.stdout


def test_status_prints_the_same_document_wherever_the_options_go(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cli("promote", "fraud-detector", "--to", "staging")
    repo = str(cli.repo)
    monkeypatch.chdir(cli.repo)
    after = run("status", "--output", "json", "--now", NOW)
    before = run("--output", "json", "--now", NOW, "status")
    monkeypatch.chdir(tmp_path)
    with_repo = run("status", "--repo", repo, "--output", "json", "--now", NOW)
    mixed = run("--forge", "local", "status", "--repo", repo, "-o", "json", "--now", NOW)
    assert json.loads(after)["pull_requests"], "the document under test has an open PR in it"
    assert after == before == with_repo == mixed


def test_as_after_the_command_acts_as_that_user_and_wins_over_the_one_before(cli: Cli) -> None:
    cli("promote", "fraud-detector", "--to", "staging")
    repo = str(cli.repo)
    out = run(
        "--as", "mallory", "pr", "review", "1", "--approve", "--repo", repo, "--as", "carol", clock=True
    )
    assert out.startswith("carol approved #1.")
    shown = json.loads(run("pr", "show", "1", "--repo", repo, "--output", "json", "--now", NOW))
    assert shown["state"] == "merged"  # carol's approval counted: staging auto-merges


def test_hidden_now_after_the_command_is_the_same_clock(cli: Cli) -> None:
    cli("promote", "fraud-detector", "--to", "staging")
    cli("pr", "review", "1", "--approve", actor="carol")
    sunday = "2026-11-29T12:00:00Z"  # inside the example's weekend freeze
    before = run(
        "--repo", str(cli.repo), "--now", sunday, "-o", "json", "diff", "fraud-detector", "--to", "prod"
    )
    after = run(
        "diff", "fraud-detector", "--to", "prod", "--repo", str(cli.repo), "--now", sunday, "-o", "json"
    )
    assert before == after
    assert any(g["kind"] == "freeze" and g["result"] == "pending" for g in json.loads(after)["gates"])


def all_commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in sorted(group.commands.items()):
        found.append((*path, name))
        if isinstance(command, click.Group):
            found += all_commands(command, (*path, name))
    return found


@pytest.mark.parametrize("command", all_commands(cli), ids=" ".join)
def test_every_commands_help_shows_the_global_options(command: tuple[str, ...]) -> None:
    out = run(*command, "--help")
    for option in ("--repo", "--forge", "--output", "--as"):
        assert option in out, f"`promobot {' '.join(command)} --help` does not show {option}"
    assert "--now" not in out  # hidden, as on the group


def test_top_level_help_shows_the_global_options_and_says_they_go_anywhere() -> None:
    out = run("--help")
    assert all(f"--{o}" in out for o in ("repo", "forge", "output", "as"))
    assert "before or after the command name" in out
    assert {g.field for g in GLOBAL_OPTIONS} == {"repo", "forge", "output", "actor", "now"}


def test_version_prints_json_with_output_json_before_or_after() -> None:
    text = run("--version")
    assert text.startswith("promobot, version ")
    for argv in (["--output", "json", "--version"], ["--version", "-o", "json"]):
        data = json.loads(run(*argv))
        assert data["version"] == text.split()[2]  # "promobot, version X" [+ " (commit SHA)"]
        assert data["commit"] is None or f"(commit {data['commit']})" in text


def console(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *argv], capture_output=True, text=True, check=False)


def test_usage_errors_are_json_with_output_json_after_the_command(example_repo: Path) -> None:
    run_ = console("promote", "fraud-detector", "--repo", str(example_repo), "--output", "json")
    assert run_.returncode == 2
    assert json.loads(run_.stdout) == {
        "error": "Missing option '--to' — see `promobot promote --help`",
        "exit_code": 2,
    }
    run_ = console("--output", "json")
    assert run_.returncode == 2 and json.loads(run_.stdout)["exit_code"] == 2


def test_bare_promobot_prints_its_help_once_and_exits_2() -> None:
    run_ = console()
    assert run_.returncode == 2
    assert run_.stderr.count("Usage: promobot") == 1 and "error:" not in run_.stderr
