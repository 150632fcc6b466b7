"""The local forge (bot/adapters/localforge.py) against real git repositories in tmp_path."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.adapters.git import GitWorkspace
from bot.adapters.localforge import LocalForge
from bot.core.model import Permission
from bot.errors import ConflictError, ForgeError, UsageError
from bot.ports import Forge
from tests.helpers.git import commit_to, git, has_ref

ROOT = Path(__file__).resolve().parents[2]
EMAIL = "alice@example.com"


# --------------------------------------------------------------------------- real git helpers


def commit_on_branch(
    repo: Path, branch: str, files: dict[str, str], *, start: str = "main", author: str = "Alice"
) -> str:
    return commit_to(repo, branch, files, start=start, name=author, email=EMAIL)


def commit_on_main(repo: Path, files: dict[str, str]) -> str:
    """Commit on the checked-out main through the working tree (keeps it clean)."""
    for path, content in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(content)
    git(repo, "add", "--", *files)
    git(repo, "commit", "-q", "-m", "main moves", name="Alice", email=EMAIL)
    return git(repo, "rev-parse", "HEAD")


def show(repo: Path, ref: str, path: str) -> str:
    return git(repo, "show", f"{ref}:{path}")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "environments" / "prod").mkdir(parents=True)
    (path / "environments" / "prod" / "a.yaml").write_text("version: '1'\n")
    (path / "environments" / "prod" / "b.yaml").write_text("version: '1'\n")
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "initial", name="Alice", email=EMAIL)
    return path


@pytest.fixture
def forge(repo: Path) -> LocalForge:
    return LocalForge(GitWorkspace(repo))


def open_promotion(forge: LocalForge, repo: Path, branch: str = "promobot/prod/a") -> int:
    commit_on_branch(repo, branch, {"environments/prod/a.yaml": "version: '2'\n"})
    return forge.open_pr(head=branch, base="main", title=f"Promote {branch}", body="body", labels=()).number


# --------------------------------------------------------------------------- pull requests


def test_the_local_forge_is_a_forge_and_reading_it_writes_nothing(forge: LocalForge, repo: Path) -> None:
    port: Forge = forge  # mypy checks the Protocol

    assert port.bot_login == "promobot"
    assert port.list_prs(state=None) == [] and port.find_pr("x") is None and port.list_checks("a" * 40) == []
    assert port.permission("anyone") == Permission.WRITE
    assert not (repo / ".git" / "promobot").exists()


def test_reads_leave_the_state_exactly_as_it_was(forge: LocalForge, repo: Path) -> None:
    number = open_promotion(forge, repo)
    forge.comment(number, "hi")
    before, raw = forge.snapshot(), forge.state_path.read_bytes()

    forge.get_pr(number)
    forge.list_comments(number)
    forge.list_reviews(number)
    forge.pushers(number)

    assert forge.snapshot() == before and forge.state_path.read_bytes() == raw


def test_the_state_file_lives_in_the_git_dir_and_is_schema_versioned(forge: LocalForge, repo: Path) -> None:
    open_promotion(forge, repo)

    assert forge.state_path == repo / ".git" / "promobot" / "forge.json"
    data = json.loads(forge.state_path.read_text())
    assert data["version"] == 1 and data["next_number"] == 2 and "1" in data["pulls"]


@pytest.mark.parametrize(
    ("head", "base", "error"),
    [
        ("nope", "main", ForgeError),
        ("promobot/prod/a", "nope", ForgeError),
        ("main", "main", ForgeError),
        ("behind", "main", ForgeError),
    ],
    ids=["head-missing", "base-missing", "head-is-base", "no-commits-ahead"],
)
def test_opening_a_pr_github_would_refuse_is_refused(
    forge: LocalForge, repo: Path, head: str, base: str, error: type[Exception]
) -> None:
    commit_on_branch(repo, "promobot/prod/a", {"x": "1"})
    git(repo, "branch", "behind", "main")

    with pytest.raises(error):
        forge.open_pr(head=head, base=base, title="t", body="", labels=())
    assert forge.list_prs(state=None) == []


# --------------------------------------------------------------------------- comments, reactions, reviews


def test_an_unknown_reaction_or_comment_is_a_usage_error(forge: LocalForge, repo: Path) -> None:
    number = open_promotion(forge, repo)
    cid = forge.add_comment(number, login="bob", body="/promote").id

    with pytest.raises(UsageError):
        forge.react(cid, "thumbs")
    with pytest.raises(UsageError):
        forge.react(99, "eyes")
    assert forge.reactions(cid) == []


def test_an_author_cannot_approve_their_own_pr_and_dismissed_reviews_say_so(
    forge: LocalForge, repo: Path
) -> None:
    number = open_promotion(forge, repo)
    with pytest.raises(ForgeError, match="own pull request"):
        forge.submit_review(number, login="PromoBot", state="APPROVED")
    review = forge.submit_review(number, login="carol", state="APPROVED")
    forge.dismiss_review(number, review.id)

    assert [r.state for r in forge.list_reviews(number)] == ["DISMISSED"]


# --------------------------------------------------------------------------- checks


# --------------------------------------------------------------------------- users and teams


def test_everyone_has_write_until_a_user_is_configured(forge: LocalForge) -> None:
    assert forge.permission("anyone") == Permission.WRITE
    forge.set_user("Carol", Permission.MAINTAIN)

    assert forge.permission("carol") == Permission.MAINTAIN
    assert forge.permission("anyone") == Permission.NONE
    assert forge.permission("promobot") == Permission.ADMIN


def test_team_members_come_from_configured_users_case_insensitively(forge: LocalForge) -> None:
    forge.set_user("Alice", Permission.WRITE, teams=["@Acme/ML-Leads"])
    forge.set_user("bob", Permission.READ, teams=["@acme/ml-leads", "@acme/sre"])

    assert forge.team_members("@acme/ml-leads") == {"alice", "bob"}
    assert forge.team_members("@ACME/SRE") == {"bob"}
    with pytest.raises(ForgeError, match=r"team @x/y is not known to the local forge — add members with "):
        forge.team_members("@x/y")
    forge.remove_user("bob")
    assert forge.team_members("@acme/sre") == frozenset()


def test_pushers_include_committers_and_commits_outside_environments(forge: LocalForge, repo: Path) -> None:
    sha = commit_on_branch(repo, "feature", {"README.md": "hi\n"}, author="Bob")
    git(
        repo,
        "update-ref",
        "refs/heads/feature",
        git(
            repo,
            "commit-tree",
            f"{sha}^{{tree}}",
            "-p",
            sha,
            "-m",
            "x",
            env={"GIT_AUTHOR_NAME": "promobot", "GIT_COMMITTER_NAME": "Mallory"},
        ),
    )
    number = forge.open_pr(head="feature", base="main", title="t", body="", labels=()).number

    assert forge.pushers(number) == {"bob", "promobot", "mallory"}


# --------------------------------------------------------------------------- merge


def test_a_merge_moves_the_clean_checkout_along_and_leaves_the_head_branch(
    forge: LocalForge, repo: Path
) -> None:
    number = open_promotion(forge, repo)
    head = commit_on_branch(repo, "promobot/prod/a", {"environments/prod/new.yaml": "n\n"})

    merged = forge.merge(number, sha=head, title="Promote a to 2", message="Approved-by: carol")

    assert git(repo, "rev-parse", "HEAD") == merged and git(repo, "status", "--porcelain") == ""
    assert (repo / "environments" / "prod" / "new.yaml").read_text() == "n\n"
    assert git(repo, "rev-parse", "promobot/prod/a") == head  # the head branch is left to the app


def test_merge_makes_a_three_way_squash_when_main_moved_without_conflict(
    forge: LocalForge, repo: Path
) -> None:
    number = open_promotion(forge, repo)
    moved = commit_on_main(repo, {"environments/prod/b.yaml": "version: '9'\n"})

    merged = forge.merge(number, sha=forge.get_pr(number).head_sha, title="t", message="m")

    assert git(repo, "rev-list", "--parents", "-n1", merged).split() == [merged, moved]
    assert show(repo, "main", "environments/prod/a.yaml") == "version: '2'"
    assert show(repo, "main", "environments/prod/b.yaml") == "version: '9'"


def test_a_conflicting_merge_is_refused_and_main_stays(forge: LocalForge, repo: Path) -> None:
    number = open_promotion(forge, repo)
    moved = commit_on_main(repo, {"environments/prod/a.yaml": "version: '7'\n"})

    with pytest.raises(ConflictError, match="conflicts with main"):
        forge.merge(number, sha=forge.get_pr(number).head_sha, title="t", message="")

    assert git(repo, "rev-parse", "main") == moved
    assert forge.get_pr(number).state == "open"


def test_deleting_a_gone_branch_is_fine_and_the_default_branch_is_refused(
    forge: LocalForge, repo: Path
) -> None:
    open_promotion(forge, repo)
    forge.delete_branch("promobot/prod/a")
    forge.delete_branch("promobot/prod/a")  # already gone: not an error

    assert not has_ref(repo, "refs/heads/promobot/prod/a")
    with pytest.raises(ForgeError, match="default branch"):
        forge.delete_branch("main")


def test_a_head_branch_deleted_with_plain_git_shows_the_pr_closed(forge: LocalForge, repo: Path) -> None:
    number = open_promotion(forge, repo)
    head = forge.get_pr(number).head_sha
    git(repo, "branch", "-D", "promobot/prod/a")

    pr = forge.get_pr(number)
    assert (pr.state, pr.head_sha) == ("closed", head)
    assert forge.find_pr("promobot/prod/a") is None
    with pytest.raises(ConflictError, match="is closed"):
        forge.merge(number, sha=head, title="t", message="")


# --------------------------------------------------------------------------- storage: crashes, corruption


def test_a_leftover_temp_file_from_a_crashed_write_changes_nothing(forge: LocalForge, repo: Path) -> None:
    open_promotion(forge, repo)
    before = forge.snapshot()
    leftover = forge.state_path.parent / ".forge.json.crashed.tmp"
    leftover.write_text('{"version": 1, "pulls": {"1": {"garb')

    assert LocalForge(GitWorkspace(repo)).snapshot() == before
    forge.comment(1, "still works")
    assert not leftover.exists()  # the next writer sweeps it
    assert json.loads(forge.state_path.read_text())["comments"][0]["body"] == "still works"


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "not valid JSON"), ('{"version": 2}', "schema version 2"), ("[]", "no schema version")],
    ids=["garbage", "newer-schema", "no-version"],
)
def test_an_unreadable_state_file_is_reported_with_what_to_do(
    forge: LocalForge, content: str, message: str
) -> None:
    forge.state_path.parent.mkdir(parents=True, exist_ok=True)
    forge.state_path.write_text(content)

    with pytest.raises(ForgeError, match=message) as err:
        forge.list_prs()
    assert str(forge.state_path) in str(err.value)


def test_a_process_killed_while_holding_the_lock_leaves_the_old_state_and_frees_the_lock(
    forge: LocalForge, repo: Path
) -> None:
    open_promotion(forge, repo)
    before = forge.snapshot()
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from bot.adapters.git import GitWorkspace
        from bot.adapters.localforge import LocalForge
        forge = LocalForge(GitWorkspace(Path({str(repo)!r})))
        with forge.transaction():
            (forge.state_path.parent / ".forge.json.half.tmp").write_text('{{"version": 1, "pul')
            print("locked", flush=True)
            sys.stdin.readline()
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, text=True
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "locked"
        lock = os.open(forge.state_path.with_name("forge.lock"), os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):  # the child really holds the lock
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            child.kill()
            child.wait()
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the kernel freed it with the process
            fcntl.flock(lock, fcntl.LOCK_UN)
        finally:
            os.close(lock)

    assert forge.snapshot() == before
    forge.comment(1, "after the crash")
    assert [c.body for c in forge.list_comments(1)] == ["after the crash"]


# --------------------------------------------------------------------------- concurrency

WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from bot.adapters.git import GitWorkspace
    from bot.adapters.localforge import LocalForge
    repo, prefix, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    forge = LocalForge(GitWorkspace(repo))
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(count):
        branch = f"{prefix}{i}"
        if prefix == "shared-":  # race for the same branches: find-or-open in one transaction
            with forge.transaction():
                if forge.find_pr(branch) is None:
                    forge.open_pr(head=branch, base="main", title=branch, body="", labels=())
            continue
        number = forge.open_pr(head=branch, base="main", title=branch, body="", labels=()).number
        forge.comment(number, f"comment on {branch}")
        forge.set_check(head_sha=forge.get_pr(number).head_sha, name="promobot/gates", result="success",
                        title="", summary="")
    """
)


