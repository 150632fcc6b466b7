"""Webhook payloads → typed events: GitHub's own example payloads, variants derived from them
by changing only the fields that differ, and hostile or malformed values."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bot.core.events import (
    MAX_BODY,
    CheckRerequestEvent,
    CommentEvent,
    DispatchEvent,
    InvalidEvent,
    PullRequestEvent,
    PushEvent,
    ReviewEvent,
    ScheduleEvent,
    UnknownEvent,
    from_payload,
    ignore_reason,
)

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "github"
EXAMPLES = SHARED / "webhooks" / "payload-examples" / "api.github.com"
ABSENT = f"GitHub's example webhook payloads are not at {EXAMPLES.resolve()} (../shared/github is absent)"

EXPECTED_TYPE = {
    "check_run": CheckRerequestEvent,
    "check_suite": CheckRerequestEvent,
    "issue_comment": CommentEvent,
    "pull_request": PullRequestEvent,
    "pull_request_review": ReviewEvent,
    "push": PushEvent,
    "workflow_dispatch": DispatchEvent,
}

SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"


def example_files() -> list[Any]:
    if not EXAMPLES.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=ABSENT), id="absent")]
    files = sorted(EXAMPLES.glob("*/*.json"))
    return [pytest.param(f, id=f"{f.parent.name}/{f.name}") for f in files]


def example(event: str, name: str) -> dict[str, Any]:
    """A fresh copy of one real example payload (skips the test when the folder is absent)."""
    path = EXAMPLES / event / name
    if not path.is_file():
        pytest.skip(ABSENT)
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return copy.deepcopy(data)


# --------------------------------------------------------------------------- the real files


@pytest.mark.parametrize("path", example_files())
def test_every_example_payload_parses_into_its_event_type(path: Path) -> None:
    event = from_payload(path.parent.name, json.loads(path.read_text(encoding="utf-8")))
    assert isinstance(event, EXPECTED_TYPE[path.parent.name]), event


def test_pull_request_opened_example_carries_the_fields_the_router_uses() -> None:
    event = from_payload("pull_request", example("pull_request", "opened.payload.json"))
    assert event == PullRequestEvent(
        action="opened",
        number=2,
        head_branch="changes",
        head_sha=SHA,
        base_branch="master",
        merged=False,
        merge_sha=None,
        author="Codertocat",
        from_fork=False,
        draft=False,
    )
    assert ignore_reason(event) == "#2 is not a promobot pull request (head branch 'changes')"


def test_pull_request_with_a_null_body_parses() -> None:
    assert isinstance(
        from_payload("pull_request", example("pull_request", "opened.with-null-body.json")), PullRequestEvent
    )


def test_comment_examples_are_on_plain_issues_and_ignored() -> None:
    event = from_payload("issue_comment", example("issue_comment", "created.payload.json"))
    assert isinstance(event, CommentEvent)
    assert (event.number, event.comment_id, event.author, event.is_pull_request, event.author_is_bot) == (
        1,
        492700400,
        "Codertocat",
        False,
        False,
    )
    assert event.pr_state == "open"
    assert ignore_reason(event) == "comment on issue #1, not on a pull request: nothing to do"


def test_review_state_is_upper_cased() -> None:
    event = from_payload("pull_request_review", example("pull_request_review", "submitted.payload.json"))
    assert isinstance(event, ReviewEvent)
    assert (event.state, event.reviewer, event.commit_id, event.number) == ("COMMENTED", "Codertocat", SHA, 2)


def test_check_suite_lists_its_pull_requests_and_their_head_branches() -> None:
    event = from_payload("check_suite", example("check_suite", "rerequested.payload.json"))
    assert event == CheckRerequestEvent(
        head_sha=SHA, pull_numbers=(2,), head_branches=("changes",), kind="check_suite"
    )
    assert ignore_reason(event) == "check_suite rerequested on #2: not a promobot pull request"


def test_check_run_without_pull_requests_needs_the_repository() -> None:
    event = from_payload("check_run", example("check_run", "rerequested.payload.json"))
    assert isinstance(event, CheckRerequestEvent)
    assert event.pull_numbers == ()
    assert ignore_reason(event) is None


def test_tag_push_and_new_branch_push() -> None:
    tag = from_payload("push", example("push", "payload.json"))
    assert isinstance(tag, PushEvent)
    assert (tag.ref, tag.deleted, tag.changed_paths) == ("refs/tags/simple-tag", True, ())
    assert ignore_reason(tag) == "push to refs/tags/simple-tag: not a branch, nothing to do"
    new = from_payload("push", example("push", "with-new-branch.payload.json"))
    assert isinstance(new, PushEvent)
    assert (new.changed_paths, new.created, new.default_branch) == (("README.md",), True, "master")


def test_workflow_dispatch_example_has_no_action_input_and_is_ignored() -> None:
    event = from_payload("workflow_dispatch", example("workflow_dispatch", "payload.json"))
    assert event == DispatchEvent(action=None, model=None, env=None, version=None, actor="Codertocat")
    assert ignore_reason(event) is not None


# --------------------------------------------------------------------------- derived variants


def merged_closed() -> dict[str, Any]:
    """The README's recipe: set merged, merged_at, merged_by, merge_commit_sha."""
    p = example("pull_request", "closed.payload.json")
    pr = p["pull_request"]
    pr["merged"] = True
    pr["merged_at"] = pr["closed_at"]
    pr["merged_by"] = copy.deepcopy(pr["user"])
    pr["merge_commit_sha"] = "c4295bd74fb0f4fda03689c3df3f2803b658fd85"
    pr["head"]["ref"] = "promobot/staging/fraud-detector"
    return p


