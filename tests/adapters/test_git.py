"""The git adapter against real repositories (and a bare remote) in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.adapters.git import GitWorkspace
from bot.core.trailers import build_message
from bot.errors import ConflictError, UsageError, WorkspaceError
from bot.ports import Workspace
from tests.helpers.git import git, run_git
from tests.helpers.git import isolated_git_config as isolated_git_config

TOKEN = "c2VjcmV0LXRva2VuLXNob3VsZC1uZXZlci1iZS1vbi1kaXNr"
MANIFEST = "environments/prod/fraud.yaml"


def manifest(version: str, *, replicas: int = 1, name: str = "fraud", quote: str = '"') -> str:
    return (
        "apiVersion: promobot/v1\n"
        "kind: ModelDeployment\n"
        f"name: {name}\n"
        f"version: {quote}{version}{quote}  # the release\n"
        "artifact:\n"
        f"  uri: s3://models/{name}/{version}/model.onnx\n"
        f"  digest: sha256:{'a' * 64}\n"
        "serving:\n"
        f"  replicas: {replicas}\n"
        "  version: not-top-level\n"
    )


def commit_file(
    repo: Path,
    path: str,
    text: str | None,
    message: str,
    *,
    name: str = "Dev Eloper",
    email: str = "dev@example.com",
) -> str:
    target = repo / path
    if text is None:
        git(repo, "rm", "-q", path)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        git(repo, "add", path)
    git(repo, "commit", "-q", "-F", "-", input=message, name=name, email=email)
    return git(repo, "rev-parse", "HEAD")


def init_repo(path: Path, *, identity: bool = True) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    if identity:
        git(path, "config", "user.name", "Dev Eloper")
        git(path, "config", "user.email", "dev@example.com")
    else:  # only for the seed commit
        git(path, "config", "user.name", "Seed")
        git(path, "config", "user.email", "seed@example.com")
    who = {} if identity else {"name": "Seed", "email": "seed@example.com"}
    commit_file(path, MANIFEST, manifest("1.0.0"), "Add fraud", **who)
    commit_file(path, "environments/prod/other.yaml", manifest("0.1.0", name="other"), "Add other", **who)
    commit_file(path, "environments/promotion.yaml", "apiVersion: promobot/v1\n", "Add policy", **who)
    if not identity:
        git(path, "config", "--unset", "user.name")
        git(path, "config", "--unset", "user.email")
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return init_repo(tmp_path / "repo")


@pytest.fixture
def ws(repo: Path) -> GitWorkspace:
    return GitWorkspace(repo)


def test_git_workspace_satisfies_the_workspace_port(ws: GitWorkspace) -> None:
    port: Workspace = ws  # mypy checks the structural match
    assert port.default_branch == "main"


class TestDiscover:
    def test_discover_finds_the_repository_root_from_a_subdirectory(self, repo: Path) -> None:
        found = GitWorkspace.discover(repo / "environments" / "prod")
        assert found.root == repo.resolve()

    def test_discover_outside_a_repository_is_a_usage_error(self, tmp_path: Path) -> None:
        lonely = tmp_path / "lonely"
        lonely.mkdir()
        with pytest.raises(UsageError, match=r"not a git repository.*pass --repo"):
            GitWorkspace.discover(lonely)

    def test_the_start_up_facts_answer_as_git_does_until_the_start_up_ends(self, repo: Path) -> None:
        git(repo, "config", "--add", "user.name", "Second Name")  # two values: the last one wins
        git(repo, "branch", "trunk")
        git(repo, "config", "init.defaultBranch", "trunk")
        found = GitWorkspace.discover(repo, start=True)
        before = found.git_calls
        facts = (found.current_branch(), found.default_branch, found.user_name())
        assert facts == ("main", "trunk", "Second Name")
        assert found.git_calls - before == 2  # init.defaultBranch with user.name, and whether trunk exists
        git(repo, "checkout", "-q", "--detach")
        git(repo, "config", "--unset-all", "user.name")
        assert (found.current_branch(), found.user_name()) == ("main", "Second Name")  # still the start-up
        found.end_start()
        assert (found.current_branch(), found.user_name()) == (None, None)  # git is asked again
        plain = GitWorkspace.discover(repo)  # without start: nothing is remembered
        assert plain.current_branch() is None and plain.default_branch == "trunk"
        git(repo, "checkout", "-q", "--orphan", "fresh")  # unborn: the start-up facts are not known
        unborn = GitWorkspace.discover(repo / "environments", start=True)
        assert unborn.root == repo.resolve() and unborn.current_branch() == "fresh"
        assert unborn.default_branch == "trunk"


class TestResolveThenRead:
    """``resolve`` answers through a ``cat-file`` that stays open for the read that follows."""

    def test_a_tip_and_the_files_at_it_cost_one_process(self, repo: Path, ws: GitWorkspace) -> None:
        before = ws.git_calls
        tip = ws.resolve("main")
        assert tip == git(repo, "rev-parse", "main")
        assert ws.read(tip, MANIFEST) == manifest("1.0.0").encode()
        assert ws.git_calls - before == 1
        assert ws.read(tip, MANIFEST) == manifest("1.0.0").encode()  # the open one ended: a new one
        assert ws.git_calls - before == 2

    def test_answers_as_rev_parse_does(self, repo: Path, ws: GitWorkspace) -> None:
        tree = git(repo, "rev-parse", "main^{tree}")
        assert ws.resolve("nowhere") is None and ws.resolve(tree) is None  # a tree is not a commit
        assert ws.resolve("main~1") == git(repo, "rev-parse", "main~1")
        assert ws.resolve("main~99") is None
        git(repo, "tag", "-a", "-m", "annotated", "v1", "main~1")
        assert ws.resolve("v1") == git(repo, "rev-parse", "main~1")  # a tag peels to its commit

    def test_another_git_call_in_between_ends_the_open_process(self, repo: Path, ws: GitWorkspace) -> None:
        tip = ws.resolve("main")
        assert tip is not None
        commit_file(repo, MANIFEST, manifest("2.0.0"), "Bump")  # objects and refs move meanwhile
        assert ws.list_dir(tip, "environments/prod") == ["fraud.yaml", "other.yaml"]
        assert ws.read("main", MANIFEST) == manifest("2.0.0").encode()
        assert ws.resolve("main") == git(repo, "rev-parse", "main")

    def test_no_git_process_is_left_behind_by_resolves_in_a_row_or_side_by_side(
        self, repo: Path, ws: GitWorkspace
    ) -> None:
        import threading

        def git_children() -> set[str]:
            pids = {p for f in Path("/proc/self/task").glob("*/children") for p in f.read_text().split()}
            return {p for p in pids if Path(f"/proc/{p}/comm").read_text().strip() == "git"}

        tip = git(repo, "rev-parse", "main")
        assert [ws.resolve("main") for _ in range(5)] == [tip] * 5
        answers: list[str | None] = []
        threads = [
            threading.Thread(target=lambda: answers.extend(ws.resolve("main") for _ in range(10)))
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert answers == [tip] * 40
        assert len(git_children()) <= 1  # only the last one stays open, for a read
        ws._end_pending()
        assert git_children() == set()

    def test_a_workspace_that_goes_away_ends_its_open_process(self, repo: Path) -> None:
        import gc

        ws = GitWorkspace(repo)
        assert ws.resolve("main") is not None
        proc = ws._pending
        assert proc is not None and proc.returncode is None
        del ws
        gc.collect()
        assert proc.returncode == 0

    def test_a_forked_child_lets_go_of_the_parents_open_process(self, ws: GitWorkspace) -> None:
        import os

        tip = ws.resolve("main")
        assert tip is not None and ws._pending is not None
        stdin = ws._pending.stdin
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: its copy of the pipes is closed, the process left to the parent
            ok = ws._pending is None and stdin is not None and stdin.closed
            os.write(write_end, b"1" if ok else b"0")
            os._exit(0)
        os.close(write_end)
        answer = os.read(read_end, 1)
        os.close(read_end)
        os.waitpid(pid, 0)
        assert answer == b"1"
        assert ws.read(tip, MANIFEST) == manifest("1.0.0").encode()  # the parent's process still answers


class TestReading:
    def test_read_returns_content_at_a_ref_without_checking_it_out(
        self, repo: Path, ws: GitWorkspace
    ) -> None:
        first = git(repo, "rev-list", "--max-parents=0", "HEAD")
        commit_file(repo, MANIFEST, manifest("2.0.0"), "Bump")
        assert ws.read(first, MANIFEST) == manifest("1.0.0").encode()
        assert ws.read("main", MANIFEST) == manifest("2.0.0").encode()
        assert ws.read("main", "environments/prod/missing.yaml") is None
        assert ws.read("main", "environments/prod") is None  # a directory is not a file
        assert git(repo, "status", "--porcelain") == ""

    def test_list_dir_names_only_the_files_directly_inside(self, ws: GitWorkspace) -> None:
        assert ws.list_dir("main", "environments/prod") == ["fraud.yaml", "other.yaml"]
        assert ws.list_dir("main", "environments") == ["promotion.yaml"]
        assert ws.list_dir("main", "environments/nowhere") == []

    def test_blob_ids_and_read_blobs_use_one_process_each(self, ws: GitWorkspace) -> None:
        before = ws.git_calls
        ids = ws.blob_ids("main", "environments")
        assert set(ids) == {
            "environments/prod/fraud.yaml",
            "environments/prod/other.yaml",
            "environments/promotion.yaml",
        }
        blobs = ws.read_blobs(ids.values())
        assert ws.git_calls - before == 2
        assert blobs[ids[MANIFEST]] == manifest("1.0.0").encode()
        assert ws.read_blobs(["0" * 40]) == {}

    def test_tree_id_is_git_s_and_a_tree_read_with_its_files_costs_no_process(
        self, repo: Path, ws: GitWorkspace
    ) -> None:
        tip = git(repo, "rev-parse", "main")
        assert ws.tree_id("main", "environments") == git(repo, "rev-parse", "main:environments")
        assert ws.tree_id("main", "environments/prod/") == git(repo, "rev-parse", "main:environments/prod")
        assert ws.tree_id("main", "environments/nowhere") is None
        assert ws.tree_id("main", MANIFEST) is None  # a file is not a tree
        ws.read_many(tip, ["environments/promotion.yaml"])  # its tree comes along (symlink check)
        before = ws.git_calls
        assert ws.tree_id(tip, "environments") == git(repo, "rev-parse", "main:environments")
        assert ws.git_calls == before
        commit_file(repo, MANIFEST, manifest("2.0.0"), "Bump")  # a new tip: a new tree, asked of git
        assert (
            ws.tree_id("main", "environments")
            == git(repo, "rev-parse", "main:environments")
            != (ws.tree_id(tip, "environments"))
        )
        assert ws.git_calls == before + 1

    def test_read_tree_files_reads_a_ref_or_the_working_tree(self, repo: Path, ws: GitWorkspace) -> None:
        (repo / MANIFEST).write_text("edited on disk\n")
        (repo / "environments/dev").mkdir()
        (repo / "environments/dev/new.yaml").write_text("untracked\n")
        (repo / ".gitignore").write_text("*.ignored\n")
        (repo / "environments/dev/x.ignored").write_text("ignored\n")
        at_ref = ws.read_tree_files("environments", ref="main")
        on_disk = ws.read_tree_files("environments")
        assert at_ref[MANIFEST] == manifest("1.0.0").encode()
        assert "environments/dev/new.yaml" not in at_ref
        assert on_disk[MANIFEST] == b"edited on disk\n"
        assert on_disk["environments/dev/new.yaml"] == b"untracked\n"
        assert "environments/dev/x.ignored" not in on_disk

    def test_export_writes_a_commit_s_files_elsewhere(
        self, repo: Path, ws: GitWorkspace, tmp_path: Path
    ) -> None:
        index_before = (repo / ".git" / "index").read_bytes()
        ws.export("main", tmp_path / "export")
        assert (tmp_path / "export" / MANIFEST).read_text() == manifest("1.0.0")
        assert not (tmp_path / "export" / ".git").exists()
        assert (repo / ".git" / "index").read_bytes() == index_before

    def test_commit_message_and_user_name(self, ws: GitWorkspace) -> None:
        assert ws.commit_message("main") == "Add policy\n"
        assert ws.user_name() == "Dev Eloper"
        assert ws.git_common_dir() == ws.git_dir

    def test_resolve_gives_a_sha_or_none(self, repo: Path, ws: GitWorkspace) -> None:
        assert ws.resolve("main") == git(repo, "rev-parse", "main")
        assert ws.resolve("no-such-branch") is None

    @pytest.mark.parametrize(
        ("ref", "path"),
        [("--output=/tmp/x", MANIFEST), ("main", "../outside"), ("main", ".git/config"), ("ma in", MANIFEST)],
        ids=["option-as-ref", "parent-path", "git-dir", "space-in-ref"],
    )
    def test_unsafe_refs_and_paths_are_refused(self, ws: GitWorkspace, ref: str, path: str) -> None:
        with pytest.raises(UsageError):
            ws.read(ref, path)


class TestCommit:
    def test_commit_leaves_working_tree_index_and_refs_alone(self, repo: Path, ws: GitWorkspace) -> None:
        (repo / "scratch.txt").write_text("untracked\n")
        index_before = (repo / ".git" / "index").read_bytes()
        main_before = ws.resolve("main")
        assert main_before is not None
        message = build_message("Promote fraud 2.0.0", "", [("Promobot-Action", "promote")])
        sha = ws.commit(
            parent="main",
            files={MANIFEST: manifest("2.0.0").encode(), "environments/prod/other.yaml": None},
            message=message,
            author="Alice <alice@example.com>",
        )
        assert (repo / ".git" / "index").read_bytes() == index_before
        assert (repo / MANIFEST).read_text() == manifest("1.0.0")
        assert ws.resolve("main") == main_before
        assert git(repo, "status", "--porcelain") == "?? scratch.txt"
        assert ws.read(sha, MANIFEST) == manifest("2.0.0").encode()
        assert ws.read(sha, "environments/prod/other.yaml") is None
        assert git(repo, "rev-parse", f"{sha}^") == main_before
        assert (
            git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%B", sha)
            == f"Alice <alice@example.com>|Alice <alice@example.com>|{message}".strip()
        )

    def test_commit_on_a_machine_without_git_identity_uses_promobot(self, tmp_path: Path) -> None:
        repo = init_repo(tmp_path / "fresh", identity=False)
        ws = GitWorkspace(repo)
        sha = ws.commit(parent="main", files={MANIFEST: b"x\n"}, message="m\n")
        assert git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>", sha) == (
            "promobot <promobot@localhost>|promobot <promobot@localhost>"
        )

    def test_commit_on_a_missing_parent_is_a_workspace_error(self, ws: GitWorkspace) -> None:
        with pytest.raises(WorkspaceError, match="no such commit"):
            ws.commit(parent="nope", files={}, message="m")


class TestUpdateBranch:
    def test_creating_a_branch_that_exists_is_a_conflict(self, ws: GitWorkspace) -> None:
        sha = ws.commit(parent="main", files={MANIFEST: b"v2\n"}, message="m")
        ws.update_branch("promobot/prod/fraud", sha, expected=None)
        assert ws.resolve("promobot/prod/fraud") == sha
        with pytest.raises(ConflictError, match="already exists"):
            ws.update_branch("promobot/prod/fraud", sha, expected=None)

    def test_a_moved_branch_refuses_the_compare_and_swap(self, ws: GitWorkspace) -> None:
        main = ws.resolve("main")
        assert main is not None
        first = ws.commit(parent=main, files={MANIFEST: b"v2\n"}, message="m")
        ws.update_branch("promobot/prod/fraud", first, expected=None)
        second = ws.commit(parent=first, files={MANIFEST: b"v3\n"}, message="m")
        with pytest.raises(ConflictError, match="moved"):
            ws.update_branch("promobot/prod/fraud", second, expected=main)
        assert ws.resolve("promobot/prod/fraud") == first

    def test_a_non_fast_forward_is_refused_unless_forced(self, ws: GitWorkspace) -> None:
        main = ws.resolve("main")
        assert main is not None
        first = ws.commit(parent=main, files={MANIFEST: b"v2\n"}, message="a")
        other = ws.commit(parent=main, files={MANIFEST: b"v3\n"}, message="b")
        ws.update_branch("promobot/prod/fraud", first, expected=None)
        with pytest.raises(ConflictError, match="not a fast-forward"):
            ws.update_branch("promobot/prod/fraud", other, expected=first)
        ws.update_branch("promobot/prod/fraud", other, expected=first, force=True)
        assert ws.resolve("promobot/prod/fraud") == other

    def test_force_on_the_default_branch_is_refused(self, ws: GitWorkspace) -> None:
        main = ws.resolve("main")
        assert main is not None
        with pytest.raises(WorkspaceError, match="force-move the default branch"):
            ws.update_branch("main", main, expected=main, force=True)

    def test_a_clean_checkout_follows_its_branch(self, repo: Path, ws: GitWorkspace) -> None:
        main = ws.resolve("main")
        assert main is not None
        sha = ws.commit(parent=main, files={MANIFEST: manifest("2.0.0").encode()}, message="m")
        ws.update_branch("main", sha, expected=main)
        assert git(repo, "rev-parse", "HEAD") == sha
        assert (repo / MANIFEST).read_text() == manifest("2.0.0")
        assert git(repo, "status", "--porcelain") == ""
        assert ws.warnings == []

    def test_local_edits_to_other_files_are_carried_along(self, repo: Path, ws: GitWorkspace) -> None:
        main = ws.resolve("main")
        assert main is not None
        (repo / "environments/promotion.yaml").write_text("edited\n")
        sha = ws.commit(parent=main, files={MANIFEST: manifest("2.0.0").encode()}, message="m")
        ws.update_branch("main", sha, expected=main)
        assert (repo / MANIFEST).read_text() == manifest("2.0.0")
        assert (repo / "environments/promotion.yaml").read_text() == "edited\n"
        assert git(repo, "status", "--porcelain") == "M environments/promotion.yaml"

    def test_local_edits_to_the_same_file_stay_and_warn(self, repo: Path, ws: GitWorkspace) -> None:
        main = ws.resolve("main")
        assert main is not None
        (repo / MANIFEST).write_text("my edit\n")
        sha = ws.commit(parent=main, files={MANIFEST: manifest("2.0.0").encode()}, message="m")
        ws.update_branch("main", sha, expected=main)
        assert ws.resolve("main") == sha
        assert (repo / MANIFEST).read_text() == "my edit\n"
        assert len(ws.warnings) == 1
        assert "uncommitted changes" in ws.warnings[0]

    def test_delete_branch_ignores_absent_branches(self, ws: GitWorkspace) -> None:
        sha = ws.commit(parent="main", files={MANIFEST: b"v2\n"}, message="m")
        ws.update_branch("promobot/prod/fraud", sha, expected=None)
        ws.delete_branch("promobot/prod/fraud")
        ws.delete_branch("promobot/prod/fraud")
        assert ws.resolve("promobot/prod/fraud") is None

    @pytest.mark.parametrize(
        "branch",
        ["-x", "a..b", "a b", "x.lock", "HEAD", "a//b"],
        ids=["dash", "dots", "space", "lock", "head", "slashes"],
    )
    def test_invalid_branch_names_are_refused(self, ws: GitWorkspace, branch: str) -> None:
        main = ws.resolve("main")
        assert main is not None
        with pytest.raises(UsageError, match="branch name"):
            ws.update_branch(branch, main, expected=None)


@pytest.fixture
def remote_pair(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A bare remote seeded from a repository, and a fresh clone of it."""
    seed = init_repo(tmp_path / "seed")
    bare = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(bare))
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(bare), str(clone))
    yield bare, clone


