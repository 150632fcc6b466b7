"""The local forge: pull requests, reviews, comments, checks, labels and users kept in ``.git/``.

reference §10 "local". It implements ``bot.ports.Forge`` with GitHub's semantics, so that
anyone can try promobot with no GitHub account, and so that app-level tests have a fast,
faithful fake. Branches, heads and merges are real git, done through ``GitWorkspace``;
everything else lives in ONE JSON file, ``<git-common-dir>/promobot/forge.json``.

Storage
    * The file is schema-versioned (``"version": 1``) and written atomically: a temp file in
      the same directory, fsync, ``os.replace``, fsync of the directory. A crash mid-write
      leaves the previous state; stale temp files are swept by the next writer.
    * ``fcntl.flock`` on ``promobot/forge.lock`` serialises writers across processes.
      ``LocalForge.transaction()`` holds that lock for as long as the caller wants (the app
      holds it across a whole use case so "find the PR for this branch, else open one" is
      atomic); it is re-entrant within a process (all ``LocalForge`` objects of one process
      share one lock per file). Every method that changes something takes the lock itself
      when none is held.
    * A transaction is a lock, not a rollback: like a GitHub API call, every change is saved
      when the method returns, so an exception later in a use case keeps what was done
      before it (exactly what GitHub would have kept).
    * Readers need no lock (``os.replace`` is atomic, so a reader always sees one whole
      version) and never create the file (a dry run leaves ``.git`` as it was). Inside a
      transaction the parsed file is cached by (inode, mtime, size).
    * The state lives in the *common* git dir (``git rev-parse --git-common-dir``), which is
      ``.git`` for an ordinary checkout and is shared by linked worktrees, like branches are.

GitHub semantics kept
    * PR numbers count up from 1. ``head_sha`` is read live from the head branch, so a push
      moves the PR head; deleting the head (or base) branch closes the PR, and a closed or
      merged PR keeps the head it had. ``base_sha`` is the base tip at open / ``update_pr``
      time (or when the head was last seen to move by a change through this forge).
    * Opening a PR is refused when the branches do not exist, when there is nothing to merge,
      or when an open PR for the same head and base exists.
    * Bodies and comments over 65,536 characters are refused, as GitHub does.
    * Checks are keyed by (app, name, head SHA): ``set_check`` updates in place, other apps'
      checks of the same name stay apart (``by_promobot=False``).
    * A PR author cannot approve or request changes on their own PR.
    * ``merge`` squashes onto the base tip with a compare-and-swap, refusing when the PR is
      not open, is a draft, its head moved, or the squash conflicts.

Local choices (documented for users)
    * Logins are case-insensitive; a commit's git *author name*, lower-cased, is the login
      of its pusher (``pushers``).
    * With no users configured everybody has WRITE; once one user is configured, unknown
      users have NONE. The bot itself (``bot_login``) is ADMIN unless configured otherwise:
      on the local forge it is the repository's owner, it merges and pushes.
    * ``set_user`` adds the user to the given teams; it never removes memberships
      (``remove_user`` does).
    * The default branch is pinned in the state (``"default_branch"``) by the first write:
      ``init.defaultBranch``, else ``main`` / ``master``. Pull requests are built against it
      and merged into it whatever branch is checked out (``pin_default_branch``).
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import json
import logging
import os
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, cast

from bot.core import identity
from bot.core.model import (
    CheckRun,
    Comment,
    Deployment,
    DeploymentState,
    GateOutcome,
    Permission,
    PullRequest,
    PullState,
    Review,
    ReviewState,
    is_valid_name,
)
from bot.errors import ConflictError, ForgeError, NotApplicable, UsageError

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
STATE_DIR = "promobot"
MANIFEST_PATH_RE = re.compile(r"^environments/([^/]+)/([^/]+)\.yaml$")
STATE_FILE = "forge.json"
LOCK_FILE = "forge.lock"
PROMOBOT_APP = "promobot"
MAX_BODY_CHARS = 65536
"""GitHub refuses PR bodies and comments longer than this many characters."""

REACTIONS = frozenset({"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"})
OUTCOMES: frozenset[str] = frozenset({"success", "failure", "pending"})
SUBMITTABLE_REVIEW_STATES: frozenset[str] = frozenset({"APPROVED", "CHANGES_REQUESTED", "COMMENTED"})
TEAM_RE = re.compile(r"^@?([A-Za-z0-9][A-Za-z0-9_.-]*)/([A-Za-z0-9][A-Za-z0-9_.-]*)$")

_TMP_PREFIX = ".forge.json."
_TMP_SUFFIX = ".tmp"


class LocalGit(Protocol):
    """What the local forge needs from git (``bot.adapters.git.GitWorkspace`` provides it)."""

    @property
    def default_branch(self) -> str: ...

    @property
    def git_dir(self) -> Path:
        """The common git directory (``.git`` of an ordinary checkout)."""
        ...

    def resolve(self, ref: str) -> str | None: ...

    def is_ancestor(self, ancestor: str, descendant: str) -> bool: ...

    def commits_between(self, base: str, head: str) -> list[str]: ...

    def commit_authors(self, base: str, head: str) -> dict[str, str]: ...

    def merge_base(self, a: str, b: str) -> str | None: ...

    def merge_tree(self, base: str, head: str, merge_base: str | None = None) -> str | None: ...

    def commit_tree(
        self, tree: str, parents: Sequence[str], message: str, author: str | None = None
    ) -> str: ...

    def update_branch(self, branch: str, sha: str, *, expected: str | None, force: bool = False) -> None: ...

    def delete_branch(self, branch: str) -> None: ...

    def pin_default_branch(self, branch: str) -> None: ...


# =========================================================================== storage


class _ProcessLock:
    """One per state file per process: a thread RLock, the cross-process ``flock``, the read cache.

    The cache is only trusted by the thread holding the lock, and only within the same
    hold (``epoch``): while we hold the flock nobody else writes, and every write of ours,
    through any ``LocalForge`` of this process, refreshes it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rlock = threading.RLock()
        self.depth = 0
        self.fd: int | None = None
        self.owner: int | None = None
        self.epoch = 0
        self.cached: tuple[int, tuple[int, int, int], dict[str, Any]] | None = None

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        with self.rlock:
            if self.depth == 0:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                except BaseException:
                    os.close(fd)
                    raise
                self.fd, self.owner = fd, threading.get_ident()
                self.epoch += 1
            self.depth += 1
            try:
                yield
            finally:
                self.depth -= 1
                if self.depth == 0 and self.fd is not None:
                    fd, self.fd, self.owner, self.cached = self.fd, None, None, None
                    try:
                        fcntl.flock(fd, fcntl.LOCK_UN)
                    finally:
                        os.close(fd)

    @property
    def mine(self) -> bool:
        """True when the calling thread holds the lock."""
        return self.owner == threading.get_ident()