def run_workers(repo: Path, jobs: list[tuple[str, int]]) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(repo), prefix, str(count)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for prefix, count in jobs
    ]
    for p in procs:  # every worker is loaded and waiting: release them together
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err


def make_branches(repo: Path, names: list[str]) -> str:
    sha = commit_on_branch(repo, "feature-base", {"f": "1"})
    git(repo, "update-ref", "--stdin", input="".join(f"create refs/heads/{n} {sha}\n" for n in names))
    return sha


def test_two_processes_writing_at_once_never_lose_or_duplicate_anything(repo: Path) -> None:
    make_branches(repo, [f"p{w}-{i}" for w in (1, 2) for i in range(20)])

    run_workers(repo, [("p1-", 20), ("p2-", 20)])

    forge = LocalForge(GitWorkspace(repo))
    state = json.loads(forge.state_path.read_text())
    assert sorted(int(n) for n in state["pulls"]) == list(range(1, 41))
    assert sorted(p["head_branch"] for p in state["pulls"].values()) == sorted(
        f"p{w}-{i}" for w in (1, 2) for i in range(20)
    )
    assert sorted(c["id"] for c in state["comments"]) == list(range(1, 41))
    assert {c["body"] for c in state["comments"]} == {
        f"comment on p{w}-{i}" for w in (1, 2) for i in range(20)
    }
    assert len(state["checks"]) == 1  # one check: every branch shares the same head sha


def test_find_or_open_inside_a_transaction_is_atomic_across_processes(repo: Path) -> None:
    make_branches(repo, [f"shared-{i}" for i in range(15)])

    run_workers(repo, [("shared-", 15), ("shared-", 15)])

    prs = LocalForge(GitWorkspace(repo)).list_prs()
    assert sorted(p.head_branch for p in prs) == sorted(f"shared-{i}" for i in range(15))
    assert sorted(p.number for p in prs) == list(range(1, 16))


def test_transactions_are_reentrant_and_shared_by_forges_of_one_process(
    forge: LocalForge, repo: Path
) -> None:
    other = LocalForge(GitWorkspace(repo))
    commit_on_branch(repo, "feature", {"x": "1"})
    with forge.transaction(), other.transaction():
        number = forge.open_pr(head="feature", base="main", title="t", body="", labels=()).number
        other.comment(number, "inside")

    assert [c.body for c in forge.list_comments(number)] == ["inside"]
