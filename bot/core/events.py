"""GitHub webhook payloads → typed, validated events (the only place a payload dict is indexed).

``from_payload(name, payload)`` turns the JSON GitHub hands a workflow run
(``$GITHUB_EVENT_PATH``, named by ``$GITHUB_EVENT_NAME``) into one frozen dataclass.
Every value that reaches the rest of the bot is checked here: numbers are ints, SHAs are
hex, strings are bounded and free of control characters, model and environment names
from ``workflow_dispatch`` inputs pass ``is_valid_name``. A payload that fails a check
becomes an :class:`InvalidEvent` naming the problem (the router refuses it with that
message); parsing never raises.

``ignore_reason(event)`` is the pure triage the router and the Actions adapter share:
the one-line notice for events promobot ignores without looking at the repository
(unrelated events, comments on plain issues or by bots, edited comments, pull requests
that are not promobot's or come from forks, pushes to other branches).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core import identity, slash
from bot.core.branches import parse_branch
from bot.core.model import is_valid_name

MAX_TEXT = 255
"""Bound for names, refs, logins and actions (git refs and GitHub logins are far shorter)."""

MAX_PATH = 4096
MAX_BODY = 1024 * 1024
"""Comments longer than this cannot come from GitHub (it caps bodies at 65,536 characters);
anything up to it is passed on whole so that ``slash.parse`` refuses it *unread*."""

MAX_LIST = 10_000
PUSH_COMMITS_CAP = 20
"""GitHub may cut a push payload's ``commits`` list; from this many on, the changed paths
are treated as incomplete (``PushEvent.truncated``)."""

ZERO_SHA = "0" * 40

_SHA_RE = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_EVENT_NAME_RE = re.compile(r"^[a-z][a-z_]{0,63}$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")

PR_ACTIONS = frozenset({"opened", "synchronize", "reopened", "ready_for_review", "closed"})
REVIEW_ACTIONS = frozenset({"submitted", "dismissed"})
DISPATCH_ACTIONS = ("promote", "rollback", "verify")


# --------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class PullRequestEvent:
    action: str
    number: int
    head_branch: str
    head_sha: str
    base_branch: str
    merged: bool
    merge_sha: str | None
    author: str
    from_fork: bool
    draft: bool

    @property
    def name(self) -> str:
        return "pull_request"


@dataclass(frozen=True, slots=True)
class ReviewEvent:
    action: str
    number: int
    reviewer: str
    state: str
    """Upper-cased, as the REST API spells it (``APPROVED``, ``CHANGES_REQUESTED``, …)."""
    commit_id: str | None
    head_branch: str = ""
    from_fork: bool = False

    @property
    def name(self) -> str:
        return "pull_request_review"


@dataclass(frozen=True, slots=True)
class CommentEvent:
    action: str
    number: int
    is_pull_request: bool
    comment_id: int
    author: str
    author_is_bot: bool
    body: str
    pr_state: str

    @property
    def name(self) -> str:
        return "issue_comment"


@dataclass(frozen=True, slots=True)
class CheckRerequestEvent:
    head_sha: str
    pull_numbers: tuple[int, ...]
    head_branches: tuple[str, ...] = ()
    """The head branch of each of ``pull_numbers`` (same order); "" when the payload has none."""
    kind: str = "check_run"
    """``check_run`` or ``check_suite``."""

    @property
    def name(self) -> str:
        return self.kind


@dataclass(frozen=True, slots=True)
class PushEvent:
    ref: str
    before: str
    after: str
    changed_paths: tuple[str, ...]
    deleted: bool
    forced: bool
    created: bool = False
    truncated: bool = False
    """True when ``changed_paths`` may be incomplete (a long or unlisted commit range)."""
    default_branch: str | None = None
    """``repository.default_branch`` as the payload states it (None when absent)."""

    @property
    def name(self) -> str:
        return "push"


@dataclass(frozen=True, slots=True)
class DispatchEvent:
    action: str | None
    """``inputs.action``: ``promote`` or ``rollback``; None when the workflow has no such input."""
    model: str | None
    env: str | None
    version: str | None
    actor: str | None

    @property
    def name(self) -> str:
        return "workflow_dispatch"


@dataclass(frozen=True, slots=True)
class ScheduleEvent:
    cron: str = ""

    @property
    def name(self) -> str:
        return "schedule"


@dataclass(frozen=True, slots=True)
class UnknownEvent:
    """An event (or an action of a known event) promobot does not act on."""

    name: str
    action: str | None = None


@dataclass(frozen=True, slots=True)
class InvalidEvent:
    """A payload that failed validation; ``problem`` says which value and why."""

    name: str
    action: str | None
    problem: str


Event = (
    PullRequestEvent
    | ReviewEvent
    | CommentEvent
    | CheckRerequestEvent
    | PushEvent
    | DispatchEvent
    | ScheduleEvent
    | UnknownEvent
    | InvalidEvent
)

EVENT_TYPES: tuple[type, ...] = (
    PullRequestEvent,
    ReviewEvent,
    CommentEvent,
    CheckRerequestEvent,
    PushEvent,
    DispatchEvent,
    ScheduleEvent,
    UnknownEvent,
    InvalidEvent,
)


# --------------------------------------------------------------------------- validation


class _Invalid(Exception):
    """Internal: a payload value failed a check (becomes an ``InvalidEvent``)."""


def _get(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for key in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _obj(data: Mapping[str, Any], path: str, *, optional: bool = False) -> Mapping[str, Any]:
    value = _get(data, path)
    if value is None and optional:
        return {}
    if not isinstance(value, Mapping):
        raise _Invalid(f"{path} must be an object")
    return value


def _text(
    data: Mapping[str, Any], path: str, *, optional: bool = False, max_len: int = MAX_TEXT
) -> str | None:
    value = _get(data, path)
    if value is None:
        if optional:
            return None
        raise _Invalid(f"{path} is missing")
    if not isinstance(value, str):
        raise _Invalid(f"{path} must be a string")
    if len(value) > max_len:
        raise _Invalid(f"{path} is {len(value)} characters long; the most accepted is {max_len}")
    if _CONTROL_RE.search(value):
        raise _Invalid(f"{path} contains a control character")
    return value


def _req(data: Mapping[str, Any], path: str, *, max_len: int = MAX_TEXT) -> str:
    value = _text(data, path, max_len=max_len)
    assert value is not None
    return value


def _int(data: Mapping[str, Any], path: str, *, optional: bool = False) -> int | None:
    value = _get(data, path)
    if value is None and optional:
        return None
    # bool is an int in Python; a JSON true is not a number.
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**63:
        raise _Invalid(f"{path} must be a positive integer")
    return value


def _number(data: Mapping[str, Any], path: str) -> int:
    value = _int(data, path)
    assert value is not None
    return value


def _bool(data: Mapping[str, Any], path: str) -> bool:
    value = _get(data, path)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _Invalid(f"{path} must be true or false")
    return value


def _sha(data: Mapping[str, Any], path: str, *, optional: bool = False) -> str | None:
    value = _text(data, path, optional=optional)
    if value is None:
        return None
    if _SHA_RE.fullmatch(value) is None:
        raise _Invalid(f"{path} must be a commit SHA (40 or 64 lower-case hex digits)")
    return value


def _login(data: Mapping[str, Any], path: str, *, optional: bool = False) -> str | None:
    value = _text(data, path, optional=optional, max_len=100)
    if value is not None and not value.strip():
        raise _Invalid(f"{path} is empty")
    return value


def _repo_key(repo: Any) -> Any:
    """What identifies a repository in a payload: ``full_name`` or, in short forms, ``id``."""
    if not isinstance(repo, Mapping):
        return None
    return repo.get("full_name") or repo.get("id")


def _is_fork(pr: Mapping[str, Any], base_repo: Any) -> bool:
    """True unless the PR's head repository is known to be the base repository.

    A head repository of ``null`` (the fork was deleted) counts as a fork: fail closed.
    """
    head = _repo_key(_get(pr, "head.repo"))
    base = _repo_key(base_repo)
    return head is None or base is None or head != base


def _action(payload: Mapping[str, Any]) -> str | None:
    value = payload.get("action")
    if isinstance(value, str) and len(value) <= 64 and not _CONTROL_RE.search(value):
        return value
    return None


# --------------------------------------------------------------------------- parsers


def _pull_request(action: str, p: Mapping[str, Any]) -> PullRequestEvent:
    pr = _obj(p, "pull_request")
    number = _int(p, "pull_request.number", optional=True) or _number(p, "number")
    merged = _bool(p, "pull_request.merged")
    return PullRequestEvent(
        action=action,
        number=number,
        head_branch=_req(p, "pull_request.head.ref"),
        head_sha=_sha(p, "pull_request.head.sha") or "",
        base_branch=_req(p, "pull_request.base.ref"),
        merged=merged,
        merge_sha=_sha(p, "pull_request.merge_commit_sha", optional=True) if merged else None,
        author=_login(p, "pull_request.user.login", optional=True) or "",
        from_fork=_is_fork(pr, _get(pr, "base.repo") or _get(p, "repository")),
        draft=_bool(p, "pull_request.draft"),
    )


def _review(action: str, p: Mapping[str, Any]) -> ReviewEvent:
    _obj(p, "review")
    pr = _obj(p, "pull_request")
    return ReviewEvent(
        action=action,
        number=_number(p, "pull_request.number"),
        reviewer=_login(p, "review.user.login", optional=True) or "",
        state=_req(p, "review.state", max_len=32).upper(),
        commit_id=_sha(p, "review.commit_id", optional=True),
        head_branch=_text(p, "pull_request.head.ref", optional=True) or "",
        from_fork=_is_fork(pr, _get(pr, "base.repo") or _get(p, "repository")),
    )


def _comment(action: str, p: Mapping[str, Any]) -> CommentEvent:
    issue = _obj(p, "issue")
    _obj(p, "comment")
    author = _login(p, "comment.user.login") or ""
    body = _get(p, "comment.body")
    if body is None:
        body = ""
    if not isinstance(body, str):
        raise _Invalid("comment.body must be a string")
    if len(body) > MAX_BODY:
        raise _Invalid(f"comment.body is {len(body)} characters long; GitHub allows at most 65,536")
    return CommentEvent(
        action=action,
        number=_number(p, "issue.number"),
        is_pull_request=isinstance(issue.get("pull_request"), Mapping),
        comment_id=_number(p, "comment.id"),
        author=author,
        author_is_bot=identity.is_bot_account(author, typed_bot=_obj(p, "comment.user").get("type") == "Bot"),
        body=body,
        pr_state=_text(p, "issue.state", optional=True, max_len=32) or "open",
    )


def _check(name: str, p: Mapping[str, Any]) -> CheckRerequestEvent:
    obj = _obj(p, name)
    pulls = obj.get("pull_requests") or []
    if not isinstance(pulls, Sequence) or isinstance(pulls, str) or len(pulls) > MAX_LIST:
        raise _Invalid(f"{name}.pull_requests must be a list")
    numbers: list[int] = []
    branches: list[str] = []
    for i, item in enumerate(pulls):
        where = f"{name}.pull_requests[{i}]"
        if not isinstance(item, Mapping):
            raise _Invalid(f"{where} must be an object")
        try:
            numbers.append(_number(item, "number"))
            branch = _text(item, "head.ref", optional=True) or ""
        except _Invalid as exc:
            raise _Invalid(f"{where}.{exc}") from None
        # Only PRs whose head is in this repository can be promobot's.
        head_repo = _get(item, "head.repo.id")
        base_repo = _get(item, "base.repo.id")
        if head_repo is not None and base_repo is not None and head_repo != base_repo:
            branch = ""
        branches.append(branch)
    return CheckRerequestEvent(
        head_sha=_sha(p, f"{name}.head_sha") or "",
        pull_numbers=tuple(numbers),
        head_branches=tuple(branches),
        kind=name,
    )


def _push(p: Mapping[str, Any]) -> PushEvent:
    commits = p.get("commits")
    paths: set[str] = set()
    truncated = commits is None
    if commits is not None:
        if not isinstance(commits, Sequence) or isinstance(commits, str) or len(commits) > MAX_LIST:
            raise _Invalid("commits must be a list")
        truncated = len(commits) >= PUSH_COMMITS_CAP
        for i, commit in enumerate(commits):
            if not isinstance(commit, Mapping):
                raise _Invalid(f"commits[{i}] must be an object")
            for key in ("added", "modified", "removed"):
                listed = commit.get(key) or []
                if not isinstance(listed, Sequence) or isinstance(listed, str) or len(listed) > MAX_LIST:
                    raise _Invalid(f"commits[{i}].{key} must be a list of paths")
                for path in listed:
                    if not isinstance(path, str) or len(path) > MAX_PATH or _CONTROL_RE.search(path):
                        raise _Invalid(f"commits[{i}].{key} holds a value that is not a file path")
                    paths.add(path)
    before = _sha(p, "before") or ZERO_SHA
    after = _sha(p, "after") or ZERO_SHA
    return PushEvent(
        ref=_req(p, "ref"),
        before=before,
        after=after,
        changed_paths=tuple(sorted(paths)),
        deleted=_bool(p, "deleted"),
        forced=_bool(p, "forced"),
        created=_bool(p, "created") or before == ZERO_SHA,
        truncated=truncated,
        default_branch=_text(p, "repository.default_branch", optional=True),
    )


def _input(inputs: Mapping[str, Any], key: str) -> str | None:
    value = inputs.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Invalid(f"inputs.{key} must be a string")
    value = value.strip()
    if len(value) > MAX_TEXT:
        raise _Invalid(f"inputs.{key} is {len(value)} characters long; the most accepted is {MAX_TEXT}")
    if _CONTROL_RE.search(value):
        raise _Invalid(f"inputs.{key} contains a control character")
    return value or None


def _dispatch(p: Mapping[str, Any]) -> DispatchEvent:
    inputs = _obj(p, "inputs", optional=True)
    action = _input(inputs, "action")
    if action is not None:
        action = action.lower()
        if action not in DISPATCH_ACTIONS:
            raise _Invalid(f"inputs.action is {action[:40]!r}; it must be promote, rollback or verify")
    model = _input(inputs, "model")
    if model is not None and not is_valid_name(model):
        raise _Invalid(
            f"inputs.model {model[:64]!r} is not a valid model name (lower-case letters, digits, "
            "'.', '_' and '-', at most 64, starting and ending with a letter or digit)"
        )
    env = _input(inputs, "env")
    if env is not None and not is_valid_name(env):
        raise _Invalid(f"inputs.env {env[:64]!r} is not a valid environment name")
    version = _input(inputs, "version")
    if version is not None and not slash.is_valid_version(version):
        raise _Invalid(f"inputs.version {version[:64]!r} is not a valid version")
    return DispatchEvent(
        action=action, model=model, env=env, version=version, actor=_login(p, "sender.login", optional=True)
    )


def from_payload(name: str, payload: Mapping[str, Any]) -> Event:
    """Parse the payload of the GitHub event ``name``; never raises (see ``InvalidEvent``)."""
    if not isinstance(name, str) or _EVENT_NAME_RE.fullmatch(name) is None:
        shown = name[:40] if isinstance(name, str) else type(name).__name__
        return InvalidEvent("unknown", None, f"{shown!r} is not a GitHub event name")
    if not isinstance(payload, Mapping):
        return InvalidEvent(name, None, "the payload is not a JSON object")
    action = _action(payload)
    try:
        if name == "pull_request":
            if action is None or action not in PR_ACTIONS:
                return UnknownEvent(name, action)
            return _pull_request(action, payload)
        if name == "pull_request_review":
            if action is None or action not in REVIEW_ACTIONS:
                return UnknownEvent(name, action)
            return _review(action, payload)
        if name == "issue_comment":
            if action is None:
                raise _Invalid("action is missing")
            return _comment(action, payload)
        if name in ("check_run", "check_suite"):
            if action != "rerequested":
                return UnknownEvent(name, action)
            return _check(name, payload)
        if name == "push":
            return _push(payload)
        if name == "workflow_dispatch":
            return _dispatch(payload)
        if name == "schedule":
            cron = payload.get("schedule")
            return ScheduleEvent(cron if isinstance(cron, str) and len(cron) <= MAX_TEXT else "")
    except _Invalid as exc:
        return InvalidEvent(name, action, str(exc))
    return UnknownEvent(name, action)


# --------------------------------------------------------------------------- triage


def _describe(event: UnknownEvent) -> str:
    return f"{event.name} {event.action}" if event.action else event.name


def ignore_reason(event: Event) -> str | None:
    """Why promobot ignores ``event`` without reading the repository; None when it must act.

    ``InvalidEvent`` gives None too: the router refuses it (an error, not a notice).
    """
    if isinstance(event, InvalidEvent):
        return None
    if isinstance(event, UnknownEvent):
        return f"promobot ignores {_describe(event)} events"
    if isinstance(event, PullRequestEvent):
        if event.action == "closed" and not event.merged:
            return f"pull request #{event.number} was closed without merging: nothing to do"
        return _pr_ignore(event.number, event.head_branch, event.from_fork)
    if isinstance(event, ReviewEvent):
        return _pr_ignore(event.number, event.head_branch, event.from_fork)
    if isinstance(event, CommentEvent):
        if event.action != "created":
            return f"comment {event.action}: only new comments run commands"
        if not event.is_pull_request:
            return f"comment on issue #{event.number}, not on a pull request: nothing to do"
        if event.author_is_bot:
            return f"comment by the bot account {event.author}: ignored"
        if slash.parse(event.body) is None:
            return f"comment {event.comment_id} on #{event.number} has no promobot command"
        return None
    if isinstance(event, CheckRerequestEvent):
        if event.pull_numbers and not any(parse_branch(b) for b in event.head_branches):
            listed = ", ".join(f"#{n}" for n in event.pull_numbers[:10])
            return f"{event.kind} rerequested on {listed}: not a promobot pull request"
        return None
    if isinstance(event, PushEvent):
        return push_ignore_reason(event, event.default_branch)
    if isinstance(event, DispatchEvent):
        if event.action is None:
            return "workflow_dispatch without an `action` input (promote or rollback): nothing to do"
        return None
    return None


def _pr_ignore(number: int, head_branch: str, from_fork: bool) -> str | None:
    if parse_branch(head_branch) is None:
        return f"#{number} is not a promobot pull request (head branch {head_branch[:100]!r})"
    if from_fork:
        return f"#{number} comes from a fork: promobot only acts on branches it pushed itself"
    return None


def push_ignore_reason(event: PushEvent, default_branch: str | None) -> str | None:
    """Why a push needs nothing (``default_branch`` None: not known yet, don't judge the ref)."""
    if not event.ref.startswith("refs/heads/"):
        return f"push to {event.ref[:100]}: not a branch, nothing to do"
    if event.deleted:
        return f"push deleted {event.ref[:100]}: nothing to do"
    if default_branch is not None and event.ref != f"refs/heads/{default_branch}":
        branch = event.ref[len("refs/heads/") :][:100]
        return f"push to {branch}, not the default branch {default_branch}: nothing to do"
    if (
        not event.truncated
        and not event.created
        and not event.forced
        and not any(p.startswith("environments/") for p in event.changed_paths)
    ):
        return "push changed nothing under environments/: nothing to do"
    return None


def event_name(event: Event) -> str:
    return event.name
