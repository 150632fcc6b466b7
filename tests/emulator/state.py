"""The emulated repository's state and the rules GitHub applies to it.

Owns users, teams, tokens, pull requests, reviews, comments, reactions, labels, check
runs and commit statuses, and every state-changing operation on them (HTTP handlers
and the test-control API call the same methods). Git data is never stored here: PR
heads, refs and merges are read from and written to the bare repository at request
time. Time is a counter (one second per change), never the wall clock — except for
GitHub App JWTs: clients sign them with their own clock (PyGithub's ``AppAuth`` uses
``time.time()``), so ``iat``/``exp`` are checked against ``jwt_clock`` (the wall clock
unless a test sets another function; nothing ever sleeps).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.emulator.gitrepo import GitRepo, Person

PERMISSIONS = ("none", "read", "triage", "write", "maintain", "admin")
REVIEW_EVENTS = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}
REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")
START_TIME = 1767225600  # 2026-01-01T00:00:00Z
JWT_UNDECODABLE = "A JSON web token could not be decoded"
JWT_EXPIRED = (
    "'Expiration time' claim ('exp') must be a numeric value representing the future time at "
    "which the assertion expires"
)
JWT_TOO_LONG = "'Expiration time' claim ('exp') is too far in the future"
JWT_ISSUED_LATER = (
    "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
)
JWT_MAX_LIFETIME = 600  # GitHub: a JWT expires at most 10 minutes after it is used
JWT_CLOCK_SKEW = 60
INSTALLATION_TOKEN_LIFETIME = 3600
APP_PERMISSIONS = {
    "checks": "write",
    "contents": "write",
    "issues": "write",
    "metadata": "read",
    "pull_requests": "write",
    "statuses": "write",
}
NOREPLY_RE = re.compile(r"^(?:\d+\+)?(?P<login>[^@]+)@users\.noreply\.github\.com$", re.IGNORECASE)


class ApiError(Exception):
    """An HTTP error answer: status, GitHub's message, extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.headers = headers or {}


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


@dataclass
class User:
    login: str
    id: int
    type: str = "User"  # User | Bot | Organization
    permission: str = "none"


