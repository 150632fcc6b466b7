"""The GitHub forge: ``bot.ports.Forge`` over GitHub's REST API through PyGithub.

Owns every call promobot makes to GitHub, the conversion of GitHub's JSON into
``bot.core.model`` values, retries, and the translation of GitHub's refusals into
promobot's errors. ``github_context`` builds the whole use-case context for
``--forge github`` (GitHub Actions, or a shell with ``GITHUB_REPOSITORY`` set).

How it talks to GitHub
    PyGithub's ``Requester`` (auth, base URL, pacing, pagination through
    ``PaginatedList`` with ``per_page=100``, ``GithubException``) sends every request,
    but no PyGithub model object ever leaves a method: lazy PyGithub objects send a
    request when an attribute they lack is read, so the adapter reads each response's
    JSON once and builds frozen dataclasses from it. One method call = the REST
    operations named in its docstring, nothing hidden.

Pacing
    Against api.github.com (or a GitHub Enterprise Server) PyGithub's defaults are
    kept: 0.25 s between requests and 1 s between writes, GitHub's advice against
    secondary rate limits. Against a loopback ``GITHUB_API_URL`` (the test emulator)
    both are 0. Both are constructor parameters.

Retries (at most 3 attempts per operation, ``sleep`` injectable)
    * 5xx answers and dropped connections/timeouts: back off 1 s, then 2 s.
    * Secondary rate limits (403/429 with ``Retry-After`` or GitHub's "secondary rate
      limit" message): wait ``Retry-After`` seconds (capped at 60 s; 60 s when absent).
    * GitHub's primary rate limit (403/429 with ``X-RateLimit-Remaining: 0`` and no
      ``Retry-After``) is not retried: the window resets up to an hour later. It raises
      ``RateLimited`` (an ``OutageError``, exit 3) naming the reset time. ``rate_budget``
      reports what the last answer's ``X-RateLimit-*`` headers said (no request), so that a
      multi-PR handler stops starting items before the budget runs out (``bot.app.batch.Batch``).
    * Creates are never retried blindly. After a 5xx or a dropped connection GitHub may
      have applied the request, so before a retry promobot looks for what it meant to
      create: the open PR for the head branch (POST pulls), its own comment with the
      same body (POST comments), its own check run of that name on that commit (POST
      check-runs), the merged PR (PUT merge). Found → that result is used; not found →
      the request is sent again. Commit statuses, labels and reactions are retried as
      they are: a repeated status is harmless (the newest per context wins), labels
      and reactions are idempotent.
    * After the last attempt: ``OutageError`` ("GitHub answered 502 three times for …;
      re-run the workflow"), exit code 3.

Checks
    Check runs keyed by (name, head SHA, our app). The runs of a commit are listed once
    per forge object and kept (``set_check`` then needs no lookup); its statuses too,
    unless our app's check runs are already there (see ``list_checks``). An unchanged
    check is not written again. A 403 on creating a check run (a personal
    access token cannot) switches the forge to commit statuses, same names, for the
    rest of the run. Results: ``pending`` → ``status: in_progress``; ``success`` /
    ``failure`` → ``status: completed`` + ``conclusion``. Reading: conclusions
    success/neutral/skipped count as success, other conclusions as failure, anything
    not completed as pending. ``by_promobot`` is True only for check runs of our app
    (``github-actions`` for ``GITHUB_TOKEN`` — which also owns workflow jobs' checks, so
    a job named ``promobot/ready`` would pass as ours: use a GitHub App to be strict)
    and statuses created by ``bot_login``. A check's ``record`` (promobot's note that it
    wrote the commit, SECURITY.md) is the run's ``external_id``; with commit statuses it is
    the description of a ``promobot/record`` status.

Pushers
    ``pushers`` reads the PR's commits (GitHub lists at most 250) and returns the logins
    GitHub maps their author and committer emails to. Commits whose author or committer
    maps to no account (a CI committer identity such as ``promobot@localhost``) are
    skipped with a warning rather than blocking every approval: the author/committer
    is only a proxy for "who pushed" (git identities can be set at will), and the
    approval rules also exclude the PR author and the requester. Documented choice.

Local mirror
    GitHub merges and deletes branches server-side; ``on_branches_changed`` (set by
    ``github_setup`` to ``GitWorkspace.refresh``) lets the checkout fetch afterwards, so
    that the chained promotion after a merge reads the new tip of the default branch.

Per-run caches
    One forge object lives for one workflow run: collaborator permissions, team
    members and the checks of a commit are fetched once per object.

Secrets
    The token lives only inside PyGithub's ``Auth`` object (which masks it in its debug
    log) and in the git ``http.extraHeader`` passed through the environment of git
    processes. No message, log line or ``repr`` built here contains it.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import logging
import os
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import jwt
from github import Auth, Github, GithubException, GithubIntegration
from github.GithubObject import NonCompletableGithubObject
from github.PaginatedList import PaginatedList

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
)
from bot.errors import (
    BotError,
    ConflictError,
    ForgeError,
    NotApplicable,
    OutageError,
    RateLimited,
    UsageError,
)

if TYPE_CHECKING:
    from bot.adapters.cache import FileCache
    from bot.adapters.gaterunner import LocalGateRunner
    from bot.adapters.git import GitWorkspace

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_API_URL = "https://api.github.com"
ACTIONS_LOGIN = "github-actions[bot]"
ACTIONS_SLUG = "github-actions"
ACTIONS_IDENTITY = "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"
DEFAULT_SECONDS_BETWEEN_REQUESTS = 0.25
DEFAULT_SECONDS_BETWEEN_WRITES = 1.0
MAX_ATTEMPTS = 3
MAX_RETRY_AFTER = 60.0
STATUS_DESCRIPTION_MAX = 140
RECORD_STATUS = "promobot/record"
"""In commit-status mode: the status that carries what a check run keeps in ``external_id``."""
CHECK_TEXT_MAX = 65535
BODY_MAX = 65536
TEAM_RE = re.compile(r"^@?([A-Za-z0-9][A-Za-z0-9_.-]*)/([A-Za-z0-9][A-Za-z0-9_.-]*)$")
PAT_PREFIXES = ("ghp_", "github_pat_", "gho_", "ghu_")
NOT_PERMITTED_TO_CREATE_PR = "not permitted to create or approve pull requests"
SUCCESS_CONCLUSIONS = frozenset({"success", "neutral", "skipped"})
_COUNT = {1: "once", 2: "twice", 3: "three times"}


class _Raw(NonCompletableGithubObject):
    """A page element kept as the JSON GitHub sent (read through ``raw_data``, never completed)."""

    def _initAttributes(self) -> None:
        pass

    def _useAttributes(self, attributes: Any) -> None:
        pass


# =========================================================================== retries


@dataclass(frozen=True, slots=True)
class _Transient:
    label: str  # what GitHub answered, for the outage message
    wait: float
    maybe_applied: bool  # the server may have done what was asked


def _header(exc: GithubException, name: str) -> str | None:
    for key, value in (exc.headers or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def _message(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    message = str(data.get("message") or "").strip()
    details = []
    for err in data.get("errors") or []:
        if isinstance(err, dict) and err.get("message"):
            details.append(str(err["message"]))
        elif isinstance(err, str):
            details.append(err)
    if details:
        message = f"{message} ({'; '.join(details)})" if message else "; ".join(details)
    return message or f"HTTP {exc.status}"


def _rate_limited(exc: BaseException, what: str) -> RateLimited | None:
    """GitHub's *primary* rate limit (403/429, ``X-RateLimit-Remaining: 0``, no ``Retry-After``):
    waiting inside the run cannot help (the window resets up to an hour later)."""
    if not isinstance(exc, GithubException) or exc.status not in (403, 429):
        return None
    if _header(exc, "retry-after") is not None or _header(exc, "x-ratelimit-remaining") != "0":
        return None
    reset = _epoch(_header(exc, "x-ratelimit-reset"))
    when = f" until {reset:%Y-%m-%d %H:%M} UTC" if reset is not None else ""
    return RateLimited(
        f"GitHub's rate limit for this token is used up{when} (while trying to {what})",
        "nothing is half-done: the next run picks up what this one left; with many open pull "
        "requests run promobot as a GitHub App (5,000 requests an hour or more; README: Use it on GitHub)",
        reset=reset,
    )


def _epoch(value: str | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(float(value)), tz=UTC) if value is not None else None
    except (ValueError, OverflowError, OSError):
        return None


def _transient(exc: BaseException, attempt: int) -> _Transient | None:
    """How to retry ``exc``, or None when retrying cannot help."""
    backoff = float(2 ** (attempt - 1))
    if isinstance(exc, GithubException):
        status = exc.status
        if status >= 500:
            return _Transient(str(status), backoff, True)
        message = _message(exc).lower()
        retry_after = _header(exc, "retry-after")
        if status in (403, 429) and (retry_after is not None or "secondary rate limit" in message):
            try:
                wait = float(retry_after) if retry_after is not None else MAX_RETRY_AFTER
            except ValueError:
                wait = MAX_RETRY_AFTER
            return _Transient("a secondary rate limit", max(0.0, min(wait, MAX_RETRY_AFTER)), False)
        return None
    if isinstance(exc, OSError):  # requests' ConnectionError and Timeout are OSErrors
        return _Transient("with a dropped connection", backoff, True)
    return None


class _Retrier:
    def __init__(self, sleep: Callable[[float], None], attempts: int = MAX_ATTEMPTS) -> None:
        self.sleep = sleep
        self.attempts = attempts

    def run(
        self,
        what: str,
        call: Callable[[], T],
        *,
        recheck: Callable[[], T | None] | None = None,
        create: bool = False,
    ) -> T:
        """``call()`` with retries; ``create`` calls are re-checked (``recheck``) before a resend."""
        labels: list[str] = []
        for attempt in range(1, self.attempts + 1):
            try:
                return call()
            except (GithubException, OSError) as exc:
                limited = _rate_limited(exc, what)
                if limited is not None:
                    raise limited from exc
                transient = _transient(exc, attempt)
                if transient is None:
                    raise
            labels.append(transient.label)
            if attempt == self.attempts:
                break
            logger.warning(
                "GitHub answered %s for %s; retrying in %.0f s (attempt %d of %d)",
                transient.label,
                what,
                transient.wait,
                attempt + 1,
                self.attempts,
            )
            self.sleep(transient.wait)
            if create and transient.maybe_applied:
                if recheck is None:
                    break
                found = recheck()
                if found is not None:
                    logger.info("%s had been applied before the failure; using it", what)
                    return found
        times = _COUNT.get(len(labels), f"{len(labels)} times")
        if len(set(labels)) == 1:
            what_happened = f"GitHub answered {labels[0]} {times} for {what}"
        else:
            what_happened = f"GitHub failed {times} for {what} ({', '.join(labels)})"
        raise OutageError(what_happened, "re-run the workflow (safe: promobot picks up where it stopped)")


# =========================================================================== conversions


def _login(user: Any) -> str | None:
    if isinstance(user, dict) and isinstance(user.get("login"), str):
        return str(user["login"])
    return None


def _is_bot_user(user: Any) -> bool:
    return identity.is_bot_account(
        _login(user) or "", typed_bot=isinstance(user, dict) and user.get("type") == "Bot"
    )


def _pull(data: Mapping[str, Any]) -> PullRequest:
    merged = bool(data.get("merged")) or data.get("merged_at") is not None
    state: PullState = "merged" if merged else ("open" if data.get("state") == "open" else "closed")
    head, base = data.get("head") or {}, data.get("base") or {}
    head_repo, base_repo = head.get("repo"), base.get("repo")
    from_fork = not (
        isinstance(head_repo, dict)
        and isinstance(base_repo, dict)
        and (head_repo.get("id"), head_repo.get("url")) == (base_repo.get("id"), base_repo.get("url"))
    )
    return PullRequest(
        number=int(data["number"]),
        state=state,
        title=str(data.get("title") or ""),
        body=str(data.get("body") or ""),
        head_branch=str(head.get("ref") or ""),
        head_sha=str(head.get("sha") or ""),
        base_branch=str(base.get("ref") or ""),
        author=_login(data.get("user")) or "ghost",
        labels=tuple(str(label["name"]) for label in data.get("labels") or [] if isinstance(label, dict)),
        draft=bool(data.get("draft")),
        merge_sha=str(data["merge_commit_sha"]) if merged and data.get("merge_commit_sha") else None,
        base_sha=str(base["sha"]) if base.get("sha") else None,
        from_fork=from_fork,
    )


def _run_result(run: Mapping[str, Any]) -> GateOutcome:
    if run.get("status") != "completed":
        return "pending"
    return "success" if run.get("conclusion") in SUCCESS_CONCLUSIONS else "failure"


def _status_result(state: str) -> GateOutcome:
    return "success" if state == "success" else "pending" if state == "pending" else "failure"


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_length(text: str, what: str) -> None:
    if len(text) > BODY_MAX:
        raise ForgeError(
            f"the {what} is {len(text)} characters long; GitHub accepts at most {BODY_MAX}", "shorten it"
        )


def is_loopback(url: str) -> bool:
    """True when ``url`` points at this machine (the test emulator)."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def git_auth_header(token: str) -> str:
    """The ``http.extraHeader`` git sends to GitHub over HTTPS (as actions/checkout does)."""
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode("ascii")
    return f"AUTHORIZATION: basic {basic}"