_LOCKS: dict[Path, _ProcessLock] = {}
_LOCKS_GUARD = threading.Lock()
# A forked child must take the lock itself: an inherited descriptor would share the parent's flock.
os.register_at_fork(after_in_child=_LOCKS.clear)


def _process_lock(path: Path) -> _ProcessLock:
    key = path.resolve()
    with _LOCKS_GUARD:
        lock = _LOCKS.get(key)
        if lock is None:
            lock = _LOCKS[key] = _ProcessLock(key)
        return lock


def empty_state() -> dict[str, Any]:
    """A fresh, empty forge state (schema version 1)."""
    return {
        "version": SCHEMA_VERSION,
        "next_number": 1,
        "next_comment_id": 1,
        "next_review_id": 1,
        "pulls": {},
        "reviews": [],
        "comments": [],
        "checks": [],
        "deployments": [],
        "next_deployment_id": 1,
        "users": {},
        "teams": {},
    }


class StateFile:
    """The JSON state file: atomic writes, a cross-process lock, a stat-keyed read cache."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = _process_lock(path.with_name(LOCK_FILE))
        self.pins: dict[str, Any] = {}
        """Keys recorded with the first write that lacks them (e.g. the pinned default branch)."""

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self.lock.hold():
            yield

    def read(self) -> dict[str, Any]:
        """The current state. Callers must not mutate it (use ``mutate``).

        Outside a transaction this reads the file (a whole, consistent version: writers
        replace it atomically); inside one it is cached by (inode, mtime, size).
        """
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return empty_state()
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        lock = self.lock
        mine = lock.mine
        cached = lock.cached
        if mine and cached is not None and cached[:2] == (lock.epoch, key):
            return cached[2]
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:  # replaced between stat and read: read again
            return self.read()
        state = self._parse(raw)
        if mine:
            lock.cached = (lock.epoch, key, state)
        return state

    def _parse(self, raw: bytes) -> dict[str, Any]:
        hint = "restore it from a backup, or delete it to start the local forge afresh"
        try:
            state = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ForgeError(f"the local forge state {self.path} is not valid JSON ({exc})", hint) from exc
        if not isinstance(state, dict) or not isinstance(state.get("version"), int):
            raise ForgeError(f"the local forge state {self.path} has no schema version", hint)
        if state["version"] > SCHEMA_VERSION:
            raise ForgeError(
                f"the local forge state {self.path} has schema version {state['version']}, "
                f"newer than this promobot understands ({SCHEMA_VERSION})",
                "upgrade promobot",
            )
        merged = empty_state()
        merged.update(state)
        return merged

    @contextlib.contextmanager
    def mutate(self) -> Iterator[dict[str, Any]]:
        """Lock, yield a private copy of the state, and save it if the block succeeds."""
        with self.transaction():
            state = copy.deepcopy(self.read())
            yield state
            self._write(state)

    def _write(self, state: dict[str, Any]) -> None:
        for key, value in self.pins.items():
            state.setdefault(key, value)
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True)
        data = (json.dumps(state, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()
        import tempfile  # on a write only: a warm read never pays for it

        fd, tmp_name = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=_TMP_SUFFIX, dir=directory)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            tmp.replace(self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        st = self.path.stat()
        self.lock.cached = (self.lock.epoch, (st.st_ino, st.st_mtime_ns, st.st_size), state)
        # We hold the lock, so any other temp file is a crashed writer's leftover.
        for stale in directory.glob(f"{_TMP_PREFIX}*{_TMP_SUFFIX}"):
            stale.unlink(missing_ok=True)


# =========================================================================== the forge


def _norm(login: str) -> str:
    return login.strip().lower()


def _team_key(team: str) -> str:
    m = TEAM_RE.fullmatch(team.strip())
    if m is None:
        raise UsageError(f"{team!r} is not a team name", "write teams as @org/team")
    return f"@{m.group(1).lower()}/{m.group(2).lower()}"


def _check_body(body: str, what: str) -> None:
    try:
        body.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates: bytes that were not UTF-8
        raise UsageError(
            f"the {what} is not valid UTF-8 text (at character {exc.start})", "write it in UTF-8"
        ) from None
    if len(body) > MAX_BODY_CHARS:
        raise ForgeError(
            f"the {what} is {len(body)} characters long; the forge accepts at most {MAX_BODY_CHARS}",
            "shorten it",
        )


class LocalForge:
    """``bot.ports.Forge`` on the local repository (see the module docstring)."""

    def __init__(
        self, workspace: LocalGit, *, state_path: Path | None = None, bot_login: str = "promobot"
    ) -> None:
        self._git = workspace
        self._bot_login = bot_login
        path = state_path if state_path is not None else workspace.git_dir / STATE_DIR / STATE_FILE
        self._file = StateFile(path)

    # ------------------------------------------------------------------ plumbing

    @property
    def bot_login(self) -> str:
        return self._bot_login

    @property
    def state_path(self) -> Path:
        return self._file.path

    def rate_budget(self) -> tuple[int, datetime] | None:
        """The local forge has no request limit."""
        return None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[LocalForge]:
        """Hold the forge lock across several calls (re-entrant; see the module docstring).

        On entry, a PR whose branch was deleted is recorded as closed, as GitHub closes it at
        once: re-creating the branch later (the next ``promote``) must not reopen it.
        """
        with self._file.transaction():
            self._close_vanished()
            yield self

    def _close_vanished(self) -> None:
        vanished = [
            rec
            for rec in self._file.read()["pulls"].values()
            if rec["state"] == "open" and self._live(rec)[0] == "closed"
        ]
        if vanished:
            with self._file.mutate() as state:
                for rec in vanished:
                    self._sync(state["pulls"][str(rec["number"])])

    def pin_default_branch(self) -> str:
        """The default branch, as recorded in the state on first use (then fixed, whatever HEAD is).

        Before anything is recorded it is git's answer (``init.defaultBranch``, else ``main`` /
        ``master``); the first write records it, so a later checkout of a side branch never turns
        that side branch into "what runs". A read-only command records nothing.
        """
        recorded = self._file.read().get("default_branch")
        if isinstance(recorded, str) and recorded:
            self._git.pin_default_branch(recorded)
            branch = recorded
        else:
            branch = self._git.default_branch
        self._file.pins["default_branch"] = branch
        return branch

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of the raw state (tests compare snapshots around a dry run)."""
        return copy.deepcopy(self._file.read())

    def _is_bot(self, login: str) -> bool:
        return identity.is_bot(login, self._bot_login)

    @staticmethod
    def _pull(state: dict[str, Any], number: int) -> dict[str, Any]:
        rec = state["pulls"].get(str(number))
        if rec is None:
            raise NotApplicable(f"no pull request #{number} on the local forge", "run `promobot pr list`")
        return cast(dict[str, Any], rec)

    def _branch_sha(self, branch: str) -> str | None:
        return self._git.resolve(f"refs/heads/{branch}")

    def _live(self, rec: dict[str, Any]) -> tuple[PullState, str]:
        """The PR's state and head as GitHub would report them now."""
        state = cast(PullState, rec["state"])
        if state != "open":
            return state, cast(str, rec["head_sha"])
        head = self._branch_sha(rec["head_branch"])
        if head is None or self._branch_sha(rec["base_branch"]) is None:
            return "closed", cast(str, rec["head_sha"])  # GitHub closes a PR whose branch is deleted
        return "open", head

    def _to_pr(self, rec: dict[str, Any]) -> PullRequest:
        state, head = self._live(rec)
        return PullRequest(
            number=rec["number"],
            state=state,
            title=rec["title"],
            body=rec["body"],
            head_branch=rec["head_branch"],
            head_sha=head,
            base_branch=rec["base_branch"],
            author=rec["author"],
            labels=tuple(rec["labels"]),
            draft=rec["draft"],
            merge_sha=rec["merge_sha"],
            base_sha=rec["base_sha"],
        )

    def _sync(self, rec: dict[str, Any]) -> None:
        """Record the live head (and close a PR whose branch vanished) inside a mutation."""
        state, head = self._live(rec)
        if state == "closed" and rec["state"] == "open":
            rec["state"] = "closed"
        if state == "open" and head != rec["head_sha"]:
            rec["head_sha"] = head
            rec["base_sha"] = self._branch_sha(rec["base_branch"]) or rec["base_sha"]

    # ------------------------------------------------------------------ pull requests

    def get_pr(self, number: int) -> PullRequest:
        return self._to_pr(self._pull(self._file.read(), number))

    def list_prs(self, *, state: PullState | None = "open") -> list[PullRequest]:
        recs = sorted(self._file.read()["pulls"].values(), key=lambda r: r["number"])
        prs = [self._to_pr(r) for r in recs]
        return [p for p in prs if state is None or p.state == state]

    def find_pr(self, head_branch: str, *, state: PullState | None = "open") -> PullRequest | None:
        recs = [r for r in self._file.read()["pulls"].values() if r["head_branch"] == head_branch]
        for rec in sorted(recs, key=lambda r: r["number"], reverse=True):
            pr = self._to_pr(rec)
            if state is None or pr.state == state:
                return pr
        return None

    def open_pr(
        self,
        *,
        head: str,
        base: str,
        title: str,
        body: str,
        labels: Sequence[str] = (),
        author: str | None = None,
    ) -> PullRequest:
        """Open a PR (as the bot, or as ``author`` for a person acting on the local forge)."""
        _check_body(body, "pull request body")
        if not title.strip():
            raise UsageError("a pull request needs a title", "give it one")
        with self._file.mutate() as state:
            head_sha = self._branch_sha(head)
            base_sha = self._branch_sha(base)
            for branch, sha in ((head, head_sha), (base, base_sha)):
                if sha is None:
                    raise ForgeError(
                        f"branch {branch!r} does not exist", "push it before opening a pull request"
                    )
            assert head_sha is not None and base_sha is not None
            if head == base or self._git.is_ancestor(head_sha, base_sha):
                raise ForgeError(
                    f"no commits between {base} and {head}", "commit a change on the branch first"
                )
            for rec in state["pulls"].values():
                if rec["state"] != "open" or (rec["head_branch"], rec["base_branch"]) != (head, base):
                    continue
                self._sync(rec)
                if rec["state"] == "open":  # like GitHub's forge: adopt it (an earlier run opened it)
                    rec["title"], rec["body"] = title, body
                    _add_labels(rec, labels)
                    logger.info("adopting local PR #%d for %s", rec["number"], head)
                    return self._to_pr(rec)
            number = state["next_number"]
            state["next_number"] = number + 1
            rec = {
                "number": number,
                "state": "open",
                "title": title,
                "body": body,
                "head_branch": head,
                "head_sha": head_sha,
                "base_branch": base,
                "base_sha": base_sha,
                "author": author or self._bot_login,
                "labels": [],
                "draft": False,
                "merge_sha": None,
            }
            _add_labels(rec, labels)
            state["pulls"][str(number)] = rec
        logger.info("opened local PR #%d %s → %s", number, head, base)
        return self._to_pr(rec)

    def update_pr(self, number: int, *, title: str | None = None, body: str | None = None) -> None:
        if body is not None:
            _check_body(body, "pull request body")
        with self._file.mutate() as state:
            rec = self._pull(state, number)
            self._sync(rec)
            if title is not None:
                rec["title"] = title
            if body is not None:
                rec["body"] = body
            if rec["state"] == "open":
                rec["base_sha"] = self._branch_sha(rec["base_branch"]) or rec["base_sha"]

    def add_labels(self, number: int, labels: Sequence[str]) -> None:
        with self._file.mutate() as state:
            _add_labels(self._pull(state, number), labels)

    def remove_label(self, number: int, label: str) -> None:
        with self._file.mutate() as state:
            rec = self._pull(state, number)
            rec["labels"] = [x for x in rec["labels"] if x.lower() != label.lower()]

    def close(self, number: int) -> None:
        """Close an open PR; closing a closed or merged PR changes nothing."""
        with self._file.mutate() as state:
            rec = self._pull(state, number)
            self._sync(rec)
            if rec["state"] == "open":
                rec["state"] = "closed"

    def delete_branch(self, branch: str) -> None:
        """Delete ``branch``; open PRs with it as head or base are closed, as on GitHub."""
        if branch == self._git.default_branch:
            raise ForgeError(f"{branch} is the default branch and cannot be deleted", "delete another branch")
        with self._file.mutate() as state:
            for rec in state["pulls"].values():
                if rec["state"] == "open" and branch in (rec["head_branch"], rec["base_branch"]):
                    self._sync(rec)  # freezes the head it has now
                    rec["state"] = "closed"
            if self._branch_sha(branch) is not None:
                self._git.delete_branch(branch)

    # ------------------------------------------------------------------ comments and reactions

    def _new_comment(self, number: int, login: str, body: str) -> Comment:
        _check_body(body, "comment")
        with self._file.mutate() as state:
            self._pull(state, number)
            cid = state["next_comment_id"]
            state["next_comment_id"] = cid + 1
            state["comments"].append(
                {"id": cid, "pr": number, "author": login, "body": body, "reactions": []}
            )
        return Comment(id=cid, author=login, body=body, is_bot=self._is_bot(login))

    def comment(self, number: int, body: str) -> Comment:
        """Comment as the bot."""
        return self._new_comment(number, self._bot_login, body)

    def add_comment(self, number: int, *, login: str, body: str) -> Comment:
        """Comment as ``login`` (``promobot pr comment``: a person acting on the local forge)."""
        return self._new_comment(number, login, body)

    def list_comments(self, number: int) -> list[Comment]:
        state = self._file.read()
        self._pull(state, number)
        return [
            Comment(id=c["id"], author=c["author"], body=c["body"], is_bot=self._is_bot(c["author"]))
            for c in state["comments"]
            if c["pr"] == number
        ]

    def react(self, comment_id: int, reaction: str) -> None:
        """React as the bot; the same reaction twice is kept once (GitHub's behaviour)."""
        self.add_reaction(comment_id, login=self._bot_login, reaction=reaction)

    def add_reaction(self, comment_id: int, *, login: str, reaction: str) -> None:
        if reaction not in REACTIONS:
            raise UsageError(f"{reaction!r} is not a reaction", f"use one of {', '.join(sorted(REACTIONS))}")
        with self._file.mutate() as state:
            rec = _comment(state, comment_id)
            entry = [_norm(login), reaction]
            if entry not in rec["reactions"]:
                rec["reactions"].append(entry)

    def reactions(self, comment_id: int) -> list[tuple[str, str]]:
        """``(login, content)`` of every reaction on the comment, oldest first."""
        rec = _comment(self._file.read(), comment_id)
        return [(login, content) for login, content in rec["reactions"]]

    # ------------------------------------------------------------------ reviews

    def submit_review(
        self,
        number: int,
        *,
        login: str,
        state: ReviewState,
        body: str = "",
        commit_id: str | None = None,
    ) -> Review:
        """Review as ``login`` (``promobot pr review``); ``commit_id`` defaults to the current head."""
        if state not in SUBMITTABLE_REVIEW_STATES:
            raise UsageError(
                f"a review cannot be submitted as {state}", "approve, request changes or comment"
            )
        _check_body(body, "review body")
        with self._file.mutate() as data:
            rec = self._pull(data, number)
            self._sync(rec)
            if state != "COMMENTED" and _norm(login) == _norm(rec["author"]):
                verb = "approve" if state == "APPROVED" else "request changes on"
                raise ForgeError(
                    f"{login} cannot {verb} their own pull request #{number}", "ask another reviewer"
                )
            rid = data["next_review_id"]
            data["next_review_id"] = rid + 1
            review = {
                "id": rid,
                "pr": number,
                "login": login,
                "state": state,
                "commit_id": commit_id or rec["head_sha"],
                "body": body,
            }
            data["reviews"].append(review)
        return self._to_review(review)

    def dismiss_review(self, number: int, review_id: int) -> None:
        """Dismiss an approval or a change request (GitHub refuses to dismiss anything else)."""
        with self._file.mutate() as data:
            self._pull(data, number)
            for review in data["reviews"]:
                if review["id"] == review_id and review["pr"] == number:
                    if review["state"] not in ("APPROVED", "CHANGES_REQUESTED"):
                        raise ForgeError(
                            f"review {review_id} is {review['state']}; only approvals and change "
                            "requests can be dismissed",
                            "dismiss another review",
                        )
                    review["state"] = "DISMISSED"
                    return
        raise UsageError(f"no review {review_id} on pull request #{number}", "run `promobot pr show`")

    def _to_review(self, review: dict[str, Any]) -> Review:
        return Review(
            id=review["id"],
            login=review["login"],
            state=review["state"],
            commit_id=review["commit_id"],
            is_bot=self._is_bot(review["login"]),
        )

    def list_reviews(self, number: int) -> list[Review]:
        state = self._file.read()
        self._pull(state, number)
        return [self._to_review(r) for r in state["reviews"] if r["pr"] == number]

    # ------------------------------------------------------------------ checks

    def set_check(
        self,
        *,
        head_sha: str,
        name: str,
        result: GateOutcome,
        title: str,
        summary: str,
        record: str | None = None,
    ) -> None:
        self._put_check(
            head_sha=head_sha,
            name=name,
            result=result,
            title=title,
            summary=summary,
            app=PROMOBOT_APP,
            record=record,
        )

    def add_foreign_check(
        self,
        head_sha: str,
        name: str,
        result: GateOutcome,
        *,
        app: str = "other-app",
        title: str = "",
        summary: str = "",
    ) -> None:
        """Test control: another app posts (or updates) check ``name`` on ``head_sha``."""
        if app == PROMOBOT_APP:
            raise UsageError(f"{app!r} is promobot's own app name", "pick another app name")
        self._put_check(head_sha=head_sha, name=name, result=result, title=title, summary=summary, app=app)

    def _put_check(
        self,
        *,
        head_sha: str,
        name: str,
        result: GateOutcome,
        title: str,
        summary: str,
        app: str,
        record: str | None = None,
    ) -> None:
        if result not in OUTCOMES:
            raise UsageError(f"{result!r} is not a check result", "use success, failure or pending")
        with self._file.mutate() as state:
            for check in state["checks"]:
                if (check["app"], check["name"], check["head_sha"]) == (app, name, head_sha):
                    check.update(result=result, title=title, summary=summary)
                    if record is not None:
                        check["record"] = record
                    return
            state["checks"].append(
                {
                    "app": app,
                    "name": name,
                    "head_sha": head_sha,
                    "result": result,
                    "title": title,
                    "summary": summary,
                    "record": record or "",
                }
            )

    def list_checks(self, head_sha: str) -> list[CheckRun]:
        return [
            CheckRun(
                name=c["name"],
                head_sha=c["head_sha"],
                result=c["result"],
                title=c["title"],
                summary=c["summary"],
                by_promobot=c["app"] == PROMOBOT_APP,
                record=str(c.get("record") or ""),
            )
            for c in self._file.read()["checks"]
            if c["head_sha"] == head_sha
        ]

    # ------------------------------------------------------------------ deployments
    # The records GitHub keeps as Deployments (reference §15.3): one per verification,
    # statuses newest last in the file, so that `status` and `verify` read the same on both.

    @staticmethod
    def _to_deployment(rec: dict[str, Any], *, with_state: bool = False) -> Deployment:
        statuses = rec.get("statuses") or []
        return Deployment(
            id=int(rec["id"]),
            sha=str(rec["sha"]),
            environment=str(rec["environment"]),
            task=str(rec["task"]),
            description=str(rec.get("description") or ""),
            state=str(statuses[-1]["state"]) if with_state and statuses else None,
        )

    def list_deployments(self, *, environment: str, task: str) -> list[Deployment]:
        found = [
            self._to_deployment(d)
            for d in self._file.read()["deployments"]
            if d["environment"] == environment and d["task"] == task
        ]
        return sorted(found, key=lambda d: d.id, reverse=True)[:100]

    def create_deployment(
        self, *, sha: str, environment: str, task: str, description: str, payload: Mapping[str, str]
    ) -> Deployment:
        with self._file.mutate() as state:
            number = int(state["next_deployment_id"])
            state["next_deployment_id"] = number + 1
            rec = {
                "id": number,
                "sha": sha,
                "environment": environment,
                "task": task,
                "description": description,
                "payload": dict(payload),
                "statuses": [],
            }
            state["deployments"].append(rec)
        return self._to_deployment(rec)

    def _deployment_rec(self, state: dict[str, Any], deployment_id: int) -> dict[str, Any]:
        for rec in state["deployments"]:
            if rec["id"] == deployment_id:
                return dict(rec)
        raise UsageError(f"no deployment {deployment_id} in the local forge", "check the id")

    def deployment_state(self, deployment_id: int) -> str | None:
        return self._to_deployment(
            self._deployment_rec(self._file.read(), deployment_id), with_state=True
        ).state

    def set_deployment_state(self, deployment_id: int, state: DeploymentState, description: str) -> None:
        with self._file.mutate() as data:
            self._deployment_rec(data, deployment_id)
            for rec in data["deployments"]:
                if rec["id"] == deployment_id:
                    rec["statuses"].append({"state": state, "description": description})

    # ------------------------------------------------------------------ users and teams

    def set_user(self, login: str, permission: Permission, teams: Sequence[str] = ()) -> None:
        """Give ``login`` ``permission`` and add them to ``teams`` (``promobot pr users set``)."""
        if not login.strip() or any(ch.isspace() for ch in login.strip()):
            raise UsageError(f"{login!r} is not a login", "use a login without spaces")
        keys = [_team_key(t) for t in teams]
        with self._file.mutate() as state:
            state["users"][_norm(login)] = {"login": login.strip(), "permission": permission.label}
            for key in keys:
                members = state["teams"].setdefault(key, [])
                if _norm(login) not in members:
                    members.append(_norm(login))

    def remove_user(self, login: str) -> None:
        """Forget ``login``: no permission entry, no team memberships."""
        with self._file.mutate() as state:
            state["users"].pop(_norm(login), None)
            for members in state["teams"].values():
                if _norm(login) in members:
                    members.remove(_norm(login))

    def users(self) -> dict[str, Permission]:
        """Configured users (lower-cased login → permission)."""
        return {k: Permission.parse(v["permission"]) for k, v in self._file.read()["users"].items()}

    def teams(self) -> dict[str, frozenset[str]]:
        return {k: frozenset(v) for k, v in self._file.read()["teams"].items()}

    def permission(self, login: str) -> Permission:
        users = self._file.read()["users"]
        entry = users.get(_norm(login))
        if entry is not None:
            return Permission.parse(entry["permission"])
        if _norm(login) == _norm(self._bot_login):
            return Permission.ADMIN
        return Permission.WRITE if not users else Permission.NONE

    def team_members(self, team: str) -> frozenset[str]:
        members = self._file.read()["teams"].get(_team_key(team))
        if members is None:
            raise ForgeError(
                f"team {team} is not known to the local forge",
                f"add members with `promobot pr users set LOGIN --permission write --team {team}`",
            )
        return frozenset(members)

    # ------------------------------------------------------------------ git-backed

    def pushers(self, number: int) -> frozenset[str]:
        """Lower-cased git author and committer names of the commits in base..head (the logins here)."""
        rec = self._pull(self._file.read(), number)
        _, head = self._live(rec)
        base = self._branch_sha(rec["base_branch"]) or rec["base_sha"]
        names: set[str] = set()
        for people in self._git.commit_authors(base, head).values():
            names.update(_norm(name) for name in people.split("\0") if name)
        return frozenset(names)

    def merge(self, number: int, *, sha: str, title: str, message: str) -> str:
        """Squash-merge PR ``number`` if its head is still ``sha``; returns the squash commit."""
        with self._file.mutate() as state:
            rec = self._pull(state, number)
            self._sync(rec)
            if rec["state"] != "open":
                raise ConflictError(
                    f"pull request #{number} is {rec['state']}, not open", "only an open pull request merges"
                )
            if rec["draft"]:
                raise ConflictError(f"pull request #{number} is a draft", "mark it ready for review first")
            head = rec["head_sha"]
            if head != sha:
                raise ConflictError(
                    f"the head of pull request #{number} moved since it was evaluated "
                    f"({sha[:12]} → {head[:12]})",
                    "re-run to evaluate the new head",
                )
            base_branch = rec["base_branch"]
            base_tip = self._branch_sha(base_branch)
            assert base_tip is not None  # _sync closed the PR otherwise
            merge_base = self._git.merge_base(base_tip, head)
            tree = self._git.merge_tree(base_tip, head, merge_base) if merge_base is not None else None
            if tree is None:
                raise ConflictError(
                    f"pull request #{number} cannot be merged: it conflicts with {base_branch}",
                    "update the branch from the base branch and re-run",
                )
            text = f"{title}\n\n{message}" if message.strip() else title
            new = self._git.commit_tree(tree, [base_tip], text)
            self._git.update_branch(base_branch, new, expected=base_tip)
            rec.update(state="merged", merge_sha=new, head_sha=head, base_sha=base_tip)
        logger.info("merged local PR #%d into %s as %s", number, base_branch, new)
        return new


def _is_manifest_path(path: str) -> bool:
    m = MANIFEST_PATH_RE.fullmatch(path)
    return m is not None and is_valid_name(m.group(1)) and is_valid_name(m.group(2))


def _add_labels(rec: dict[str, Any], labels: Sequence[str]) -> None:
    """GitHub label names are unique case-insensitively; re-adding one changes nothing."""
    for label in labels:
        if label and all(x.lower() != label.lower() for x in rec["labels"]):
            rec["labels"].append(label)


def _comment(state: dict[str, Any], comment_id: int) -> dict[str, Any]:
    for rec in state["comments"]:
        if rec["id"] == comment_id:
            return cast(dict[str, Any], rec)
    raise UsageError(f"no comment {comment_id} on the local forge", "run `promobot pr show PR`")
