"""Command checks in `verify:` (reference §15.3: "prometheus entries … or command"), end to end on
the local forge with real processes.

fraud-detector 1.4.0 is promoted dev → staging through a reviewed PR merged at 06:00; staging's
`verify:` (delay 10m, duration 2h → judged 06:10 → 08:10) runs `checks/verify.py`, committed on
the default branch, at each `promobot verify`. The script records what it saw (argv, cwd, its
environment) in a log outside the repository and exits with `$VERIFY_EXIT`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli
from tests.helpers.git import commit_all
from tests.verify_setup import add_verify, promote_locally, verify_check, verify_once

SCRIPT = """\
import json, os, pathlib, sys, time
seen = {k: v for k, v in os.environ.items() if k.startswith("PROMOBOT_")}
seen["argv"] = sys.argv[1:]
seen["cwd"] = os.getcwd()
seen["manifest_version"] = json.loads(pathlib.Path(os.environ["PROMOBOT_MANIFEST"]).read_text())["version"]
seen["tokens"] = sorted(k for k in os.environ if "TOKEN" in k or "AUTH" in k)
with open(os.environ["VERIFY_LOG"], "a") as log:
    log.write(json.dumps(seen) + "\\n")
print("p95 latency 180ms for", os.environ["PROMOBOT_VERSION"])
time.sleep(float(os.environ.get("VERIFY_SLEEP", "0")))
sys.exit(int(os.environ.get("VERIFY_EXIT", "0")))
"""


def _policy(timeout: float = 60, on_failure: str = "notify") -> str:
    return f"""\
    verify:
      delay: 10m
      duration: 2h
      max_errors: 2
      on_failure: {on_failure}
      checks:
        - command:
            name: smoke
            run: [{json.dumps(sys.executable)}, checks/verify.py, "; touch pwned", "$HOME"]
            timeout: {timeout}