def test_merged_pull_request_variant_carries_the_merge_commit() -> None:
    event = from_payload("pull_request", merged_closed())
    assert isinstance(event, PullRequestEvent)
    assert (event.action, event.merged, event.merge_sha) == (
        "closed",
        True,
        "c4295bd74fb0f4fda03689c3df3f2803b658fd85",
    )
    assert ignore_reason(event) is None


def test_closed_unmerged_pull_request_is_ignored() -> None:
    p = example("pull_request", "closed.payload.json")
    p["pull_request"]["head"]["ref"] = "promobot/staging/fraud-detector"
    event = from_payload("pull_request", p)
    assert ignore_reason(event) == "pull request #2 was closed without merging: nothing to do"


@pytest.mark.parametrize(
    ("state", "expected"),
    [("approved", "APPROVED"), ("changes_requested", "CHANGES_REQUESTED"), ("dismissed", "DISMISSED")],
    ids=["approved", "changes-requested", "dismissed"],
)
def test_review_variants_are_upper_cased(state: str, expected: str) -> None:
    p = example("pull_request_review", "submitted.payload.json")
    p["review"]["state"] = state
    event = from_payload("pull_request_review", p)
    assert isinstance(event, ReviewEvent)
    assert event.state == expected


def pr_comment(body: str = "/promote") -> dict[str, Any]:
    p = example("issue_comment", "created.payload.json")
    base = p["issue"]["url"].replace("/issues/", "/pulls/")
    p["issue"]["pull_request"] = {
        "url": base,
        "html_url": p["issue"]["html_url"].replace("/issues/", "/pull/"),
        "diff_url": base + ".diff",
        "patch_url": base + ".patch",
        "merged_at": None,
    }
    p["comment"]["body"] = body
    return p


def test_comment_on_a_pull_request_variant_is_routed() -> None:
    event = from_payload("issue_comment", pr_comment())
    assert isinstance(event, CommentEvent)
    assert event.is_pull_request and event.body == "/promote"
    assert ignore_reason(event) is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"action": "edited"}, "comment edited: only new comments run commands"),
        ({"action": "deleted"}, "comment deleted: only new comments run commands"),
        (
            {"user": {"login": "renovate[bot]", "type": "Bot"}},
            "comment by the bot account renovate[bot]: ignored",
        ),
        ({"user": {"login": "other[bot]", "type": "User"}}, "comment by the bot account other[bot]: ignored"),
        ({"body": "LGTM, thanks!"}, "comment 492700400 on #1 has no promobot command"),
    ],
    ids=["edited", "deleted", "bot-type", "bot-suffix", "no-command"],
)
def test_comments_promobot_must_not_read_are_ignored(change: dict[str, Any], reason: str) -> None:
    p = pr_comment()
    if "action" in change:
        p["action"] = change["action"]
    if "user" in change:
        p["comment"]["user"].update(change["user"])
    if "body" in change:
        p["comment"]["body"] = change["body"]
    assert ignore_reason(from_payload("issue_comment", p)) == reason