class TestRemoteMode:
    def test_push_with_lease_and_the_token_never_touches_disk(self, remote_pair: tuple[Path, Path]) -> None:
        bare, clone = remote_pair
        ws = GitWorkspace(clone, remote="origin", auth_header=f"AUTHORIZATION: basic {TOKEN}")
        assert ws.default_branch == "main"
        sha = ws.commit(parent="main", files={MANIFEST: b"v2\n"}, message="m")
        ws.update_branch("promobot/prod/fraud", sha, expected=None)
        assert git(bare, "rev-parse", "refs/heads/promobot/prod/fraud") == sha
        assert ws.resolve("promobot/prod/fraud") == sha
        stale = ws.resolve("main")
        assert stale is not None
        newer = ws.commit(parent=sha, files={MANIFEST: b"v3\n"}, message="m")
        with pytest.raises(ConflictError):
            ws.update_branch("promobot/prod/fraud", newer, expected=stale, force=True)
        assert git(bare, "rev-parse", "refs/heads/promobot/prod/fraud") == sha
        for directory in (clone / ".git", bare):
            for file in directory.rglob("*"):
                if file.is_file():
                    assert TOKEN.encode() not in file.read_bytes(), file

    def test_auth_header_travels_in_the_git_process_environment(self, remote_pair: tuple[Path, Path]) -> None:
        _, clone = remote_pair
        ws = GitWorkspace(clone, remote="origin", auth_header=f"AUTHORIZATION: basic {TOKEN}")
        seen = ws._run(["config", "--get", "http.extraHeader"], env=ws._auth_env()).out.strip()
        assert seen == f"AUTHORIZATION: basic {TOKEN}"
        assert run_git(clone, "config", "--get", "http.extraHeader", check=False).returncode == 1

    def test_branch_names_read_the_remote_after_refresh(
        self, remote_pair: tuple[Path, Path], tmp_path: Path
    ) -> None:
        bare, clone = remote_pair
        other = tmp_path / "other"
        git(tmp_path, "clone", "-q", str(bare), str(other))
        pushed = commit_file(other, MANIFEST, manifest("3.0.0"), "Elsewhere", name="O", email="o@example.com")
        git(other, "push", "-q", "origin", "main")
        ws = GitWorkspace(clone, remote="origin")
        ws.refresh()
        assert ws.resolve("main") == pushed
        assert git(clone, "rev-parse", "refs/heads/main") != pushed  # the local branch is stale
        assert ws.read("main", MANIFEST) == manifest("3.0.0").encode()

    def test_a_rejected_push_on_the_default_branch_is_a_conflict(
        self, remote_pair: tuple[Path, Path]
    ) -> None:
        bare, clone = remote_pair
        ws = GitWorkspace(clone, remote="origin")
        main = ws.resolve("main")
        assert main is not None
        ahead = ws.commit(parent=main, files={MANIFEST: b"v2\n"}, message="m")
        ws.update_branch("main", ahead, expected=main)
        assert git(bare, "rev-parse", "main") == ahead
        again = ws.commit(parent=main, files={MANIFEST: b"v3\n"}, message="m")
        with pytest.raises(ConflictError):
            ws.update_branch("main", again, expected=main)
        assert git(bare, "rev-parse", "main") == ahead


