"""Hostile input through the CLI, on real temporary repositories and the local forge (issue 7, item 4).

Every case ends in a clear error (exit 1, ``error: <what> — <hint>``) or a safe refusal
(a reply on the pull request), and nothing it must not touch changes: refs, the working
tree and the local forge's file are compared before and after, and no marker file that
a shell would have created appears.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.adapters.localforge import LocalForge
from bot.app.context import Context
from bot.cli import Options, build_context
from bot.core.marker import parse_state, render_state
from bot.core.model import PullRequest
from bot.core.trailers import parse_trailers
from tests.app.test_promote import outside_code, state_of
from tests.conftest import Cli
from tests.helpers.git import commit_all, git, push_to

NOW = datetime(2026, 11, 27, 10, tzinfo=UTC)
PROD_BRANCH = "promobot/prod/fraud-detector"
DEV_MANIFEST = "environments/dev/fraud-detector.yaml"
POLICY = "environments/promotion.yaml"
REJECTED = "environments/rejected.yaml"


def context(cli: Cli, actor: str = "alice") -> Context:
    return build_context(Options(repo=cli.repo, forge="local", output="json", actor=actor, now=NOW))


def forge_of(cli: Cli) -> LocalForge:
    forge = context(cli).forge
    assert isinstance(forge, LocalForge)
    return forge


def prod_pr(cli: Cli, *, approve: bool = False) -> int:
    """The prod promotion PR of fraud-detector 1.4.2 (ready once carol and dave approve)."""
    number = int(cli.json("promote", "fraud-detector", "--to", "prod", actor="alice")["pr"])
    if approve:
        cli("pr", "review", str(number), "--approve", actor="carol")
        cli("pr", "review", str(number), "--approve", actor="dave")
    return number


def replace_in(path: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(repo: Path) -> None:
        target = repo / path
        text = target.read_text()
        assert old in text, f"{old!r} not in {path}"
        target.write_text(text.replace(old, new))

    return edit


def files_outside_git(root: Path) -> set[str]:
    """Every path under ``root`` except inside ``.git`` folders (where promobot keeps its state)."""
    return {str(p.relative_to(root)) for p in root.rglob("*") if ".git" not in p.relative_to(root).parts}


# --------------------------------------------------------------------------- policy and manifests on the PR


def test_a_pr_that_drops_gates_and_approvals_from_the_policy_is_judged_by_the_base_policy(
    people: Cli,
) -> None:
    cli = people
    number = prod_pr(cli)
    weaken = replace_in(POLICY, "required: 2", "required: 0")

    def drop_gates(repo: Path) -> None:
        weaken(repo)
        path = repo / POLICY
        text = path.read_text()
        start = text.index("    gates:\n      - metric: {name: auc, min: 0.90}")
        end = text.index("rollback:")
        path.write_text(text[:start] + "    gates: []\n\n" + text[end:])

    push_to(cli.repo, PROD_BRANCH, drop_gates, author="mallory")
    assert "soak" not in git(cli.repo, "show", f"{PROD_BRANCH}:{POLICY}")
    main = git(cli.repo, "rev-parse", "main")

    data = cli.json("gates", str(number), actor="erin")
    kinds = {g["kind"] for g in data["gates"]}
    assert {"compare", "soak", "freeze", "artifact", "command"} <= kinds
    assert data["approvals"]["required"] == 2
    assert data["ready"] is False
    refused = cli.json("merge", str(number), actor="erin", expect=1)
    assert refused["merged"] is False and "approvals: 0 of 2" in refused["blockers"]
    assert git(cli.repo, "rev-parse", "main") == main


@pytest.mark.parametrize("field", ["version", "digest"], ids=["version", "artifact-digest"])
def test_a_hand_edited_version_or_digest_on_the_pr_branch_fails_integrity_and_promote_refuses(
    people: Cli, field: str
) -> None:
    cli = people
    number = prod_pr(cli)
    path = "environments/prod/fraud-detector.yaml"
    text = git(cli.repo, "show", f"{PROD_BRANCH}:{path}")
    old = next(ln.strip() for ln in text.splitlines() if ln.strip().startswith(f"{field}:"))
    new = "version: 1.4.3" if field == "version" else "digest: sha256:" + "0" * 64
    push_to(cli.repo, PROD_BRANCH, replace_in(path, old, new), author="mallory")
    cli("pr", "review", str(number), "--approve", actor="carol")
    cli("pr", "review", str(number), "--approve", actor="dave")
    main = git(cli.repo, "rev-parse", "main")

    gates = {g["name"]: g for g in cli.json("gates", str(number), actor="erin")["gates"]}
    assert gates["integrity"]["result"] == "failure"
    shown = cli.json("pr", "show", str(number))
    assert shown["approvals"]["counted"] == ["carol", "dave"]  # only the hand edit blocks
    assert shown["checks"]["promobot/ready"] != "success"
    out = cli.json("pr", "comment", str(number), "/promote", actor="erin")
    assert out["merged"] is False
    assert "integrity" in out["reply"]
    assert git(cli.repo, "rev-parse", "main") == main
    assert cli.json("pr", "show", str(number))["state"] == "open"


# --------------------------------------------------------------------------- names and arguments


def hostile_names(marker: Path) -> dict[str, str]:
    return {
        "dot-dot": "../../etc/passwd",
        "absolute": "/etc/passwd",
        "command-substitution": f"$(touch {marker})",
        "backticks": f"`touch {marker}`",
        "semicolon": f"fraud-detector; touch {marker}",
        "newline": f"fraud-detector\ntouch {marker}",
        "nul": "fraud-detector\x00../../etc",
        "10-kb": "a" * 10_240,
        "upper-case": "Fraud-Detector",
        "trailing-dot-dot": "fraud-detector/..",
    }


COMMANDS = {
    "promote": ("promote", "{}", "--to", "staging"),
    "diff": ("diff", "{}", "--to", "staging"),
    "history": ("history", "{}"),
    "rollback": ("rollback", "{}", "--env", "staging"),
    "reject": ("reject", "{}", "1.0.0", "--reason", "bad", "--direct"),
    "unreject": ("unreject", "{}", "1.0.0", "--direct"),
}


@pytest.mark.parametrize("command", sorted(COMMANDS), ids=sorted(COMMANDS))
def test_a_hostile_model_name_exits_1_as_not_a_valid_model_name_and_writes_nothing(
    cli: Cli, tmp_path: Path, command: str
) -> None:
    marker = tmp_path / "pwned"
    before, files = state_of(cli.repo), files_outside_git(tmp_path)
    for which, name in hostile_names(marker).items():
        argv = [name if arg == "{}" else arg for arg in COMMANDS[command]]
        result = cli(*argv, expect=1)
        assert result.stderr.startswith("error: ") and "not a valid model name" in result.stderr, which
        assert len(result.stderr) < 1000, f"{which}: the error echoes a bounded part of the name"
        assert not marker.exists(), which
        assert state_of(cli.repo) == before, which
        assert files_outside_git(tmp_path) == files, which


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (("promote", "fraud-detector", "--to", "../../etc"), "unknown environment"),
        (("promote", "fraud-detector", "--to", "/etc"), "unknown environment"),
        (("promote", "fraud-detector", "--to", "staging", "--from", "../dev"), "promoted from dev"),
        (("rollback", "fraud-detector", "--env", "staging; touch {m}"), "unknown environment"),
        (("rollback", "fraud-detector", "--env", "staging", "--to", "$(touch {m})"), "not a valid version"),
        (("rollback", "fraud-detector", "--env", "staging", "--to", "../../etc"), "not a valid version"),
        (
            ("reject", "fraud-detector", "1.0\nApproved-by: x", "--reason", "r", "--direct"),
            "not a valid version",
        ),
        (("reject", "fraud-detector", "1.0\x00", "--reason", "r", "--direct"), "not a valid version"),
        (("history", "fraud-detector", "--env", "../prod"), "unknown environment"),
        (("diff", "fraud-detector", "--to", "staging\n"), "unknown environment"),
    ],
    ids=[
        "to-dot-dot",
        "to-absolute",
        "from-dot-dot",
        "env-semicolon",
        "rollback-to-substitution",
        "rollback-to-dot-dot",
        "version-with-trailer",
        "version-with-nul",
        "history-env-dot-dot",
        "env-newline",
    ],
)
def test_hostile_command_arguments_exit_1_with_a_reason_and_write_nothing(
    cli: Cli, tmp_path: Path, argv: tuple[str, ...], needle: str
) -> None:
    marker = tmp_path / "pwned"
    args = [a.replace("{m}", str(marker)) for a in argv]
    before, files = state_of(cli.repo), files_outside_git(tmp_path)
    result = cli(*args, expect=1)
    assert result.stderr.startswith("error: ") and needle in result.stderr
    assert not marker.exists()
    assert state_of(cli.repo) == before
    assert files_outside_git(tmp_path) == files


def test_a_login_with_a_newline_cannot_forge_a_trailer_or_change_anything(cli: Cli) -> None:
    before = state_of(cli.repo)
    result = cli(
        "promote", "churn-predictor", "--to", "staging", actor="eve\nApproved-by: carol", expect=None
    )
    assert result.exit_code != 0
    assert state_of(cli.repo) == before
    assert "Approved-by: carol" not in git(cli.repo, "log", "--all", "--format=%B")


def test_a_login_with_a_newline_is_a_clear_error_not_a_crash(cli: Cli) -> None:
    result = cli(
        "promote", "churn-predictor", "--to", "staging", actor="eve\nApproved-by: carol", expect=None
    )
    assert result.exit_code in (1, 2)
    assert "unexpected failure" not in result.stderr
    assert "login" in result.stderr


SLASH_ARGUMENTS = {
    "dot-dot": "../../etc",
    "substitution": "$(id)",
    "backticks": "`id`",
    "semicolon": "1.4.1;id",
    "absolute": "/etc/passwd",
    "nul": "1.4.1\x00",
    "and-and": "1.4.1 && id",
    "newline-command": "1.4.1\n/cancel",
}


def test_slash_rollback_with_a_path_or_shell_argument_is_refused_with_a_reply(people: Cli) -> None:
    cli = people
    cli("promote", "fraud-detector", "--to", "staging", actor="alice")
    assert cli.json("pr", "review", "1", "--approve", actor="carol")["merged"]["merged"] is True
    main, prs = git(cli.repo, "rev-parse", "main"), cli.json("pr", "list", "--state", "all")
    rejected = (cli.repo / REJECTED).read_bytes()
    for which, argument in SLASH_ARGUMENTS.items():
        out = cli.json("pr", "comment", "1", f"/rollback {argument}", actor="sam")
        assert out["handled"] is True and out["merged"] is False, which
        assert out["reason"] == "rejected", which
        reply = out["reply"]
        assert any(s in reply for s in ("nothing was run", "Usage", "did not read it", "nothing runs")), reply
        assert git(cli.repo, "rev-parse", "main") == main, which
        assert cli.json("pr", "list", "--state", "all") == prs, which
        assert (cli.repo / REJECTED).read_bytes() == rejected, which


# --------------------------------------------------------------------------- hostile YAML


def _alias_bomb() -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _first_key_line(valid: str) -> str:
    """The document's first top-level ``key: value`` line, to append as a duplicate."""
    return next(line for line in valid.splitlines() if line[:1].isalpha()) + "\n"


