"""Issue 10: trust nothing a pusher or a terminal can forge (the adapter, core and CLI items).

Each test reproduces one finding on a real temporary repository and the local forge, and
shows the fixed behaviour: items 3, 4, 9, 10, 11, 12, 15, 16, 17, 21 and 22.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.helpers.git import commit_all, edit, git

DEV = "environments/dev/fraud-detector.yaml"
STAGING = "environments/staging/fraud-detector.yaml"
POLICY = "environments/promotion.yaml"
ARTIFACT = "environments/artifacts/fraud-detector/1.5.0/model.onnx"


def gate(data: dict[str, object], name: str) -> dict[str, str]:
    rows = data["gates"]
    assert isinstance(rows, list)
    return next(g for g in rows if g["name"] == name)


# --------------------------------------------------------------------------- item 9: huge numbers


HUGE = "9" * 400


def test_huge_integer_metric_is_invalid_input_with_location_not_a_crash(cli: Cli) -> None:
    edit(cli.repo, DEV, "recall: 0.821", f"recall: {HUGE}")
    commit_all(cli.repo, "a metric of 400 digits")
    result = cli("validate", expect=1)
    assert re.search(r"environments/dev/fraud-detector\.yaml:\d+:\d+: metric 'recall'", result.stdout)
    assert "unexpected failure" not in result.output
    diff = cli("diff", "fraud-detector", "--to", "staging", expect=1)
    assert re.search(r"error: environments/dev/fraud-detector\.yaml:\d+", diff.stderr)
    cli("promote", "fraud-detector", "--to", "staging", expect=1)


def test_one_huge_metric_never_takes_status_down_for_the_other_models(cli: Cli) -> None:
    edit(cli.repo, DEV, "recall: 0.821", f"recall: {HUGE}")
    commit_all(cli.repo, "a metric of 400 digits")
    data = cli.json("status")
    assert data["models"]["spam-filter"]["prod"] == "3.1.0"
    text = cli("status").stdout
    assert "spam-filter" in text and "environments/dev/fraud-detector.yaml:" in text


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("soak: {hours: 24}", "soak: {hours: 1e308}"),
        ("soak: {hours: 24}", f"soak: {{hours: {HUGE}}}"),
        ("required: 2", f"required: {HUGE}"),
        ("max_drop: 0.005", f"max_drop: {HUGE}"),
        ("{name: auc, min: 0.90}", f"{{name: auc, min: {HUGE}}}"),
        ("timeout: 120}", "timeout: 1e300}"),
    ],
)
def test_huge_numeric_policy_fields_are_refused_by_validate(cli: Cli, old: str, new: str) -> None:
    edit(cli.repo, POLICY, old, new)
    commit_all(cli.repo, "a huge policy number")
    result = cli("validate", expect=1)
    assert re.search(r"environments/promotion\.yaml:\d+:\d+: ", result.stdout), result.stdout
    diff = cli("diff", "fraud-detector", "--to", "prod", expect=1)
    assert "unexpected failure" not in diff.stderr
    assert re.search(r"error: environments/promotion\.yaml:\d+", diff.stderr)


# --------------------------------------------------------------------------- item 12: two verdicts


def test_review_with_two_verdicts_is_a_usage_error(cli: Cli) -> None:
    number = str(cli.json("promote", "fraud-detector", "--to", "staging")["pr"])
    result = cli("pr", "review", number, "--approve", "--request-changes", actor="carol", expect=2)
    assert "exactly one of --approve, --request-changes, --comment" in result.stderr
    cli("pr", "review", number, actor="carol", expect=2)
    assert cli.json("pr", "show", number)["approvals"]["counted"] == []
    cli("pr", "review", number, "--approve", actor="carol")
    assert cli.json("pr", "show", number)["approvals"]["counted"] == ["carol"]


# ---------------------------------------------------------------- item 15: artifacts at the commit


def test_artifact_gate_reads_the_committed_file_not_the_working_tree(cli: Cli) -> None:
    (cli.repo / ARTIFACT).write_bytes(b"tampered, uncommitted")
    data = cli.json("promote", "fraud-detector", "--to", "staging", "--dry-run")
    assert gate(data, "artifact")["result"] == "success", gate(data, "artifact")


def test_artifact_gate_fails_on_a_bad_committed_file_even_if_the_working_tree_is_right(cli: Cli) -> None:
    good = (cli.repo / ARTIFACT).read_bytes()
    (cli.repo / ARTIFACT).write_bytes(b"committed garbage")
    commit_all(cli.repo, "break the artifact")
    (cli.repo / ARTIFACT).write_bytes(good)  # the working tree has the right bytes, uncommitted
    data = cli.json("promote", "fraud-detector", "--to", "staging", "--dry-run")
    row = gate(data, "artifact")
    assert row["result"] == "failure" and "mismatch" in row["reason"], row


def test_artifact_that_is_only_untracked_in_the_working_tree_is_missing(cli: Cli) -> None:
    content = (cli.repo / ARTIFACT).read_bytes()
    git(cli.repo, "rm", "-q", "--cached", ARTIFACT)
    git(cli.repo, "commit", "-q", "-m", "forget the artifact")
    (cli.repo / ARTIFACT).write_bytes(content)  # still on disk, untracked
    data = cli.json("promote", "fraud-detector", "--to", "staging", "--dry-run")
    row = gate(data, "artifact")
    assert row["result"] == "failure" and "no such file in commit" in row["reason"], row


# --------------------------------------------------------------------------- item 17: names git refuses


@pytest.mark.parametrize("name", ["m.lock", "a..b"])
def test_validate_refuses_model_names_git_refuses_in_a_branch(cli: Cli, name: str) -> None:
    text = (cli.repo / DEV).read_text().replace("name: fraud-detector", f"name: {name}")
    (cli.repo / f"environments/dev/{name}.yaml").write_text(text)
    result = cli("validate", expect=1)
    assert f"model name {name!r} is not valid" in result.stdout or name in result.stdout
    assert "'.lock'" in result.stdout and "branch names" in result.stdout
    schema = json.loads((Path(__file__).parents[1] / "bot/schemas/manifest.schema.json").read_text())
    pattern = schema["properties"]["name"]["pattern"]
    assert re.fullmatch(pattern, name) is None and re.fullmatch(pattern, "fraud-detector")


def test_the_model_name_rule_and_git_agree() -> None:
    from bot.core.model import is_valid_name

    for name in ("m.lock", "a..b", "x.lock", "a...b"):
        assert not is_valid_name(name)
    for name in ("m.locks", "lock", "a.b", "v1.2-rc_3"):
        assert is_valid_name(name)
        assert git(Path.cwd(), "check-ref-format", f"refs/heads/promobot/prod/{name}") == ""


# --------------------------------------------------------------------------- item 10: terminal escapes

HOSTILE = (
    "\x1b]52;c;cm0gLXJmIH4=\x07"  # OSC 52: write to the reader's clipboard
    "\x1b]8;;https://evil.example/\x1b\\docs\x1b]8;;\x1b\\"  # OSC 8: a disguised link
    "\x1b[2A\x1b[2Kapprovals: 2 of 2\r\x9b1m"  # cursor up, erase line, carriage return, C1 CSI
)


def test_text_output_strips_escape_sequences_and_json_stays_faithful(cli: Cli) -> None:
    number = str(cli.json("promote", "fraud-detector", "--to", "staging")["pr"])
    cli("pr", "comment", number, HOSTILE, actor="carol")
    for args in (("pr", "show", number), ("pr", "list")):
        for output in ("text", "markdown"):
            out = cli(*args, output=output).stdout
            assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", out), repr(out)
    shown = cli("pr", "show", number).stdout
    assert "docsapprovals: 2 of 2" in shown and "evil.example" not in shown
    comments = cli.json("pr", "show", number)["comments"]
    assert any(c["body"] == HOSTILE for c in comments)  # JSON is faithful


def test_error_and_log_lines_are_stripped_too() -> None:
    from bot.core.report import terminal

    assert terminal("a\x1b]52;c;eA==\x07b\x1b[31mc\x07\x00\x85") == "abc"
    assert terminal("left\x1b]8;;unterminated\nnext line") == "left\nnext line"
    assert terminal("@\u200bacme/sre", markdown=True) == "@\u200bacme/sre"


# ------------------------------------------------------------------- item 11: bytes that are not UTF-8


def test_non_utf8_comment_and_review_bodies_are_input_errors(cli: Cli) -> None:
    number = str(cli.json("promote", "fraud-detector", "--to", "staging")["pr"])
    before = cli.json("pr", "show", number)
    bad = "hi \udcff there"  # how Python hands over the byte 0xff from argv
    result = cli("pr", "comment", number, bad, actor="carol", expect=1)
    assert "is not valid UTF-8" in result.stderr and "unexpected failure" not in result.stderr
    result = cli("pr", "review", number, "--approve", "--body", bad, actor="carol", expect=1)
    assert "is not valid UTF-8" in result.stderr
    after = cli.json("pr", "show", number)
    assert after["comments"] == before["comments"] and after["approvals"] == before["approvals"]


def test_the_local_forge_refuses_a_body_that_is_not_utf8(cli: Cli) -> None:
    from bot.adapters.git import GitWorkspace
    from bot.adapters.localforge import LocalForge
    from bot.errors import UsageError

    number = int(cli.json("promote", "fraud-detector", "--to", "staging")["pr"])
    forge = LocalForge(GitWorkspace.discover(cli.repo))
    with pytest.raises(UsageError, match="not valid UTF-8"):
        forge.add_comment(number, login="carol", body="\udcfe")


# --------------------------------------------------------------------------- item 21: messages


def test_warnings_on_stderr_have_no_logger_name_and_are_not_repeated(cli: Cli) -> None:
    cli("promote", "--all", "--to", "prod")
    for number in ("1", "2"):
        cli("pr", "review", number, "--approve", actor="erin")  # erin counts only through a team
    err = cli("promote", "--all", "--to", "prod").stderr
    lines = [line for line in err.splitlines() if "@acme/ml-leads is not known" in line]
    assert len(lines) == 1, err
    assert lines[0].startswith("warning: approvers: team @acme/ml-leads")
    assert "bot." not in err


def test_no_access_is_said_in_words_not_as_none_permission(cli: Cli) -> None:
    number = str(cli.json("promote", "fraud-detector", "--to", "prod")["pr"])
    cli("pr", "review", number, "--approve", actor="carol")
    cli("pr", "users", "set", "dave", "--permission", "write")  # now unknown users, carol too, have none
    data = cli.json("pr", "show", number)
    reasons = [i["reason"] for i in data["approvals"]["ignored"] if i["login"] == "carol"]
    assert reasons and "no access" in reasons[0], data["approvals"]
    assert "none permission" not in cli("pr", "show", number).stdout


def test_team_names_in_terminal_text_carry_no_zero_width_space(cli: Cli) -> None:
    number = str(cli.json("promote", "fraud-detector", "--to", "prod")["pr"])
    cli("pr", "users", "set", "mallory", "--permission", "read")
    out = cli("pr", "comment", number, "/rollback", actor="mallory").stdout
    assert "@acme/sre" in out and "\u200b" not in out
    markdown = cli("pr", "comment", number, "/rollback", actor="mallory", output="markdown").stdout
    assert "\u200b" in markdown or "@acme/sre" not in markdown  # markdown keeps mentions inert


def test_a_file_name_given_as_model_is_named_back_without_yaml_yaml(cli: Cli) -> None:
    result = cli("promote", "fraud-detector.yaml", "--to", "staging", expect=1)
    assert ".yaml.yaml" not in result.stderr
    assert "name the model: fraud-detector" in result.stderr


def test_hints_name_the_command_that_fixes_it(cli: Cli) -> None:
    # The source of a staging PR disappears from dev, which people write and nothing promotes into.
    staging_pr = str(cli.json("promote", "fraud-detector", "--to", "staging")["pr"])
    git(cli.repo, "rm", "-q", DEV)
    git(cli.repo, "commit", "-q", "-m", "drop fraud-detector from dev")
    order = gate(cli.json("gates", staging_pr), "order")["reason"]
    assert "promote it to dev" not in order and f"commit {DEV} first" in order, order
    # staging moves on after the PR was built: the hint is the exact command, not "re-run promote".
    git(cli.repo, "reset", "-q", "--hard", "HEAD~1")
    number = str(cli.json("promote", "fraud-detector", "--to", "prod")["pr"])
    edit(cli.repo, STAGING, "version: 1.4.2", "version: 1.4.3")
    commit_all(cli.repo, "staging moved")
    reasons = " ".join(g["reason"] for g in cli.json("gates", number)["gates"])
    assert "re-run `promobot promote fraud-detector --to prod`" in reasons
    assert "re-run promote" not in reasons


def test_validate_at_a_missing_revision_says_no_such_revision(cli: Cli) -> None:
    result = cli("validate", "--ref", "nonexistent", expect=1)
    assert "no such revision: nonexistent" in result.stderr
    assert "fsck" not in result.stderr


# --------------------------------------------------------------------------- item 16: symbolic links


def test_symlinked_manifests_are_refused_by_validate_status_and_promote(cli: Cli, tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text((cli.repo / DEV).read_text().replace("version: 1.5.0", "version: 6.6.6"))
    (cli.repo / DEV).unlink()
    (cli.repo / DEV).symlink_to(outside)
    result = cli("validate", expect=1)
    assert f"{DEV}: this is a symbolic link" in result.stderr
    commit_all(cli.repo, "a symlinked manifest")
    assert git(cli.repo, "ls-files", "-s", DEV).startswith("120000")
    assert f"{DEV}: this is a symbolic link" in cli("validate", "--ref", "HEAD", expect=1).stderr
    for args in (
        ("status",),
        ("promote", "fraud-detector", "--to", "staging"),
        ("diff", "fraud-detector", "--to", "staging"),
    ):
        result = cli(*args, expect=1)
        assert f"{DEV}: this is a symbolic link" in result.stderr, (args, result.output)
        assert "6.6.6" not in result.output


def test_reading_one_manifest_at_a_commit_refuses_a_symlink(cli: Cli) -> None:
    from bot.adapters.git import GitWorkspace
    from bot.errors import ManifestError

    (cli.repo / "environments/dev/alias.yaml").symlink_to("fraud-detector.yaml")
    commit_all(cli.repo, "a relative symlink")
    ws = GitWorkspace.discover(cli.repo)
    with pytest.raises(ManifestError, match="symbolic link"):
        ws.read("HEAD", "environments/dev/alias.yaml")
    before = ws.git_calls
    assert ws.read("HEAD", DEV) is not None  # regular files still cost one process
    assert ws.git_calls - before == 1


# ------------------------------------------------------------------ item 22: uncommitted source edits


def test_promote_says_when_the_source_manifest_has_uncommitted_edits(cli: Cli) -> None:
    edit(cli.repo, DEV, "version: 1.5.0", "version: 1.6.0")  # not committed
    result = cli("promote", "fraud-detector", "--to", "staging", "--dry-run")
    notes = [line for line in result.stderr.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1, result.stderr
    assert DEV in notes[0] and "uncommitted" in notes[0] and "commit them first" in notes[0]
    assert cli.json("promote", "fraud-detector", "--to", "staging", "--dry-run")["version"] == "1.5.0"
    clean = cli("promote", "spam-filter", "--to", "prod", "--dry-run")
    assert "note:" not in clean.stderr


# ------------------------------------------------------------------ item 4: the pinned default branch


def test_promote_builds_and_merges_against_the_default_branch_whatever_head_is(cli: Cli) -> None:
    git(cli.repo, "checkout", "-q", "-b", "experiment")
    edit(cli.repo, DEV, "version: 1.5.0", "version: 9.9.9")  # unreviewed, on a side branch
    side = commit_all(cli.repo, "try something on a side branch")
    result = cli("promote", "fraud-detector", "--to", "staging", output="json")
    data = json.loads(result.stdout)
    assert data["version"] == "1.5.0", data
    notes = [line for line in result.stderr.splitlines() if "HEAD is on experiment" in line]
    assert len(notes) == 1 and "default branch main" in notes[0], result.stderr
    number = str(data["pr"])
    cli("pr", "review", number, "--approve", actor="carol")  # auto_merge: merges into main
    assert "version: 1.5.0" in git(cli.repo, "show", f"main:{STAGING}")
    assert git(cli.repo, "rev-parse", "experiment") == side  # the checked-out side branch did not move
    assert git(cli.repo, "symbolic-ref", "--short", "HEAD") == "experiment"
    assert git(cli.repo, "status", "--porcelain") == ""
    state = json.loads((cli.repo / ".git/promobot/forge.json").read_text())
    assert state["default_branch"] == "main"


def test_the_default_branch_is_recorded_on_first_use_and_then_fixed(cli: Cli) -> None:
    git(cli.repo, "branch", "-m", "main", "trunk")
    git(cli.repo, "config", "init.defaultBranch", "trunk")
    cli("promote", "fraud-detector", "--to", "staging")
    state = json.loads((cli.repo / ".git/promobot/forge.json").read_text())
    assert state["default_branch"] == "trunk"
    git(cli.repo, "config", "--unset", "init.defaultBranch")
    git(cli.repo, "checkout", "-q", "-b", "main")  # a new branch called main appears and is checked out
    result = cli("promote", "spam-filter", "--to", "prod", output="json")
    assert "default branch trunk" in result.stderr
    assert json.loads(result.stdout)["version"] == "3.2.0"
    pulls = cli.json("pr", "list")
    assert {p["model"] for p in pulls} == {"fraud-detector", "spam-filter"}


def test_a_dry_run_records_nothing(cli: Cli) -> None:
    cli("promote", "fraud-detector", "--to", "staging", "--dry-run")
    assert not (cli.repo / ".git/promobot/forge.json").exists()


# ------------------------------------------------------------------ item 3: a merge in a dirty working tree


def test_a_merge_under_uncommitted_edits_stages_nothing_and_loses_nothing(cli: Cli) -> None:
    number = str(cli.json("promote", "fraud-detector", "--to", "staging")["pr"])
    edit(cli.repo, STAGING, "replicas: 2", "replicas: 3")  # the user's own, uncommitted edit
    mine = (cli.repo / STAGING).read_text()
    result = cli("pr", "review", number, "--approve", actor="carol")  # auto_merge merges it now
    merged = git(cli.repo, "rev-parse", "main")
    assert git(cli.repo, "rev-parse", "HEAD") == merged
    assert "version: 1.5.0" in git(cli.repo, "show", f"main:{STAGING}")
    assert git(cli.repo, "diff", "--cached", "--name-only") == ""  # no staged revert of the merge
    assert (cli.repo / STAGING).read_text() == mine  # the edit is kept, byte for byte
    warnings = [line for line in result.stderr.splitlines() if "uncommitted changes" in line]
    assert len(warnings) == 1, result.stderr
    line = warnings[0]
    assert line.startswith("warning: main moved to ") and "bot." not in result.stderr
    assert STAGING in line and "git cherry-pick -n refs/promobot/saved/" in line
    # The suggested commands give the merged version with the user's edit on top.
    saved = re.search(r"git cherry-pick -n (\S+)", line)
    assert saved is not None
    git(cli.repo, "restore", "--source=HEAD", "--staged", "--worktree", "--", STAGING)
    git(cli.repo, "cherry-pick", "-n", saved.group(1))
    text = (cli.repo / STAGING).read_text()
    assert "version: 1.5.0" in text and "replicas: 3" in text


def test_files_nobody_edited_follow_the_merge_and_edited_ones_stay(cli: Cli) -> None:
    from bot.adapters.git import GitWorkspace

    ws = GitWorkspace.discover(cli.repo)
    main = ws.resolve("main")
    assert main is not None
    other = "environments/prod/spam-filter.yaml"
    new = ws.commit(
        parent=main,
        files={STAGING: b"merged staging\n", other: b"merged prod\n", "environments/dev/gone.yaml": b"x\n"},
        message="a merge touching three files",
    )
    (cli.repo / STAGING).write_text("my edit\n")
    ws.update_branch("main", new, expected=main)
    assert git(cli.repo, "rev-parse", "HEAD") == new
    assert (cli.repo / other).read_text() == "merged prod\n"  # clean: followed
    assert (cli.repo / "environments/dev/gone.yaml").read_text() == "x\n"
    assert (cli.repo / STAGING).read_text() == "my edit\n"  # edited: kept
    assert git(cli.repo, "diff", "--cached", "--name-only") == ""  # nothing staged
    assert git(cli.repo, "diff", "--name-only") == STAGING
    assert len(ws.warnings) == 1 and "uncommitted changes" in ws.warnings[0]
