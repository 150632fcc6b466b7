"""`promobot init`: a GitOps repository in one commit, never overwriting, from one packaged example."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest
import yaml
from click.testing import CliRunner, Result

from bot.app import init as scaffold
from bot.cli import cli
from tests.conftest import EXAMPLE, ROOT, Cli, invoke
from tests.helpers.git import git, init_repo
from tests.test_workflows import PROMOTION, SHA_PINNED_USES, needs_both_linters, run_lint, triggers

BASE_FILES = {
    ".github/workflows/promotion.yml",
    ".pre-commit-config.yaml",
    ".promobot/schemas/manifest.schema.json",
    ".promobot/schemas/policy.schema.json",
    ".promobot/schemas/rejected.schema.json",
    "environments/promotion.yaml",
    "environments/rejected.yaml",
    "environments/dev/.gitkeep",
    "environments/staging/.gitkeep",
    "environments/prod/.gitkeep",
}


def init(*args: str, expect: int = 0) -> Result:
    result = invoke(["init", *args])  # the clock fixed at NOW: init writes a commit
    assert result.exit_code == expect, f"exit {result.exit_code}\n{result.stdout}\n{result.stderr}"
    return result


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (``.git`` included), path → bytes; folders as empty markers."""
    found: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        found[rel + ("/" if path.is_dir() else "")] = b"" if path.is_dir() else path.read_bytes()
    return found


def tracked(repo: Path) -> set[str]:
    return set(git(repo, "ls-files").splitlines())


def validate(repo: Path) -> dict[str, object]:
    out = CliRunner().invoke(cli, ["validate", "--repo", str(repo), "-o", "json"], catch_exceptions=False)
    assert out.exit_code == 0, out.stdout + out.stderr
    data: dict[str, object] = json.loads(out.stdout)
    return data


# --- where init may write ---------------------------------------------------------------------


def test_init_into_an_empty_folder_makes_a_repository_with_one_commit_that_validates(tmp_path: Path) -> None:
    target = tmp_path / "fresh"
    target.mkdir()
    data = json.loads(init(str(target), "-o", "json").stdout)
    assert data["created_repository"] is True and data["branch"] == "main"
    assert set(data["files"]) == BASE_FILES == tracked(target)
    assert git(target, "rev-list", "--count", "HEAD") == "1"
    assert git(target, "rev-parse", "HEAD") == data["commit"]
    assert git(target, "status", "--porcelain") == ""
    assert (
        git(target, "log", "-1", "--format=%aI") == "2026-11-27T10:00:00+00:00"
    )  # the fixed clock is init's clock too
    assert validate(target)["ok"] is True
    policy = (target / "environments/promotion.yaml").read_text()
    assert policy.count("\n#") > 10, "the starter policy explains itself in comments"


def test_init_makes_a_folder_that_does_not_exist_yet(tmp_path: Path) -> None:
    init(str(tmp_path / "a" / "b"))
    assert tracked(tmp_path / "a" / "b") == BASE_FILES


def test_without_dir_init_uses_repo_or_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    init("--repo", str(tmp_path / "by-repo"))
    assert tracked(tmp_path / "by-repo") == BASE_FILES
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    out = init().stdout
    assert tracked(tmp_path / "here") == BASE_FILES
    assert "  promobot validate" in out  # no --repo to type when it is the current folder