# =========================================================================== the forge


class GitHubForge:
    """``bot.ports.Forge`` on one GitHub repository (see the module docstring)."""

    def __init__(
        self,
        *,
        repo: str,
        auth: Auth.Auth,
        bot_login: str = ACTIONS_LOGIN,
        app_slug: str | None = ACTIONS_SLUG,
        base_url: str = DEFAULT_API_URL,
        sleep: Callable[[float], None] = time.sleep,
        seconds_between_requests: float | None = None,
        seconds_between_writes: float | None = None,
        timeout: int = 30,
        attempts: int = MAX_ATTEMPTS,
        on_branches_changed: Callable[[], None] | None = None,
    ) -> None:
        owner, sep, name = repo.partition("/")
        if not sep or not owner or not name or "/" in name:
            raise UsageError(f"{repo!r} is not a repository name", "use owner/name, as in GITHUB_REPOSITORY")
        local = is_loopback(base_url)
        if seconds_between_requests is None:
            seconds_between_requests = 0.0 if local else DEFAULT_SECONDS_BETWEEN_REQUESTS
        if seconds_between_writes is None:
            seconds_between_writes = 0.0 if local else DEFAULT_SECONDS_BETWEEN_WRITES
        self.full_name = repo
        self.owner = owner
        self._bot_login = bot_login
        self.app_slug = app_slug
        self._gh = Github(
            base_url=base_url.rstrip("/"),
            auth=auth,
            per_page=100,
            retry=None,
            seconds_between_requests=seconds_between_requests,
            seconds_between_writes=seconds_between_writes,
            lazy=True,
            timeout=timeout,
        )
        self._req = self._gh.requester
        self._repo_url = f"/repos/{urllib.parse.quote(owner)}/{urllib.parse.quote(name)}"
        self._retry = _Retrier(sleep, attempts)
        self.statuses_mode = False
        """True once GitHub refused a check run (token without checks access): statuses are used."""
        self._runs: dict[str, list[dict[str, Any]]] = {}
        self._statuses: dict[str, list[dict[str, Any]]] = {}
        self._permissions: dict[str, Permission] = {}
        self._teams: dict[str, frozenset[str]] = {}
        self.on_branches_changed = on_branches_changed
        """Called after GitHub moved or deleted a branch (merge, delete_branch): the local
        mirror of the repository fetches, so that a chained promotion reads the new tip."""

    def __repr__(self) -> str:  # never shows the token
        return f"GitHubForge({self.full_name!r}, bot_login={self._bot_login!r})"

    def close_connection(self) -> None:
        """Close PyGithub's HTTP connections."""
        self._gh.close()

    # ------------------------------------------------------------------ plumbing

    def _request(
        self,
        what: str,
        verb: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        create: bool = False,
        recheck: Callable[[], Any] | None = None,
    ) -> Any:
        def call() -> Any:
            _, data = self._req.requestJsonAndCheck(verb, url, parameters=params, input=body)
            return data

        return self._retry.run(what, call, recheck=recheck, create=create)

    def _list(
        self, what: str, url: str, *, params: dict[str, Any] | None = None, item: str = "items"
    ) -> list[dict[str, Any]]:
        """Every element of a paginated list (all pages), as JSON."""

        def call() -> list[dict[str, Any]]:
            pages = PaginatedList(_Raw, self._req, url, dict(params or {}), list_item=item)
            return [element.raw_data for element in pages]

        return self._retry.run(what, call)

    def _no_pr(self, number: int) -> NotApplicable:
        return NotApplicable(f"no pull request #{number} in {self.full_name}", "check the number")

    def _error(self, exc: GithubException, what: str, hint: str | None = None) -> BotError:
        message = _message(exc)
        if exc.status == 401:
            return ForgeError(
                f"GitHub refused the credentials while trying to {what} (401 {message})",
                "check GITHUB_TOKEN (or the GitHub App's id, key and installation) and re-run",
            )
        if exc.status == 403:
            return ForgeError(
                f"GitHub refused to {what} (403 {message})",
                hint
                or "give the workflow the permissions it needs (contents, pull-requests, checks, statuses: "
                "write; see README: Use it on GitHub) or use a GitHub App",
            )
        return ForgeError(
            f"GitHub refused to {what} ({exc.status} {message})", hint or "fix the cause above and re-run"
        )

    # ------------------------------------------------------------------ Forge: identity

    @property
    def bot_login(self) -> str:
        return self._bot_login

    def rate_budget(self) -> tuple[int, datetime] | None:
        """(requests left, when the window resets) from the last answer's ``X-RateLimit-*``
        headers; None before the first answer or when GitHub sent none (no request is made)."""
        remaining, _limit = self._req.rate_limiting
        if remaining < 0:
            return None
        reset = _epoch(str(self._req.rate_limiting_resettime)) or datetime.fromtimestamp(0, tz=UTC)
        return remaining, reset

    def transaction(self) -> contextlib.AbstractContextManager[object]:
        """GitHub has no lock to hold: a no-op (the sha guard on merge keeps merges safe)."""
        return contextlib.nullcontext(self)

    # ------------------------------------------------------------------ pull requests

    def _pr_url(self, number: int) -> str:
        return f"{self._repo_url}/pulls/{int(number)}"

    def _find_raw(self, head_branch: str, state: PullState | None) -> dict[str, Any] | None:
        api_state = "open" if state == "open" else "all" if state is None else "closed"
        params = {
            "state": api_state,
            "head": f"{self.owner}:{head_branch}",
            "sort": "created",
            "direction": "desc",
        }
        try:
            found = self._list(f"find the PR of {head_branch}", f"{self._repo_url}/pulls", params=params)
        except GithubException as exc:
            raise self._error(exc, f"list the pull requests of {head_branch}") from exc
        for data in found:
            if state is None or _pull(data).state == state:
                return data
        return None

    def find_pr(self, head_branch: str, *, state: PullState | None = "open") -> PullRequest | None:
        """GET pulls?head=owner:branch (newest first)."""
        data = self._find_raw(head_branch, state)
        return _pull(data) if data is not None else None

    def get_pr(self, number: int) -> PullRequest:
        """GET pulls/{n}; ``NotApplicable`` when there is no such PR."""
        try:
            return _pull(self._request(f"read pull request #{number}", "GET", self._pr_url(number)))
        except GithubException as exc:
            if exc.status == 404:
                raise NotApplicable(
                    f"no pull request #{number} in {self.full_name}", "check the number (issues are not PRs)"
                ) from exc
            raise self._error(exc, f"read pull request #{number}") from exc

    def list_prs(self, *, state: PullState | None = "open") -> list[PullRequest]:
        """GET pulls?state=… (all pages), lowest number first."""
        api_state = "open" if state == "open" else "all" if state is None else "closed"
        params = {"state": api_state, "sort": "created", "direction": "asc"}
        try:
            found = self._list("list pull requests", f"{self._repo_url}/pulls", params=params)
        except GithubException as exc:
            raise self._error(exc, "list pull requests") from exc
        prs = [_pull(d) for d in found]
        return sorted((p for p in prs if state is None or p.state == state), key=lambda p: p.number)

    def open_pr(self, *, head: str, base: str, title: str, body: str, labels: Sequence[str]) -> PullRequest:
        """POST pulls, then POST issues/{n}/labels when there are labels."""
        _check_length(body, "pull request body")
        payload = {"title": title, "head": head, "base": base, "body": body}
        try:
            data = self._request(
                f"open a pull request {head} → {base}",
                "POST",
                f"{self._repo_url}/pulls",
                body=payload,
                create=True,
                recheck=lambda: self._find_raw(head, "open"),
            )
        except GithubException as exc:
            message = _message(exc)
            if exc.status == 403 and NOT_PERMITTED_TO_CREATE_PR in message.lower():
                raise ForgeError(
                    f"GitHub does not let this workflow open pull requests ({message})",
                    'enable Settings → Actions → General → "Allow GitHub Actions to create and approve '
                    'pull requests" (repository or organisation), or run promobot as a GitHub App '
                    "(PROMOBOT_APP_ID, PROMOBOT_APP_PRIVATE_KEY)",
                ) from exc
            existing = self._find_raw(head, "open") if exc.status == 422 else None
            if existing is None and exc.status == 422 and "already exists" in message.lower():
                raise ConflictError(
                    f"a pull request already exists for {head} → {base}", "re-run: promobot will update it"
                ) from exc
            if existing is None:
                raise self._error(exc, f"open a pull request {head} → {base}") from exc
            # Another run opened the same PR a moment ago (two events for one change): adopt it.
            data = existing
            logger.info("adopting the PR another run opened for %s", head)
            self.update_pr(int(data["number"]), title=title, body=body)
        pr = _pull(data)
        logger.info("opened PR #%d %s → %s", pr.number, head, base)
        if labels:
            now = self._add_labels(pr.number, labels)
            pr = pr._replace(labels=now)
        return pr

    def update_pr(self, number: int, *, title: str | None = None, body: str | None = None) -> None:
        """PATCH pulls/{n} (nothing is sent when both are None)."""
        payload: dict[str, str] = {}
        if title is not None:
            payload["title"] = title
        if body is not None:
            _check_length(body, "pull request body")
            payload["body"] = body
        if not payload:
            return
        self._patch_pr(number, payload, f"update pull request #{number}")

    def _patch_pr(self, number: int, payload: dict[str, str], what: str) -> None:
        try:
            self._request(what, "PATCH", self._pr_url(number), body=payload)
        except GithubException as exc:
            if exc.status == 404:
                raise self._no_pr(number) from exc
            raise self._error(exc, what) from exc

    def close(self, number: int) -> None:
        """PATCH pulls/{n} state=closed."""
        self._patch_pr(number, {"state": "closed"}, f"close pull request #{number}")

    def _add_labels(self, number: int, labels: Sequence[str]) -> tuple[str, ...]:
        url = f"{self._repo_url}/issues/{int(number)}/labels"
        try:
            data = self._request(f"label pull request #{number}", "POST", url, body={"labels": list(labels)})
        except GithubException as exc:
            raise self._error(exc, f"label pull request #{number}") from exc
        return tuple(str(label["name"]) for label in data or [] if isinstance(label, dict))

    def add_labels(self, number: int, labels: Sequence[str]) -> None:
        """POST issues/{n}/labels (idempotent on GitHub)."""
        if labels:
            self._add_labels(number, labels)

    def remove_label(self, number: int, label: str) -> None:
        """DELETE issues/{n}/labels/{name}; a label that is not there is not an error."""
        url = f"{self._repo_url}/issues/{int(number)}/labels/{urllib.parse.quote(label, safe='')}"
        try:
            self._request(f"remove label {label} from #{number}", "DELETE", url)
        except GithubException as exc:
            if exc.status == 404:
                return
            raise self._error(exc, f"remove label {label} from pull request #{number}") from exc

    def delete_branch(self, branch: str) -> None:
        """DELETE git/refs/heads/{branch}; a branch that does not exist (404/422) is not an error."""
        url = f"{self._repo_url}/git/refs/heads/{urllib.parse.quote(branch, safe='/')}"
        try:
            self._request(f"delete branch {branch}", "DELETE", url)
        except GithubException as exc:
            if exc.status in (404, 422):
                return
            raise self._error(exc, f"delete branch {branch}") from exc
        if self.on_branches_changed is not None:
            self.on_branches_changed()

    def merge(self, number: int, *, sha: str, title: str, message: str) -> str:
        """PUT pulls/{n}/merge (squash, with the evaluated head ``sha``); returns the merge SHA."""

        def merged_already() -> str | None:
            pr = self.get_pr(number)
            return pr.merge_sha if pr.state == "merged" and pr.head_sha == sha else None

        payload = {"merge_method": "squash", "sha": sha, "commit_title": title, "commit_message": message}
        try:
            data = self._request(
                f"merge pull request #{number}",
                "PUT",
                f"{self._pr_url(number)}/merge",
                body=payload,
                create=True,
                recheck=merged_already,
            )
        except GithubException as exc:
            text = _message(exc)
            if exc.status == 409:
                raise ConflictError(
                    f"GitHub refused to merge pull request #{number}: its head moved since promobot "
                    f"evaluated {sha[:12]} ({text})",
                    "nothing was merged; the new head is evaluated on its own event (or comment /retest)",
                ) from exc
            if exc.status == 405:
                raise ConflictError(
                    f"GitHub refused to merge pull request #{number}: {text}",
                    "nothing was merged; fix what GitHub names (branch protection, conflicts) and re-run",
                ) from exc
            if exc.status == 404:
                raise self._no_pr(number) from exc
            raise self._error(exc, f"merge pull request #{number}") from exc
        merge_sha = data if isinstance(data, str) else str(data.get("sha") or "")  # str: the recheck found it
        logger.info("merged PR #%d as %s", number, merge_sha)
        if self.on_branches_changed is not None:
            self.on_branches_changed()
        return merge_sha

    # ------------------------------------------------------------------ reviews, comments, reactions

    def list_reviews(self, number: int) -> list[Review]:
        """GET pulls/{n}/reviews (all pages), in submission order."""
        try:
            found = self._list(f"list the reviews of #{number}", f"{self._pr_url(number)}/reviews")
        except GithubException as exc:
            if exc.status == 404:
                raise self._no_pr(number) from exc
            raise self._error(exc, f"list the reviews of pull request #{number}") from exc
        reviews = []
        for data in found:
            login = _login(data.get("user"))
            if login is None:  # a deleted account ("ghost") cannot be eligible
                continue
            reviews.append(
                Review(
                    id=int(data["id"]),
                    login=login,
                    state=str(data.get("state") or "COMMENTED").upper(),  # type: ignore[arg-type]
                    commit_id=str(data.get("commit_id") or ""),
                    is_bot=_is_bot_user(data.get("user")),
                )
            )
        return reviews

    def _comments_raw(self, number: int) -> list[dict[str, Any]]:
        url = f"{self._repo_url}/issues/{int(number)}/comments"
        return self._list(f"list the comments of #{number}", url)

    def list_comments(self, number: int) -> list[Comment]:
        """GET issues/{n}/comments (all pages), oldest first."""
        try:
            found = self._comments_raw(number)
        except GithubException as exc:
            if exc.status == 404:
                raise self._no_pr(number) from exc
            raise self._error(exc, f"list the comments of pull request #{number}") from exc
        return [self._comment(d) for d in found]

    def _comment(self, data: Mapping[str, Any]) -> Comment:
        return Comment(
            id=int(data["id"]),
            author=_login(data.get("user")) or "ghost",
            body=str(data.get("body") or ""),
            is_bot=_is_bot_user(data.get("user")),
        )

    def comment(self, number: int, body: str) -> Comment:
        """POST issues/{n}/comments (re-checked, not resent blindly, after a failure)."""
        _check_length(body, "comment")

        def posted() -> dict[str, Any] | None:
            for data in reversed(self._comments_raw(number)):
                mine = (_login(data.get("user")) or "").lower() == self._bot_login.lower()
                if mine and data.get("body") == body:
                    return dict(data)
            return None

        url = f"{self._repo_url}/issues/{int(number)}/comments"
        try:
            data = self._request(
                f"comment on #{number}", "POST", url, body={"body": body}, create=True, recheck=posted
            )
        except GithubException as exc:
            if exc.status == 404:
                raise self._no_pr(number) from exc
            raise self._error(exc, f"comment on pull request #{number}") from exc
        return self._comment(data)

    def react(self, comment_id: int, reaction: str) -> None:
        """POST issues/comments/{id}/reactions (the same reaction twice is kept once by GitHub)."""
        url = f"{self._repo_url}/issues/comments/{int(comment_id)}/reactions"
        try:
            self._request(f"react to comment {comment_id}", "POST", url, body={"content": reaction})
        except GithubException as exc:
            raise self._error(exc, f"react {reaction} to comment {comment_id}") from exc

    # ------------------------------------------------------------------ checks

    def _check_runs(self, sha: str) -> list[dict[str, Any]]:
        if sha not in self._runs:
            url = f"{self._repo_url}/commits/{sha}/check-runs"
            try:
                self._runs[sha] = self._list(f"list the check runs of {sha[:12]}", url, item="check_runs")
            except GithubException as exc:
                if exc.status == 403:  # a token without checks: read access
                    self._runs[sha] = []
                else:
                    raise self._error(exc, f"list the check runs of {sha[:12]}") from exc
        return self._runs[sha]

    def _commit_statuses(self, sha: str) -> list[dict[str, Any]]:
        """Newest first, as GitHub lists them."""
        if sha not in self._statuses:
            url = f"{self._repo_url}/commits/{sha}/statuses"
            try:
                self._statuses[sha] = self._list(f"list the statuses of {sha[:12]}", url)
            except GithubException as exc:
                raise self._error(exc, f"list the commit statuses of {sha[:12]}") from exc
        return self._statuses[sha]

    def _is_ours(self, run: Mapping[str, Any]) -> bool:
        return self.app_slug is not None and (run.get("app") or {}).get("slug") == self.app_slug

    def _own_run(self, sha: str, name: str) -> dict[str, Any] | None:
        mine = [r for r in self._check_runs(sha) if r.get("name") == name and self._is_ours(r)]
        return max(mine, key=lambda r: int(r["id"])) if mine else None

    def list_checks(self, head_sha: str) -> list[CheckRun]:
        """GET commits/{sha}/check-runs, and commits/{sha}/statuses unless our app has check runs there.

        Once promobot's own check runs are on the commit the token evidently creates check
        runs, and statuses are not read (one request less per event): a commit status that
        someone else names like a promobot check is then not reported. Branch protection
        should require ``promobot/ready`` from promobot's app (README), which ignores it.
        """
        checks = []
        runs = self._check_runs(head_sha)
        for run in runs:
            output = run.get("output") or {}
            checks.append(
                CheckRun(
                    name=str(run.get("name") or ""),
                    head_sha=head_sha,
                    result=_run_result(run),
                    title=str(output.get("title") or ""),
                    summary=str(output.get("summary") or ""),
                    by_promobot=self._is_ours(run),
                    record=str(run.get("external_id") or ""),
                )
            )
        if not self.statuses_mode and any(self._is_ours(run) for run in runs):
            return checks
        seen: set[str] = set()
        for status in self._commit_statuses(head_sha):
            context = str(status.get("context") or "")
            if context in seen:  # newest first: older statuses of a context are history
                continue
            seen.add(context)
            creator = (_login(status.get("creator")) or "").lower()
            checks.append(
                CheckRun(
                    name=context,
                    head_sha=head_sha,
                    result=_status_result(str(status.get("state") or "")),
                    title=str(status.get("description") or ""),
                    by_promobot=creator == self._bot_login.lower(),
                    # A status has no external id: the record is a status of its own.
                    record=str(status.get("description") or "") if context == RECORD_STATUS else "",
                )
            )
        return checks

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
        """PATCH our check run ``name`` on ``head_sha``, or POST one; statuses after a 403.

        ``record`` goes into the run's ``external_id`` (statuses: a ``promobot/record`` status
        whose description is the record).
        """
        if self.statuses_mode:
            self._set_status(head_sha, name, result, title)
            if record is not None:
                self._set_status(head_sha, RECORD_STATUS, "success", record)
            return
        output = {
            "title": _truncate(title, 1000) or name,
            "summary": _truncate(summary, CHECK_TEXT_MAX) or "-",
        }
        fields: dict[str, Any] = {"name": name, "output": output}
        if record is not None:
            fields["external_id"] = record
        if result == "pending":
            fields["status"] = "in_progress"
        else:
            fields.update(status="completed", conclusion=result)
        existing = self._own_run(head_sha, name)
        if existing is not None:
            old = existing.get("output") or {}
            if (
                _run_result(existing) == result
                and (existing.get("status") == "completed") == (result != "pending")
                and old.get("title") == output["title"]
                and old.get("summary") == output["summary"]
                and (record is None or existing.get("external_id") == record)
            ):
                return
            url = f"{self._repo_url}/check-runs/{int(existing['id'])}"
            try:
                data = self._request(f"update check {name}", "PATCH", url, body=fields)
            except GithubException as exc:
                raise self._error(exc, f"update check {name} on {head_sha[:12]}") from exc
            self._runs[head_sha] = [data if r is existing else r for r in self._runs[head_sha]]
            return

        def created() -> dict[str, Any] | None:
            self._runs.pop(head_sha, None)
            return self._own_run(head_sha, name)

        try:
            data = self._request(
                f"create check {name}",
                "POST",
                f"{self._repo_url}/check-runs",
                body={**fields, "head_sha": head_sha},
                create=True,
                recheck=created,
            )
        except GithubException as exc:
            if exc.status == 403:
                logger.warning(
                    "GitHub refused to create check run %s (403 %s); posting commit statuses instead",
                    name,
                    _message(exc),
                )
                self.statuses_mode = True
                self._set_status(head_sha, name, result, title)
                if record is not None:
                    self._set_status(head_sha, RECORD_STATUS, "success", record)
                return
            raise self._error(exc, f"create check {name} on {head_sha[:12]}") from exc
        runs = [r for r in self._runs.get(head_sha, []) if r.get("id") != data.get("id")]
        self._runs[head_sha] = [data, *runs]

    def _set_status(self, sha: str, name: str, result: GateOutcome, title: str) -> None:
        """POST statuses/{sha} with context = the check name (skipped when unchanged)."""
        description = _truncate(title, STATUS_DESCRIPTION_MAX)
        for status in self._commit_statuses(sha):
            if status.get("context") == name:
                if (
                    (_login(status.get("creator")) or "").lower() == self._bot_login.lower()
                    and status.get("state") == result
                    and (status.get("description") or "") == description
                ):
                    return
                break
        url = f"{self._repo_url}/statuses/{sha}"
        payload = {"state": result, "context": name, "description": description}
        try:
            data = self._request(f"set status {name}", "POST", url, body=payload)
        except GithubException as exc:
            raise self._error(
                exc,
                f"set commit status {name} on {sha[:12]}",
                "give the workflow `checks: write` (check runs) or `statuses: write` (commit statuses)",
            ) from exc
        self._statuses[sha] = [data, *self._statuses.get(sha, [])]

    # ------------------------------------------------------------------ deployments

    @staticmethod
    def _deployment(data: Mapping[str, Any]) -> Deployment:
        return Deployment(
            id=int(data["id"]),
            sha=str(data.get("sha") or ""),
            environment=str(data.get("environment") or ""),
            task=str(data.get("task") or ""),
            description=str(data.get("description") or ""),
        )

    def _deployment_error(self, exc: GithubException, what: str) -> BotError:
        return self._error(
            exc, what, "give the workflow `deployments: write` (README: Verify with live data) and re-run"
        )

    def list_deployments(self, *, environment: str, task: str) -> list[Deployment]:
        """GET deployments?environment=&task= — one page, the newest 100 (GitHub lists newest first)."""
        params = {"environment": environment, "task": task, "per_page": 100}
        url = f"{self._repo_url}/deployments"
        try:
            data = self._request(f"list the deployments to {environment}", "GET", url, params=params)
        except GithubException as exc:
            raise self._deployment_error(exc, f"list the deployments to {environment}") from exc
        return [self._deployment(d) for d in data if isinstance(d, dict)]

    def create_deployment(
        self, *, sha: str, environment: str, task: str, description: str, payload: Mapping[str, str]
    ) -> Deployment:
        """POST deployments for the commit ``sha``: ``auto_merge`` off, ``required_contexts`` empty.

        After a 5xx or a dropped answer the deployment of ``sha`` with this task is looked
        for before a resend (never two deployments of one verification).
        """
        body = {
            "ref": sha,
            "task": task,
            "environment": environment,
            "description": _truncate(description, STATUS_DESCRIPTION_MAX),
            "payload": dict(payload),
            "auto_merge": False,
            "required_contexts": [],
        }

        def created() -> dict[str, Any] | None:
            for found in self.list_deployments(environment=environment, task=task):
                if found.sha == sha:
                    return {"id": found.id, "sha": found.sha, "environment": environment, "task": task}
            return None

        what = f"create a deployment of {sha[:12]} to {environment}"
        try:
            data = self._request(
                what, "POST", f"{self._repo_url}/deployments", body=body, create=True, recheck=created
            )
        except GithubException as exc:
            raise self._deployment_error(exc, what) from exc
        return self._deployment(data)

    def deployment_state(self, deployment_id: int) -> str | None:
        """GET deployments/{id}/statuses?per_page=1 (newest first)."""
        url = f"{self._repo_url}/deployments/{int(deployment_id)}/statuses"
        what = f"read the state of deployment {deployment_id}"
        try:
            data = self._request(what, "GET", url, params={"per_page": 1})
        except GithubException as exc:
            raise self._deployment_error(exc, what) from exc
        return str(data[0].get("state")) if data and isinstance(data[0], dict) else None

    def set_deployment_state(self, deployment_id: int, state: DeploymentState, description: str) -> None:
        """POST deployments/{id}/statuses with ``auto_inactive: false``.

        GitHub's default would mark every other successful deployment to the environment
        inactive — the other models' too, since they share the environment. After a 5xx
        the newest status is read before a resend.
        """
        url = f"{self._repo_url}/deployments/{int(deployment_id)}/statuses"
        body = {
            "state": state,
            "description": _truncate(description, STATUS_DESCRIPTION_MAX),
            "auto_inactive": False,
        }

        def applied() -> dict[str, Any] | None:
            return {"state": state} if self.deployment_state(deployment_id) == state else None

        what = f"set deployment {deployment_id} {state}"
        try:
            self._request(what, "POST", url, body=body, create=True, recheck=applied)
        except GithubException as exc:
            raise self._deployment_error(exc, what) from exc

    # ------------------------------------------------------------------ people

    def permission(self, login: str) -> Permission:
        """GET collaborators/{login}/permission (``role_name`` first); 404 → NONE. Kept for this run."""
        key = login.strip().lower()
        if key not in self._permissions:
            url = f"{self._repo_url}/collaborators/{urllib.parse.quote(login.strip(), safe='')}/permission"
            try:
                data = self._request(f"read the permission of {login}", "GET", url)
            except GithubException as exc:
                if exc.status == 404:
                    self._permissions[key] = Permission.NONE
                    return Permission.NONE
                raise self._error(
                    exc,
                    f"read the repository permission of {login}",
                    "the token needs read access to the repository's collaborators (metadata: read)",
                ) from exc
            found = Permission.NONE
            for field in ("role_name", "permission"):
                try:
                    found = Permission.parse(str(data.get(field) or ""))
                    break
                except ValueError:  # a custom role name: fall back to the legacy permission
                    continue
            self._permissions[key] = found
        return self._permissions[key]

    def team_members(self, team: str) -> frozenset[str]:
        """GET /orgs/{org}/teams/{slug}/members (all pages), lower-cased. Kept for this run."""
        m = TEAM_RE.fullmatch(team.strip())
        if m is None:
            raise UsageError(f"{team!r} is not a team name", "write teams as @org/team")
        org, slug = m.group(1), m.group(2)
        key = f"@{org.lower()}/{slug.lower()}"
        if key not in self._teams:
            url = f"/orgs/{urllib.parse.quote(org)}/teams/{urllib.parse.quote(slug.lower())}/members"
            try:
                found = self._list(f"list the members of {key}", url)
            except GithubException as exc:
                if exc.status in (401, 403, 404):
                    raise ForgeError(
                        f"cannot resolve team @{org}/{slug} with this token ({exc.status} {_message(exc)})",
                        "GITHUB_TOKEN cannot read org teams; use a GitHub App with members:read, "
                        "or list users in approvers",
                    ) from exc
                raise self._error(exc, f"list the members of team @{org}/{slug}") from exc
            self._teams[key] = frozenset(login.lower() for d in found if (login := _login(d)))
        return self._teams[key]

    def pushers(self, number: int) -> frozenset[str]:
        """GET pulls/{n}/commits (all pages): lower-cased author and committer logins."""
        try:
            found = self._list(f"list the commits of #{number}", f"{self._pr_url(number)}/commits")
        except GithubException as exc:
            if exc.status == 404:
                raise self._no_pr(number) from exc
            raise self._error(exc, f"list the commits of pull request #{number}") from exc
        logins: set[str] = set()
        for data in found:
            for role in ("author", "committer"):
                login = _login(data.get(role))
                if login is not None:
                    logins.add(login.lower())
                elif role == "author":
                    logger.warning(
                        "commit %s of #%d has an author GitHub maps to no account: not counted as a pusher",
                        str(data.get("sha", ""))[:12],
                        number,
                    )
        if len(found) >= 250:
            logger.warning("pull request #%d has 250 commits or more; GitHub lists the first 250", number)
        return frozenset(logins)

    def authenticated_login(self) -> str:
        """GET /user: the token's own login (personal access tokens only; Actions tokens get 403)."""
        try:
            data = self._request("read the token's user", "GET", "/user")
        except GithubException as exc:
            hint = "set PROMOBOT_BOT_LOGIN to the bot's login"
            raise self._error(exc, "read the token's user", hint) from exc
        return str(data["login"])