@dataclass
class App:
    """A GitHub App; with ``public_key`` (PEM) it can sign JWTs, with ``installation_id``
    it is installed on this repository."""

    slug: str
    id: int
    name: str
    public_key: str | None = None
    installation_id: int | None = None
    permissions: dict[str, str] = field(default_factory=lambda: dict(APP_PERMISSIONS))

    @property
    def client_id(self) -> str:
        return f"Iv1.{self.id:016x}"


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a token acts as; ``app`` is set for installation tokens and for App JWTs (``jwt``)."""

    login: str
    app: App | None
    jwt: bool = False


@dataclass
class Team:
    slug: str
    id: int
    name: str
    members: list[str]


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"


@dataclass
class Pull:
    number: int
    id: int
    title: str
    body: str | None
    head_ref: str
    base_ref: str
    user: str
    created_at: int
    updated_at: int
    draft: bool = False
    state: str = "open"
    merged: bool = False
    merged_at: int | None = None
    merged_by: str | None = None
    merge_commit_sha: str | None = None
    closed_at: int | None = None
    last_head_sha: str = ""
    base_sha_at_close: str | None = None
    labels: list[str] = field(default_factory=list)


@dataclass
class Review:
    id: int
    pull_number: int
    user: str
    state: str
    body: str
    commit_id: str
    submitted_at: int


@dataclass
class Comment:
    id: int
    issue_number: int
    user: str
    body: str
    created_at: int
    updated_at: int


@dataclass
class Reaction:
    id: int
    comment_id: int
    user: str
    content: str
    created_at: int


@dataclass
class CheckRun:
    id: int
    suite_id: int
    name: str
    head_sha: str
    app: App
    status: str
    conclusion: str | None
    started_at: int
    completed_at: int | None
    title: str | None = None
    summary: str | None = None
    text: str | None = None
    details_url: str | None = None
    external_id: str | None = None


@dataclass
class Status:
    id: int
    sha: str
    state: str
    context: str
    description: str | None
    target_url: str | None
    creator: str
    created_at: int


@dataclass
class Deployment:
    id: int
    sha: str
    ref: str
    task: str
    environment: str
    description: str | None
    payload: Any
    creator: str
    created_at: int
    updated_at: int
    transient_environment: bool = False
    production_environment: bool = False


@dataclass
class DeploymentStatus:
    id: int
    deployment_id: int
    state: str
    description: str
    environment: str
    log_url: str
    environment_url: str
    creator: str
    created_at: int


DEPLOYMENT_STATES = ("error", "failure", "inactive", "in_progress", "queued", "pending", "success")
DEPLOYMENT_DESCRIPTION_MAX = 140
GITHUB_ACTIONS = App(slug="github-actions", id=15368, name="GitHub Actions")


class RepoState:
    """Everything the emulator knows; guard multi-step changes with ``lock``."""

    def __init__(self, git_dir: Path, *, owner: str, name: str, default_branch: str) -> None:
        self.owner = owner
        self.name = name
        self.default_branch = default_branch
        self.description: str | None = "Models promoted through environments"
        self.repo_id = 1296269
        self.org_id = 9919
        self.git = GitRepo(git_dir)
        self.git.init(default_branch)
        self.lock = threading.RLock()
        self.clock = START_TIME
        self._next_id = 1000
        self.users: dict[str, User] = {}
        self.apps: dict[str, App] = {GITHUB_ACTIONS.slug: GITHUB_ACTIONS}
        self.tokens: dict[str, Identity] = {}
        self.teams: dict[str, Team] = {}
        self.labels: dict[str, Label] = {}
        self.pulls: dict[int, Pull] = {}
        self.next_number = 1
        self.reviews: list[Review] = []
        self.comments: dict[int, Comment] = {}
        self.reactions: list[Reaction] = []
        self.check_runs: dict[int, CheckRun] = {}
        self.statuses: list[Status] = []
        self.deployments: dict[int, Deployment] = {}
        self.deployment_statuses: list[DeploymentStatus] = []
        self.email_logins: dict[str, str] = {}
        self.pat_mode = False
        self.actions_may_open_prs = True
        """False: GitHub Actions' token gets 403 on POST pulls (the repository setting is off)."""
        self.jwt_clock: Callable[[], float] = time.time
        """The time App JWTs are checked against (see the module docstring)."""
        self.user(owner).type = "Organization"

    # ----------------------------------------------------------------- basics
    def tick(self) -> int:
        with self.lock:
            self.clock += 1
            return self.clock

    def new_id(self) -> int:
        with self.lock:
            self._next_id += 1
            return self._next_id

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def user(self, login: str) -> User:
        """The user ``login`` (case-insensitive), created with no permission when unknown."""
        with self.lock:
            found = self.users.get(login.lower())
            if found is None:
                kind = "Bot" if login.endswith("[bot]") else "User"
                found = User(login=login, id=self.new_id(), type=kind)
                self.users[login.lower()] = found
            return found

    def find_user(self, login: str) -> User | None:
        return self.users.get(login.lower())

    def add_user(self, login: str, permission: str = "write", *, type: str = "User") -> User:
        if permission not in PERMISSIONS:
            raise ValueError(f"permission must be one of {PERMISSIONS}, not {permission!r}")
        user = self.user(login)
        user.permission, user.type = permission, type
        return user

    def add_app(
        self,
        slug: str,
        *,
        permission: str = "write",
        app_id: int | None = None,
        public_key: str | None = None,
        installed: bool = True,
    ) -> App:
        app = App(
            slug=slug,
            id=app_id if app_id is not None else self.new_id(),
            name=slug.replace("-", " ").title(),
            public_key=public_key,
            installation_id=self.new_id() if installed else None,
        )
        self.apps[slug] = app
        self.add_user(f"{slug}[bot]", permission, type="Bot")
        return app

    # ---------------------------------------------------------- GitHub Apps
    def jwt_identity(self, token: str) -> Identity:
        """The App a JWT (RS256, signed with the App's private key) authenticates, or 401."""
        import jwt  # PyJWT, a dependency of PyGithub

        try:
            claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise ApiError(401, JWT_UNDECODABLE) from exc
        iss = str(claims.get("iss", ""))
        app = next((a for a in self.apps.values() if a.public_key and iss in (str(a.id), a.client_id)), None)
        if app is None or app.public_key is None:
            raise ApiError(401, JWT_UNDECODABLE)
        try:  # the signature only: the times are checked against jwt_clock below
            jwt.decode(
                token,
                app.public_key,
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False, "verify_aud": False},
            )
        except jwt.PyJWTError as exc:
            raise ApiError(401, JWT_UNDECODABLE) from exc
        now = self.jwt_clock()
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(iat, int) or iat > now + JWT_CLOCK_SKEW:
            raise ApiError(401, JWT_ISSUED_LATER)
        if not isinstance(exp, int) or exp <= now:
            raise ApiError(401, JWT_EXPIRED)
        if exp > now + JWT_MAX_LIFETIME + JWT_CLOCK_SKEW:
            raise ApiError(401, JWT_TOO_LONG)
        return Identity(login=f"{app.slug}[bot]", app=app, jwt=True)

    def installation(self, installation_id: int) -> App:
        for app in self.apps.values():
            if app.installation_id == installation_id:
                return app
        raise not_found()

    def create_installation_token(self, app: App) -> tuple[str, int]:
        """A new installation token of ``app`` (acting as ``<slug>[bot]``) and its expiry time."""
        with self.lock:
            token = f"ghs_emulated{app.id}x{self.new_id()}"
            self.add_token(token, f"{app.slug}[bot]", app=app.slug)
            return token, int(self.jwt_clock()) + INSTALLATION_TOKEN_LIFETIME

    def add_token(self, token: str, login: str, *, app: str | None = None) -> None:
        self.user(login)
        self.tokens[token] = Identity(login=login, app=self.apps[app] if app else None)

    def add_team(self, slug: str, members: list[str]) -> Team:
        slug = slug.rsplit("/", 1)[-1].lstrip("@")
        for member in members:
            self.user(member)
        team = Team(slug=slug, id=self.new_id(), name=slug, members=list(members))
        self.teams[slug] = team
        return team

    def is_org_member(self, login: str) -> bool:
        return any(login.lower() in (m.lower() for m in t.members) for t in self.teams.values())

    def login_for_email(self, email: str) -> str | None:
        mapped = self.email_logins.get(email.lower())
        if mapped:
            return mapped
        match = NOREPLY_RE.match(email)
        return match.group("login") if match else None

    def require(self, login: str, level: str) -> None:
        user = self.user(login)
        if PERMISSIONS.index(user.permission) < PERMISSIONS.index(level):
            raise ApiError(403, f"Must have {level} access to repository.")

    # ------------------------------------------------------------------ pulls
    def pull(self, number: int) -> Pull:
        found = self.pulls.get(number)
        if found is None:
            raise not_found()
        return found

    def head_sha(self, pull: Pull) -> str:
        """The PR head, read from git now (the last known one once the branch is gone)."""
        sha = self.git.branch_sha(pull.head_ref)
        if sha is not None and pull.state == "open":
            pull.last_head_sha = sha
        return pull.last_head_sha

    def base_sha(self, pull: Pull) -> str:
        return pull.base_sha_at_close or self.git.branch_sha(pull.base_ref) or ""

    def sync(self) -> None:
        """Close open PRs whose head branch was deleted (also by a plain ``git push --delete``)."""
        with self.lock:
            for pull in self.pulls.values():
                if pull.state == "open" and self.git.branch_sha(pull.head_ref) is None:
                    self._close(pull)

    def _close(self, pull: Pull) -> None:
        pull.state = "closed"
        pull.closed_at = pull.updated_at = self.tick()
        pull.base_sha_at_close = self.git.branch_sha(pull.base_ref)

    def open_pull(
        self, *, login: str, title: str, head: str, base: str, body: str | None, draft: bool
    ) -> Pull:
        with self.lock:
            if ":" in head:
                owner, head = head.split(":", 1)
                if owner.lower() != self.owner.lower():
                    raise ApiError(422, "Validation Failed: head must be a branch of this repository")
            head_sha = self.git.branch_sha(head)
            if head_sha is None:
                raise ApiError(422, f"Validation Failed: head {head!r} is not a branch")
            base_sha = self.git.branch_sha(base)
            if base_sha is None:
                raise ApiError(422, f"Validation Failed: base {base!r} is not a branch")
            for other in self.pulls.values():
                if other.state == "open" and other.head_ref == head and other.base_ref == base:
                    raise ApiError(422, f"A pull request already exists for {self.owner}:{head}.")
            if self.git.is_ancestor(head_sha, base_sha):
                raise ApiError(422, f"No commits between {base} and {head}")
            now = self.tick()
            pull = Pull(
                number=self.next_number,
                id=self.new_id(),
                title=title,
                body=body,
                head_ref=head,
                base_ref=base,
                user=self.user(login).login,
                created_at=now,
                updated_at=now,
                draft=draft,
                last_head_sha=head_sha,
            )
            self.next_number += 1
            self.pulls[pull.number] = pull
            return pull

    def update_pull(
        self, number: int, *, title: str | None, body: str | None, state: str | None, base: str | None
    ) -> Pull:
        with self.lock:
            pull = self.pull(number)
            if title is not None:
                pull.title = title
            if body is not None:
                pull.body = body
            if base is not None:
                if self.git.branch_sha(base) is None:
                    raise ApiError(422, f"Validation Failed: base {base!r} is not a branch")
                pull.base_ref = base
            if state == "closed" and pull.state == "open":
                self._close(pull)
            elif state == "open" and pull.state == "closed":
                if pull.merged or self.git.branch_sha(pull.head_ref) is None:
                    raise ApiError(
                        422, "Validation Failed: state cannot be changed. The head branch is gone."
                    )
                pull.state, pull.closed_at, pull.base_sha_at_close = "open", None, None
            pull.updated_at = self.tick()
            return pull

    def is_mergeable(self, pull: Pull) -> bool | None:
        if pull.state != "open":
            return None
        base = self.git.branch_sha(pull.base_ref)
        head = self.git.branch_sha(pull.head_ref)
        if base is None or head is None:
            return False
        return self.git.merge_tree(base, head) is not None

    def merge(
        self,
        number: int,
        *,
        login: str,
        sha: str | None,
        method: str,
        title: str | None,
        message: str | None,
    ) -> str:
        with self.lock:
            pull = self.pull(number)
            self.require(login, "write")
            if pull.state != "open" or pull.draft:
                raise ApiError(405, "Pull Request is not mergeable")
            head = self.head_sha(pull)
            if sha is not None and sha != head:
                raise ApiError(409, "Head branch was modified. Review and try the merge again.")
            base = self.git.branch_sha(pull.base_ref)
            if base is None:
                raise ApiError(405, "Pull Request is not mergeable")
            if method == "rebase":
                raise ApiError(405, "Rebase merges are not allowed on this repository.")
            tree = self.git.merge_tree(base, head)
            if tree is None:
                raise ApiError(405, "Pull Request is not mergeable")
            now = self.tick()
            merger = self.user(login)
            if method == "squash":
                subject = title or f"{pull.title} (#{pull.number})"
                default_body = "\n\n".join(
                    f"* {self.git.commit(c).message}" for c in self.git.rev_list(f"{base}..{head}")
                )
                parents = [base]
            else:
                subject = title or f"Merge pull request #{pull.number} from {self.owner}/{pull.head_ref}"
                default_body = pull.title
                parents = [base, head]
            text = subject if message == "" else f"{subject}\n\n{message or default_body}"
            author_login = self.user(pull.user).login if method == "squash" else merger.login
            author = Person(author_login, self.noreply_email(author_login), now)
            committer = Person("GitHub", "noreply@github.com", now)
            new = self.git.commit_tree(tree, parents, text, author=author, committer=committer)
            if not self.git.update_ref(f"refs/heads/{pull.base_ref}", new, old=base):
                raise ApiError(409, "Base branch was modified. Review and try the merge again.")
            pull.state, pull.merged, pull.merged_by = "closed", True, merger.login
            pull.merged_at = pull.closed_at = pull.updated_at = now
            pull.merge_commit_sha = new
            pull.base_sha_at_close = new
            return new

    def noreply_email(self, login: str) -> str:
        return f"{self.user(login).id}+{login}@users.noreply.github.com"

    # ---------------------------------------------------------------- reviews
    def submit_review(
        self, number: int, *, login: str, event: str | None, body: str = "", commit_id: str | None = None
    ) -> Review:
        with self.lock:
            pull = self.pull(number)
            state = REVIEW_EVENTS.get(event or "", "PENDING")
            if event is not None and event not in REVIEW_EVENTS:
                raise ApiError(422, f"Unprocessable Entity: event {event!r} is not valid")
            if state != "COMMENTED" and state != "PENDING" and login.lower() == pull.user.lower():
                verb = "approve" if state == "APPROVED" else "request changes on"
                raise ApiError(422, f"Unprocessable Entity: Can not {verb} your own pull request")
            if state in {"CHANGES_REQUESTED", "COMMENTED"} and not body:
                raise ApiError(422, "Unprocessable Entity: a body is required for this review event")
            review = Review(
                id=self.new_id(),
                pull_number=number,
                user=self.user(login).login,
                state=state,
                body=body,
                commit_id=commit_id or self.head_sha(pull),
                submitted_at=self.tick(),
            )
            self.reviews.append(review)
            return review

    def review(self, number: int, review_id: int) -> Review:
        for review in self.reviews:
            if review.id == review_id and review.pull_number == number:
                return review
        raise not_found()

    def dismiss_review(self, number: int, review_id: int, *, login: str) -> Review:
        with self.lock:
            self.require(login, "write")
            review = self.review(number, review_id)
            if review.state not in {"APPROVED", "CHANGES_REQUESTED"}:
                raise ApiError(422, "Can not dismiss a commented pull request review")
            review.state = "DISMISSED"
            return review

    # --------------------------------------------------------------- comments
    def issue_exists(self, number: int) -> None:
        if number not in self.pulls:
            raise not_found()

    def add_comment(self, number: int, *, login: str, body: str) -> Comment:
        with self.lock:
            self.issue_exists(number)
            now = self.tick()
            comment = Comment(self.new_id(), number, self.user(login).login, body, now, now)
            self.comments[comment.id] = comment
            return comment

    def comment(self, comment_id: int) -> Comment:
        found = self.comments.get(comment_id)
        if found is None:
            raise not_found()
        return found

    def react(self, comment_id: int, *, login: str, content: str) -> tuple[Reaction, bool]:
        """The reaction and whether it is new (GitHub answers 200 for an existing one)."""
        with self.lock:
            self.comment(comment_id)
            if content not in REACTIONS:
                raise ApiError(422, f"Validation Failed: content {content!r} is not a reaction")
            for reaction in self.reactions:
                if (reaction.comment_id, reaction.user.lower(), reaction.content) == (
                    comment_id,
                    login.lower(),
                    content,
                ):
                    return reaction, False
            reaction = Reaction(self.new_id(), comment_id, self.user(login).login, content, self.tick())
            self.reactions.append(reaction)
            return reaction, True

    # ----------------------------------------------------------------- labels
    def label(self, name: str) -> Label:
        with self.lock:
            found = self.labels.get(name.lower())
            if found is None:
                found = Label(self.new_id(), name)
                self.labels[name.lower()] = found
            return found

    def add_labels(self, number: int, names: list[str]) -> None:
        with self.lock:
            pull = self.pull(number)
            for name in names:
                label = self.label(name)
                if label.name.lower() not in (n.lower() for n in pull.labels):
                    pull.labels.append(label.name)

    def set_labels(self, number: int, names: list[str]) -> None:
        with self.lock:
            self.pull(number).labels = []
            self.add_labels(number, names)

    def remove_label(self, number: int, name: str) -> None:
        with self.lock:
            pull = self.pull(number)
            kept = [n for n in pull.labels if n.lower() != name.lower()]
            if len(kept) == len(pull.labels):
                raise ApiError(404, "Label does not exist")
            pull.labels = kept

    # ----------------------------------------------------------------- checks
    def create_check_run(self, identity: Identity, fields: dict[str, object]) -> CheckRun:
        with self.lock:
            if self.pat_mode or (identity.app is None and self.user(identity.login).type != "Bot"):
                raise ApiError(403, "Resource not accessible by personal access token")
            app = identity.app or GITHUB_ACTIONS
            head_sha = str(fields["head_sha"])
            if self.git.object_type(head_sha) != "commit":
                raise ApiError(422, "Validation Failed: No commit found for SHA: " + head_sha)
            now = self.tick()
            suite = next(
                (
                    r.suite_id
                    for r in self.check_runs.values()
                    if r.head_sha == head_sha and r.app.id == app.id
                ),
                None,
            )
            run = CheckRun(
                id=self.new_id(),
                suite_id=suite or self.new_id(),
                name=str(fields["name"]),
                head_sha=head_sha,
                app=app,
                status="queued",
                conclusion=None,
                started_at=now,
                completed_at=None,
            )
            self._apply_check_fields(run, fields, now)
            self.check_runs[run.id] = run
            return run

    def update_check_run(self, identity: Identity, run_id: int, fields: dict[str, object]) -> CheckRun:
        with self.lock:
            run = self.check_run(run_id)
            app = identity.app or GITHUB_ACTIONS
            if self.pat_mode or app.id != run.app.id:
                raise ApiError(403, "Resource not accessible by integration")
            self._apply_check_fields(run, fields, self.tick())
            return run

    def check_run(self, run_id: int) -> CheckRun:
        found = self.check_runs.get(run_id)
        if found is None:
            raise not_found()
        return found

    @staticmethod
    def _apply_check_fields(run: CheckRun, fields: dict[str, object], now: int) -> None:
        if "name" in fields:
            run.name = str(fields["name"])
        for key in ("details_url", "external_id"):
            if key in fields:
                setattr(run, key, fields[key])
        output = fields.get("output")
        if isinstance(output, dict):
            run.title = output.get("title", run.title)
            run.summary = output.get("summary", run.summary)
            run.text = output.get("text", run.text)
        if "status" in fields:
            run.status = str(fields["status"])
        if fields.get("conclusion") is not None:
            run.conclusion = str(fields["conclusion"])
            run.status = "completed"
        if run.status == "completed":
            run.completed_at = run.completed_at or now
        else:
            run.conclusion, run.completed_at = None, None

    def check_runs_for(self, sha: str, *, name: str | None, latest: bool) -> list[CheckRun]:
        runs = [r for r in self.check_runs.values() if r.head_sha == sha and (name is None or r.name == name)]
        runs.sort(key=lambda r: r.id, reverse=True)
        if latest:
            seen: set[tuple[str, int]] = set()
            kept = []
            for run in runs:
                if (run.name, run.app.id) not in seen:
                    seen.add((run.name, run.app.id))
                    kept.append(run)
            runs = kept
        return runs

    # --------------------------------------------------------------- statuses
    def create_status(self, sha: str, *, login: str, fields: dict[str, object]) -> Status:
        with self.lock:
            if self.git.object_type(sha) != "commit":
                raise ApiError(422, f"No commit found for SHA: {sha}")
            status = Status(
                id=self.new_id(),
                sha=sha,
                state=str(fields["state"]),
                context=str(fields.get("context") or "default"),
                description=fields.get("description"),  # type: ignore[arg-type]
                target_url=fields.get("target_url"),  # type: ignore[arg-type]
                creator=self.user(login).login,
                created_at=self.tick(),
            )
            self.statuses.append(status)
            return status

    def statuses_for(self, sha: str) -> list[Status]:
        return [s for s in reversed(self.statuses) if s.sha == sha]

    # ------------------------------------------------------------ deployments
    def create_deployment(self, login: str, fields: dict[str, Any]) -> Deployment:
        """POST deployments, with GitHub's rules for the fields promobot and PyGithub send.

        ``required_contexts`` omitted means every commit status context on the commit must
        be ``success`` (409 otherwise), as on GitHub; an empty list skips the check.
        ``auto_merge`` applies to branch refs only (a SHA is never merged into).
        """
        with self.lock:
            self.require(login, "write")
            ref = str(fields.get("ref") or "")
            if not ref:
                raise ApiError(422, "Validation Failed: ref is required")
            if re.fullmatch(r"[0-9a-f]{40}", ref):
                sha = ref if self.git.object_type(ref) == "commit" else None
            else:
                sha = self.git.ref_sha(f"refs/heads/{ref}") or self.git.ref_sha(f"refs/tags/{ref}")
            if sha is None:
                raise ApiError(422, f"No ref found for: {ref}")
            required = fields.get("required_contexts")
            latest: dict[str, str] = {}
            for status in self.statuses_for(sha):
                latest.setdefault(status.context, status.state)
            wanted = set(latest) if required is None else set(required)
            bad = sorted(c for c in wanted if latest.get(c) != "success")
            if bad:
                raise ApiError(409, f"Conflict: Commit status checks failed for {ref}. {', '.join(bad)}")
            now = self.tick()
            description = fields.get("description", "")
            deployment = Deployment(
                id=self.new_id(),
                sha=sha,
                ref=ref,
                task=str(fields.get("task") or "deploy"),
                environment=str(fields.get("environment") or "production"),
                description=None if description is None else str(description),
                payload=fields.get("payload", {}),
                creator=self.user(login).login,
                created_at=now,
                updated_at=now,
                transient_environment=bool(fields.get("transient_environment", False)),
                production_environment=bool(
                    fields.get("production_environment", str(fields.get("environment")) == "production")
                ),
            )
            self.deployments[deployment.id] = deployment
            return deployment

    def deployment(self, deployment_id: int) -> Deployment:
        found = self.deployments.get(deployment_id)
        if found is None:
            raise not_found()
        return found

    def list_deployments(self, query: dict[str, str]) -> list[Deployment]:
        """Newest first, filtered by ``sha``, ``ref``, ``task`` and ``environment`` as on GitHub."""
        found = sorted(self.deployments.values(), key=lambda d: d.id, reverse=True)
        for key in ("sha", "ref", "task", "environment"):
            if key in query and query[key] != "none":
                found = [d for d in found if getattr(d, key) == query[key]]
        return found

    def create_deployment_status(
        self, login: str, deployment_id: int, fields: dict[str, Any]
    ) -> DeploymentStatus:
        """POST deployments/{id}/statuses; ``auto_inactive`` (default true) as on GitHub.

        A ``success`` status marks ``inactive`` every earlier non-transient, non-production
        deployment to the same environment whose latest status is ``success``: a bot that
        shares one environment between several models must pass ``auto_inactive: false``.
        """
        with self.lock:
            self.require(login, "write")
            deployment = self.deployment(deployment_id)
            state = fields.get("state")
            if state not in DEPLOYMENT_STATES:
                raise ApiError(422, f"Validation Failed: state must be one of {', '.join(DEPLOYMENT_STATES)}")
            description = str(fields.get("description") or "")
            if len(description) > DEPLOYMENT_DESCRIPTION_MAX:
                raise ApiError(422, "Validation Failed: description is too long (maximum is 140 characters)")
            environment = str(fields.get("environment") or deployment.environment)
            now = self.tick()
            status = DeploymentStatus(
                id=self.new_id(),
                deployment_id=deployment.id,
                state=str(state),
                description=description,
                environment=environment,
                log_url=str(fields.get("log_url") or fields.get("target_url") or ""),
                environment_url=str(fields.get("environment_url") or ""),
                creator=self.user(login).login,
                created_at=now,
            )
            self.deployment_statuses.append(status)
            deployment.updated_at = now
            if state == "success" and fields.get("auto_inactive", True):
                for other in self.deployments.values():
                    if (
                        other.id != deployment.id
                        and other.environment == deployment.environment
                        and not other.transient_environment
                        and not other.production_environment
                        and self.deployment_state(other.id) == "success"
                    ):
                        self.deployment_statuses.append(
                            DeploymentStatus(
                                self.new_id(),
                                other.id,
                                "inactive",
                                "",
                                other.environment,
                                "",
                                "",
                                status.creator,
                                now,
                            )
                        )
            return status

    def statuses_of_deployment(self, deployment_id: int) -> list[DeploymentStatus]:
        """Newest first."""
        self.deployment(deployment_id)
        return [s for s in reversed(self.deployment_statuses) if s.deployment_id == deployment_id]

    def deployment_state(self, deployment_id: int) -> str | None:
        found = self.statuses_of_deployment(deployment_id)
        return found[0].state if found else None

    # ------------------------------------------------------------------- refs
    def create_ref(self, full_ref: str, sha: str, *, login: str) -> None:
        self.require(login, "write")
        if not full_ref.startswith("refs/") or full_ref.count("/") < 2:
            raise ApiError(422, "Reference name must start with 'refs/' and have at least two slashes.")
        if self.git.object_type(sha) != "commit":
            raise ApiError(422, "Object does not exist")
        if not self.git.update_ref(full_ref, sha, old=None):
            raise ApiError(422, "Reference already exists")

    def update_ref(self, full_ref: str, sha: str, *, force: bool, login: str) -> None:
        with self.lock:
            self.require(login, "write")
            old = self.git.ref_sha(full_ref)
            if old is None:
                raise ApiError(422, "Reference does not exist")
            if self.git.object_type(sha) != "commit":
                raise ApiError(422, "Object does not exist")
            if not force and not self.git.is_ancestor(old, sha):
                raise ApiError(422, "Update is not a fast forward")
            if not self.git.update_ref(full_ref, sha, old=old):
                raise ApiError(409, "Reference update failed: the reference moved")

    def delete_ref(self, full_ref: str, *, login: str) -> None:
        with self.lock:
            self.require(login, "write")
            old = self.git.ref_sha(full_ref)
            if old is None or not self.git.delete_ref(full_ref, old=old):
                raise ApiError(422, "Reference does not exist")
            self.sync()
