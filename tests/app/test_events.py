"""`promobot handle-event` end to end on the local forge: GitHub's real example payloads, and
variants derived from them, routed through the CLI into a real git repository."""

from __future__ import annotations

import copy
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.adapters import actions
from bot.adapters.git import GitWorkspace
from bot.adapters.localforge import LocalForge
from bot.core.events import DispatchEvent
from bot.core.manifest import apply_promotion
from bot.core.marker import parse_state, replied_to
from bot.errors import ForgeError, UsageError, WorkspaceError
from tests.conftest import EXAMPLE, NOW, Cli
from tests.helpers.git import commit_all, git, init_repo

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "github"
EXAMPLES = SHARED / "webhooks" / "payload-examples" / "api.github.com"
ABSENT = f"GitHub's example webhook payloads are not at {EXAMPLES.resolve()} (../shared/github is absent)"

BRANCH = "promobot/staging/fraud-detector"


def example(event: str, name: str) -> dict[str, Any]:
    path = EXAMPLES / event / name
    if not path.is_file():
        pytest.skip(ABSENT)
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return copy.deepcopy(data)


def example_files() -> list[Any]:
    if not EXAMPLES.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=ABSENT), id="absent")]
    return [pytest.param(f, id=f"{f.parent.name}/{f.name}") for f in sorted(EXAMPLES.glob("*/*.json"))]


def handle(
    cli: Cli,
    tmp_path: Path,
    name: str,
    payload: dict[str, Any] | None,
    *,
    expect: int = 0,
    now: str | None = None,
) -> dict[str, Any]:
    args = ["handle-event", "--name", name]
    if payload is not None:
        path = tmp_path / f"event-{name}-{len(list(tmp_path.glob('event-*')))}.json"
        path.write_text(json.dumps(payload), encoding="utf-8")
        args += ["--payload", str(path)]
    result = cli(*args, output="json", expect=expect, now=now)
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def forge(repo: Path) -> LocalForge:
    return LocalForge(GitWorkspace.discover(repo))


def pr_payload(action: str, repo: Path, number: int, *, branch: str = BRANCH) -> dict[str, Any]:
    """A pull_request event for a local PR: the real opened/closed file with its head and number changed."""
    p = example("pull_request", "closed.payload.json" if action == "closed" else "opened.payload.json")
    pr = forge(repo).get_pr(number)
    p["action"] = action
    p["number"] = p["pull_request"]["number"] = number
    p["pull_request"]["head"]["ref"] = branch
    p["pull_request"]["head"]["sha"] = pr.head_sha
    p["pull_request"]["base"]["ref"] = "main"
    return p


def review_payload(number: int, head_sha: str, *, login: str, state: str) -> dict[str, Any]:
    p = example("pull_request_review", "submitted.payload.json")
    p["review"]["state"] = state
    p["review"]["user"]["login"] = login
    p["review"]["commit_id"] = head_sha
    p["pull_request"]["number"] = number
    p["pull_request"]["head"]["ref"] = BRANCH
    p["pull_request"]["head"]["sha"] = head_sha
    p["pull_request"]["base"]["ref"] = "main"
    return p


def comment_payload(
    number: int, comment_id: int, *, login: str, body: str, action: str = "created"
) -> dict[str, Any]:
    p = example("issue_comment", "created.payload.json")
    p["action"] = action
    p["issue"]["number"] = number
    p["issue"]["pull_request"] = {
        "url": f"https://api.github.com/repos/Codertocat/Hello-World/pulls/{number}",
        "html_url": f"https://github.com/Codertocat/Hello-World/pull/{number}",
        "diff_url": f"https://github.com/Codertocat/Hello-World/pull/{number}.diff",
        "patch_url": f"https://github.com/Codertocat/Hello-World/pull/{number}.patch",
        "merged_at": None,
    }
    p["comment"]["id"] = comment_id
    p["comment"]["user"]["login"] = login
    p["comment"]["body"] = body
    return p


def dispatch_payload(**inputs: str) -> dict[str, Any]:
    p = example("workflow_dispatch", "payload.json")
    p["inputs"] = inputs
    p["sender"]["login"] = "dave"
    return p