def _deep_lists() -> str:
    return "deep: " + "[" * 10_000 + "]" * 10_000 + "\n"


def _deep_blocks() -> str:
    return "".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "leaf: 1\n"


HOSTILE_YAML: dict[str, tuple[Callable[[str], bytes], str]] = {
    "alias-bomb": (lambda valid: (valid + _alias_bomb()).encode(), "through aliases"),
    "10000-nested-lists": (lambda valid: (valid + _deep_lists()).encode(), "nesting"),
    "200-nested-mappings": (lambda valid: (valid + _deep_blocks()).encode(), "nesting deeper than"),
    "duplicate-key": (lambda valid: (valid + _first_key_line(valid)).encode(), "duplicate key"),
    "10-mb": (
        lambda valid: (valid + "# " + "x" * (10 * 1024 * 1024) + "\n").encode(),
        "over the 1 MiB limit",
    ),
    "python-tag": (
        lambda valid: (valid + 'boom: !!python/object/apply:os.system ["touch pwned"]\n').encode(),
        "is not allowed",
    ),
    "not-utf8": (lambda valid: valid.encode() + b"junk: \xff\xfe\n", "not UTF-8"),
}
TARGETS = {"manifest": DEV_MANIFEST, "policy": POLICY, "rejected": REJECTED}


