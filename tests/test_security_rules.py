"""The security rules of reference §3, §5, §7 and §11 as tests (issue 7, item 6).

One test per rule that is not already tested elsewhere; each would fail if its rule were
broken. Rules that already have a test are not repeated here; SECURITY.md maps every
rule to its test (file::name), among them:

- §3 policy from the base branch: tests/test_hostile_input.py (drops-gates test)
- §3 integrity catches hand edits: tests/test_hostile_input.py (hand-edited version/digest)
- §3 command gates are argv lists: tests/core/test_policy.py [command-string]
- §3 no token in a command gate (unit): tests/adapters/test_commands.py (tokens scrubbed)
- §5 every approval rule: tests/core/test_approvals.py::test_approval_rules, test_approvals_fuzz.py
- §7 bots never obeyed, edited comments never run, readers may not /promote:
  tests/app/test_comment.py, tests/core/test_events.py
- §11 workflow rules: tests/test_workflows.py
- no force-push to the default branch: tests/adapters/test_git.py
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.adapters.localforge import LocalForge
from bot.cli import Options, build_context
from bot.core import authz
from bot.core.model import Permission
from bot.core.policy import load_policy
from tests.conftest import Cli
from tests.helpers.git import commit_all, git, push_to

BOT = Path(__file__).resolve().parents[1] / "bot"
NOW = datetime(2026, 11, 27, 10, tzinfo=UTC)
PROD_BRANCH = "promobot/prod/fraud-detector"
POLICY = "environments/promotion.yaml"
SMOKE = "environments/checks/smoke.py"


def write(path: str, text: str) -> Callable[[Path], None]:
    def edit(repo: Path) -> None:
        (repo / path).write_text(text)

    return edit


def gates_summary(cli: Cli, number: int) -> str:
    forge = build_context(Options(repo=cli.repo, forge="local", output="json", actor="x", now=NOW)).forge
    assert isinstance(forge, LocalForge)
    head = forge.get_pr(number).head_sha
    return next(c.summary for c in forge.list_checks(head) if c.name == "promobot/gates" and c.by_promobot)


# --------------------------------------------------------------------------- §3


def test_built_in_gates_run_even_when_the_policy_lists_no_gates(cli: Cli) -> None:
    path = cli.repo / POLICY
    text = path.read_text()
    staging_gates = (
        "    gates:\n      - metric: {name: auc, min: 0.85}\n"
        "      - metric: {name: latency_p95_ms, max: 80}\n      - artifact: {verify: digest}\n"
    )
    assert staging_gates in text
    path.write_text(text.replace(staging_gates, "    gates: []\n"))
    commit_all(cli.repo, "staging: no policy gates")
    data = cli.json("promote", "fraud-detector", "--to", "staging")
    assert [g["kind"] for g in data["gates"]] == ["schema", "order", "integrity", "not-rejected"]


def test_command_gates_run_the_base_branch_version_never_the_prs(people: Cli, tmp_path: Path) -> None:
    cli = people
    (cli.repo / SMOKE).write_text('print("BASE-SMOKE-RAN: no")\nraise SystemExit(1)\n')
    commit_all(cli.repo, "smoke: refuse everything")
    number = int(cli.json("promote", "fraud-detector", "--to", "prod", actor="alice")["pr"])
    marker = tmp_path / "pr-code-ran"
    pr_smoke = f'import pathlib\npathlib.Path({str(marker)!r}).write_text("x")\nprint("PR-SMOKE-RAN")\n'
    push_to(cli.repo, PROD_BRANCH, write(SMOKE, pr_smoke), author="mallory")
    assert "PR-SMOKE-RAN" in git(cli.repo, "show", f"{PROD_BRANCH}:{SMOKE}")

    gates = {g["name"]: g for g in cli.json("gates", str(number), actor="erin")["gates"]}
    assert gates["command smoke"]["result"] == "failure"
    assert not marker.exists()
    summary = gates_summary(cli, number)
    assert "BASE-SMOKE-RAN" in summary and "PR-SMOKE-RAN" not in summary


def test_command_gates_run_without_the_tokens_of_the_process_that_runs_promobot(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = {
        "GITHUB_TOKEN": "ghs_gh-token-value",
        "GH_TOKEN": "gho_gh-cli-value",
        "PROMOBOT_APP_PRIVATE_KEY": "pem-key-value",
        "ACTIONS_ID_TOKEN_REQUEST_URL": "https://oidc.example/value",
        "MY_SERVICE_PASSWORD": "hunter2-value",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    dump = (
        "import os\n"
        "for k in sorted(os.environ):\n"
        "    if 'value' in os.environ[k] or k.startswith('PROMOBOT_'):\n"
        "        print(k, '=', os.environ[k])\n"
    )
    (cli.repo / SMOKE).write_text(dump)
    commit_all(cli.repo, "smoke: print the environment")
    number = int(cli.json("promote", "fraud-detector", "--to", "prod")["pr"])
    summary = gates_summary(cli, number)
    assert "PROMOBOT_MODEL = fraud-detector" in summary and "PROMOBOT_TO = prod" in summary
    for name, value in secrets.items():
        assert name not in summary and value not in summary


# --------------------------------------------------------------------------- §5 (beyond the core table)


def test_someone_who_pushed_to_the_pr_branch_does_not_count_as_an_approver(people: Cli) -> None:
    cli = people
    number = int(cli.json("promote", "fraud-detector", "--to", "prod", actor="alice")["pr"])
    path = "environments/prod/fraud-detector.yaml"
    text = git(cli.repo, "show", f"{PROD_BRANCH}:{path}") + "\n"
    push_to(cli.repo, PROD_BRANCH, write(path, text.replace("replicas: 6", "replicas: 8")), author="dave")
    cli("pr", "review", str(number), "--approve", actor="carol")
    cli("pr", "review", str(number), "--approve", actor="dave")
    approvals = cli.json("pr", "show", str(number))["approvals"]
    assert approvals["counted"] == ["carol"]
    assert {"login": "dave", "reason": "pushed commits to this PR"} in approvals["ignored"]
    assert cli.json("merge", str(number), actor="erin", expect=1)["merged"] is False


# --------------------------------------------------------------------------- §7


def test_slash_commands_are_authorised_against_the_base_policy_not_the_prs(people: Cli) -> None:
    cli = people
    number = int(cli.json("promote", "fraud-detector", "--to", "prod", actor="alice")["pr"])
    policy = git(cli.repo, "show", f"{PROD_BRANCH}:{POLICY}") + "\n"
    opened = policy.replace("promote:  {permission: write}", "promote:  {permission: read}")
    assert opened != policy
    push_to(cli.repo, PROD_BRANCH, write(POLICY, opened), author="mallory")
    # the PR's own policy would let a reader promote: the test is about which one is used
    pr_rules = load_policy(opened).commands
    assert authz.authorize(
        "promote",
        login="mallory",
        permission=Permission.READ,
        teams_of_user=frozenset(),
        rules=pr_rules,
        bot_login="promobot",
    ).allowed
    cli("pr", "review", str(number), "--approve", actor="carol")
    cli("pr", "review", str(number), "--approve", actor="dave")
    main = git(cli.repo, "rev-parse", "main")

    out = cli.json("pr", "comment", str(number), "/promote", actor="mallory")
    assert out["merged"] is False and "may not run `/promote`" in out["reply"]
    assert git(cli.repo, "rev-parse", "main") == main
    assert cli.json("pr", "show", str(number))["state"] == "open"


def test_a_merge_is_authorised_again_at_merge_time_whatever_path_leads_there(people: Cli) -> None:
    cli = people
    number = int(cli.json("promote", "fraud-detector", "--to", "prod", actor="alice")["pr"])
    cli("pr", "review", str(number), "--approve", actor="carol")
    cli("pr", "review", str(number), "--approve", actor="dave")
    main = git(cli.repo, "rev-parse", "main")
    result = cli("merge", str(number), actor="mallory", expect=1)  # no comment: only the merge-time check
    assert "mallory may not /promote" in result.stderr
    assert git(cli.repo, "rev-parse", "main") == main
    assert cli.json("merge", str(number), actor="erin")["merged"] is True


# --------------------------------------------------------------------------- history is never rewritten


def test_the_default_branch_only_ever_moves_forward(people: Cli) -> None:
    cli = people
    tips = [git(cli.repo, "rev-parse", "main")]
    cli("promote", "fraud-detector", "--to", "staging", actor="alice")
    cli("pr", "review", "1", "--approve", actor="carol")  # auto-merge, then the prod PR opens
    tips.append(git(cli.repo, "rev-parse", "main"))
    cli("rollback", "fraud-detector", "--env", "staging", "--direct", actor="sam")
    tips.append(git(cli.repo, "rev-parse", "main"))
    cli("reject", "spam-filter", "3.2.0", "--reason", "bad", "--direct", actor="sam")
    tips.append(git(cli.repo, "rev-parse", "main"))
    assert len(set(tips)) == len(tips), "every step added commits"
    for old, new in itertools.pairwise(tips):
        git(cli.repo, "merge-base", "--is-ancestor", old, new)  # raises if main was rewritten
    assert int(git(cli.repo, "rev-list", "--count", "main")) == 4


# --------------------------------------------------------------------------- no shell strings


def _shell_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    banned_calls = {
        ("os", "system"),
        ("os", "popen"),
        ("subprocess", "getoutput"),
        ("subprocess", "getstatusoutput"),
        ("asyncio", "create_subprocess_shell"),
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                    found.append(f"{path.name}:{node.lineno}: shell={ast.unparse(kw.value)}")
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and (func.value.id, func.attr) in banned_calls
            ):
                found.append(f"{path.name}:{node.lineno}: {func.value.id}.{func.attr}()")
        elif isinstance(node, ast.ImportFrom) and node.module in {m for m, _ in banned_calls}:
            for alias in node.names:
                if (node.module, alias.name) in banned_calls:
                    found.append(f"{path.name}:{node.lineno}: from {node.module} import {alias.name}")
    return found


@pytest.mark.parametrize("path", sorted(BOT.rglob("*.py")), ids=lambda p: str(p.relative_to(BOT)))
def test_no_module_in_bot_runs_a_shell(path: Path) -> None:
    assert _shell_uses(path) == []


def test_the_shell_detector_finds_what_it_looks_for(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os, subprocess\nfrom os import system\n"
        "subprocess.run('ls', shell=True)\nos.system('ls')\nos.popen('ls')\n"
        "subprocess.run(['ls'], shell=False)\n"
    )
    assert len(_shell_uses(sample)) == 4


def test_a_promotion_pr_that_carries_other_files_is_never_ready(people: Cli) -> None:
    """Extra commits on the bot's branch (a new policy, a gate script) would ride the squash merge."""
    cli = people
    number = int(cli.json("promote", "fraud-detector", "--to", "prod", actor="alice")["pr"])
    policy = git(cli.repo, "show", f"{PROD_BRANCH}:{POLICY}") + "\n"
    push_to(cli.repo, PROD_BRANCH, write(POLICY, policy.replace("required: 2", "required: 0")), author="erin")
    cli("pr", "review", str(number), "--approve", actor="carol")
    cli("pr", "review", str(number), "--approve", actor="dave")
    data = cli.json("merge", str(number), actor="alice", expect=1)
    assert any("also changes environments/promotion.yaml" in b for b in data["blockers"])
    assert cli.json("pr", "show", str(number))["checks"]["promobot/ready"] != "success"
    # re-running promote rebuilds the bot's branch without the foreign commit
    cli("promote", "fraud-detector", "--to", "prod", actor="alice")
    assert (
        git(cli.repo, "diff", "--name-only", f"main...{PROD_BRANCH}")
        == "environments/prod/fraud-detector.yaml"
    )