def push_payload(
    before: str, after: str, *, paths: list[str], ref: str = "refs/heads/main"
) -> dict[str, Any]:
    p = example("push", "with-new-branch.payload.json")
    p.update(ref=ref, before=before, after=after, created=False)
    p["repository"]["default_branch"] = "main"
    p["commits"][0].update(id=after, added=[], removed=[], modified=paths)
    return p


def open_staging_pr(cli: Cli) -> int:
    data = cli.json("promote", "fraud-detector", "--to", "staging")
    assert data["created"] is True
    return int(data["pr"])


def prs(cli: Cli, state: str = "all") -> dict[int, dict[str, Any]]:
    return {p["number"]: p for p in cli.json("pr", "list", "--state", state)}


# --------------------------------------------------------------------------- real payloads


@pytest.mark.parametrize("path", example_files())
def test_every_real_example_payload_exits_0_with_a_one_line_notice(cli: Cli, path: Path) -> None:
    result = cli("handle-event", "--name", path.parent.name, "--payload", str(path))
    line = result.stdout.strip()
    assert line and "\n" not in line
    assert not result.stderr.strip()


def test_payload_pr_numbers_that_do_not_exist_locally_are_not_an_error(cli: Cli, tmp_path: Path) -> None:
    p = example("pull_request", "opened.payload.json")
    p["pull_request"]["head"]["ref"] = BRANCH  # looks like promobot's, but there is no PR #2 here
    out = handle(cli, tmp_path, "pull_request", p)
    assert out["handled"] is False
    assert out["summary"].startswith("#2: ignored")


# --------------------------------------------------------------------------- workflow_dispatch


def test_workflow_dispatch_promote_opens_the_pr_with_the_dispatcher_as_requester(
    cli: Cli, tmp_path: Path
) -> None:
    out = handle(
        cli,
        tmp_path,
        "workflow_dispatch",
        dispatch_payload(action="promote", model="fraud-detector", env="staging"),
    )
    assert out["handled"] is True and out["pr"] == 1 and out["created"] is True
    assert "`dave`" in out["summary"]
    shown = cli.json("pr", "show", "1")
    assert shown["head_branch"] == BRANCH
    assert parse_state(shown["body"]) is not None
    assert parse_state(shown["body"]).requester == "dave"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"action": "promote", "model": "fraud-detector"}, "needs the input(s): env"),
        ({"action": "rollback"}, "needs the input(s): model, env"),
        ({"action": "promote", "model": "../../etc/passwd", "env": "staging"}, "is not a valid model name"),
        (
            {"action": "promote", "model": "fraud-detector", "env": "staging", "version": "9.9.9"},
            "dev runs fraud-detector 1.5.0, not 9.9.9",
        ),
    ],
    ids=["missing-env", "missing-model-env", "hostile-model", "wrong-version"],
)
def test_workflow_dispatch_with_bad_inputs_is_refused_and_changes_nothing(
    cli: Cli, tmp_path: Path, inputs: dict[str, str], message: str
) -> None:
    result = cli(
        "handle-event",
        "--name",
        "workflow_dispatch",
        "--payload",
        str(_write(tmp_path, dispatch_payload(**inputs))),
        expect=1,
    )
    assert message in result.stderr
    assert prs(cli) == {}


def _write(tmp_path: Path, payload: dict[str, Any]) -> Path:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- reviews, comments


def test_review_event_counts_the_approval_auto_merges_and_chains(cli: Cli, tmp_path: Path) -> None:
    number = open_staging_pr(cli)
    head = forge(cli.repo).submit_review(number, login="carol", state="APPROVED").commit_id
    out = handle(
        cli, tmp_path, "pull_request_review", review_payload(number, head, login="carol", state="approved")
    )
    assert out["approvals"]["counted"] == ["carol"]
    assert out["merged"]["merged"] is True
    listed = prs(cli)
    assert listed[number]["state"] == "merged"
    assert (listed[2]["to"], listed[2]["state"]) == ("prod", "open")  # the chain opened prod's PR
    assert "chained #2" in out["summary"]


