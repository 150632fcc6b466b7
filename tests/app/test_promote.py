"""Promotion end to end on real temporary git repositories and the local forge (issue 3)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from bot.core.trailers import parse_trailers
from tests.conftest import Cli, console_argv
from tests.helpers.git import commit_all, git
from tests.helpers.golden import assert_golden


def outside_code(markdown: str) -> str:
    """The markdown with fenced blocks and inline code spans removed: what would render as markup."""
    text = re.sub(r"(?ms)^(`{3,})[^\n]*\n.*?^\1\s*$", "", markdown)
    return re.sub(r"`[^`\n]*`", "", text)


def state_of(repo: Path) -> dict[str, object]:
    """Everything a command could change: refs, the working tree status and the forge file."""
    refs = git(repo, "for-each-ref", "--format=%(refname) %(objectname)")
    forge = repo / ".git" / "promobot" / "forge.json"
    return {
        "refs": refs,
        "status": git(repo, "status", "--porcelain"),
        "forge": forge.read_bytes() if forge.exists() else None,
        "head": git(repo, "rev-parse", "HEAD"),
    }


class TestOpen:
    def test_promote_opens_pr_1_on_the_bot_branch(self, cli: Cli) -> None:
        data = cli.json("promote", "fraud-detector", "--to", "staging")
        assert data["pr"] == 1
        assert data["created"] is True
        assert (data["version"], data["from"], data["to"]) == ("1.5.0", "dev", "staging")
        kinds = {g["kind"] for g in data["gates"]}
        assert {"schema", "order", "integrity", "not-rejected", "metric", "artifact"} <= kinds
        assert all(g["result"] in ("success", "failure", "pending") for g in data["gates"])
        assert git(cli.repo, "rev-parse", "--verify", "promobot/staging/fraud-detector")

    def test_target_file_keeps_local_keys_and_comments_byte_for_byte(self, cli: Cli) -> None:
        cli("promote", "fraud-detector", "--to", "staging")
        text = git(
            cli.repo, "show", "promobot/staging/fraud-detector:environments/staging/fraud-detector.yaml"
        )
        assert_golden("promote/staging-fraud-detector.yaml", text + "\n")
        assert "replicas: 2" in text  # staging's own serving block survived
        assert "version: 1.5.0" in text

    def test_commit_carries_the_design_trailers(self, cli: Cli) -> None:
        cli("promote", "fraud-detector", "--to", "staging", actor="alice")
        message = git(cli.repo, "log", "-1", "--format=%B", "promobot/staging/fraud-detector")
        assert message.splitlines()[0] == "Promote fraud-detector 1.5.0 to staging"
        trailers = parse_trailers(message)
        assert trailers["Promobot-Action"] == "promote"
        assert trailers["Promobot-Model"] == "fraud-detector"
        assert trailers["Promobot-From"] == "dev"
        assert trailers["Promobot-To"] == "staging"
        assert trailers["Promobot-Version"] == "1.5.0"
        assert trailers["Promobot-Previous-Version"] == "1.4.2"
        assert trailers["Promobot-Requested-By"] == "alice"
        author = git(cli.repo, "log", "-1", "--format=%an", "promobot/staging/fraud-detector")
        assert author == "promobot"

    def test_pr_show_json_has_the_design_keys_and_checks(self, cli: Cli) -> None:
        cli("promote", "fraud-detector", "--to", "staging")
        pr = cli.json("pr", "show", "1")
        for key in (
            "number",
            "state",
            "title",
            "body",
            "head_branch",
            "head_sha",
            "labels",
            "model",
            "from",
            "to",
            "version",
            "action",
            "checks",
            "approvals",
            "comments",
        ):
            assert key in pr, key
        assert pr["state"] == "open"
        assert pr["title"] == "Promote fraud-detector 1.5.0 to staging"
        assert pr["head_branch"] == "promobot/staging/fraud-detector"
        assert set(pr["labels"]) == {"promobot:promotion", "promobot:env:staging"}
        assert pr["checks"] == {
            "promobot/gates": "success",
            "promobot/approvals": "pending",
            "promobot/ready": "pending",
        }
        assert pr["approvals"]["required"] == 1
        assert pr["approvals"]["counted"] == []
        assert "<!-- promobot:state " in pr["body"]

    def test_new_to_target_model_takes_source_local_keys_and_says_so(self, cli: Cli) -> None:
        data = cli.json("promote", "churn-predictor", "--to", "staging")
        assert data["previous_version"] is None
        dev = git(cli.repo, "show", "main:environments/dev/churn-predictor.yaml")
        staged = git(
            cli.repo, "show", "promobot/staging/churn-predictor:environments/staging/churn-predictor.yaml"
        )
        assert staged == dev
        body = cli.json("pr", "show", str(data["pr"]))["body"]
        assert "new to" in body

    def test_pr_body_neutralises_markdown_from_manifests(self, cli: Cli) -> None:
        path = cli.repo / "environments/dev/fraud-detector.yaml"
        text = path.read_text().replace(
            "run_id: 7c19e2", 'run_id: "[x](https://evil.example) @everyone <img src=x>"'
        )
        path.write_text(text)
        commit_all(cli.repo, "hostile lineage")
        cli("promote", "fraud-detector", "--to", "staging")
        body = cli.json("pr", "show", "1")["body"]
        assert "| `run_id` | `[x](https://evil.example) @everyone <img src=x>` |" in body
        assert "@everyone" not in outside_code(body)
        assert "<img" not in outside_code(body)
        assert "](https://evil" not in outside_code(body)


class TestIdempotency:
    def test_rerun_unchanged_keeps_pr_and_makes_no_commit(self, cli: Cli) -> None:
        first = cli.json("promote", "fraud-detector", "--to", "staging")
        tip = git(cli.repo, "rev-parse", "promobot/staging/fraud-detector")
        again = cli.json("promote", "fraud-detector", "--to", "staging")
        assert again["pr"] == first["pr"]
        assert again["created"] is False
        assert again["changed"] is False
        assert git(cli.repo, "rev-parse", "promobot/staging/fraud-detector") == tip
        assert len(cli.json("pr", "list", "--state", "all")) == 1

    def test_source_moved_updates_same_pr_with_new_version_and_refreshed_checks(self, cli: Cli) -> None:
        cli("promote", "fraud-detector", "--to", "staging")
        old_head = git(cli.repo, "rev-parse", "promobot/staging/fraud-detector")
        path = cli.repo / "environments/dev/fraud-detector.yaml"
        path.write_text(
            path.read_text().replace("version: 1.5.0", "version: 1.5.1").replace("auc: 0.936", "auc: 0.84")
        )
        commit_all(cli.repo, "dev: fraud-detector 1.5.1")
        data = cli.json("promote", "fraud-detector", "--to", "staging")
        assert data["pr"] == 1 and data["created"] is False and data["changed"] is True
        assert data["version"] == "1.5.1"
        pr = cli.json("pr", "show", "1")
        assert pr["version"] == "1.5.1"
        assert pr["title"] == "Promote fraud-detector 1.5.1 to staging"
        assert pr["head_sha"] != old_head
        assert pr["checks"]["promobot/gates"] == "failure"  # auc 0.84 < 0.85: refreshed on the new head
        assert len(cli.json("pr", "list", "--state", "all")) == 1

    def test_nothing_to_promote_when_target_already_matches(self, cli: Cli) -> None:
        data = cli.json("promote", "search-ranker", "--to", "staging")
        assert data["pr"] is None
        assert "nothing to promote" in data["note"]
        assert cli.json("pr", "list", "--state", "all") == []


class TestNoChanges:
    def test_dry_run_changes_nothing(self, cli: Cli) -> None:
        cli("status")  # the cache may be written by status; take the snapshot after it
        before = state_of(cli.repo)
        data = cli.json("promote", "fraud-detector", "--to", "staging", "--dry-run")
        assert data["dry_run"] is True
        assert any("open pull request" in step for step in data["plan"])
        assert state_of(cli.repo) == before

    def test_diff_changes_nothing_and_shows_gates(self, cli: Cli) -> None:
        cli("promote", "spam-filter", "--to", "prod")
        before = state_of(cli.repo)
        data = cli.json("diff", "fraud-detector", "--to", "prod")
        assert state_of(cli.repo) == before
        assert "-version: 1.4.1" in data["diff"] and "+version: 1.4.2" in data["diff"]
        assert {m["name"] for m in data["metrics"]} >= {"auc", "latency_p95_ms"}
        kinds = {g["kind"] for g in data["gates"]}
        assert {"compare", "soak", "freeze", "command"} <= kinds

    def test_dry_run_text_lists_the_plan(self, cli: Cli) -> None:
        out = cli("promote", "fraud-detector", "--to", "staging", "--dry-run").stdout
        assert "Plan (nothing was changed)" in out
        assert "promobot/staging/fraud-detector" in out


class TestRefusals:
    @pytest.mark.parametrize(
        ("args", "needle"),
        [
            (("promote", "fraud-detector", "--to", "qa"), "unknown environment"),
            (("promote", "fraud-detector", "--to", "dev"), "first environment"),
            (("promote", "../etc/passwd", "--to", "staging"), "not a valid model name"),
            (("promote", "nope", "--to", "staging"), "not in dev"),
            (("promote", "fraud-detector", "--to", "prod", "--from", "dev"), "promoted from staging"),
        ],
        ids=["unknown-env", "first-env", "path-traversal", "unknown-model", "wrong-from"],
    )
    def test_bad_input_exits_1_with_a_hint_and_changes_nothing(
        self, cli: Cli, args: tuple[str, ...], needle: str
    ) -> None:
        before = state_of(cli.repo)
        result = cli(*args, expect=1)
        assert needle in result.stderr
        assert result.stderr.startswith("error: ") and " — " in result.stderr
        assert state_of(cli.repo) == before


def test_promote_all_opens_one_pr_per_differing_model(cli: Cli) -> None:
    data = cli.json("promote", "--all", "--to", "prod")
    models = sorted(d["model"] for d in data)
    assert models == ["fraud-detector", "spam-filter"]
    prs = cli.json("pr", "list")
    assert sorted(p["model"] for p in prs) == models


def test_gates_command_reevaluates_with_a_later_clock(cli: Cli) -> None:
    cli("promote", "fraud-detector", "--to", "prod")
    soak = {g["name"]: g for g in cli.json("gates", "1")["gates"]}["soak"]
    assert soak["result"] == "success"  # staging has run 1.4.2 since 2026-11-01
    later = cli.json("gates", "1", now="2026-11-28T16:00:00Z")  # Saturday: frozen
    freeze = {g["name"]: g for g in later["gates"]}["freeze"]
    assert freeze["result"] == "pending"
    assert "until" in freeze["reason"]


def test_two_promote_processes_at_once_leave_one_pr_and_a_valid_state(example_repo: Path) -> None:
    cmd = console_argv(example_repo, "--output", "json", "promote", "fraud-detector", "--to", "staging")
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    codes = [p.returncode for p in procs]
    assert codes.count(0) >= 1, outs
    state = json.loads((example_repo / ".git/promobot/forge.json").read_text())
    assert len(state["pulls"]) == 1
    numbers = {json.loads(o[0])["pr"] for o, c in zip(outs, codes, strict=True) if c == 0}
    assert numbers == {1}


def test_promote_all_goes_on_past_a_broken_model_and_exits_1(cli: Cli) -> None:
    path = cli.repo / "environments/prod/spam-filter.yaml"
    path.write_text(path.read_text().replace("kind: ModelDeployment", "kind: ModelDeployment\nkind: Twice"))
    commit_all(cli.repo, "break prod/spam-filter")
    data = cli.json("promote", "--all", "--to", "prod", expect=1)
    promoted = [d["model"] for d in data if "error" not in d]
    failed = {d["model"]: d["error"] for d in data if "error" in d}
    assert promoted == ["fraud-detector"]
    assert "duplicate" in failed["spam-filter"]