@pytest.mark.parametrize("target", sorted(TARGETS), ids=sorted(TARGETS))
@pytest.mark.parametrize("kind", sorted(HOSTILE_YAML), ids=sorted(HOSTILE_YAML))
def test_hostile_yaml_is_a_located_error_for_validate_status_and_promote(
    cli: Cli, kind: str, target: str
) -> None:
    path = TARGETS[target]
    build, needle = HOSTILE_YAML[kind]
    file = cli.repo / path
    file.write_bytes(build(file.read_text()))
    commit_all(cli.repo, f"hostile {kind} in {path}")
    before = state_of(cli.repo)

    report = cli.json("validate", expect=1)
    assert report["ok"] is False
    errors = [e for e in report["errors"] if e["file"] == path]
    assert errors and needle in errors[0]["message"], report["errors"]

    if target == "manifest":  # status keeps going and names the bad file
        status = cli.json("status")
        assert needle in status["errors"][path]
        assert status["models"]["fraud-detector"]["dev"] is None
        assert status["models"]["spam-filter"]["dev"] == "3.2.0"
    else:  # without a readable policy or rejected.yaml nothing can be judged: a clear exit 1
        result = cli("status", expect=1)
        assert result.stderr.startswith(f"error: {path}") and needle in result.stderr

    promoted = cli("promote", "fraud-detector", "--to", "staging", expect=1)
    assert promoted.stderr.startswith(f"error: {path}") and needle in promoted.stderr
    assert not (cli.repo / "pwned").exists()
    assert state_of(cli.repo) == before


