"""The read side through the CLI: validate, status, diff, history, output formats and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.helpers.git import commit_all, git

ALL_ENVS = ["dev", "staging", "prod"]


def test_validate_passes_on_the_example_repo(cli: Cli) -> None:
    data = cli.json("validate")
    assert data["ok"] is True
    assert data["errors"] == []
    assert isinstance(data["warnings"], list)
    assert data["checked"] >= 10


BAD_MANIFEST = "environments/dev/fraud-detector.yaml"
BAD_POLICY = "environments/promotion.yaml"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


CASES = [
    (
        "duplicate-key",
        BAD_MANIFEST,
        "kind: ModelDeployment\n",
        "kind: ModelDeployment\nkind: ModelDeployment\n",
        "duplicate",
    ),
    ("python-tag", BAD_MANIFEST, "owner:", "evil: !!python/object:os.system x\nowner:", "tag"),
    ("name-mismatch", BAD_MANIFEST, "name: fraud-detector", "name: fraud-detectorx", "file name"),
    ("bad-digest", BAD_MANIFEST, "digest: sha256:", "digest: md5:", "sha256"),
    ("metric-not-number", BAD_MANIFEST, "auc: 0.936", 'auc: "high"', "number"),
    ("unquoted-version", BAD_MANIFEST, "version: 1.5.0", "version: 1.10", "quote"),
    ("unknown-from", BAD_POLICY, "from: staging", "from: qa", "qa"),
    (
        "forward-from",
        BAD_POLICY,
        "  - name: staging                 # from: dev (the previous environment)\n",
        "  - name: staging\n    from: prod\n",
        "prod",
    ),
    ("unknown-gate", BAD_POLICY, "- soak: {hours: 24}", "- soakk: {hours: 24}", "soakk"),
    ("metric-no-bounds", BAD_POLICY, "- metric: {name: auc, min: 0.90}", "- metric: {name: auc}", "min"),
    ("bad-weekday", BAD_POLICY, "days: [fri]", "days: [fry]", "fry"),
    ("bad-timezone", BAD_POLICY, "timezone: Europe/Berlin", "timezone: Mars/Olympus", "Mars/Olympus"),
    ("from-after-to", BAD_POLICY, 'from: "15:00", to: "24:00"', 'from: "16:00", to: "15:00"', "before"),
    ("negative-approvals", BAD_POLICY, "required: 2", "required: -1", "required"),
    (
        "rollback-zero",
        BAD_POLICY,
        "approvals: {required: 1}        # an expedited",
        "approvals: {required: 0}        # an expedited",
        "zero",
    ),
]


@pytest.mark.parametrize(("case", "path", "old", "new", "needle"), CASES, ids=[c[0] for c in CASES])
def test_validate_rejects_bad_input_with_location_and_hint(
    cli: Cli, case: str, path: str, old: str, new: str, needle: str
) -> None:
    target = cli.repo / path
    _edit(target, old, new)
    before = {p: p.read_bytes() for p in (cli.repo / "environments").rglob("*") if p.is_file()}
    refs = git(cli.repo, "for-each-ref")
    result = cli("validate", expect=1)
    assert f"error: {path}:" in result.stdout, result.stdout
    assert needle.lower() in result.stdout.lower()
    data = cli.json("validate", expect=1)
    assert data["ok"] is False
    err = data["errors"][0]
    assert err["file"] == path and isinstance(err["line"], int) and err["line"] >= 1
    assert " — " in err["message"]  # every message says what to do
    after = {p: p.read_bytes() for p in (cli.repo / "environments").rglob("*") if p.is_file()}
    assert after == before and git(cli.repo, "for-each-ref") == refs


def test_validate_refuses_oversized_files(cli: Cli) -> None:
    (cli.repo / "environments/dev/huge.yaml").write_text("a: " + "x" * (1024 * 1024 + 10) + "\n")
    data = cli.json("validate", expect=1)
    assert any("1 MiB" in e["message"] or "too large" in e["message"] for e in data["errors"])


def test_validate_refuses_alias_bombs(cli: Cli) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    (cli.repo / "environments/dev/bomb.yaml").write_text(bomb)
    data = cli.json("validate", expect=1)
    assert any(e["file"] == "environments/dev/bomb.yaml" for e in data["errors"])


def test_validate_ref_reads_committed_files(cli: Cli) -> None:
    _edit(cli.repo / BAD_MANIFEST, "version: 1.5.0", "version: 1.10")
    cli("validate", expect=1)
    assert cli.json("validate", "--ref", "HEAD")["ok"] is True


def test_status_json_has_every_model_and_environment(cli: Cli) -> None:
    data = cli.json("status")
    assert data["environments"] == ALL_ENVS
    assert data["models"]["fraud-detector"] == {"dev": "1.5.0", "staging": "1.4.2", "prod": "1.4.1"}
    assert data["models"]["churn-predictor"] == {"dev": "0.3.0", "staging": None, "prod": None}
    assert data["models"]["search-ranker"]["dev"] == data["models"]["search-ranker"]["prod"]
    assert data["pull_requests"] == []
    cli("promote", "fraud-detector", "--to", "staging")
    prs = cli.json("status")["pull_requests"]
    assert prs == [
        {
            "number": 1,
            "action": "promote",
            "model": "fraud-detector",
            "from": "dev",
            "to": "staging",
            "version": "1.5.0",
            "ready": False,
            "title": "Promote fraud-detector 1.5.0 to staging",
        }
    ]


def test_status_text_is_an_aligned_table_with_drift(cli: Cli) -> None:
    out = cli("status").stdout
    lines = out.splitlines()
    assert lines[0].split() == ["model", *ALL_ENVS]
    assert "staging runs 1.4.2, dev runs 1.5.0" in out
    md = cli("status", output="markdown").stdout
    assert md.startswith("| model | dev | staging | prod |")


def test_status_cache_is_invalidated_exactly(cli: Cli) -> None:
    assert cli.json("status")["models"]["fraud-detector"]["dev"] == "1.5.0"
    assert (cli.repo / ".git/promobot/cache.json").exists()
    _edit(cli.repo / BAD_MANIFEST, "version: 1.5.0", "version: 1.5.1")
    commit_all(cli.repo, "bump")
    assert cli.json("status")["models"]["fraud-detector"]["dev"] == "1.5.1"


def test_status_reports_invalid_manifests_without_failing(cli: Cli) -> None:
    _edit(cli.repo / BAD_MANIFEST, "version: 1.5.0", "version: 1.10")
    commit_all(cli.repo, "oops")
    data = cli.json("status")
    assert data["models"]["fraud-detector"]["dev"] is None
    assert "environments/dev/fraud-detector.yaml" in data["errors"]


def test_diff_json_keys(cli: Cli) -> None:
    data = cli.json("diff", "fraud-detector", "--to", "staging")
    for key in ("model", "from", "to", "version", "previous_version", "diff", "metrics", "gates"):
        assert key in data
    auc = next(m for m in data["metrics"] if m["name"] == "auc")
    assert (auc["candidate"], auc["incumbent"], auc["delta"]) == ("0.936", "0.931", "+0.005")


def test_history_json_lists_manual_commits_newest_first(cli: Cli) -> None:
    _edit(cli.repo / "environments/staging/fraud-detector.yaml", "version: 1.4.2", "version: 1.4.3")
    commit_all(cli.repo, "hand edit", date="2026-11-20T09:00:00Z")
    entries = cli.json("history", "fraud-detector", "--env", "staging")
    assert entries[0]["action"] == "manual"
    assert (entries[0]["previous_version"], entries[0]["version"]) == ("1.4.2", "1.4.3")
    for key in ("sha", "at", "action", "model", "env", "version", "previous_version", "pr", "approved_by"):
        assert key in entries[0]
    ats = [e["at"] for e in entries]
    assert ats == sorted(ats, reverse=True)


def test_history_is_newest_first_in_graph_order_under_clock_skew(cli: Cli) -> None:
    """The newest change is the last commit, not the one with the latest date (a skewed clock)."""
    _edit(cli.repo / BAD_MANIFEST, "version: 1.5.0", "version: 1.5.1")
    commit_all(cli.repo, "dev bump", date="2026-11-20T09:00:00Z")
    _edit(cli.repo / "environments/prod/fraud-detector.yaml", "version: 1.4.1", "version: 1.4.9")
    commit_all(cli.repo, "prod hand edit", date="2026-11-10T09:00:00Z")  # committed later, clock behind
    for _ in range(2):  # cold, then through the history cache
        entries = cli.json("history", "fraud-detector")
        assert [(e["subject"], e["env"]) for e in entries[:2]] == [
            ("prod hand edit", "prod"),
            ("dev bump", "dev"),
        ]
        assert entries[0]["version"] == "1.4.9"
        assert "1.4.1 → 1.4.9" in cli("history", "fraud-detector").stdout.splitlines()[2]


def test_history_after_a_merge_has_trailers(cli: Cli) -> None:
    cli("promote", "fraud-detector", "--to", "staging")
    cli("pr", "review", "1", "--approve", actor="carol")
    entries = cli.json("history", "fraud-detector", "--env", "staging")
    top = entries[0]
    assert (top["action"], top["version"], top["previous_version"], top["pr"]) == (
        "promote",
        "1.5.0",
        "1.4.2",
        1,
    )
    assert top["approved_by"] == ["carol"]


def test_history_of_unknown_model_is_a_clear_error(cli: Cli) -> None:
    assert "not in" in cli("history", "nope", expect=1).stderr


def test_json_errors_are_one_document(cli: Cli) -> None:
    result = cli("promote", "fraud-detector", "--to", "qa", output="json", expect=1)
    data = json.loads(result.stdout)
    assert data["exit_code"] == 1 and "unknown environment" in data["error"]


def test_usage_errors_exit_2(cli: Cli) -> None:
    cli("promote", expect=2)
    cli("frobnicate", expect=2)


def test_not_a_git_repository_is_a_clear_error(tmp_path: Path) -> None:
    result = Cli(tmp_path)("status", expect=1)
    assert "not a git repository" in result.stderr


def test_console_script_usage_errors_follow_the_error_contract(example_repo: Path) -> None:
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-m", "bot", "--repo", str(example_repo), "promote", "fraud-detector"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert "error: Missing option '--to' — see `promobot promote --help`" in run.stderr
    run = subprocess.run(
        [sys.executable, "-m", "bot", "-o", "json", "--repo", str(example_repo), "promote", "--bogus"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert json.loads(run.stdout)["exit_code"] == 2


def test_text_tables_align_emoji_cells(cli: Cli) -> None:
    from bot.core.report import width

    out = cli("diff", "fraud-detector", "--to", "staging").stdout
    lines = [line for line in out.splitlines() if line.startswith(("gate ", "schema "))]
    header, row = lines
    assert header.index("reason") == width(row[: row.index("the manifest")])


def test_status_marks_invalid_manifests_and_skips_their_drift(cli: Cli) -> None:
    _edit(cli.repo / "environments/staging/fraud-detector.yaml", "version: 1.4.2", "version: 1.10")
    commit_all(cli.repo, "oops")
    out = cli("status").stdout
    row = next(line for line in out.splitlines() if line.startswith("fraud-detector"))
    assert "invalid!" in row
    assert "fraud-detector: staging does not have it yet" not in out


def test_users_list_is_a_table(people: Cli) -> None:
    out = people("pr", "users", "list").stdout
    assert out.splitlines()[0].split() == ["login", "permission", "teams"]
    assert any(line.split()[:3] == ["sam", "maintain", "@acme/sre"] for line in out.splitlines())
    data = people.json("pr", "users", "list")
    assert {"login": "mallory", "permission": "read", "teams": []} in data["users"]


def test_validate_names_the_file_for_every_error(cli: Cli) -> None:
    (cli.repo / "environments/dev/odd.yml").write_text("name: odd\n")
    out = cli("validate", expect=1).stdout
    assert "error: environments/dev/odd.yml: manifests end in .yaml" in out


def test_warm_status_and_history_parse_the_policy_only_when_an_environment_verifies(cli: Cli) -> None:
    from bot.app.context import Context
    from bot.app.history import history_rows
    from bot.app.status import status
    from bot.cli import Options, build_context
    from tests.verify_setup import add_verify

    def warm() -> Context:
        cli("status")  # fills the caches
        ctx = build_context(Options(cli.repo, "local", "json", None, None))
        status(ctx)
        history_rows(ctx, "fraud-detector")
        return ctx

    assert warm()._policies == {}  # promotion.yaml came from the cache: nothing verifies
    add_verify(cli)
    commit_all(cli.repo, "staging verifies live data")
    ctx = warm()
    assert list(ctx._policies) == [ctx.tip()]  # read once, for the verify: specs
    verification = status(ctx).verification
    assert verification is not None and set(verification["fraud-detector"]) == {"staging"}


def _git_processes(cli: Cli, trace: Path, *args: str) -> list[list[str]]:
    """The argv of every git process ``promobot ARGS`` starts, as git's own trace reports them
    (``GIT_TRACE2_EVENT``: one ``start`` event per process; a child of git has a ``/`` in its sid)."""
    import os

    trace.unlink(missing_ok=True)
    os.environ["GIT_TRACE2_EVENT"] = str(trace)
    try:
        cli(*args)
    finally:
        del os.environ["GIT_TRACE2_EVENT"]
    events = [json.loads(line) for line in trace.read_text().splitlines()] if trace.exists() else []
    return [e["argv"] for e in events if e["event"] == "start" and "/" not in e["sid"]]


WARM_STATUS_GIT = 3
"""Discovery with HEAD and main/master; init.defaultBranch with user.name; the tip, then the policy
and rejected.yaml from the same ``cat-file`` — with the environments tree, whose id keys the status
table (issue #16: a fourth process must be a deliberate choice, not an accident)."""
WARM_HISTORY_GIT = 3


def test_a_warm_status_and_history_start_few_git_processes(cli: Cli, tmp_path: Path) -> None:
    trace = tmp_path / "trace2.json"
    for _ in range(2):  # the first run of each fills the caches
        status = _git_processes(cli, trace, "status")
        history = _git_processes(cli, trace, "history", "fraud-detector")
    assert len(status) == WARM_STATUS_GIT, status
    assert len(history) == WARM_HISTORY_GIT, history
    assert status[0][:3] == ["git", "rev-parse", "--show-toplevel"]
    assert [argv[1] for argv in status].count("config") == 1  # init.defaultBranch and user.name at once
    # Once the default branch is recorded (the first write) and --as names the actor, no config is read.
    cli("promote", "fraud-detector", "--to", "staging")
    pinned = _git_processes(cli, trace, "--as", "carol", "history", "fraud-detector")
    assert [argv[1] for argv in pinned].count("config") == 0, pinned


def test_the_start_up_facts_name_head_and_the_default_branch_as_git_does(cli: Cli) -> None:
    git(cli.repo, "checkout", "-q", "--detach")
    assert "note: HEAD is on a detached commit, not main" in cli("status").stderr
    git(cli.repo, "checkout", "-q", "--orphan", "fresh")  # an unborn HEAD: the discovery asks again
    assert "note: HEAD is on fresh, not main" in cli("status").stderr
    git(cli.repo, "checkout", "-q", "-f", "main")
    assert "note:" not in cli("status").stderr
    git(cli.repo, "branch", "-m", "main", "master")
    assert "note:" not in cli("status").stderr
    git(cli.repo, "branch", "trunk")
    git(cli.repo, "config", "init.defaultBranch", "trunk")
    assert "note: HEAD is on master, not trunk" in cli("status").stderr