# =========================================================================== composition


@dataclass(frozen=True, slots=True)
class Credentials:
    """What authenticating to GitHub produced (``token`` is secret: never log it)."""

    token: str
    app_slug: str | None
    bot_login: str
    bot_identity: str

    def __repr__(self) -> str:
        return f"Credentials(app_slug={self.app_slug!r}, bot_login={self.bot_login!r})"


def _private_key(raw: str) -> str:
    key = raw.strip()
    if "\\n" in key and "\n" not in key:  # a key pasted into a one-line secret
        key = key.replace("\\n", "\n")
    if key and not key.startswith("-----BEGIN") and Path(key).is_file():
        key = Path(key).read_text(encoding="utf-8")
    return key


def app_credentials(
    *, app_id: str, private_key: str, repo: str, base_url: str, sleep: Callable[[float], None] = time.sleep
) -> Credentials:
    """A GitHub App: JWT → GET repos/{o}/{r}/installation → POST app/installations/{id}/access_tokens."""
    try:
        auth = Auth.AppAuth(int(app_id), _private_key(private_key))
    except ValueError as exc:
        raise UsageError(f"PROMOBOT_APP_ID must be the App's numeric id, not {app_id[:40]!r}") from exc
    local = is_loopback(base_url)
    gi = GithubIntegration(
        auth=auth,
        base_url=base_url.rstrip("/"),
        retry=None,
        seconds_between_requests=0.0 if local else DEFAULT_SECONDS_BETWEEN_REQUESTS,
        seconds_between_writes=0.0 if local else DEFAULT_SECONDS_BETWEEN_WRITES,
    )
    retry = _Retrier(sleep)
    owner, _, name = repo.partition("/")
    try:
        installation = retry.run(
            f"find the GitHub App's installation on {repo}", lambda: gi.get_repo_installation(owner, name)
        ).raw_data
        token = retry.run(
            "create an installation token", lambda: gi.get_access_token(int(installation["id"]))
        ).token
    except GithubException as exc:
        if exc.status == 404:
            raise ForgeError(
                f"the GitHub App {app_id} is not installed on {repo}",
                "install the App on the repository (Settings → Integrations → GitHub Apps)",
            ) from exc
        raise ForgeError(
            f"GitHub refused the GitHub App {app_id} ({exc.status} {_message(exc)})",
            "check PROMOBOT_APP_ID and PROMOBOT_APP_PRIVATE_KEY (the App's private key, PEM)",
        ) from exc
    except jwt.InvalidKeyError:  # PyJWT could not read the key while signing the first request
        raise UsageError(
            "PROMOBOT_APP_PRIVATE_KEY is not a private key promobot can read",
            "store the App's private key file (.pem) whole, BEGIN and END lines included",
        ) from None
    finally:
        gi.close()
    slug = str(installation.get("app_slug") or "promobot")
    login = f"{slug}[bot]"
    return Credentials(str(token), slug, login, f"{login} <{login}@users.noreply.github.com>")