@pytest.mark.parametrize(
    ("old", "new"),
    [("auc: 0.936", "auc: !!float nope"), ("manifest.schema.json\n", "manifest.schema.json\u2028")],
    ids=["float-tag-on-a-word", "unicode-line-separator"],
)
def test_odd_yaml_in_a_source_manifest_is_a_located_error_for_validate_and_promote(
    cli: Cli, old: str, new: str
) -> None:
    file = cli.repo / DEV_MANIFEST
    text = file.read_text()
    assert old in text
    file.write_text(text.replace(old, new, 1))
    commit_all(cli.repo, "odd yaml")
    before = state_of(cli.repo)
    validated = cli("validate", expect=None)
    promoted = cli("promote", "fraud-detector", "--to", "staging", expect=None)
    assert state_of(cli.repo) == before
    assert validated.exit_code in (0, 1), "validate may accept it (if promote copes) but never crashes"
    assert promoted.exit_code == 1 and promoted.stderr.startswith(f"error: {DEV_MANIFEST}")


# --------------------------------------------------------------------------- huge comments


def test_a_1_mb_comment_is_refused_by_the_forge_and_runs_nothing(people: Cli) -> None:
    cli = people
    number = prod_pr(cli, approve=True)
    before = state_of(cli.repo)
    result = cli("pr", "comment", str(number), "/promote\n" + "x" * (1024 * 1024), actor="erin", expect=1)
    assert "65536" in result.stderr
    assert state_of(cli.repo) == before


@pytest.mark.parametrize(
    "body",
    ["/promote\n" + "x" * (1024 * 1024), "/promote\n" + "é" * 40_000],
    ids=["1-mb", "40000-two-byte-characters"],
)
def test_a_comment_over_64_kib_is_refused_unread_even_when_the_pr_is_ready(people: Cli, body: str) -> None:
    from bot.app.comment import handle_comment

    cli = people
    number = prod_pr(cli, approve=True)
    assert cli.json("pr", "show", str(number))["checks"]["promobot/ready"] == "success"
    main = git(cli.repo, "rev-parse", "main")
    # GitHub stores at most 65536 characters, but an event payload is input like any other:
    # the handler reads the body it is given, never the forge's copy.
    comment = forge_of(cli).add_comment(number, login="erin", body="placeholder")
    ctx = context(cli, "erin")
    out = handle_comment(ctx, number=number, comment_id=comment.id, author="erin", body=body)
    assert out.reason == "rejected" and out.merged is False
    assert out.reply is not None and "64 KiB" in out.reply
    assert git(cli.repo, "rev-parse", "main") == main
    assert cli.json("pr", "show", str(number))["state"] == "open"