def test_near_miss_command_still_reaches_the_router_for_a_did_you_mean_reply() -> None:
    assert ignore_reason(from_payload("issue_comment", pr_comment("/promot"))) is None


def test_comment_over_64_kib_is_passed_whole_so_that_it_is_refused_unread() -> None:
    body = "/promote\n" + "x" * (70 * 1024)
    event = from_payload("issue_comment", pr_comment(body))
    assert isinstance(event, CommentEvent)
    assert event.body == body  # never truncated: a cut body could turn into a different command
    assert ignore_reason(event) is None


@pytest.mark.parametrize(
    "head_repo",
    [{"full_name": "mallory/Hello-World", "id": 1}, None],
    ids=["fork", "deleted-fork"],
)
def test_pull_requests_from_forks_are_refused_politely(head_repo: dict[str, Any] | None) -> None:
    p = example("pull_request", "opened.payload.json")
    p["pull_request"]["head"]["ref"] = "promobot/prod/fraud-detector"
    p["pull_request"]["head"]["repo"] = head_repo
    event = from_payload("pull_request", p)
    assert isinstance(event, PullRequestEvent) and event.from_fork
    assert ignore_reason(event) == "#2 comes from a fork: promobot only acts on branches it pushed itself"


def test_push_to_the_default_branch_lists_every_changed_path() -> None:
    p = example("push", "with-new-branch.payload.json")
    p["before"], p["created"] = SHA, False  # an existing branch: the fields that differ
    p["commits"][0].update(
        added=["environments/dev/a.yaml"],
        modified=["environments/promotion.yaml"],
        removed=["environments/dev/b.yaml"],
    )
    event = from_payload("push", p)
    assert isinstance(event, PushEvent)
    assert event.changed_paths == (
        "environments/dev/a.yaml",
        "environments/dev/b.yaml",
        "environments/promotion.yaml",
    )
    assert not event.created and not event.truncated
    assert ignore_reason(event) is None


def test_push_outside_environments_needs_nothing() -> None:
    p = example("push", "with-new-branch.payload.json")
    p["before"], p["created"] = SHA, False  # an existing branch: the fields that differ
    assert ignore_reason(from_payload("push", p)) == "push changed nothing under environments/: nothing to do"


def test_push_to_another_branch_is_ignored() -> None:
    p = example("push", "with-new-branch.payload.json")
    p["ref"] = "refs/heads/feature"
    assert (
        ignore_reason(from_payload("push", p))
        == "push to feature, not the default branch master: nothing to do"
    )


def test_long_push_marks_its_paths_as_possibly_incomplete() -> None:
    p = example("push", "with-new-branch.payload.json")
    p["before"], p["created"] = SHA, False  # an existing branch: the fields that differ
    p["commits"] = [copy.deepcopy(p["commits"][0]) for _ in range(20)]
    event = from_payload("push", p)
    assert isinstance(event, PushEvent) and event.truncated
    assert ignore_reason(event) is None


def dispatch(**inputs: Any) -> dict[str, Any]:
    p = example("workflow_dispatch", "payload.json")
    p["inputs"] = inputs
    return p


def test_dispatch_inputs_are_read_and_empty_ones_are_missing() -> None:
    event = from_payload(
        "workflow_dispatch", dispatch(action="Promote", model="fraud-detector", env="prod", version="")
    )
    assert event == DispatchEvent(
        action="promote", model="fraud-detector", env="prod", version=None, actor="Codertocat"
    )


def test_schedule_and_unknown_events() -> None:
    assert from_payload("schedule", {"schedule": "*/30 * * * *"}) == ScheduleEvent("*/30 * * * *")
    assert from_payload("schedule", {}) == ScheduleEvent()
    star = from_payload("star", {"action": "created"})
    assert star == UnknownEvent("star", "created")
    assert ignore_reason(star) == "promobot ignores star created events"
    assert from_payload("check_run", {"action": "completed"}) == UnknownEvent("check_run", "completed")