def credentials_from_env(
    env: Mapping[str, str], *, repo: str, base_url: str, sleep: Callable[[float], None] = time.sleep
) -> Credentials:
    """``PROMOBOT_APP_ID`` + ``PROMOBOT_APP_PRIVATE_KEY`` (a GitHub App), else ``GITHUB_TOKEN``."""
    app_id, key = env.get("PROMOBOT_APP_ID", "").strip(), env.get("PROMOBOT_APP_PRIVATE_KEY", "")
    if app_id or key.strip():
        if not (app_id and key.strip()):
            raise UsageError(
                "a GitHub App needs both PROMOBOT_APP_ID and PROMOBOT_APP_PRIVATE_KEY",
                "set both (as secrets), or neither to use GITHUB_TOKEN",
            )
        creds = app_credentials(app_id=app_id, private_key=key, repo=repo, base_url=base_url, sleep=sleep)
    else:
        token = (env.get("GITHUB_TOKEN") or env.get("GH_TOKEN") or "").strip()
        if not token:
            raise UsageError(
                "no GitHub credentials: GITHUB_TOKEN is not set",
                "in a workflow add `env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}` (or set "
                "PROMOBOT_APP_ID and PROMOBOT_APP_PRIVATE_KEY for a GitHub App); locally use --forge local",
            )
        creds = Credentials(token, ACTIONS_SLUG, ACTIONS_LOGIN, ACTIONS_IDENTITY)
    override = env.get("PROMOBOT_BOT_LOGIN", "").strip()
    if override:
        creds = Credentials(creds.token, creds.app_slug, override, creds.bot_identity)
    return creds