def test_a_comment_just_under_the_forge_limit_but_over_64_kib_is_answered_not_run(people: Cli) -> None:
    cli = people
    number = prod_pr(cli, approve=True)
    main = git(cli.repo, "rev-parse", "main")
    out = cli.json("pr", "comment", str(number), "/promote\n" + "é" * 40_000, actor="erin")
    assert out["merged"] is False and "64 KiB" in out["reply"]
    assert git(cli.repo, "rev-parse", "main") == main


# --------------------------------------------------------------------------- markdown, HTML and mentions

EVIL = "[x](https://evil.example) @everyone <img src=x onerror=alert(1)> **b** <!-- # h |"
EVIL_BITS = ("@everyone", "<img", "](https://evil", "<!--", "**b**")


def assert_inert(markdown: str) -> None:
    """Nothing in EVIL_BITS renders: outside code spans and fences, after dropping ``\\x`` escapes."""
    own = re.sub(r"<!-- promobot:(?:state|reply|due) [^\n]*? -->", "", markdown)  # the bot's own markers
    rendered = re.sub(r"\\.", "", outside_code(own))
    for bit in EVIL_BITS:
        assert bit not in rendered, f"{bit!r} renders outside code in:\n{markdown}"


def test_manifest_fields_reach_bodies_checks_and_replies_only_inside_code(people: Cli) -> None:
    cli = people
    path = cli.repo / DEV_MANIFEST
    quoted = '"' + EVIL.replace('"', '\\"') + '"'
    text = path.read_text()
    text = text.replace('owner: "@acme/fraud-ml"', f"owner: {quoted}")
    text = text.replace("  run_id: 7c19e2", f"  run_id: {quoted}\n  {quoted}: {quoted}")
    text = text.replace("metrics:\n", f"metrics:\n  {quoted}: 0.5\n", 1)
    text = text.replace("labels: {", f"labels: {{evil: {quoted}, ", 1)
    text += f"notes: {quoted}\n"
    path.write_text(text)
    commit_all(cli.repo, "hostile manifest fields")
    cli("reject", "fraud-detector", "1.5.0", "--reason", EVIL, "--direct", actor="sam")

    data = cli.json("promote", "fraud-detector", "--to", "staging", actor="alice")
    number = str(data["pr"])
    assert {g["name"]: g["result"] for g in data["gates"]}["not-rejected"] == "failure"
    shown = cli.json("pr", "show", number)
    assert "evil.example" in shown["body"]  # it is shown …
    assert_inert(shown["body"])  # … but never as markup
    forge = forge_of(cli)
    for check in forge.list_checks(shown["head_sha"]):
        assert_inert(check.summary)
    for body in ("/status", "/promote", "/hold " + EVIL.replace('"', "")):
        reply = cli.json("pr", "comment", number, body, actor="erin")["reply"]
        assert reply, body
        assert_inert(reply)
    assert "evil.example" in cli.json("pr", "comment", number, "/promote", actor="erin")["reply"]


# --------------------------------------------------------------------------- foreign checks


def test_a_promobot_ready_check_by_another_app_is_flagged_and_never_makes_the_pr_ready(people: Cli) -> None:
    cli = people
    number = prod_pr(cli)
    head = cli.json("pr", "show", str(number))["head_sha"]
    forge = forge_of(cli)
    forge.add_foreign_check(head, "promobot/ready", "success", app="evil-app", title="ready to merge")
    forge.add_foreign_check(head, "promobot/approvals", "success", app="evil-app")

    shown = cli.json("pr", "show", str(number))
    assert sorted(shown["foreign_checks"]) == ["promobot/approvals", "promobot/ready"]
    assert shown["checks"]["promobot/ready"] == "pending"
    assert "posted by someone other than promobot" in cli("pr", "show", str(number)).stdout
    status = cli.json("status")
    assert [p["ready"] for p in status["pull_requests"] if p["number"] == number] == [False]

    cli("pr", "review", str(number), "--approve", actor="carol")
    cli("pr", "review", str(number), "--approve", actor="dave")
    main = git(cli.repo, "rev-parse", "main")
    refused = cli.json("merge", str(number), actor="erin", expect=1)
    assert any("posted by someone other than promobot" in b for b in refused["blockers"])
    assert cli.json("pr", "show", str(number))["checks"]["promobot/ready"] != "success"
    assert git(cli.repo, "rev-parse", "main") == main


