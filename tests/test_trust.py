"""Issue 10: promobot believes only what it wrote itself and what the forge authenticates.

Regression tests on the local forge (the GitHub twins are in tests/test_github_trust.py):
commit identities, trailers and PR bodies are text any pusher can type.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from bot.core.rejected import load_rejected
from bot.core.trailers import parse_trailers
from tests.conftest import Cli, console_argv
from tests.helpers.git import git

PROD = "environments/prod/fraud-detector.yaml"
STAGING = "environments/staging/fraud-detector.yaml"
REJECTED = "environments/rejected.yaml"
PROD_BRANCH = "promobot/prod/fraud-detector"
ROLLBACK_BRANCH = "promobot/rollback/prod/fraud-detector"
FOREIGN = "this branch carries commits promobot did not write"


def forge_commit(
    repo: Path, branch: str, path: str, old: str, new: str, *, name: str, email: str, message: str
) -> str:
    """Commit an edit on ``branch`` under any identity and message: what any pusher can do."""
    git(repo, "checkout", "-q", branch)
    try:
        target = repo / path
        text = target.read_text()
        assert old in text, f"{old!r} not in {path}"
        target.write_text(text.replace(old, new, 1))
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", message, name=name, email=email)
        return git(repo, "rev-parse", "HEAD")
    finally:
        git(repo, "checkout", "-q", "main")


def pr_blockers(cli: Cli, number: int, actor: str = "erin") -> list[str]:
    return list(cli.json("merge", str(number), actor=actor, expect=1)["blockers"])


# --------------------------------------------------------------------------- item 1: forged bot identity

BOT_IDENTITIES = [
    ("promobot", "promobot@users.noreply.github.com"),
    ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com"),
]


@pytest.mark.parametrize(("name", "email"), BOT_IDENTITIES, ids=["promobot", "github-actions"])
def test_a_commit_that_wears_the_bots_identity_is_a_human_push_and_blocks_the_merge(
    people: Cli, name: str, email: str
) -> None:
    cli = people
    number = int(cli.json("promote", "fraud-detector", "--to", "prod", actor="dave")["pr"])
    main = git(cli.repo, "rev-parse", "main")
    # dave (the requester) scales prod to zero under the bot's name and names erin as requester
    forge_commit(
        cli.repo,
        PROD_BRANCH,
        PROD,
        "  replicas: 6\n",
        "  replicas: 0\n",
        name=name,
        email=email,
        message="Promote fraud-detector 1.4.2 to prod\n\nPromobot-Requested-By: erin\n",
    )
    cli("pr", "review", str(number), "--approve", actor="carol")
    cli("pr", "review", str(number), "--approve", actor="dave")

    shown = cli.json("pr", "show", str(number))
    assert shown["requester"] == "dave"  # promobot's record, not the trailer
    assert shown["approvals"]["counted"] == ["carol"]
    assert {"login": "dave", "reason": "requested this promotion"} in shown["approvals"]["ignored"]
    assert shown["checks"]["promobot/ready"] != "success"
    blockers = pr_blockers(cli, number)
    assert any(b.startswith(FOREIGN) and "promobot promote fraud-detector --to prod" in b for b in blockers)
    assert git(cli.repo, "rev-parse", "main") == main

    # re-running promote rebuilds the branch from promobot's own commit: the edit is gone
    again = cli.json("promote", "fraud-detector", "--to", "prod", actor="dave")
    assert again["changed"] is True
    assert "replicas: 6" in git(cli.repo, "show", f"{PROD_BRANCH}:{PROD}")
    assert not any(b.startswith(FOREIGN) for b in again["blockers"])


def test_the_requester_of_the_squash_commit_is_promobots_record_not_the_head_trailer(people: Cli) -> None:
    cli = people
    number = int(cli.json("promote", "fraud-detector", "--to", "prod", actor="alice")["pr"])
    cli("pr", "review", str(number), "--approve", actor="carol")
    cli("pr", "review", str(number), "--approve", actor="dave")
    merged = cli.json("merge", str(number), actor="erin")
    assert merged["merged"] is True
    found = parse_trailers(git(cli.repo, "log", "-1", "--format=%B", "main"))
    assert found["Promobot-Requested-By"] == "alice"


# --------------------------------------------------------------------------- items 2 and 5: rollback PRs


def promote_142_to_prod(cli: Cli) -> str:
    """fraud-detector 1.4.2 (staging) merged into prod (1.4.1) through a reviewed PR; the merge SHA."""
    opened = cli.json("promote", "fraud-detector", "--to", "prod", actor="alice")
    cli("pr", "review", str(opened["pr"]), "--approve", actor="carol")
    cli("pr", "review", str(opened["pr"]), "--approve", actor="dave")
    merged = cli.json("merge", str(opened["pr"]), actor="carol")
    assert merged["merged"], merged
    git(cli.repo, "reset", "-q", "--hard", "main")
    return str(merged["sha"])


def rejected_on(repo: Path, ref: str = "main") -> list[tuple[str, str]]:
    return [(r.model, r.version) for r in load_rejected(git(repo, "show", f"{ref}:{REJECTED}") + "\n")]


@pytest.mark.parametrize("edit", ["unreject-others", "invalid"])
def test_a_rollback_pr_carries_no_hand_edit_of_rejected_yaml(people: Cli, edit: str) -> None:
    cli = people
    cli("reject", "spam-filter", "3.2.0", "--reason", "bad scores", "--direct", actor="sam")
    promote_142_to_prod(cli)
    number = int(
        cli.json("rollback", "fraud-detector", "--env", "prod", "--reason", "auc", actor="sam")["pr"]
    )
    on_branch = git(cli.repo, "show", f"{ROLLBACK_BRANCH}:{REJECTED}") + "\n"
    assert "spam-filter" in on_branch and "fraud-detector" in on_branch
    start = on_branch[on_branch.index("  - model: spam-filter") :]
    end = start.index("  - model: fraud-detector")
    old, new = (start[:end], "") if edit == "unreject-others" else ("rejected:", "rejected: {")
    forge_commit(
        cli.repo,
        ROLLBACK_BRANCH,
        REJECTED,
        old,
        new,
        name="sam",
        email="sam@example.com",
        message="tidy rejected.yaml",
    )
    cli("pr", "review", str(number), "--approve", actor="carol")
    main = git(cli.repo, "rev-parse", "main")

    blockers = pr_blockers(cli, number, actor="dave")

    expected = "changes other entries of" if edit == "unreject-others" else "on the branch does not load"
    assert any(expected in b and "promobot rollback fraud-detector --env prod" in b for b in blockers), (
        blockers
    )
    assert git(cli.repo, "rev-parse", "main") == main
    assert rejected_on(cli.repo) == [("spam-filter", "3.2.0")]


def test_a_rollback_pr_goes_stale_when_the_environment_moves_on(people: Cli) -> None:
    cli = people
    promote_142_to_prod(cli)
    number = int(
        cli.json("rollback", "fraud-detector", "--env", "prod", "--reason", "auc", actor="sam")["pr"]
    )
    cli("pr", "review", str(number), "--approve", actor="carol")
    assert cli.json("pr", "show", str(number))["checks"]["promobot/ready"] == "success"
    # prod moves on: a later change lands on main (here by hand; a merged promotion alike)
    text = (cli.repo / PROD).read_text().replace("version: 1.4.2", "version: 1.4.3", 1)
    (cli.repo / PROD).write_text(text)
    git(cli.repo, "commit", "-qam", "prod runs 1.4.3")

    gates = cli.json("gates", str(number), actor="sam")
    assert gates["ready"] is False
    stale = [b for b in gates["blockers"] if b.startswith("stale:")]
    assert stale and "now runs fraud-detector 1.4.3, not 1.4.2" in stale[0]
    assert "re-run `promobot rollback fraud-detector --env prod`" in stale[0]
    assert cli.json("pr", "show", str(number))["checks"]["promobot/ready"] != "success"
    blockers = pr_blockers(cli, number, actor="dave")
    assert any(b.startswith("stale:") for b in blockers)
    assert "version: 1.4.3" in git(cli.repo, "show", f"main:{PROD}")
    assert rejected_on(cli.repo) == []


# ------------------------------------------------------------- item 6: reject re-evaluates at once


@pytest.mark.parametrize("route", ["direct", "pr"])
def test_rejecting_a_version_re_evaluates_its_open_prs_at_once(people: Cli, route: str) -> None:
    cli = people
    number = int(cli.json("promote", "fraud-detector", "--to", "prod", actor="alice")["pr"])
    cli("pr", "review", str(number), "--approve", actor="carol")
    cli("pr", "review", str(number), "--approve", actor="dave")
    assert cli.json("pr", "show", str(number))["checks"]["promobot/ready"] == "success"

    if route == "direct":
        cli("reject", "fraud-detector", "1.4.2", "--reason", "leaks labels", "--direct", actor="sam")
    else:
        opened = cli.json("reject", "fraud-detector", "1.4.2", "--reason", "leaks labels", actor="sam")
        cli("pr", "review", str(opened["pr"]), "--approve", actor="carol")
        assert cli.json("merge", str(opened["pr"]), actor="dave")["merged"] is True

    checks = cli.json("pr", "show", str(number))["checks"]
    assert checks["promobot/ready"] == "failure" and checks["promobot/gates"] == "failure"

    if route == "direct":
        cli("unreject", "fraud-detector", "1.4.2", "--direct", actor="sam")
    else:
        opened = cli.json("unreject", "fraud-detector", "1.4.2", actor="sam")
        cli("pr", "review", str(opened["pr"]), "--approve", actor="carol")
        assert cli.json("merge", str(opened["pr"]), actor="dave")["merged"] is True
    assert cli.json("pr", "show", str(number))["checks"]["promobot/ready"] == "success"


# --------------------------------------------------------------------------- item 7: chained requester


def test_the_reviewer_whose_approval_merged_upstream_may_approve_the_chained_pr(people: Cli) -> None:
    cli = people
    cli("promote", "fraud-detector", "--to", "staging", actor="alice")
    merged = cli.json("pr", "review", "1", "--approve", actor="carol")  # auto-merge, then the prod PR opens
    prod = cli.json("pr", "show", "2")
    assert prod["head_branch"] == PROD_BRANCH, merged
    assert prod["requester"] == "alice"  # the upstream requester, never the reviewer
    cli("pr", "review", "2", "--approve", actor="carol")
    cli("pr", "review", "2", "--approve", actor="dave")
    assert cli.json("pr", "show", "2")["approvals"]["counted"] == ["carol", "dave"]


# --------------------------------------------------------------------------- item 8: a broken incumbent


def test_an_incumbent_that_does_not_load_fails_the_compare_gates(cli: Cli) -> None:
    text = (cli.repo / PROD).read_text().replace("kind: ModelDeployment", "kind: Nonsense", 1)
    (cli.repo / PROD).write_text(text)
    git(cli.repo, "commit", "-qam", "break prod by hand")

    result = cli.json("promote", "fraud-detector", "--to", "prod", actor="alice", expect=None)

    assert "gates" in result, result
    compare = [g for g in result["gates"] if g["kind"] == "compare"]
    assert compare and all(g["result"] == "failure" for g in compare)
    assert all(PROD in g["reason"] and "does not load" in g["reason"] for g in compare)
    assert result["ready"] is False
    body = cli.json("pr", "show", str(result["pr"]))["body"]
    assert "new to" not in body  # the incumbent is unreadable, not absent
    assert "The incumbent in `prod` is **unreadable**" in body and "Fix that file" in body
    assert f"{PROD}:3:7: kind is 'Nonsense'" in body  # the loader's own words name the file and line


# ------------------------------------------------------- item 21 (part): an honest /promote reply


def test_promote_on_a_merged_pr_does_not_claim_to_open_a_pr_that_already_existed(people: Cli) -> None:
    cli = people
    cli("promote", "fraud-detector", "--to", "staging", actor="alice")
    cli("pr", "review", "1", "--approve", actor="carol")  # auto-merge, then the prod PR #2 opens
    assert cli.json("pr", "show", "2")["state"] == "open"

    reply = cli.json("pr", "comment", "1", "/promote", actor="erin")["reply"]

    assert "Opened #2" not in reply
    assert "merged as" in reply and "Next: #2 (promote `fraud-detector` to `prod`)" in reply


# ----------------------------------------------------------------- item 18: a closed PR stays closed


def test_a_pr_whose_branch_was_deleted_stays_closed_and_promote_opens_a_new_one(people: Cli) -> None:
    cli = people
    first = cli.json("promote", "fraud-detector", "--to", "prod", actor="alice")
    git(cli.repo, "branch", "-D", PROD_BRANCH)  # deleted by hand: the forge closes the PR

    again = cli.json("promote", "fraud-detector", "--to", "prod", actor="alice")

    assert again["created"] is True and again["pr"] != first["pr"]
    assert cli.json("pr", "show", str(first["pr"]))["state"] == "closed"
    assert cli.json("pr", "show", str(again["pr"]))["state"] == "open"


# --------------------------------------------------------------------------- item 13: re-targeting a rollback


def test_re_targeting_an_open_rollback_records_the_new_reason(people: Cli) -> None:
    cli = people
    promote_142_to_prod(cli)
    first = cli.json("rollback", "fraud-detector", "--env", "prod", actor="sam")
    assert "rolled back in prod to 1.4.1" in git(cli.repo, "show", f"{ROLLBACK_BRANCH}:{REJECTED}")

    again = cli.json(
        "rollback", "fraud-detector", "--env", "prod", "--reason", "AUC dropped in prod", actor="sam"
    )

    assert again["pr"] == first["pr"]
    (entry,) = load_rejected(git(cli.repo, "show", f"{ROLLBACK_BRANCH}:{REJECTED}") + "\n")
    assert entry.reason == "AUC dropped in prod"


# --------------------------------------------------------------------------- item 20: --now is for previews

SUNDAY = "2026-11-29T12:00:00Z"  # inside the example's weekend freeze
WRITES = [
    ["merge", "1"],
    ["gates", "1"],
    ["promote", "fraud-detector", "--to", "prod"],
    ["promote", "--all", "--to", "prod"],
    ["rollback", "fraud-detector", "--env", "prod"],
    ["reject", "fraud-detector", "1.4.2", "--reason", "x"],
    ["unreject", "fraud-detector", "1.4.2"],
    ["verify"],
    ["sync"],
    ["handle-event", "--name", "schedule"],
    ["pr", "review", "1", "--approve"],
    ["pr", "comment", "1", "/promote"],
    ["pr", "users", "set", "zoe", "--permission", "admin"],
    ["init", "elsewhere"],
]
PREVIEWS = [
    ["status"],
    ["validate"],
    ["diff", "fraud-detector", "--to", "prod"],
    ["history", "fraud-detector"],
    ["pr", "list"],
    ["pr", "show", "1"],
    ["pr", "users", "list"],
    ["promote", "fraud-detector", "--to", "prod", "--dry-run"],
    ["site", "--out", "SITE"],
]


def everything(repo: Path) -> tuple[str, bytes, list[str]]:
    """Refs, the local forge's state and the working tree's status: what a write would change."""
    state = repo / ".git" / "promobot" / "forge.json"
    return (
        git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
        state.read_bytes(),
        sorted(p.name for p in repo.parent.iterdir() if p.name != "site"),  # site writes only --out
    )


@pytest.mark.parametrize("args", WRITES, ids=" ".join)
def test_commands_that_post_merge_or_write_refuse_a_pretended_time_on_the_local_forge(
    people: Cli, args: list[str]
) -> None:
    cli = people
    cli("promote", "fraud-detector", "--to", "prod", actor="alice")  # PR #1, so that each can act
    before = everything(cli.repo)
    argv = [a if a != "elsewhere" else str(cli.repo.parent / "elsewhere") for a in args]

    refused = cli(*argv, "--now", SUNDAY, actor="sam", expect=2)  # sam may do all of them

    assert f"--now is only for previews: `promobot {args[0]}" in refused.stderr
    assert "drop --now" in refused.stderr
    assert ("--dry-run" in refused.stderr) == (args[0] in ("promote", "rollback", "sync"))
    assert everything(cli.repo) == before  # nothing posted, merged, committed or created


@pytest.mark.parametrize("args", PREVIEWS, ids=" ".join)
def test_previews_accept_a_pretended_time(people: Cli, args: list[str]) -> None:
    cli = people
    cli("promote", "fraud-detector", "--to", "prod", actor="alice")  # PR #1, for `pr show 1`
    before = everything(cli.repo)

    argv = [a if a != "SITE" else str(cli.repo.parent / "site") for a in args]
    shown = cli(*argv, "--now", SUNDAY, actor="sam", output="json")

    assert "--now" not in shown.stderr
    assert shown.stdout.strip().startswith(("{", "["))
    assert everything(cli.repo) == before


def test_a_pretended_time_reaches_the_preview(cli: Cli) -> None:
    friday = cli.json("diff", "fraud-detector", "--to", "prod")
    sunday = cli.json("--now", SUNDAY, "diff", "fraud-detector", "--to", "prod")
    assert {g["kind"]: g["result"] for g in friday["gates"]}["freeze"] == "success"
    assert {g["kind"]: g["result"] for g in sunday["gates"]}["freeze"] == "pending"


def test_only_an_in_process_caller_can_fix_the_clock_of_a_write(example_repo: Path) -> None:
    """The console script passes no ``obj``: from a shell, a write always runs at the real time."""
    import inspect

    from bot import cli as cli_module

    assert "obj=" not in inspect.getsource(cli_module.main)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PROMOBOT_"))}
    run = subprocess.run(
        console_argv(
            example_repo, "--now", SUNDAY, "promote", "fraud-detector", "--to", "prod", "-o", "json"
        ),
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert run.returncode == 2, run.stderr
    error = json.loads(run.stdout)
    assert error["exit_code"] == 2 and error["error"].startswith("--now is only for previews")
    assert not (example_repo / ".git" / "promobot" / "forge.json").exists()


@pytest.mark.parametrize("args", [a for a in WRITES if a[0] != "init"], ids=" ".join)
def test_commands_that_post_or_merge_on_github_refuse_a_pretended_time(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    from click.testing import CliRunner

    from bot.cli import cli

    for name in ("GITHUB_REPOSITORY", "GITHUB_TOKEN", "GITHUB_ACTIONS", "PROMOBOT_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    base = ["--repo", str(example_repo), "--forge", "github", "--now", "2026-11-27T16:00:00Z"]

    refused = CliRunner().invoke(cli, [*base, *args])

    assert refused.exit_code == 2, refused.output
    assert "--now is only for previews" in refused.stderr
    preview = CliRunner().invoke(cli, [*base, "promote", "fraud-detector", "--to", "prod", "--dry-run"])
    assert "--now" not in preview.stderr  # refused later, for the missing repository, not the time


# ------------------------------------------------- item 19: the CLI authorises like slash-commands


def test_cli_gates_and_rollback_are_authorised_like_their_slash_commands(people: Cli) -> None:
    cli = people
    number = int(cli.json("promote", "fraud-detector", "--to", "prod", actor="alice")["pr"])
    refused = cli("gates", str(number), actor="mallory", expect=1)  # a reader may not /retest
    assert "mallory may not /retest" in refused.stderr
    promote_142_to_prod(cli)
    before = git(cli.repo, "for-each-ref", "--format=%(refname) %(objectname)")
    refused = cli("rollback", "fraud-detector", "--env", "prod", actor="alice", expect=1)
    assert "alice may not /rollback" in refused.stderr
    assert git(cli.repo, "for-each-ref", "--format=%(refname) %(objectname)") == before
    assert cli.json("rollback", "fraud-detector", "--env", "prod", actor="sam")["pr"] is not None


@pytest.mark.parametrize("verb", ["reject", "unreject"])
@pytest.mark.parametrize("route", ["pr", "direct"])
def test_reject_and_unreject_are_authorised_like_rollback_on_every_route(
    people: Cli, verb: str, route: str
) -> None:
    cli = people
    if verb == "unreject":
        cli("reject", "fraud-detector", "1.4.2", "--reason", "leaks labels", "--direct", actor="sam")
    args = [verb, "fraud-detector", "1.4.2", *(["--reason", "leaks labels"] if verb == "reject" else [])]
    args += ["--direct"] if route == "direct" else []
    before = everything(cli.repo)

    refused = cli(*args, actor="alice", expect=1)  # alice has write, commands.rollback needs maintain

    assert "alice may not /rollback" in refused.stderr
    assert "needs maintain permission or membership of @acme/sre" in refused.stderr
    assert everything(cli.repo) == before  # no branch, no PR, no commit
    done = cli.json(*args, actor="sam")
    assert (done["pr"] is None) == (route == "direct") and (done["sha"] is None) == (route == "pr")


def test_a_rollback_pr_that_conflicts_says_to_re_run_promobot_not_to_update_the_branch(people: Cli) -> None:
    cli = people
    promote_142_to_prod(cli)
    number = int(
        cli.json("rollback", "fraud-detector", "--env", "prod", "--reason", "auc", actor="sam")["pr"]
    )
    cli("pr", "review", str(number), "--approve", actor="carol")
    # prod still runs 1.4.2, but a hand edit on main touches the lines the rollback changes
    text = (cli.repo / PROD).read_text().replace("  auc: 0.931\n", "  auc: 0.932\n", 1)
    (cli.repo / PROD).write_text(text)
    git(cli.repo, "commit", "-qam", "fix the recorded auc of 1.4.2")

    refused = cli("merge", str(number), actor="dave", expect=1)

    assert "conflicts" in refused.stderr
    assert "re-run `promobot rollback fraud-detector --env prod`" in refused.stderr
    assert "update the branch" not in refused.stderr
