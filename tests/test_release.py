"""Releases people can pin: the hash lock and the action's install, the package, the version, the changelog.

The real install from the lock, the sdist/wheel build, `twine check` and a promotion from the
installed wheel run in .ci/package-check.sh (it needs the package index); these tests check the
files and behaviour that can be checked offline.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.helpers.git import git, init_repo

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
ACTION_LOCK = ROOT / "requirements" / "action.txt"
RELEASE_LOCK = ROOT / "requirements" / "release.txt"
LOCK_SCRIPT = ROOT / ".ci" / "lock.sh"
ACTION = ROOT / "action.yml"
CI_RUN = ROOT / ".ci" / "run"

REQUIREMENT_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")
HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})\b")


def pyproject() -> dict[str, Any]:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))


def runtime_requirements() -> list[Requirement]:
    return [Requirement(r) for r in pyproject()["project"]["dependencies"]]


def parse_lock(path: Path) -> dict[str, tuple[str, list[str], str]]:
    """name → (version, sha256 hashes, the entry's text) for a pip-compile --generate-hashes file."""
    entries: dict[str, tuple[str, list[str], str]] = {}
    text = path.read_text(encoding="utf-8")
    # An entry is a requirement line plus its backslash-continued --hash lines and `# via` comments.
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = REQUIREMENT_LINE.match(block)
        if match is None:
            assert not block.strip() or block.lstrip().startswith("#"), (
                f"unpinned line in {path.name}: {block!r}"
            )
            continue
        name = canonicalize_name(match.group(1))
        entries[name] = (match.group(2), HASH.findall(block), block)
    return entries


def action_steps() -> list[dict[str, Any]]:
    data = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    steps: list[dict[str, Any]] = data["runs"]["steps"]
    return steps


def step(step_id: str) -> tuple[int, dict[str, Any]]:
    for index, s in enumerate(action_steps()):
        if s.get("id") == step_id:
            return index, s
    raise AssertionError(f"action.yml has no step with id {step_id!r}")


# --- the lock: every runtime dependency, transitively, pinned with hashes ------------------


def test_every_locked_package_is_pinned_exactly_with_sha256_hashes() -> None:
    for lock in (ACTION_LOCK, RELEASE_LOCK):
        entries = parse_lock(lock)
        assert entries, f"{lock.name} pins nothing"
        for name, (version, hashes, _) in entries.items():
            Version(version)  # an exact, valid version
            assert hashes, (
                f"{lock.name}: {name}=={version} has no --hash=sha256:… (pip --require-hashes refuses it)"
            )


def test_the_lock_pins_every_runtime_dependency_of_pyproject_at_an_allowed_version() -> None:
    locked = parse_lock(ACTION_LOCK)
    for req in runtime_requirements():
        name = canonicalize_name(req.name)
        assert name in locked, (
            f"{req.name} (pyproject.toml) is not in {ACTION_LOCK.name} — run `bash .ci/lock.sh`"
        )
        version = locked[name][0]
        assert req.specifier.contains(version, prereleases=True), (
            f"{name}=={version} in the lock does not satisfy {req} in pyproject.toml — run `bash .ci/lock.sh`"
        )


def test_the_lock_is_not_stale_its_direct_dependencies_are_exactly_pyprojects() -> None:
    direct = {
        name
        for name, (_, _, block) in parse_lock(ACTION_LOCK).items()
        if "promobot (pyproject.toml)" in block
    }
    assert direct == {canonicalize_name(r.name) for r in runtime_requirements()}


def test_every_locked_package_is_wanted_by_pyproject_or_by_another_locked_package() -> None:
    locked = parse_lock(ACTION_LOCK)
    for name, (_, _, block) in locked.items():
        # pip-compile's annotations: "    # via requests", or "    # via" then "    #   cryptography".
        parents = re.findall(r"(?m)^[ \t]+#[ \t]+(?:via[ \t]+)?([A-Za-z0-9][A-Za-z0-9._-]*)", block)
        assert parents, f"{name} says nothing about why it is locked (pip-compile annotates `# via`)"
        for parent in parents:
            if parent in ("via", "promobot"):
                continue
            assert canonicalize_name(parent) in locked, f"{name} is locked via {parent}, which is not locked"


def _closure(requirements: list[Requirement]) -> set[str]:
    """Names of everything pip would install for these requirements, read from installed metadata."""
    seen: set[str] = set()
    todo = list(requirements)
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in seen:
            continue
        seen.add(name)
        for line in metadata.distribution(name).requires or []:
            child = Requirement(line)
            extras = ["", *req.extras]  # a child marked `extra == "crypto"` comes only with that extra
            if child.marker is None or any(child.marker.evaluate({"extra": e}) for e in extras):
                child.marker = None
                todo.append(child)
    return seen


def test_the_lock_covers_the_whole_dependency_tree_pip_installs_for_promobot() -> None:
    # Walks the dependency metadata installed in this environment from pyproject's runtime
    # dependencies; .ci/package-check.sh proves the same for real (`pip install
    # --require-hashes` fails on any package missing from the lock, then `pip check`).
    locked = set(parse_lock(ACTION_LOCK))
    needed = _closure(runtime_requirements())
    assert needed - locked == set(), f"installed promobot needs {sorted(needed - locked)}, not in the lock"
    assert {"pygithub", "cryptography", "requests", "urllib3", "markupsafe"} <= needed


def test_the_lock_also_pins_the_build_backend_the_action_builds_promobot_with() -> None:
    backend = [Requirement(r) for r in pyproject()["build-system"]["requires"]]
    locked = parse_lock(ACTION_LOCK)
    for req in backend:
        name = canonicalize_name(req.name)
        assert name in locked and req.specifier.contains(locked[name][0])


def test_the_locks_say_how_to_regenerate_them_and_the_script_generates_hashes() -> None:
    for lock in (ACTION_LOCK, RELEASE_LOCK):
        assert "#    bash .ci/lock.sh" in lock.read_text(encoding="utf-8")
    script = LOCK_SCRIPT.read_text(encoding="utf-8")
    assert "--generate-hashes" in script
    assert "--no-emit-index-url" in script and "--no-emit-find-links" in script
    assert "requirements/action.txt" in script and "requirements/release.txt" in script


# --- the action installs from the lock, caches only its virtualenv ------------------------


def test_the_action_installs_dependencies_only_from_the_lock_with_hashes_and_wheels() -> None:
    _, deps = step("deps")
    run = deps["run"]
    assert '-r "$ACTION_PATH/requirements/action.txt"' in run
    assert "--require-hashes" in run
    assert "--only-binary=:all:" in run  # no setup.py of a dependency runs
    assert deps["if"] == "steps.cache.outputs.cache-hit != 'true'"


def test_the_action_installs_promobot_itself_without_dependencies_or_the_index() -> None:
    deps_index, _ = step("deps")
    index, install = step("promobot")
    assert index > deps_index
    run = install["run"]
    assert "--no-deps" in run and "--no-index" in run and "--no-build-isolation" in run
    assert '"$ACTION_PATH"' in run
    assert "pip check" in run
    assert "if" not in install, "promobot is installed on every run, cache hit or not"


def test_every_pip_install_in_the_action_is_hash_checked_or_offline() -> None:
    for s in action_steps():
        for line in s.get("run", "").splitlines():
            if "pip install" in line:
                assert "--require-hashes" in line or ("--no-deps" in line and "--no-index" in line), line


def test_the_action_caches_only_its_virtualenv_keyed_by_the_lock_hash() -> None:
    restore_index, restore = step("cache")
    assert restore["uses"].startswith("actions/cache/restore@")
    save_index, save = next(
        (i, s)
        for i, s in enumerate(action_steps())
        if str(s.get("uses", "")).startswith("actions/cache/save@")
    )
    venv_path = "${{ runner.temp }}/promobot-venv"
    for s in (restore, save):
        assert s["with"]["path"] == venv_path, "the cache holds the virtualenv and nothing else"
        assert s["with"]["key"] == "${{ steps.venv.outputs.key }}"
        assert "restore-keys" not in s["with"], "only an exact lock match may be restored"
    deps_index, _ = step("deps")
    promobot_index, _ = step("promobot")
    assert restore_index < deps_index < save_index < promobot_index, (
        "the virtualenv is saved before promobot is installed into it"
    )
    assert save["if"] == "steps.cache.outputs.cache-hit != 'true'"


def test_the_cache_key_step_hashes_the_lock_file(tmp_path: Path) -> None:
    _, key_step = step("venv")
    action_path = tmp_path / "action"
    (action_path / "requirements").mkdir(parents=True)
    lock = action_path / "requirements" / "action.txt"
    lock.write_text("click==8.1.7 --hash=sha256:" + "0" * 64 + "\n")
    output = tmp_path / "output"
    env = {
        "PATH": os.environ["PATH"],
        "ACTION_PATH": str(action_path),
        "PROMOBOT_PYTHON": sys.executable,
        "PYTHON_VERSION": "3.11.9",
        "RUNNER_OS": "Linux",
        "RUNNER_ARCH": "X64",
        "GITHUB_OUTPUT": str(output),
    }
    subprocess.run(["bash", "-e", "-c", key_step["run"]], env=env, check=True)
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    assert output.read_text() == f"key=promobot-venv-Linux-X64-py3.11.9-{digest}\n"
    lock.write_text(lock.read_text() + "jinja2==3.1.4 --hash=sha256:" + "1" * 64 + "\n")
    subprocess.run(["bash", "-e", "-c", key_step["run"]], env=env, check=True)
    assert output.read_text().splitlines()[1].endswith(hashlib.sha256(lock.read_bytes()).hexdigest())


# --- the package ------------------------------------------------------------------------


def test_ci_runs_the_package_check_and_it_installs_the_wheel_the_way_the_action_does() -> None:
    assert "bash .ci/package-check.sh\n" in CI_RUN.read_text(encoding="utf-8")
    script = (ROOT / ".ci" / "package-check.sh").read_text(encoding="utf-8")
    for part in (
        "-m build",
        "twine check --strict",
        "--require-hashes",
        "--no-deps",
        "init --example",
        "promote",
        "--approve",
    ):
        assert part in script


def test_the_wheel_holds_every_file_under_bot_templates_schemas_and_py_typed(tmp_path: Path) -> None:
    import setuptools

    if Version(setuptools.__version__) < Version("77"):
        pytest.skip(
            f"setuptools {setuptools.__version__} < 77 cannot build promobot — pip install -e '.[dev]'"
        )
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("promobot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    tracked = git(ROOT, "ls-files", "bot").split()
    assert [p for p in tracked if p not in names] == []
    assert {"bot/py.typed", "bot/templates/pr_body.md.j2", "bot/schemas/policy.schema.json"} <= names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert f"promobot-{pyproject()['project']['version']}.dist-info/METADATA" in names


# --- the version ------------------------------------------------------------------------


def test_version_prints_pyprojects_version_and_this_checkouts_commit() -> None:
    from bot.cli import cli

    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    version = pyproject()["project"]["version"]
    if (ROOT / ".git").exists():
        head = git(ROOT, "rev-parse", "HEAD")
        assert result.stdout == f"promobot, version {version} (commit {head})\n"
    else:
        assert result.stdout == f"promobot, version {version}\n"


def test_version_never_reports_the_commit_of_the_repository_promobot_works_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.adapters.version import describe

    other = init_repo(tmp_path / "gitops")
    (other / "f").write_text("x")
    git(other, "add", "f")
    git(other, "commit", "-q", "-m", "x")
    monkeypatch.chdir(other)
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    info = describe()
    other_head = git(other, "rev-parse", "HEAD")
    assert info.commit != other_head
    # An installed package sits in site-packages, maybe inside somebody's checkout: no commit.
    site = other / ".venv" / "lib" / "site-packages"
    site.mkdir(parents=True)
    installed = describe(site)
    assert installed.commit is None
    assert installed.version == metadata.version("promobot")


def test_version_of_a_source_tree_comes_from_its_pyproject(tmp_path: Path) -> None:
    from bot.adapters.version import describe

    (tmp_path / "pyproject.toml").write_text('[project]\nname = "promobot"\nversion = "9.8.7"\n')
    assert describe(tmp_path).version == "9.8.7"
    assert describe(tmp_path).text() == "promobot, version 9.8.7"
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "something-else"\nversion = "1.0"\n')
    assert describe(tmp_path).version == metadata.version("promobot")


# --- the changelog and its CI check ---------------------------------------------------------

CHANGELOG_SCRIPT = ROOT / ".ci" / "changelog.py"
KEEP_A_CHANGELOG = (
    "# Changelog\n\n## [Unreleased]\n\n### Added\n- a thing\n\n## [0.1.0] - 2026-12-02\n\n- first\n"
)


def changelog_run(repo: Path, *args: str, base: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CHANGELOG_BASE"}
    if base is not None:
        env["CHANGELOG_BASE"] = base
    return subprocess.run(
        [sys.executable, str(CHANGELOG_SCRIPT), *args], cwd=repo, env=env, capture_output=True, text=True
    )


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A repository whose main has bot/ and a CHANGELOG.md, and a branch `work` checked out from it."""
    repo = init_repo(tmp_path / "project")
    commit(repo, {"bot/app.py": "x = 1\n", "CHANGELOG.md": KEEP_A_CHANGELOG}, "start")
    git(repo, "checkout", "-q", "-b", "work")
    return repo


def test_changelog_check_fails_a_change_to_bot_without_an_entry_and_names_the_commit(project: Path) -> None:
    commit(project, {"bot/app.py": "x = 2\n"}, "Change x")
    done = changelog_run(project, "check", base="main")
    assert done.returncode == 1
    assert "Change x" in done.stderr
    assert "## [Unreleased]" in done.stderr and "Changelog: none" in done.stderr


def test_changelog_check_passes_with_an_unreleased_entry(project: Path) -> None:
    commit(project, {"bot/app.py": "x = 2\n"}, "Change x")
    commit(project, {"CHANGELOG.md": KEEP_A_CHANGELOG.replace("- a thing\n", "- a thing\n- x is 2\n")}, "Log")
    done = changelog_run(project, "check", base="main")
    assert done.returncode == 0, done.stderr
    assert "Unreleased section records" in done.stdout


def test_an_edit_to_a_released_section_is_not_an_entry(project: Path) -> None:
    commit(
        project, {"bot/app.py": "x = 2\n", "CHANGELOG.md": KEEP_A_CHANGELOG.replace("- first", "- 1st")}, "x"
    )
    assert changelog_run(project, "check", base="main").returncode == 1


@pytest.mark.parametrize(
    ("trailer", "passes"),
    [
        ("Changelog: none — tests only, no change in behaviour", True),
        ("Changelog: none (refactor)", True),
        ("Changelog: none", False),  # says that, but not why
        ("Changelog: later", False),
    ],
    ids=["reason-after-dash", "reason-in-parens", "no-reason", "not-none"],
)
def test_a_commit_can_say_why_it_needs_no_entry_with_a_trailer(
    project: Path, trailer: str, passes: bool
) -> None:
    commit(project, {"bot/app.py": "x = 2\n"}, f"Rename x\n\nBody.\n\n{trailer}\n")
    assert (changelog_run(project, "check", base="main").returncode == 0) is passes


def test_changes_outside_bot_need_no_entry(project: Path) -> None:
    commit(project, {"tests/test_app.py": "def test(): pass\n", "README.md": "hi\n"}, "Docs and tests")
    assert changelog_run(project, "check", base="main").returncode == 0


def test_only_the_branchs_own_commits_are_judged_not_mains_merged_in(project: Path) -> None:
    git(project, "checkout", "-q", "main")
    commit(project, {"bot/other.py": "y = 1\n"}, "Main moved on without an entry")
    git(project, "checkout", "-q", "work")
    commit(project, {"bot/app.py": "x = 2\n"}, "Refactor\n\nChangelog: none — refactor, same behaviour\n")
    git(project, "merge", "-q", "--no-edit", "main")
    done = changelog_run(project, "check", base="main")
    assert done.returncode == 0, done.stderr


def test_without_a_base_the_check_is_skipped_so_old_history_never_fails_ci(project: Path) -> None:
    commit(project, {"bot/app.py": "x = 2\n"}, "Change x")
    for base in (None, ""):
        done = changelog_run(project, "check", base=base)
        assert done.returncode == 0
        assert "skipped" in done.stdout
    # And on this repository itself, as CI runs it in a fresh clone of main.
    done = subprocess.run(
        ["bash", str(ROOT / ".ci" / "changelog-check.sh")],
        env={k: v for k, v in os.environ.items() if k != "CHANGELOG_BASE"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "skipped" in done.stdout
    assert "bash .ci/changelog-check.sh\n" in CI_RUN.read_text(encoding="utf-8")


def test_an_unknown_base_is_a_usage_error_that_says_to_fetch_history(project: Path) -> None:
    done = changelog_run(project, "check", base="no-such-branch")
    assert done.returncode == 2
    assert "fetch-depth: 0" in done.stderr


def test_release_notes_are_the_versions_section_and_the_tag_must_name_pyprojects_version(
    project: Path,
) -> None:
    (project / "pyproject.toml").write_text('[project]\nname = "promobot"\nversion = "0.1.0"\n')
    done = changelog_run(project, "notes", "--tag", "v0.1.0")
    assert (done.returncode, done.stdout) == (0, "- first\n")
    wrong = changelog_run(project, "notes", "--tag", "v0.2.0")
    assert wrong.returncode == 2 and "pyproject.toml's version 0.1.0" in wrong.stderr
    (project / "pyproject.toml").write_text('[project]\nname = "promobot"\nversion = "0.3.0"\n')
    missing = changelog_run(project, "notes", "--tag", "v0.3.0")
    assert missing.returncode == 2 and "no `## [0.3.0]` section" in missing.stderr


def test_this_repositorys_changelog_keeps_the_form_the_check_and_the_release_read() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\]", text, re.MULTILINE)
    assert headings[0] == "Unreleased"
    assert "0.1.0" in headings
    assert "Changelog: none" in text, "the changelog documents the trailer that excuses an entry"


def test_the_repository_tracks_no_symbolic_link() -> None:
    """What `uses: owner/promobot@SHA` downloads is the committed tree: a tracked link (a local
    server's virtualenv, say) points nowhere on a runner and breaks a fresh clone's CI."""
    staged = git(ROOT, "ls-files", "--stage")
    links = [line.split("\t", 1)[1] for line in staged.splitlines() if line.startswith("120000 ")]
    assert links == [], f"tracked symbolic links: {links} — git rm --cached them and ignore them"