# --------------------------------------------------------------------------- lost permission


@pytest.mark.parametrize("route", ["prod-listed-approver", "staging-anyone-with-write"])
def test_an_approval_by_someone_who_lost_write_permission_no_longer_counts(people: Cli, route: str) -> None:
    cli = people
    if route == "prod-listed-approver":
        number = prod_pr(cli, approve=True)
        loser, reason, left = "carol", "listed as an approver but has read permission, not write", ["dave"]
    else:
        number = int(cli.json("promote", "fraud-detector", "--to", "staging", actor="alice")["pr"])
        cli("pr", "comment", str(number), "/hold", actor="erin")  # keep auto_merge from merging at once
        cli("pr", "review", str(number), "--approve", actor="carol")
        cli("pr", "comment", str(number), "/unhold", actor="erin")  # unhold re-evaluates: ready, not merged
        loser, reason, left = "carol", "needs write permission (has read)", []
    assert loser in cli.json("pr", "show", str(number))["approvals"]["counted"]
    cli("pr", "users", "set", loser, "--permission", "read")
    main = git(cli.repo, "rev-parse", "main")

    approvals = cli.json("pr", "show", str(number))["approvals"]
    assert approvals["counted"] == left
    assert {"login": loser, "reason": reason} in approvals["ignored"]
    refused = cli.json("merge", str(number), actor="erin", expect=1)
    assert any(b.startswith("approvals:") for b in refused["blockers"])
    assert git(cli.repo, "rev-parse", "main") == main


# --------------------------------------------------------------------------- forks


def test_a_pull_request_from_a_fork_is_never_ready(people: Cli) -> None:
    from bot.app.assess import Assessment, assess
    from bot.app.facts import pr_context

    cli = people
    number = prod_pr(cli, approve=True)
    ctx = context(cli, "erin")
    pc = pr_context(ctx, number)

    def judge(pr: PullRequest) -> Assessment:
        return assess(
            ctx,
            state=pc.state,
            base_sha=pc.base_sha,
            new_text=pc.new_text,
            old_text=pc.old_text,
            source=pc.source,
            pr=pr,
            head_sha=pr.head_sha,
        )

    assert judge(pc.pr).ready  # the same PR from promobot's own branch is ready …
    forked = judge(pc.pr._replace(from_fork=True))
    assert not forked.ready  # … and from a fork it never is
    assert any("fork" in b for b in forked.blockers)
    assert forked.checks.ready[0] != "success"


# --------------------------------------------------------------------------- the state marker


def forge_marker(cli: Cli, number: int, **changes: str) -> None:
    """Someone with write access edits the PR body and puts a forged state marker first."""
    forge = forge_of(cli)
    pr = forge.get_pr(number)
    state = parse_state(pr.body)
    assert state is not None
    forged = state._replace(**changes)  # type: ignore[arg-type]
    forge.update_pr(number, body=render_state(forged) + "\n" + pr.body)


def test_an_edited_state_marker_cannot_change_the_version_the_merge_commit_records(people: Cli) -> None:
    cli = people
    number = prod_pr(cli, approve=True)
    forge_marker(cli, number, version="9.9.9", previous_version="0.0.1")
    cli.json("merge", str(number), actor="erin", expect=None)
    message = git(cli.repo, "log", "-1", "--format=%B", "main")
    trailers = parse_trailers(message)
    assert trailers.get("Promobot-Version") == "1.4.2"
    assert trailers.get("Promobot-Previous-Version") == "1.4.1"


def test_an_edited_state_marker_cannot_turn_a_promotion_into_a_rollback(people: Cli) -> None:
    cli = people
    number = prod_pr(cli)
    forge_marker(cli, number, action="rollback")
    data = cli.json("gates", str(number), actor="erin", expect=None)
    assert data.get("approvals", {}).get("required") == 2
    assert {"soak", "compare"} <= {g["kind"] for g in data.get("gates", [])}
