"""Tests for bot.adapters.commands: real child processes (sys.executable), no shell."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

from bot.adapters.commands import TAIL_BYTES, TAIL_LINES, run_command_gate, scrub_env
from bot.core.gate_inputs import CommandOutcome
from bot.core.policy_model import CommandGate

MANIFEST = {"name": "fraud-detector", "version": "1.4.2", "metrics": {"auc": 0.931}}
PY = sys.executable


def run(
    code: str, tmp_path: Path, *, timeout: float = 30.0, env: dict[str, str] | None = None
) -> CommandOutcome:
    gate = CommandGate(name="smoke", run=(PY, "-c", textwrap.dedent(code)), timeout=timeout)
    return run_command_gate(
        gate,
        cwd=tmp_path,
        manifest=MANIFEST,
        model="fraud-detector",
        from_env="staging",
        to_env="prod",
        base_env=env if env is not None else {"PATH": os.environ.get("PATH", "")},
    )


def test_exit_zero_is_reported_with_its_output(tmp_path: Path) -> None:
    got = run("print('smoke ok')", tmp_path)
    assert got.exit_code == 0
    assert not got.timed_out
    assert got.error is None
    assert got.output_tail == "smoke ok\n"


def test_non_zero_exit_keeps_stdout_and_stderr_together(tmp_path: Path) -> None:
    got = run(
        """
        import sys
        print('checking', flush=True)
        print('auc too low', file=sys.stderr, flush=True)
        sys.exit(3)
        """,
        tmp_path,
    )
    assert got.exit_code == 3
    assert got.output_tail == "checking\nauc too low\n"


def test_runs_in_the_given_checkout(tmp_path: Path) -> None:
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "smoke.py").write_text("print('from the base checkout')\n")
    gate = CommandGate(name="smoke", run=(PY, "checks/smoke.py"))
    got = run_command_gate(
        gate, cwd=tmp_path, manifest=MANIFEST, model="m", from_env="a", to_env="b", base_env={}
    )
    assert got.exit_code == 0
    assert got.output_tail == "from the base checkout\n"


def test_timeout_kills_the_command_and_its_children(tmp_path: Path) -> None:
    # The child starts a grandchild that holds the output pipe open: the whole group must die,
    # or reading the output would wait for the grandchild.
    got = run(
        f"""
        import subprocess
        subprocess.Popen([{PY!r}, "-c", "import time; time.sleep(60)"])
        print("started", flush=True)
        while True:
            pass
        """,
        tmp_path,
        timeout=0.5,
    )
    assert got.timed_out
    assert got.exit_code is None
    assert got.output_tail == "started\n"
    assert got.duration_s < 4


def test_background_children_left_after_exit_do_not_hold_the_gate(tmp_path: Path) -> None:
    got = run(
        f"""
        import subprocess
        subprocess.Popen([{PY!r}, "-c", "import time; time.sleep(60)"])
        print("done", flush=True)
        """,
        tmp_path,
    )
    assert got.exit_code == 0
    assert got.duration_s < 4


def test_tokens_are_scrubbed_and_promobot_variables_are_set(tmp_path: Path) -> None:
    secrets = {
        "GITHUB_TOKEN": "ghs_x",
        "GH_TOKEN": "x",
        "ACTIONS_RUNTIME_TOKEN": "x",
        "ACTIONS_ID_TOKEN_REQUEST_URL": "https://x",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "x",
        "PROMOBOT_APP_ID": "123",
        "PROMOBOT_APP_PRIVATE_KEY": "-----BEGIN",
        "AWS_SECRET_ACCESS_KEY": "x",
        "aws_session_token": "x",
        "DB_PASSWORD": "x",
        "GOOGLE_APPLICATION_CREDENTIALS": "/x.json",
        "NPM_AUTH": "x",
        "DEPLOY_PRIVATE_KEY": "x",
    }
    kept = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "CI": "true"}
    got = run(
        """
        import json, os
        with open(os.environ["PROMOBOT_MANIFEST"]) as fh:
            manifest = json.load(fh)
        print(json.dumps({"env": dict(os.environ), "manifest": manifest}))
        """,
        tmp_path,
        env={**secrets, **kept},
    )
    assert got.exit_code == 0, got.output_tail
    seen = json.loads(got.output_tail)
    for name in secrets:
        assert name not in seen["env"]
    for name, value in kept.items():
        assert seen["env"][name] == value
    assert seen["env"]["PROMOBOT_MODEL"] == "fraud-detector"
    assert seen["env"]["PROMOBOT_FROM"] == "staging"
    assert seen["env"]["PROMOBOT_TO"] == "prod"
    assert seen["manifest"] == MANIFEST


def test_the_manifest_file_is_removed_afterwards(tmp_path: Path) -> None:
    got = run("import os; print(os.environ['PROMOBOT_MANIFEST'])", tmp_path)
    assert not Path(got.output_tail.strip()).exists()


@pytest.mark.parametrize(
    ("name", "dropped"),
    [
        ("GITHUB_TOKEN", True),
        ("my_api_token", True),
        ("SSH_AUTH_SOCK", True),
        ("PROMOBOT_APP_ID", True),
        ("ACTIONS_ID_TOKEN_REQUEST_URL", True),
        ("GITHUB_REPOSITORY", False),
        ("HOME", False),
        ("PROMOBOT_MODEL", False),
    ],
    ids=lambda v: str(v),
)
def test_scrub_env_drops_names_that_look_like_credentials(name: str, dropped: bool) -> None:
    assert (name not in scrub_env({name: "v"})) is dropped


def test_long_output_keeps_only_the_tail(tmp_path: Path) -> None:
    got = run("for i in range(5000): print(f'line {i}')", tmp_path)
    assert got.exit_code == 0
    lines = got.output_tail.splitlines()
    assert lines[0].startswith("… (earlier output cut")
    assert lines[-1] == "line 4999"
    assert len(lines) <= TAIL_LINES + 1
    assert len(got.output_tail.encode()) <= TAIL_BYTES + 100


def test_undecodable_output_is_replaced_not_fatal(tmp_path: Path) -> None:
    got = run("import sys; sys.stdout.buffer.write(b'bad \\xff byte\\n')", tmp_path)
    assert got.output_tail == "bad \ufffd byte\n"


def test_missing_executable_is_an_error_not_an_exception(tmp_path: Path) -> None:
    gate = CommandGate(name="smoke", run=("promobot-no-such-program", "--check"))
    got = run_command_gate(
        gate,
        cwd=tmp_path,
        manifest=MANIFEST,
        model="m",
        from_env="a",
        to_env="b",
        base_env={"PATH": str(tmp_path)},
    )
    assert got.exit_code is None
    assert not got.timed_out
    assert got.error is not None
    assert "promobot-no-such-program" in got.error
    assert "not found" in got.error
