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
from tests.helpers.git import git, run_git

ROOT = Path(__file__).resolve().parents[2]
EMAIL = "alice@example.com"


# --------------------------------------------------------------------------- real git helpers


def branch_sha(repo: Path, branch: str) -> str | None:
    done = run_git(repo, "rev-parse", "-q", "--verify", f"refs/heads/{branch}", check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def commit_on_branch(
    repo: Path, branch: str, files: dict[str, str], *, start: str = "main", author: str = "Alice"
) -> str:
    """Commit ``files`` on ``branch`` (created from ``start``) without touching the working tree."""
    parent = branch_sha(repo, branch) or git(repo, "rev-parse", start)
    index = repo / ".git" / f"tmp-index-{os.getpid()}"
    env = {"GIT_INDEX_FILE": str(index)}
    git(repo, "read-tree", parent, env=env)
    for path, content in files.items():
        blob = git(repo, "hash-object", "-w", "--stdin", input=content)
        git(repo, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
    tree = git(repo, "write-tree", env=env)
    index.unlink()
    sha = git(
        repo, "commit-tree", tree, "-p", parent, "-m", f"change {branch}", env=env, name=author, email=EMAIL
    )
    git(repo, "update-ref", f"refs/heads/{branch}", sha)
    return sha


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


def test_pull_requests_are_numbered_from_one_and_found_by_head_branch(forge: LocalForge, repo: Path) -> None:
    first = open_promotion(forge, repo, "promobot/prod/a")
    second = open_promotion(forge, repo, "promobot/prod/b")

    assert (first, second) == (1, 2)
    found = forge.find_pr("promobot/prod/b")
    assert found is not None and found.number == 2
    assert found.author == "promobot" and found.base_branch == "main"
    assert found.base_sha == git(repo, "rev-parse", "main")
    assert forge.find_pr("promobot/prod/zzz") is None
    assert [p.number for p in forge.list_prs()] == [1, 2]


def test_the_state_file_lives_in_the_git_dir_and_is_schema_versioned(forge: LocalForge, repo: Path) -> None:
    open_promotion(forge, repo)

    assert forge.state_path == repo / ".git" / "promobot" / "forge.json"
    data = json.loads(forge.state_path.read_text())
    assert data["version"] == 1 and data["next_number"] == 2 and "1" in data["pulls"]


def test_find_pr_returns_the_newest_pr_of_a_branch_in_the_state_asked_for(
    forge: LocalForge, repo: Path
) -> None:
    old = open_promotion(forge, repo)
    forge.close(old)
    new = open_promotion(forge, repo)

    assert forge.find_pr("promobot/prod/a").number == new  # type: ignore[union-attr]
    assert forge.find_pr("promobot/prod/a", state="closed").number == old  # type: ignore[union-attr]
    assert forge.find_pr("promobot/prod/a", state=None).number == new  # type: ignore[union-attr]
    assert [p.number for p in forge.list_prs(state="closed")] == [old]
    assert [p.number for p in forge.list_prs(state=None)] == [old, new]


def test_the_pr_head_follows_pushes_to_its_branch(forge: LocalForge, repo: Path) -> None:
    number = open_promotion(forge, repo)
    pushed = commit_on_branch(repo, "promobot/prod/a", {"environments/prod/a.yaml": "version: '3'\n"})

    assert forge.get_pr(number).head_sha == pushed


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


def test_a_second_open_pr_for_the_same_head_and_base_is_refused(forge: LocalForge, repo: Path) -> None:
    open_promotion(forge, repo)

    with pytest.raises(ConflictError, match=r"already exists .*#1"):
        forge.open_pr(head="promobot/prod/a", base="main", title="again", body="", labels=())


def test_an_unknown_pr_number_is_a_usage_error_that_says_what_to_run(forge: LocalForge) -> None:
    with pytest.raises(UsageError, match=r"no pull request #7 on the local forge — run `promobot pr list`"):
        forge.get_pr(7)


def test_a_body_longer_than_github_accepts_is_refused(forge: LocalForge, repo: Path) -> None:
    number = open_promotion(forge, repo)

    with pytest.raises(ForgeError, match="at most 65536"):
        forge.update_pr(number, body="x" * 65537)
    with pytest.raises(ForgeError, match="at most 65536"):
        forge.comment(number, "x" * 65537)
    assert forge.get_pr(number).body == "body"


def test_update_pr_changes_title_and_body_only_where_given(forge: LocalForge, repo: Path) -> None:
    number = open_promotion(forge, repo)
    forge.update_pr(number, body="new body")
    forge.update_pr(number, title="new title")

    pr = forge.get_pr(number)
    assert (pr.title, pr.body) == ("new title", "new body")


def test_labels_are_added_once_case_insensitively_and_removed_quietly(forge: LocalForge, repo: Path) -> None:
    number = open_promotion(forge, repo)
    forge.add_labels(number, ["promobot:promotion", "promobot:env:prod"])
    forge.add_labels(number, ["PROMOBOT:promotion", "promobot:hold"])
    forge.remove_label(number, "promobot:hold")
    forge.remove_label(number, "not-there")

    assert forge.get_pr(number).labels == ("promobot:promotion", "promobot:env:prod")


# --------------------------------------------------------------------------- comments, reactions, reviews


def test_comment_ids_increase_across_prs_and_bots_are_flagged(forge: LocalForge, repo: Path) -> None:
    one = open_promotion(forge, repo, "promobot/prod/a")
    two = open_promotion(forge, repo, "promobot/prod/b")
    c1 = forge.comment(one, "from the bot")
    c2 = forge.add_comment(two, login="bob", body="/promote")
    c3 = forge.add_comment(one, login="dependabot[bot]", body="bump")

    assert [c1.id, c2.id, c3.id] == [1, 2, 3]
    assert [(c.author, c.is_bot) for c in forge.list_comments(one)] == [
        ("promobot", True),
        ("dependabot[bot]", True),
    ]
    assert forge.list_comments(two) == [c2] and not c2.is_bot


def test_the_same_reaction_twice_is_kept_once(forge: LocalForge, repo: Path) -> None:
    number = open_promotion(forge, repo)
    cid = forge.add_comment(number, login="bob", body="/promote").id
    forge.react(cid, "eyes")
    forge.react(cid, "eyes")
    forge.react(cid, "rocket")

    assert forge.reactions(cid) == [("promobot", "eyes"), ("promobot", "rocket")]
    with pytest.raises(UsageError):
        forge.react(cid, "thumbs")
    with pytest.raises(UsageError):
        forge.react(99, "eyes")


def test_a_review_carries_the_head_it_was_given_on(forge: LocalForge, repo: Path) -> None:
    number = open_promotion(forge, repo)
    first_head = forge.get_pr(number).head_sha
    early = forge.submit_review(number, login="carol", state="APPROVED")
    new_head = commit_on_branch(repo, "promobot/prod/a", {"environments/prod/a.yaml": "version: '3'\n"})
    late = forge.submit_review(number, login="dave", state="CHANGES_REQUESTED", body="no")
    explicit = forge.submit_review(number, login="erin", state="COMMENTED", commit_id=first_head)

    assert (early.commit_id, late.commit_id, explicit.commit_id) == (first_head, new_head, first_head)
    assert [(r.id, r.login, r.state) for r in forge.list_reviews(number)] == [
        (1, "carol", "APPROVED"),
        (2, "dave", "CHANGES_REQUESTED"),
        (3, "erin", "COMMENTED"),
    ]


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


def test_set_check_updates_in_place_per_name_and_sha(forge: LocalForge) -> None:
    a, b = "a" * 40, "b" * 40
    forge.set_check(head_sha=a, name="promobot/gates", result="pending", title="t1", summary="s1")
    forge.set_check(head_sha=a, name="promobot/gates", result="success", title="t2", summary="s2")
    forge.set_check(head_sha=a, name="promobot/ready", result="failure", title="", summary="")
    forge.set_check(head_sha=b, name="promobot/gates", result="failure", title="", summary="")

    on_a = forge.list_checks(a)
    assert [(c.name, c.result, c.title, c.summary) for c in on_a] == [
        ("promobot/gates", "success", "t2", "s2"),
        ("promobot/ready", "failure", "", ""),
    ]
    assert [(c.name, c.result) for c in forge.list_checks(b)] == [("promobot/gates", "failure")]


def test_another_apps_check_of_the_same_name_is_kept_apart_and_flagged(forge: LocalForge) -> None:
    sha = "c" * 40
    forge.set_check(head_sha=sha, name="promobot/ready", result="failure", title="", summary="")
    forge.add_foreign_check(sha, "promobot/ready", "success")

    checks = forge.list_checks(sha)
    assert [(c.result, c.by_promobot) for c in checks] == [("failure", True), ("success", False)]


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


def test_pushers_are_the_lower_cased_author_names_of_the_pr_commits(forge: LocalForge, repo: Path) -> None:
    commit_on_branch(repo, "feature", {"environments/prod/a.yaml": "version: '2'\n"}, author="Bob")
    commit_on_branch(repo, "feature", {"environments/prod/a.yaml": "version: '3'\n"}, author="promobot")
    number = forge.open_pr(head="feature", base="main", title="t", body="", labels=()).number

    assert forge.pushers(number) == {"bob", "promobot"}


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


def test_merge_squashes_onto_main_and_marks_the_pr_merged(forge: LocalForge, repo: Path) -> None:
    old_tip = git(repo, "rev-parse", "main")
    number = open_promotion(forge, repo)
    commit_on_branch(repo, "promobot/prod/a", {"environments/prod/new.yaml": "n\n"})
    head = forge.get_pr(number).head_sha

    merged = forge.merge(number, sha=head, title="Promote a to 2", message="Approved-by: carol")

    assert git(repo, "rev-parse", "main") == merged
    assert git(repo, "rev-list", "--parents", "-n1", merged).split() == [merged, old_tip]
    assert git(repo, "rev-parse", f"{merged}^{{tree}}") == git(repo, "rev-parse", f"{head}^{{tree}}")
    assert git(repo, "log", "-1", "--format=%B", merged) == "Promote a to 2\n\nApproved-by: carol"
    assert (repo / "environments" / "prod" / "new.yaml").read_text() == "n\n"  # clean tree moved along
    pr = forge.get_pr(number)
    assert (pr.state, pr.merge_sha, pr.head_sha) == ("merged", merged, head)
    assert git(repo, "rev-parse", "promobot/prod/a") == head  # the head branch is left to the app


def test_merge_is_refused_when_the_head_moved_and_nothing_changes(forge: LocalForge, repo: Path) -> None:
    number = open_promotion(forge, repo)
    evaluated = forge.get_pr(number).head_sha
    commit_on_branch(repo, "promobot/prod/a", {"environments/prod/a.yaml": "version: '3'\n"})
    main_before, state_before = git(repo, "rev-parse", "main"), forge.snapshot()

    with pytest.raises(ConflictError, match="moved since it was evaluated"):
        forge.merge(number, sha=evaluated, title="t", message="")

    assert git(repo, "rev-parse", "main") == main_before
    assert forge.snapshot()["pulls"]["1"]["state"] == state_before["pulls"]["1"]["state"] == "open"


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


@pytest.mark.parametrize("how", ["closed", "merged"], ids=["closed-pr", "merged-pr"])
def test_a_pr_that_is_not_open_does_not_merge(forge: LocalForge, repo: Path, how: str) -> None:
    number = open_promotion(forge, repo)
    head = forge.get_pr(number).head_sha
    if how == "closed":
        forge.close(number)
    else:
        forge.merge(number, sha=head, title="t", message="")

    with pytest.raises(ConflictError, match=f"is {how}, not open"):
        forge.merge(number, sha=head, title="t", message="")


def test_deleting_the_head_branch_closes_the_pr_and_keeps_its_head(forge: LocalForge, repo: Path) -> None:
    number = open_promotion(forge, repo)
    head = forge.get_pr(number).head_sha
    forge.delete_branch("promobot/prod/a")
    forge.delete_branch("promobot/prod/a")  # already gone: not an error

    pr = forge.get_pr(number)
    assert (pr.state, pr.head_sha) == ("closed", head)
    assert branch_sha(repo, "promobot/prod/a") is None
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