def test_init_into_an_existing_repository_commits_only_its_own_files(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "existing")
    (repo / "README.md").write_text("# models\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "-q", "-m", "first")
    git(repo, "checkout", "-q", "-b", "trunk")
    (repo / "notes.txt").write_text("staged, not mine to commit\n")
    git(repo, "add", "notes.txt")
    (repo / ".gitignore").write_text("*.json\n.promobot/\n")  # init's files go in anyway
    before = git(repo, "rev-parse", "HEAD")

    data = json.loads(init(str(repo), "--no-workflow", "-o", "json").stdout)

    assert data["created_repository"] is False and data["branch"] == "trunk"
    assert git(repo, "rev-parse", "HEAD~1") == before
    changed = set(git(repo, "show", "--name-only", "--format=", "HEAD").splitlines())
    assert changed == BASE_FILES - {".github/workflows/promotion.yml"}
    assert git(repo, "diff", "--cached", "--name-only") == "notes.txt"  # still staged, not committed
    assert 'push:\n    branches:\n      - "trunk"' not in str(data)  # no workflow was asked for
    assert not (repo / ".github").exists()
    assert validate(repo)["ok"] is True


def test_the_workflow_listens_to_pushes_on_the_branch_init_committed_to(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    git(repo, "checkout", "-q", "-b", "trunk")
    init(str(repo))
    workflow = yaml.safe_load((repo / scaffold.WORKFLOW).read_text())
    assert triggers(workflow)["push"]["branches"] == ["trunk"]


def test_a_conflicting_file_means_nothing_is_written_and_every_conflict_is_listed(tmp_path: Path) -> None:
    target = tmp_path / "busy"
    (target / "environments").mkdir(parents=True)
    (target / "environments/promotion.yaml").write_text("mine\n")
    (target / ".pre-commit-config.yaml").write_text("repos: []\n")
    before = snapshot(target)

    result = init(str(target), expect=1)

    assert snapshot(target) == before  # no .git, no other file, no folder
    assert "nothing was written" in result.stderr and "never overwrites" in result.stderr
    listed = re.findall(r"^  - (.+)$", result.stderr, flags=re.M)
    assert listed == [".pre-commit-config.yaml", "environments/promotion.yaml"]


def test_conflicts_in_json_are_one_error_document_naming_them(tmp_path: Path) -> None:
    target = init_repo(tmp_path / "busy")
    (target / ".github/workflows").mkdir(parents=True)
    (target / ".github/workflows/promotion.yml").write_text("name: mine\n")
    result = init(str(target), "-o", "json", expect=1)
    error = json.loads(result.stdout)
    assert error["exit_code"] == 1
    assert ".github/workflows/promotion.yml" in error["error"] and "--no-workflow" in error["error"]
    init(str(target), "--no-workflow")  # the way out it names works
    assert (target / ".github/workflows/promotion.yml").read_text() == "name: mine\n"


def test_a_file_where_init_needs_a_folder_is_a_conflict(tmp_path: Path) -> None:
    target = tmp_path / "odd"
    target.mkdir()
    (target / "environments").write_text("not a folder\n")
    result = init(str(target), expect=1)
    assert re.findall(r"^  - (.+)$", result.stderr, flags=re.M) == ["environments"]
    assert sorted(p.name for p in target.iterdir()) == ["environments"]


def test_a_folder_inside_another_repository_is_refused(tmp_path: Path) -> None:
    outer = init_repo(tmp_path / "outer")
    result = init(str(outer / "sub"), expect=1)
    assert "inside the git repository" in result.stderr and str(outer) in result.stderr
    assert not (outer / "sub").exists()


def test_a_failed_commit_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "signed")
    (repo / "README.md").write_text("# models\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "-q", "-m", "first")
    git(repo, "config", "commit.gpgsign", "true")
    git(repo, "config", "gpg.program", "false")  # every signed commit fails
    before = snapshot(repo)
    head = git(repo, "rev-parse", "HEAD")

    result = init(str(repo), expect=1)

    assert "git commit failed" in result.stderr
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == ""
    after = snapshot(repo)
    assert {k for k in after if not k.startswith(".git/")} == {k for k in before if not k.startswith(".git/")}


def test_a_new_repository_is_removed_again_when_the_commit_fails(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[commit]\n\tgpgsign = true\n[gpg]\n\tprogram = false\n")
    target = tmp_path / "new"
    env = {**os.environ, "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "bot", "init", str(target)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert run.returncode == 1, run.stderr
    assert not target.exists()


# --- the example: one source of truth ---------------------------------------------------------


def committed(path: str) -> dict[str, tuple[str, bytes]]:
    """``git ls-tree -r HEAD path`` of promobot's own repository: path → (mode, bytes)."""
    out = subprocess.run(
        ["git", "ls-tree", "-r", "-z", "HEAD", "--", path], cwd=ROOT, capture_output=True, check=True
    ).stdout
    found = {}
    for entry in out.split(b"\0"):
        if not entry:
            continue
        meta, name = entry.split(b"\t", 1)
        mode, _, blob = meta.decode().split()
        data = subprocess.run(["git", "cat-file", "blob", blob], cwd=ROOT, capture_output=True, check=True)
        found[name.decode()] = (mode, data.stdout)
    return found


def test_the_packaged_example_is_byte_for_byte_the_committed_environments() -> None:
    ours = committed("environments")
    packaged = {
        f"environments/{p.relative_to(EXAMPLE).as_posix()}": p for p in EXAMPLE.rglob("*") if p.is_file()
    }
    packaged = {k: v for k, v in packaged.items() if "__pycache__" not in k}
    assert sorted(packaged) == sorted(ours), (
        "environments/ and bot/templates/init/example/ list different files"
    )
    for path, (mode, data) in ours.items():
        assert packaged[path].read_bytes() == data, f"{path} drifted from the packaged example"
        assert (mode == "100755") == os.access(packaged[path], os.X_OK), f"{path}: mode {mode}"
    assert scaffold.example_files() == {p: v.read_bytes() for p, v in packaged.items()}


def test_init_example_writes_the_example_changing_only_the_editor_schema_lines(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    init(str(target), "--example")
    ours = committed("environments")
    written = {p: (target / p).read_bytes() for p in tracked(target) if p.startswith("environments/")}
    assert sorted(written) == sorted(ours)
    for path, (mode, data) in ours.items():
        new = written[path]
        if new != data:
            old_lines, new_lines = data.splitlines(), new.splitlines()
            assert old_lines[1:] == new_lines[1:], f"{path}: more than the $schema line differs"
            assert b"bot/schemas/" in old_lines[0] and b".promobot/schemas/" in new_lines[0]
        assert git(target, "ls-files", "-s", path).split()[0] == mode
    assert (target / "environments/checks/smoke.py").stat().st_mode & 0o111


def test_every_schema_line_points_at_a_schema_init_wrote(tmp_path: Path) -> None:
    for args, name in ((["--example"], "ex"), ([], "plain")):
        target = tmp_path / name
        init(str(target), *args)
        yaml_files = [p for p in tracked(target) if p.endswith(".yaml") and p.startswith("environments/")]
        assert yaml_files
        for rel in yaml_files:
            first = (target / rel).read_text().splitlines()[0]
            match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
            assert match, f"{rel} has no editor schema line"
            schema = (target / rel).parent / match[1]
            assert schema.resolve().is_file(), f"{rel}: {match[1]} does not exist"
            assert schema.resolve().parent == (target / ".promobot/schemas").resolve()
            assert json.loads(schema.read_text())["$schema"].startswith("https://json-schema.org/")


def test_init_example_then_the_readme_tour_runs_there(tmp_path: Path, make_cli: type[Cli]) -> None:
    target = tmp_path / "demo"
    init(str(target), "--example")
    demo = make_cli(target)
    assert validate(target)["ok"] is True
    opened = demo.json("promote", "fraud-detector", "--to", "staging")
    assert (opened["pr"], opened["version"]) == (1, "1.5.0")
    out = demo("pr", "review", "1", "--approve", actor="carol").stdout
    assert "merged" in out and "#2" in out
    assert demo.json("pr", "show", "1")["state"] == "merged"
    assert demo.json("status")["models"]["fraud-detector"]["staging"] == "1.5.0"
    sunday = demo.json("--now", "2026-11-29T12:00:00Z", "diff", "fraud-detector", "--to", "prod")
    assert any(g["kind"] == "freeze" and g["result"] == "pending" for g in sunday["gates"])
    assert demo.json("history", "fraud-detector")[0]["version"] == "1.5.0"
    demo("pr", "users", "set", "sam", "--permission", "maintain")  # as the README's tour does
    rolled = demo.json("rollback", "fraud-detector", "--env", "staging", actor="sam")
    assert rolled["version"] == "1.4.2" and rolled["pr"]


# --- the workflow -----------------------------------------------------------------------------


def render(pin: scaffold.ActionPin | None) -> str:
    return scaffold.plan_files(example=False, workflow=True, pin=pin, version="9.8.7", branch="main")[
        scaffold.WORKFLOW
    ].decode()


PIN = scaffold.ActionPin("acme/promobot", "0123456789abcdef0123456789abcdef01234567")


@pytest.mark.parametrize("pin", [None, PIN], ids=["placeholder", "pinned"])
def test_the_workflow_keeps_the_projects_triggers_permissions_and_pins(
    pin: scaffold.ActionPin | None,
) -> None:
    ours = yaml.safe_load(PROMOTION.read_text())
    theirs = yaml.safe_load(render(pin))
    assert triggers(theirs) == triggers(ours)  # the same events and activity types as promobot's own
    assert theirs["permissions"] == {} and theirs["concurrency"] == ours["concurrency"]
    job = theirs["jobs"]["handle-event"]
    assert job["permissions"] == ours["jobs"]["handle-event"]["permissions"]
    assert job["if"] == ours["jobs"]["handle-event"]["if"]
    uses = [s["uses"] for s in job["steps"]]
    assert all(SHA_PINNED_USES.match(u) for u in uses), uses
    checkout = job["steps"][0]["with"]
    assert checkout["persist-credentials"] is False and checkout["fetch-depth"] == 0
    assert not any("run" in s for s in job["steps"])


def test_the_workflow_names_a_placeholder_loudly_or_the_known_commit() -> None:
    placeholder = render(None)
    assert f"uses: OWNER/promobot@{'0' * 40}" in placeholder
    assert "TODO" in placeholder and "placeholder" in placeholder
    pinned = render(PIN)
    assert f"uses: acme/promobot@{PIN.sha} # promobot 9.8.7" in pinned
    assert "TODO" not in pinned and "OWNER" not in pinned


@pytest.mark.parametrize(
    ("direct_url", "expected"),
    [
        (
            {"url": "https://github.com/acme/promobot.git", "vcs_info": {"vcs": "git", "commit_id": PIN.sha}},
            PIN,
        ),
        ({"url": "https://github.com/acme/promobot", "vcs_info": {"vcs": "git", "commit_id": PIN.sha}}, PIN),
        (
            {
                "url": "ssh://git@github.com/acme/promobot.git",
                "vcs_info": {"vcs": "git", "commit_id": PIN.sha},
            },
            PIN,
        ),
        ({"url": "https://gitlab.com/acme/promobot", "vcs_info": {"vcs": "git", "commit_id": PIN.sha}}, None),
        ({"url": "https://github.com/acme/promobot", "vcs_info": {"vcs": "git", "commit_id": "v1.0"}}, None),
        ({"url": "file:///src/promobot", "dir_info": {"editable": True}}, None),
        ({"url": "https://files.example/promobot-1.0.tar.gz", "archive_info": {}}, None),
        (None, None),
    ],
    ids=["github.git", "github", "ssh", "gitlab", "no-sha", "editable", "archive", "index"],
)
def test_the_action_pin_comes_from_pips_record_of_a_github_commit(
    direct_url: dict[str, object] | None, expected: scaffold.ActionPin | None
) -> None:
    text = None if direct_url is None else json.dumps(direct_url)
    assert scaffold.pin_from_direct_url(text) == expected
    assert scaffold.pin_from_direct_url("{not json") is None


@needs_both_linters
@pytest.mark.parametrize("pin", [None, PIN], ids=["placeholder", "pinned"])
def test_the_generated_workflow_passes_zizmor_and_actionlint(
    tmp_path: Path, pin: scaffold.ActionPin | None
) -> None:
    workflow = tmp_path / ".github" / "workflows" / "promotion.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(render(pin))
    result = run_lint(str(workflow))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout and "(1 ignored)" in result.stdout
    assert "actionlint: no findings in 1 file(s)" in result.stdout


def test_the_pre_commit_config_runs_promobot_validate_on_environments(tmp_path: Path) -> None:
    init(str(tmp_path / "r"))
    config = yaml.safe_load((tmp_path / "r/.pre-commit-config.yaml").read_text())
    hooks = [h for repo in config["repos"] for h in repo["hooks"]]
    assert [h["entry"] for h in hooks] == ["promobot validate"]
    assert hooks[0]["pass_filenames"] is False and re.match(hooks[0]["files"], "environments/dev/x.yaml")


def test_help_lists_init_and_its_options() -> None:
    out = CliRunner().invoke(cli, ["init", "--help"]).stdout
    for word in ("[DIR]", "--example", "--workflow / --no-workflow", "Never overwrites", "--repo"):
        assert word in out
    assert PurePosixPath(scaffold.WORKFLOW).name in out or "workflow" in out