def test_changes_requested_review_blocks(cli: Cli, tmp_path: Path) -> None:
    number = open_staging_pr(cli)
    head = forge(cli.repo).submit_review(number, login="carol", state="CHANGES_REQUESTED").commit_id
    out = handle(
        cli,
        tmp_path,
        "pull_request_review",
        review_payload(number, head, login="carol", state="changes_requested"),
    )
    assert out["ready"] is False and "changes requested by carol" in out["blockers"]
    assert prs(cli)[number]["state"] == "open"


def _approved_with_comment(cli: Cli, body: str) -> tuple[int, int]:
    number = open_staging_pr(cli)
    f = forge(cli.repo)
    f.submit_review(number, login="carol", state="APPROVED")
    return number, f.add_comment(number, login="alice", body=body).id


def _replies(repo: Path, number: int, comment_id: int) -> list[str]:
    return [c.body for c in forge(repo).list_comments(number) if replied_to(c.body) == comment_id]


def _merges(repo: Path, number: int) -> int:
    return git(repo, "log", "--format=%s", "main").count(f"(#{number})")


def test_promote_comment_on_a_promobot_pr_merges(cli: Cli, tmp_path: Path) -> None:
    number, cid = _approved_with_comment(cli, "/promote")
    out = handle(cli, tmp_path, "issue_comment", comment_payload(number, cid, login="alice", body="/promote"))
    assert out["comment"]["merged"] is True
    assert prs(cli)[number]["state"] == "merged"
    assert len(_replies(cli.repo, number, cid)) == 1


def test_the_same_comment_delivered_twice_replies_once_and_merges_once(cli: Cli, tmp_path: Path) -> None:
    number, cid = _approved_with_comment(cli, "/promote")
    payload = comment_payload(number, cid, login="alice", body="/promote")
    handle(cli, tmp_path, "issue_comment", payload)
    again = handle(cli, tmp_path, "issue_comment", payload)
    assert again["handled"] is False and "already answered" in again["summary"]
    assert len(_replies(cli.repo, number, cid)) == 1
    assert _merges(cli.repo, number) == 1


@pytest.mark.parametrize("action", ["edited", "deleted"])
def test_edited_or_deleted_comments_never_run(cli: Cli, tmp_path: Path, action: str) -> None:
    number, cid = _approved_with_comment(cli, "/promote")
    out = handle(
        cli,
        tmp_path,
        "issue_comment",
        comment_payload(number, cid, login="alice", body="/promote", action=action),
    )
    assert out["handled"] is False and out["summary"] == f"comment {action}: only new comments run commands"
    assert prs(cli)[number]["state"] == "open"
    assert _replies(cli.repo, number, cid) == []


# --------------------------------------------------------------------------- pull_request


def test_opened_promobot_pr_is_evaluated(cli: Cli, tmp_path: Path) -> None:
    number = open_staging_pr(cli)
    out = handle(cli, tmp_path, "pull_request", pr_payload("synchronize", cli.repo, number))
    assert out["handled"] is True
    assert out["summary"] == f"#{number}: gates success, 0 of 1 approvals, 1 blocker(s)"


def test_pr_merged_by_a_person_chains_the_next_environment(cli: Cli, tmp_path: Path) -> None:
    number = open_staging_pr(cli)
    f = forge(cli.repo)
    pr = f.get_pr(number)
    f.merge(number, sha=pr.head_sha, title="merged in the GitHub UI", message="")  # promobot not involved
    payload = pr_payload("closed", cli.repo, number)
    payload["pull_request"].update(merged=True, merge_commit_sha=f.get_pr(number).merge_sha)
    out = handle(cli, tmp_path, "pull_request", payload)
    assert out["handled"] is True
    listed = prs(cli, "open")
    assert [(p["model"], p["to"]) for p in listed.values()] == [("fraud-detector", "prod")]
    again = handle(cli, tmp_path, "pull_request", payload)  # redelivery: idempotent
    assert "re-evaluated" in again["summary"] and prs(cli, "open").keys() == listed.keys()


