"""The README's first command, as a user pastes it, in a fresh clone: it works, and the clone is untouched."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.helpers.git import git

SETUP = ("python3 -m venv .venv", ". .venv/bin/activate", "pip install -e .")


def first_command(readme: str) -> str:
    """The line after ``# 1.`` in the README's first bash block."""
    block = re.search(r"```bash\n(.*?)```", readme, flags=re.S)
    assert block, "README.md has no bash block"
    lines = block[1].splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("# 1."))
    return lines[at + 1].strip()


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): (b"<dir>" if p.is_dir() else p.read_bytes())
        for p in sorted(folder.rglob("*"))
    }


def test_readme_command_1_runs_on_a_new_demo_repository_and_leaves_the_clone_untouched(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"  # a fresh machine: no git identity, no user config
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    for key in [k for k in env if k.startswith(("GIT_AUTHOR", "GIT_COMMITTER", "GITHUB_", "PROMOBOT_"))]:
        del env[key]
    clone = tmp_path / "src" / "promobot"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, env=env, capture_output=True)

    command = first_command((clone / "README.md").read_text(encoding="utf-8"))
    steps = [part.strip() for part in command.split("&&")]
    # The environment setup runs once for the whole test session (this venv); the rest runs as pasted.
    assert tuple(steps[: len(SETUP)]) == SETUP, steps
    promobot_steps = [shlex.split(step) for step in steps[len(SETUP) :]]
    assert promobot_steps and all(argv[0] == "promobot" for argv in promobot_steps), steps

    refs = git(clone, "for-each-ref")
    before = snapshot(clone)
    outputs = []
    for argv in promobot_steps:
        run = subprocess.run(argv, cwd=clone, env=env, capture_output=True, text=True, check=False)
        assert run.returncode == 0, f"{shlex.join(argv)} → exit {run.returncode}\n{run.stdout}\n{run.stderr}"
        outputs.append(run.stdout)

    # The demo: a new repository next to the clone, with PR #1 open on its local forge.
    demo = clone.parent / "promobot-demo"
    assert (demo / ".git" / "promobot" / "forge.json").is_file()
    assert "Pull request #1 opened." in outputs[-1] and "artifact" in outputs[-1]  # the gate table
    shown = subprocess.run(
        ["promobot", "--repo", str(demo), "pr", "list", "-o", "json"],
        env=env,
        capture_output=True,
        check=True,
    )
    assert [(p["number"], p["model"], p["to"]) for p in json.loads(shown.stdout)] == [
        (1, "fraud-detector", "staging")
    ]

    # The clone, byte for byte: its files, .git included; no ref; nothing under .git/promobot.
    assert snapshot(clone) == before
    assert not (clone / ".git" / "promobot").exists()
    assert git(clone, "status", "--porcelain", "--ignored") == ""
    assert git(clone, "for-each-ref") == refs


def test_readme_command_2_is_the_test_command_with_the_test_extra() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", readme, flags=re.S)
    assert block
    lines = block[1].splitlines()
    second = lines[next(i for i, line in enumerate(lines) if line.startswith("# 2.")) + 1]
    assert "pip install -e '.[test]'" in second and "pytest" in second


def test_no_test_reads_the_checkouts_environments() -> None:
    """Tests copy the packaged example (tests/conftest.py EXAMPLE): whatever a user did in the checkout
    (an old README tour moved its environments/) never changes what the tests see."""
    pattern = re.compile(r"""(?:ROOT|parents\[\d+\]|parent\.parent)\s*/\s*(?:f?["'])environments\b""")
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for folder in (ROOT / "tests", ROOT / "benchmarks")
        for path in sorted(folder.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    ]
    assert offenders == []


def tour_commands(readme: str) -> list[list[str]]:
    """The promobot command lines of the README's "A tour on the local forge" blocks, as argv."""
    section = readme.split("## A tour on the local forge", 1)[1].split("\n## ", 1)[0]
    lines = [
        line.split("  #", 1)[0].strip()
        for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S)
        for line in block.splitlines()
    ]
    return [shlex.split(line)[1:] for line in lines if line.startswith("promobot ")]


def test_the_readme_tour_runs_line_by_line_on_a_demo_repository(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bot.cli import cli

    commands = tour_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(commands) >= 10 and ["status", "--output", "json"] in commands
    demo = tmp_path / "promobot-demo"
    runner = CliRunner()
    made = runner.invoke(cli, ["init", "--example", str(demo)], catch_exceptions=False)
    assert made.exit_code == 0, made.output
    git(demo, "config", "user.name", "dana")
    for argv in commands:
        result = runner.invoke(cli, ["--repo", str(demo), *argv], catch_exceptions=False)
        assert result.exit_code == 0, f"promobot {shlex.join(argv)}: exit {result.exit_code}\n{result.output}"
    status = json.loads(result.stdout)  # the tour's last line: status --output json
    assert status["models"]["fraud-detector"]["staging"] == "1.5.0"  # the rollback is a PR, not merged yet