"""


@pytest.fixture
def log(people: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "verify-log.jsonl"
    monkeypatch.setenv("VERIFY_LOG", str(path))
    monkeypatch.setenv("VERIFY_EXIT", "0")
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_never-shown-to-a-check")
    monkeypatch.setenv("PROMOBOT_PROM_AUTH", "Basic c2VjcmV0")
    return path


def _merge(cli: Cli, **policy: Any) -> str:
    """staging verifies with the command check; dev runs 1.4.0; promote and merge at 06:00."""
    add_verify(cli, _policy(**policy), providers="")
    (cli.repo / "checks").mkdir(exist_ok=True)
    (cli.repo / "checks" / "verify.py").write_text(SCRIPT)
    dev = cli.repo / "environments" / "dev" / "fraud-detector.yaml"
    dev.write_text(dev.read_text().replace("version: 1.5.0", "version: 1.4.0", 1))
    commit_all(cli.repo, "staging verifies with a command check")
    assert cli.json("validate")["ok"]
    return promote_locally(cli)


def _runs(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_a_command_check_that_exits_0_is_pending_in_the_window_then_verified(people: Cli, log: Path) -> None:
    sha = _merge(people)
    assert verify_once(people, "2026-11-27T06:05:00Z")["state"] == "pending"  # warming up: not run
    assert _runs(log) == []
    early = verify_once(people, "2026-11-27T07:00:00Z")
    assert early["state"] == "pending" and early["until"] == "2026-11-27T08:10:00Z"
    done = verify_once(people, "2026-11-27T09:00:00Z")
    assert done["state"] == "success", done
    assert verify_check(people, sha)["result"] == "success"
    prod = people.json("promote", "fraud-detector", "--to", "prod", now="2026-11-27T09:00:00Z")
    (gate,) = [g for g in prod["gates"] if g["kind"] == "verified"]
    assert gate["result"] == "success"

    first, last = _runs(log)
    assert first["PROMOBOT_ENV"] == "staging" and first["PROMOBOT_MODEL"] == "fraud-detector"
    assert first["PROMOBOT_VERSION"] == "1.4.0" and first["PROMOBOT_PREVIOUS_VERSION"] == "1.4.2"
    assert first["PROMOBOT_COMMIT"] == sha and first["manifest_version"] == "1.4.0"
    assert first["PROMOBOT_VERIFY_START"] == "2026-11-27T06:10:00Z"
    assert (first["PROMOBOT_VERIFY_END"], first["PROMOBOT_VERIFY_FINAL"]) == ("2026-11-27T07:00:00Z", "0")
    assert (last["PROMOBOT_VERIFY_END"], last["PROMOBOT_VERIFY_FINAL"]) == ("2026-11-27T08:10:00Z", "1")


def test_a_command_check_gets_its_argv_verbatim_from_a_checkout_never_a_token(people: Cli, log: Path) -> None:
    _merge(people)
    verify_once(people, "2026-11-27T07:00:00Z")
    (run,) = _runs(log)
    assert run["argv"] == ["; touch pwned", "$HOME"]  # no shell: nothing expanded or run
    assert not (people.repo / "pwned").exists()
    assert Path(run["cwd"]).resolve() != people.repo.resolve()  # an export of the default branch
    assert run["tokens"] == []  # GITHUB_TOKEN and PROMOBOT_PROM_AUTH are scrubbed


def test_a_command_check_that_exits_1_fails_with_its_output_and_the_prod_gate_fails(
    people: Cli, log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sha = _merge(people)
    monkeypatch.setenv("VERIFY_EXIT", "3")
    failed = verify_once(people, "2026-11-27T07:00:00Z")  # a breach fails at once, inside the window
    assert failed["state"] == "failure" and failed["reason"] == "smoke: exited 3"
    check = verify_check(people, sha)
    assert check["result"] == "failure" and "p95 latency 180ms for 1.4.0" in check["summary"]
    prod = people.json("promote", "fraud-detector", "--to", "prod", now="2026-11-27T07:00:00Z")
    (gate,) = [g for g in prod["gates"] if g["kind"] == "verified"]
    assert gate["result"] == "failure"
    comments = people.json("pr", "show", "1")["comments"]
    assert sum("Post-deploy verification of" in c["body"] for c in comments) == 1  # notify
    monkeypatch.setenv("VERIFY_EXIT", "0")
    assert verify_once(people, "2026-11-27T09:00:00Z")["state"] == "failure"  # final: never re-run
    assert len(_runs(log)) == 1


def test_a_command_check_exiting_75_stays_pending_then_fails_as_no_evidence(
    people: Cli, log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _merge(people)
    monkeypatch.setenv("VERIFY_EXIT", "75")
    pending = verify_once(people, "2026-11-27T07:00:00Z")
    assert pending["state"] == "pending"
    final = verify_once(people, "2026-11-27T09:00:00Z")
    assert final["state"] == "failure" and "no evidence" in final["reason"]


def test_a_command_check_that_times_out_is_an_outage_then_fails_after_max_errors(
    people: Cli, log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _merge(people, timeout=0.5)
    monkeypatch.setenv("VERIFY_SLEEP", "30")  # the process is killed at its 0.5 s timeout
    first = verify_once(people, "2026-11-27T07:00:00Z")
    assert first["state"] == "pending" and "outage 1 of 2" in first["reason"]
    assert "timed out after 0.5s" in first["reason"]
    # With no prometheus check an outage counts once per minute (reference §15): a repeat
    # within the same minute is still the first outage.
    repeat = verify_once(people, "2026-11-27T07:00:59Z")
    assert repeat["state"] == "pending" and "outage 1 of 2 (already counted" in repeat["reason"]
    second = verify_once(people, "2026-11-27T07:05:00Z")
    assert second["state"] == "failure" and "2 times in a row, once per 1m" in second["reason"]


def test_a_failing_command_check_rolls_back_once(
    people: Cli, log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _merge(people, on_failure="rollback")
    monkeypatch.setenv("VERIFY_EXIT", "1")
    failed = verify_once(people, "2026-11-27T07:00:00Z")
    assert failed["state"] == "failure" and failed["rollback"] is not None
    again = verify_once(people, "2026-11-27T07:30:00Z")
    assert again["state"] == "failure"
    rollbacks = [p["number"] for p in people.json("pr", "list") if p["action"] == "rollback"]
    assert rollbacks == [failed["rollback"]["pr"]]
    body = people.json("pr", "show", str(rollbacks[0]))["body"]
    assert "post-deploy verification failed: smoke" in body


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ("on_failure: notify", "on_failure: revert", "unknown on_failure 'revert'"),
        ("run: [", "run: 'python3 checks/verify.py' #[", "run is a string; it must be an argv list"),
        ("max_errors: 2", "max_errors: 0", "max_errors is 0, must be at least 1"),
    ],
)
def test_validate_reports_a_verify_mistake_with_file_and_line(
    people: Cli, old: str, new: str, needle: str
) -> None:
    policy = people.repo / "environments" / "promotion.yaml"
    anchor = "  - name: staging                 # from: dev (the previous environment)\n"
    text = policy.read_text().replace(anchor, anchor + _policy().replace(old, new, 1), 1)
    policy.write_text(text)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if new in row)
    result = people("validate", expect=1)
    assert f"environments/promotion.yaml:{line}:" in result.stdout and needle in result.stdout
    data = people.json("validate", expect=1)
    assert data["ok"] is False and data["errors"][0]["line"] == line


def test_a_command_check_that_cannot_start_is_broken_and_never_rolls_back(people: Cli, log: Path) -> None:
    """A missing executable is a problem with the check, not evidence about the model."""
    sha = _merge(people, on_failure="rollback")
    policy = people.repo / "environments" / "promotion.yaml"
    policy.write_text(policy.read_text().replace(json.dumps(sys.executable), '"/nonexistent/python3"', 1))
    commit_all(people.repo, "the check's interpreter moved", date="2026-11-27T06:05:00Z")
    failed = verify_once(people, "2026-11-27T07:00:00Z")
    assert (failed["commit"], failed["state"], failed["rollback"]) == (sha, "failure", None)
    assert failed["reason"].startswith("smoke: the check itself is broken (the command could not run")
    assert _runs(log) == []
    assert [p for p in people.json("pr", "list") if p["action"] == "rollback"] == []
    assert "1.4.0" not in (people.repo / "environments" / "rejected.yaml").read_text()
    (note,) = [c["body"] for c in people.json("pr", "show", "1")["comments"] if "Post-deploy" in c["body"]]
    assert "no automatic action: the check itself is broken" in note