# --------------------------------------------------------------------------- invalid values


def _set(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    target = data
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value
    return data


HOSTILE_DISPATCH = [
    ({"action": "promote", "model": "../../etc/passwd", "env": "prod"}, "inputs.model"),
    ({"action": "promote", "model": "Fraud-Detector", "env": "prod"}, "inputs.model"),
    ({"action": "promote", "model": "a" * 65, "env": "prod"}, "inputs.model"),
    ({"action": "promote", "model": "x" * 5000, "env": "prod"}, "5000 characters"),
    ({"action": "promote", "model": "ok\nrm -rf /", "env": "prod"}, "control character"),
    ({"action": "promote", "model": "fraud-detector", "env": "prod; rm -rf /"}, "inputs.env"),
    (
        {"action": "rollback", "model": "fraud-detector", "env": "prod", "version": "1.0 && id"},
        "inputs.version",
    ),
    ({"action": "deploy", "model": "fraud-detector", "env": "prod"}, "promote, rollback or verify"),
    ({"action": "promote", "model": 5, "env": "prod"}, "inputs.model must be a string"),
]


@pytest.mark.parametrize(
    ("inputs", "problem"),
    HOSTILE_DISPATCH,
    ids=[
        "traversal",
        "upper-case",
        "too-long-name",
        "huge",
        "newline",
        "shell-env",
        "shell-version",
        "unknown-action",
        "not-a-string",
    ],
)
def test_hostile_dispatch_inputs_become_an_invalid_event(inputs: dict[str, Any], problem: str) -> None:
    event = from_payload("workflow_dispatch", dispatch(**inputs))
    assert isinstance(event, InvalidEvent), event
    assert problem in event.problem
    assert len(event.problem) < 400  # the echo of a hostile value is bounded


MALFORMED = [
    ("pull_request", "opened.payload.json", "pull_request.number", "2", "number must be a positive integer"),
    ("pull_request", "opened.payload.json", "pull_request.number", True, "number must be a positive integer"),
    (
        "pull_request",
        "opened.payload.json",
        "pull_request.head.sha",
        "HEAD~1",
        "head.sha must be a commit SHA",
    ),
    ("pull_request", "opened.payload.json", "pull_request.head.ref", "x" * 300, "300 characters"),
    ("pull_request", "opened.payload.json", "pull_request", None, "pull_request must be an object"),
    ("issue_comment", "created.payload.json", "comment.id", -4, "id must be a positive integer"),
    ("issue_comment", "created.payload.json", "comment.body", "x" * (MAX_BODY + 1), "65,536"),
    ("issue_comment", "created.payload.json", "comment.user.login", "a" * 500, "500 characters"),
    ("push", "payload.json", "commits", "README.md", "commits must be a list"),
    ("check_suite", "rerequested.payload.json", "check_suite.head_sha", 7, "must be a string"),
]


@pytest.mark.parametrize(
    ("event", "file", "path", "value", "problem"),
    MALFORMED,
    ids=[
        "number-string",
        "number-bool",
        "sha",
        "long-branch",
        "no-pr",
        "negative-id",
        "huge-body",
        "huge-login",
        "commits-string",
        "sha-number",
    ],
)
def test_malformed_payloads_become_an_invalid_event(
    event: str, file: str, path: str, value: Any, problem: str
) -> None:
    parsed = from_payload(event, _set(example(event, file), path, value))
    assert isinstance(parsed, InvalidEvent), parsed
    assert problem in parsed.problem


@pytest.mark.parametrize(
    ("name", "payload"),
    [("pull_request", []), ("push", "text"), ("bad name!", {}), ("x" * 100, {})],
    ids=["list", "string", "bad-name", "long-name"],
)
def test_payloads_that_are_not_objects_or_names_that_are_not_events_never_crash(
    name: str, payload: Any
) -> None:
    event = from_payload(name, payload)
    assert isinstance(event, InvalidEvent)
    assert ignore_reason(event) is None  # the router refuses it: an error, not a notice