def promote_message(version: str, previous: str, *, pr: int, approved: str = "") -> str:
    trailers = [
        ("Promobot-Action", "promote"),
        ("Promobot-Model", "fraud"),
        ("Promobot-From", "staging"),
        ("Promobot-To", "prod"),
        ("Promobot-Version", version),
        ("Promobot-Previous-Version", previous),
        ("Promobot-PR", str(pr)),
    ]
    if approved:
        trailers.append(("Approved-by", approved))
    return build_message(f"Promote fraud {version} to prod (#{pr})", "", trailers)


class TestHistory:
    def test_history_reads_trailers_and_manual_commits_newest_first(
        self, repo: Path, ws: GitWorkspace
    ) -> None:
        promoted = commit_file(
            repo, MANIFEST, manifest("1.1.0"), promote_message("1.1.0", "1.0.0", pr=3, approved="alice, bob")
        )
        commit_file(repo, "environments/prod/other.yaml", manifest("0.2.0", name="other"), "Other model")
        commit_file(repo, MANIFEST, manifest("1.1.0", replicas=5), "Scale up")
        rollback = build_message(
            'Revert "Promote fraud 1.1.0 to prod (#3)"',
            f"This reverts commit {promoted}.",
            [
                ("Promobot-Action", "rollback"),
                ("Promobot-Model", "fraud"),
                ("Promobot-To", "prod"),
                ("Promobot-Version", "1.0.0"),
                ("Promobot-Previous-Version", "1.1.0"),
                ("Promobot-Rollback-Of", promoted),
            ],
        )
        commit_file(repo, MANIFEST, manifest("1.0.0", replicas=5, quote="'"), rollback)
        commit_file(repo, MANIFEST, manifest("1.2.0", replicas=5, quote=""), "Hand edit")

        entries = ws.history(MANIFEST, ref="main")

        assert [(e.action, e.previous_version, e.version) for e in entries] == [
            ("manual", "1.0.0", "1.2.0"),
            ("rollback", "1.1.0", "1.0.0"),
            ("manual", "1.1.0", "1.1.0"),
            ("promote", "1.0.0", "1.1.0"),
            ("manual", None, "1.0.0"),
        ]
        assert {(e.model, e.env) for e in entries} == {("fraud", "prod")}
        assert entries[1].rollback_of == promoted
        assert entries[3].pr == 3
        assert entries[3].approved_by == ("alice", "bob")
        assert entries[3].from_env == "staging"
        assert entries[3].sha == promoted
        assert entries[0].subject == "Hand edit"
        assert entries[0].author == "Dev Eloper"
        assert entries[0].at >= entries[-1].at

    def test_history_of_a_deleted_manifest_ends_with_no_version(self, repo: Path, ws: GitWorkspace) -> None:
        commit_file(repo, MANIFEST, None, "Retire fraud")
        entries = ws.history(MANIFEST, ref="main")
        assert [(e.previous_version, e.version) for e in entries] == [("1.0.0", None), (None, "1.0.0")]

    def test_history_many_reads_several_environments_in_one_process(
        self, repo: Path, ws: GitWorkspace
    ) -> None:
        commit_file(repo, "environments/dev/fraud.yaml", manifest("9.0.0"), "Dev")
        ws.git_dir  # noqa: B018 - warm the cached repository facts
        before = ws.git_calls
        entries = ws.history_many([MANIFEST, "environments/dev/fraud.yaml"], ref="main")
        assert ws.git_calls - before == 1
        assert [(e.env, e.version) for e in entries] == [("dev", "9.0.0"), ("prod", "1.0.0")]

    def test_with_changed_path_filters_several_paths_read_one_log_each_in_the_same_order(
        self, repo: Path, ws: GitWorkspace, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        dev = "environments/dev/fraud.yaml"
        commit_file(repo, dev, manifest("2.0.0"), "Dev 2.0.0")
        (repo / dev).write_text(manifest("2.1.0"))
        (repo / MANIFEST).write_text(manifest("2.0.0"))
        git(repo, "commit", "-q", "-a", "-m", "Both at once")
        git(repo, "checkout", "-q", "-b", "side")
        commit_file(repo, dev, manifest("3.0.0"), "Dev 3.0.0 on a side branch")
        git(repo, "checkout", "-q", "main")
        # Older by the clock than everything before it: graph order, never dates, decides.
        monkeypatch.setenv("GIT_COMMITTER_DATE", "2001-01-01T00:00:00Z")
        commit_file(repo, MANIFEST, manifest("2.1.0"), "Prod 2.1.0, skewed clock")
        monkeypatch.delenv("GIT_COMMITTER_DATE")
        git(repo, "merge", "-q", "--no-ff", "-m", "Merge side", "side")
        paths = [MANIFEST, dev, "environments/staging/fraud.yaml"]
        one_log = ws.history_many(paths, ref="main")
        assert ws.ensure_commit_graph() is True
        graphed = GitWorkspace(repo)
        graphed.git_dir  # noqa: B018 - warm the cached repository facts
        before = graphed.git_calls
        per_path = graphed.history_many(paths, ref="main")
        assert graphed.git_calls - before == 1 + len(paths)  # rev-list --topo-order, then a log per path
        assert per_path == one_log
        assert [(e.subject, e.env, e.version) for e in per_path] == [
            ("Merge side", "dev", "3.0.0"),
            ("Dev 3.0.0 on a side branch", "dev", "3.0.0"),
            ("Prod 2.1.0, skewed clock", "prod", "2.1.0"),
            ("Both at once", "prod", "2.0.0"),
            ("Both at once", "dev", "2.1.0"),
            ("Dev 2.0.0", "dev", "2.0.0"),
            ("Add fraud", "prod", "1.0.0"),
        ]
        assert graphed.history(MANIFEST, ref="main") == [e for e in one_log if e.env == "prod"]
        with pytest.raises(WorkspaceError, match="no-such-branch"):  # a failed process of the four
            graphed.history_many(paths, ref="no-such-branch")

    def test_history_costs_the_same_processes_however_long_it_is(self, repo: Path, ws: GitWorkspace) -> None:
        ws.git_dir  # noqa: B018
        before = ws.git_calls
        ws.history(MANIFEST, ref="main")
        short = ws.git_calls - before
        for i in range(15):
            commit_file(repo, MANIFEST, manifest(f"1.{i + 1}.0"), f"Bump {i}")
        before = ws.git_calls
        entries = ws.history(MANIFEST, ref="main")
        assert len(entries) == 16
        assert ws.git_calls - before == short == 1

    def test_history_of_a_non_manifest_path_is_a_usage_error(self, ws: GitWorkspace) -> None:
        with pytest.raises(UsageError, match="manifest path"):
            ws.history("environments/../x.yaml", ref="main")

    def test_commit_graph_is_written_once_then_only_when_stale(self, repo: Path, ws: GitWorkspace) -> None:
        assert ws.ensure_commit_graph() is True
        assert (repo / ".git/objects/info/commit-graph").is_file()
        assert ws.ensure_commit_graph() is False
        commit_file(repo, MANIFEST, manifest("5.0.0"), "Bump")
        assert ws.ensure_commit_graph(max_new_commits=5) is False
        assert ws.ensure_commit_graph(max_new_commits=1) is True
        assert [e.version for e in ws.history(MANIFEST, ref="main")] == ["5.0.0", "1.0.0"]


class TestShallow:
    @pytest.fixture
    def shallow(self, remote_pair: tuple[Path, Path], tmp_path: Path) -> Path:
        bare, _ = remote_pair
        target = tmp_path / "shallow"
        git(tmp_path, "clone", "-q", "--depth", "1", f"file://{bare}", str(target))
        return target

    def test_local_history_in_a_shallow_clone_says_how_to_fix_it(self, shallow: Path) -> None:
        ws = GitWorkspace(shallow)
        assert ws.is_shallow()
        with pytest.raises(WorkspaceError, match="fetch-depth: 0"):
            ws.history(MANIFEST, ref="main")

    def test_remote_mode_unshallows_before_reading_history(self, shallow: Path) -> None:
        ws = GitWorkspace(shallow, remote="origin")
        entries = ws.history(MANIFEST, ref="main")
        assert not ws.is_shallow()
        assert [e.version for e in entries] == ["1.0.0"]
        assert entries[0].subject == "Add fraud"


class TestMergeHelpers:
    def test_merge_tree_merges_cleanly_or_reports_a_conflict(self, ws: GitWorkspace) -> None:
        main = ws.resolve("main")
        assert main is not None
        left = ws.commit(parent=main, files={MANIFEST: b"left\n"}, message="l")
        right = ws.commit(parent=main, files={"environments/prod/other.yaml": b"right\n"}, message="r")
        clash = ws.commit(parent=main, files={MANIFEST: b"clash\n"}, message="c")
        tree = ws.merge_tree(left, right)
        assert tree is not None
        merged = ws.commit_tree(tree, [left, right], "Merge\n")
        assert ws.read(merged, MANIFEST) == b"left\n"
        assert ws.read(merged, "environments/prod/other.yaml") == b"right\n"
        assert ws.commits_between(main, merged)[0] == merged
        assert ws.is_ancestor(right, merged)
        assert ws.merge_tree(left, clash) is None
        assert ws.merge_tree(left, right, merge_base=main) is not None
        assert ws.merge_tree(left, clash, merge_base=main) is None

    def test_commit_time_is_the_committer_timestamp(self, repo: Path, ws: GitWorkspace) -> None:
        assert ws.commit_time("main") == int(git(repo, "log", "-1", "--format=%ct"))