def test_check_run_rerequested_re_evaluates_the_pr_with_that_head(cli: Cli, tmp_path: Path) -> None:
    number = open_staging_pr(cli)
    p = example("check_run", "rerequested.payload.json")
    p["check_run"]["head_sha"] = forge(cli.repo).get_pr(number).head_sha
    out = handle(cli, tmp_path, "check_run", p)
    assert out["handled"] is True and out["failed"] == 0
    assert [i["item"] for i in out["items"]] == [f"#{number}"]


# --------------------------------------------------------------------------- push, schedule


def test_push_to_main_changing_a_dev_manifest_opens_the_staging_pr(cli: Cli, tmp_path: Path) -> None:
    before = git(cli.repo, "rev-parse", "HEAD")
    path = cli.repo / "environments/dev/spam-filter.yaml"
    path.write_text(path.read_text().replace("run_id: 51aa02", "run_id: 51aa03"))
    after = commit_all(cli.repo, "retrain spam-filter")
    out = handle(
        cli, tmp_path, "push", push_payload(before, after, paths=["environments/dev/spam-filter.yaml"])
    )
    assert out["handled"] is True
    # Only the changed model: fraud-detector also differs between dev and staging, but was not pushed.
    assert [(p["model"], p["to"]) for p in prs(cli).values()] == [("spam-filter", "staging")]


def test_push_to_another_branch_is_ignored(cli: Cli, tmp_path: Path) -> None:
    head = git(cli.repo, "rev-parse", "HEAD")
    out = handle(
        cli,
        tmp_path,
        "push",
        push_payload(head, head, paths=["environments/dev/spam-filter.yaml"], ref="refs/heads/feature"),
    )
    assert out["handled"] is False and out["summary"].startswith(
        "push to feature, not the default branch main"
    )


def _later_working_day(merged_at: datetime) -> str:
    """At least 25 h after ``merged_at`` (soak 24 h) and outside the example freeze windows."""
    when = merged_at + timedelta(hours=25)
    while when.weekday() >= 4 or (when.month, when.day) in ((12, 24), (12, 31)):
        when += timedelta(days=1)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_schedule_re_evaluates_a_pending_soak_and_it_turns_success_later(cli: Cli, tmp_path: Path) -> None:
    number = open_staging_pr(cli)
    cli("pr", "review", str(number), "--approve", actor="carol")  # merges and chains prod's PR #2
    prod = forge(cli.repo).get_pr(2)
    assert cli.json("pr", "show", "2")["checks"]["promobot/gates"] == "pending"
    merged_at = datetime.fromtimestamp(int(git(cli.repo, "log", "-1", "--format=%ct", "main")), tz=UTC)
    out = handle(cli, tmp_path, "schedule", None, now=_later_working_day(merged_at))
    assert out["handled"] is True
    assert cli.json("pr", "show", "2")["checks"]["promobot/gates"] == "success"
    assert forge(cli.repo).get_pr(2).head_sha == prod.head_sha


def test_schedule_with_no_open_prs_is_a_quiet_success(cli: Cli, tmp_path: Path) -> None:
    out = handle(cli, tmp_path, "schedule", {"schedule": "*/30 * * * *"})
    assert out["summary"] == "schedule: no open promobot pull requests"


# --------------------------------------------------------------------------- the Actions runtime