@dataclass(frozen=True, slots=True)
class GitHubSetup:
    """The adapters for ``--forge github``, ready to become a ``bot.app.context.Context``."""

    forge: GitHubForge
    ws: GitWorkspace
    actor: str
    gates: LocalGateRunner
    cache: FileCache
    bot_identity: str


def github_setup(
    *,
    repo: Path,
    actor: str | None,
    environ: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    default_branch: str | None = None,
    fetch: bool = True,
) -> GitHubSetup:
    """Build the GitHub adapters from the workflow's environment (see README: Use it on GitHub).

    Reads ``GITHUB_REPOSITORY``, ``GITHUB_API_URL``, ``GITHUB_TOKEN`` or the App's
    ``PROMOBOT_APP_ID``/``PROMOBOT_APP_PRIVATE_KEY``, ``GITHUB_ACTOR``,
    ``PROMOBOT_BOT_LOGIN`` (override), ``PROMOBOT_GIT_REMOTE`` (remote name, default
    ``origin``) and ``PROMOBOT_DEFAULT_BRANCH``. The checkout at ``repo`` works in remote
    mode: pushes go to the remote with the token in an ``http.extraHeader`` passed through
    git's environment (never written to disk, so ``persist-credentials: false`` works),
    and with ``fetch`` every branch is fetched once so that PR heads pushed after the
    checkout are readable. After GitHub merges or deletes a branch the checkout fetches
    again (``GitHubForge.on_branches_changed``), so a chained promotion reads the new tip.
    """
    from bot.adapters.cache import FileCache
    from bot.adapters.gaterunner import LocalGateRunner
    from bot.adapters.git import GitWorkspace

    env = dict(os.environ if environ is None else environ)
    full_name = env.get("GITHUB_REPOSITORY", "").strip()
    if not full_name:
        raise UsageError(
            "GITHUB_REPOSITORY is not set, so promobot does not know which repository to act on",
            "run inside GitHub Actions, or set GITHUB_REPOSITORY=owner/name (and GITHUB_TOKEN)",
        )
    base_url = env.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL
    creds = credentials_from_env(env, repo=full_name, base_url=base_url, sleep=sleep)
    ws = GitWorkspace.discover(
        repo,
        remote=env.get("PROMOBOT_GIT_REMOTE", "").strip() or "origin",
        auth_header=git_auth_header(creds.token),
        default_branch=default_branch or env.get("PROMOBOT_DEFAULT_BRANCH", "").strip() or None,
    )
    bot_login, app_slug = creds.bot_login, creds.app_slug
    if (
        not env.get("PROMOBOT_BOT_LOGIN", "").strip()
        and app_slug == ACTIONS_SLUG
        and creds.token.startswith(PAT_PREFIXES)
    ):  # a personal access token acts as its owner and cannot create check runs
        probe = GitHubForge(repo=full_name, auth=Auth.Token(creds.token), base_url=base_url, sleep=sleep)
        try:
            bot_login, app_slug = probe.authenticated_login(), None
        finally:
            probe.close_connection()
    forge = GitHubForge(
        repo=full_name,
        auth=Auth.Token(creds.token),
        bot_login=bot_login,
        app_slug=app_slug,
        base_url=base_url,
        sleep=sleep,
        on_branches_changed=ws.refresh,
    )
    if fetch:
        ws.refresh()
    gate_env = {k: v for k, v in env.items() if k not in ("GITHUB_TOKEN", "GH_TOKEN")}
    return GitHubSetup(
        forge=forge,
        ws=ws,
        actor=actor or env.get("GITHUB_ACTOR", "").strip() or forge.bot_login,
        gates=LocalGateRunner(ws, environ=gate_env),
        cache=FileCache.for_repo(ws.git_common_dir()),
        bot_identity=creds.bot_identity,
    )