def test_step_summary_gets_the_outcome(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    cli("handle-event", "--name", "star", "--payload", str(_write(tmp_path, {"action": "created"})))
    assert summary.read_text() == "earlier step\npromobot ignores star created events\n"


def test_step_summary_gets_the_error_too(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    cli(
        "handle-event",
        "--name",
        "workflow_dispatch",
        "--payload",
        str(_write(tmp_path, dispatch_payload(action="rollback"))),
        expect=1,
    )
    assert "needs the input(s): model, env" in summary.read_text()


def test_missing_event_is_a_clear_error(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_EVENT_NAME", raising=False)
    monkeypatch.delenv("GITHUB_EVENT_PATH", raising=False)
    result = cli("handle-event", expect=1)
    assert "not running in GitHub Actions? pass --name and --payload" in result.stderr
    result = cli("handle-event", "--name", "push", expect=1)
    assert "GITHUB_EVENT_PATH is not set" in result.stderr


def test_missing_or_broken_payload_file_is_a_clear_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("handle-event", "--name", "push", "--payload", str(tmp_path / "nope.json"), expect=1)
    assert "does not exist" in result.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('{"ref":\n  nope}')
    result = cli("handle-event", "--name", "push", "--payload", str(broken), expect=1)
    assert f"{broken}:2:3: the event payload is not valid JSON" in result.stderr


def test_event_from_the_actions_environment(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_EVENT_NAME", "star")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(_write(tmp_path, {"action": "deleted"})))
    assert cli("handle-event").stdout.strip() == "promobot ignores star deleted events"


def test_invalid_payload_is_refused_with_exit_1(cli: Cli, tmp_path: Path) -> None:
    p = example("pull_request", "opened.payload.json")
    p["pull_request"]["number"] = "2; DROP TABLE"
    result = cli("handle-event", "--name", "pull_request", "--payload", str(_write(tmp_path, p)), expect=1)
    assert "refusing the pull_request event: pull_request.number must be a positive integer" in result.stderr


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("plain", "::error::plain"),
        ("50% done\r\nnext", "::error::50%25 done%0D%0Anext"),
        ("token ghp_abcdefghijklmnopqrstuvwxyz0123456789 leaked", "::error::token *** leaked"),
    ],
    ids=["plain", "escapes", "token"],
)
def test_error_annotations_escape_workflow_command_data_and_hide_tokens(message: str, expected: str) -> None:
    assert actions.annotate_error(message) == expected


def test_loaded_event_needs_no_context_for_ignored_events() -> None:
    assert not actions.load_event(name="star", payload={}, environ={}).needs_context
    loaded = actions.load_event(
        name="workflow_dispatch",
        environ={},
        payload={"inputs": {"action": "promote", "model": "m", "env": "prod"}},
    )
    assert loaded.needs_context
    assert loaded.event == DispatchEvent("promote", "m", "prod", None, None)
    with pytest.raises(UsageError, match="pass --name and --payload"):
        actions.load_event(environ={})


# --------------------------------------------------------------------------- multi-PR failures


def test_one_failing_item_does_not_stop_the_others_but_fails_the_run() -> None:
    from bot.app.batch import Batch, HandlerFailures

    batch = Batch("schedule", "schedule")
    batch.run("#1", lambda: ("#1 ok", {}))

    def broken() -> tuple[str, dict[str, Any]]:
        raise ForgeError("GitHub refused", "check the token")

    batch.run("#2", broken)
    batch.run("#3", lambda: ("#3 ok", {}))
    with pytest.raises(HandlerFailures) as caught:
        batch.finish()
    assert caught.value.exit_code == 1
    assert (
        caught.value.outcome.summary == "schedule: #1 ok; #2 failed: GitHub refused — check the token; #3 ok"
    )


# --------------------------------------------------------------------------- shallow clones


def _history_repo(tmp_path: Path) -> Path:
    """A bare origin: staging got fraud-detector 1.5.0 on 2026-11-20, an unrelated commit at NOW - 1 h."""
    work = init_repo(tmp_path / "work")
    shutil.copytree(EXAMPLE, work / "environments")
    commit_all(work, "Example GitOps repository", date="2026-11-01T09:00:00Z")
    staging = work / "environments/staging/fraud-detector.yaml"
    dev = (work / "environments/dev/fraud-detector.yaml").read_text()
    staging.write_text(apply_promotion(dev, staging.read_text(), ("serving",)))
    commit_all(work, "staging runs fraud-detector 1.5.0", date="2026-11-20T09:00:00Z")
    (work / "README.md").write_text("unrelated\n")
    commit_all(work, "docs", date="2026-11-27T09:00:00Z")
    bare = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    return bare


def _shallow_clone(tmp_path: Path, origin: Path, *, keep_remote: bool) -> Path:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin}", str(clone))
    git(clone, "config", "user.name", "alice")
    git(clone, "config", "user.email", "alice@example.com")
    if not keep_remote:
        git(clone, "remote", "remove", "origin")
    assert (clone / ".git" / "shallow").is_file()
    return clone


def test_shallow_clone_with_a_remote_is_deepened_and_the_soak_is_right(tmp_path: Path) -> None:
    from bot.app.context import Context
    from bot.app.events import dispatch
    from bot.cli import parse_policy

    origin = _history_repo(tmp_path)
    clone = _shallow_clone(tmp_path, origin, keep_remote=True)
    ws = GitWorkspace(clone, remote="origin")  # like an Actions checkout; the forge lives at the origin
    ctx = Context(
        forge=LocalForge(GitWorkspace(origin)),
        ws=ws,
        now=datetime.fromisoformat(NOW.replace("Z", "+00:00")),
        actor="dave",
        parse_policy=parse_policy,
    )
    out = dispatch(DispatchEvent("promote", "fraud-detector", "prod", None, "dave"), ctx)
    assert not ws.is_shallow()
    assert out.detail["created"] is True
    soak = next(g for g in out.detail["gates"] if g["kind"] == "soak")
    # 1.5.0 reached staging on 2026-11-20; the shallow copy alone would say 2026-11-27 09:00 (1 h: pending).
    assert soak["result"] == "success", soak


def test_shallow_clone_that_cannot_be_deepened_is_a_clear_error_never_a_wrong_soak(tmp_path: Path) -> None:
    clone = _shallow_clone(tmp_path, _history_repo(tmp_path), keep_remote=False)
    cli = Cli(clone)
    payload = {
        "inputs": {"action": "promote", "model": "fraud-detector", "env": "prod"},
        "sender": {"login": "dave"},
    }
    result = cli(
        "handle-event", "--name", "workflow_dispatch", "--payload", str(_write(tmp_path, payload)), expect=1
    )
    assert "shallow" in result.stderr and "fetch-depth: 0" in result.stderr
    assert LocalForge(GitWorkspace.discover(clone)).list_prs(state=None) == []
    with pytest.raises(WorkspaceError):
        GitWorkspace.discover(clone).ensure_history()


def test_workflow_dispatch_rollback_opens_a_rollback_pr_never_a_direct_commit(
    cli: Cli, tmp_path: Path
) -> None:
    number = open_staging_pr(cli)
    cli("pr", "review", str(number), "--approve", actor="carol")  # staging now runs 1.5.0
    tip = git(cli.repo, "rev-parse", "main")
    out = handle(
        cli,
        tmp_path,
        "workflow_dispatch",
        dispatch_payload(action="rollback", model="fraud-detector", env="staging"),
    )
    assert (out["rolled_back"], out["version"], out["direct"]) == ("1.5.0", "1.4.2", False)
    assert (
        git(cli.repo, "rev-parse", "main") == tip
    )  # policy allows direct, the dispatch still goes through a PR
    rollback_pr = prs(cli)[out["pr"]]
    assert (rollback_pr["action"], rollback_pr["to"], rollback_pr["state"]) == ("rollback", "staging", "open")
    assert "roll back `fraud-detector` in `staging` from 1.5.0 to 1.4.2" in out["summary"]


def test_long_push_takes_its_changed_paths_from_git(cli: Cli, tmp_path: Path) -> None:
    before = git(cli.repo, "rev-parse", "HEAD")
    path = cli.repo / "environments/dev/spam-filter.yaml"
    for i in range(3):
        path.write_text(path.read_text().replace(f"run_id: 51aa0{i + 2}", f"run_id: 51aa0{i + 3}"))
        after = commit_all(cli.repo, f"retrain spam-filter {i}")
    payload = push_payload(before, after, paths=[])
    payload["commits"] = [copy.deepcopy(payload["commits"][0]) for _ in range(20)]  # GitHub may cut the list
    out = handle(cli, tmp_path, "push", payload)
    assert out["handled"] is True
    assert [(p["model"], p["to"]) for p in prs(cli).values()] == [("spam-filter", "staging")]
