"""The emulator's HTTP server and test-control API.

Owns ``Emulator``: a ``ThreadingHTTPServer`` on 127.0.0.1 (port 0) in a background
thread serving GitHub's REST API under ``/api/v3`` over a real bare repository,
authentication by token or by a GitHub App's JWT (``Authorization: Bearer <jwt>``,
RS256, verified with the public key given to ``add_app``), request counting and
logging, fault injection (``fail(n, kind)``), OpenAPI conformance checks of every request and response, and
Python helpers that act as a user through the same code path as HTTP.
"""

from __future__ import annotations

import contextlib
import copy
import json
import shutil
import socket
import threading
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from tests.emulator import routes
from tests.emulator.openapi import OpenApiChecker, shared_checker
from tests.emulator.payloads import Render
from tests.emulator.state import ApiError, App, Comment, Reaction, RepoState, Review, Team, User

FaultKind = Literal["5xx", "secondary-rate-limit", "drop", "drop-after", "rate-limit"]
FAULT_KINDS: tuple[str, ...] = ("5xx", "secondary-rate-limit", "drop", "drop-after", "rate-limit")
"""``drop-after``: the request is applied, then the connection drops before the answer
(what a client sees when GitHub did the work and the response was lost). ``rate-limit``:
GitHub's primary rate limit answer — 403, ``X-RateLimit-Remaining: 0``, no ``Retry-After``."""
API_PREFIX = "/api/v3"
DOCS = "https://docs.github.com/rest"
PRIMARY_RATE_LIMIT = (
    "API rate limit exceeded for installation ID 1. If you reach out to GitHub Support for help, "
    "please include the request ID 0000:0000:0000000:0000000:00000000."
)
RATE_RESET_EPOCH = 1_795_000_000
"""``X-RateLimit-Reset`` until a test sets another (an instant in November 2026)."""
SECONDARY_RATE_LIMIT = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID "
    "0000:0000:0000000:0000000:00000000."
)


@dataclass
class RateLimit:
    """GitHub's primary rate limit for every token (``Emulator.limit_rate``)."""

    limit: int
    remaining: int
    reset: int
    """Epoch seconds when the window resets (the emulator resets only when told to)."""

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
            "X-RateLimit-Used": str(self.limit - self.remaining),
            "X-RateLimit-Resource": "core",
        }


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request as the emulator saw it (``template`` None when no route matched)."""

    seq: int
    method: str
    path: str
    template: str | None
    status: int | None  # None: the connection was dropped
    login: str | None
    body: Any
    fault: str | None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    emulator: Emulator


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.emulator._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.emulator._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the emulator keeps its own request log."""

    def _dispatch(self) -> None:
        self.server.emulator._handle(self)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _dispatch


class Emulator:
    """A stateful GitHub REST emulator for ``owner/repo``; use as a context manager."""

    def __init__(
        self,
        root: Path,
        *,
        owner: str = "acme",
        repo: str = "models",
        default_branch: str = "main",
        validate: bool = True,
    ) -> None:
        self.git_dir = root / f"{repo}.git"
        self.state = RepoState(self.git_dir, owner=owner, name=repo, default_branch=default_branch)
        self.checker: OpenApiChecker | None = shared_checker() if validate else None
        self.counts: Counter[tuple[str, str]] = Counter()
        self.requests: list[RequestRecord] = []
        self.openapi_errors: list[str] = []
        self._faults: dict[int, str] = {}
        self.rate: RateLimit | None = None
        """None: no ``X-RateLimit-*`` headers and no limit (the default)."""
        self._hooks: list[tuple[int | Callable[[str, str | None], bool], Callable[[], object]]] = []
        self._seq = 0
        self._lock = threading.RLock()
        self._connections: set[socket.socket] = set()
        self._clients: list[Any] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.web_url = ""
        self.render = Render(self.state, api="", web="")

    # --------------------------------------------------------------- lifecycle
    def start(self) -> Emulator:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.emulator = self
        port = server.server_address[1]
        self.web_url = f"http://127.0.0.1:{port}"
        self.url = self.web_url + API_PREFIX
        self.render = Render(self.state, api=self.url, web=self.web_url)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="github-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()
        if self._server is None:
            return
        self._server.shutdown()
        with self._lock:
            for conn in list(self._connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    # ------------------------------------------------------------ test control
    @property
    def pat_mode(self) -> bool:
        return self.state.pat_mode

    @pat_mode.setter
    def pat_mode(self, value: bool) -> None:
        self.state.pat_mode = value

    @property
    def jwt_clock(self) -> Callable[[], float]:
        """What "now" is for App JWTs' ``iat``/``exp`` (default: the wall clock, as the client's)."""
        return self.state.jwt_clock

    @jwt_clock.setter
    def jwt_clock(self, value: Callable[[], float]) -> None:
        self.state.jwt_clock = value

    @property
    def repo_full_name(self) -> str:
        return self.state.full_name

    def add_user(
        self, login: str, permission: str = "write", *, type: str = "User", token: str | None = None
    ) -> User:
        """A collaborator with ``permission`` (none/read/triage/write/maintain/admin)."""
        user = self.state.add_user(login, permission, type=type)
        if token is not None:
            self.state.add_token(token, login)
        return user

    def add_app(
        self,
        slug: str,
        *,
        token: str | None = None,
        permission: str = "write",
        app_id: int | None = None,
        public_key: str | None = None,
        installed: bool = True,
    ) -> App:
        """A GitHub App with bot user ``<slug>[bot]``; ``token`` becomes an installation token.

        With ``public_key`` (PEM) the App authenticates with JWTs it signs (``iss`` = ``app_id``
        or the client id): GET repos/{o}/{r}/installation finds its installation when
        ``installed``, and POST app/installations/{id}/access_tokens hands out installation
        tokens that act as ``<slug>[bot]``.
        """
        app = self.state.add_app(
            slug, permission=permission, app_id=app_id, public_key=public_key, installed=installed
        )
        if token is not None:
            self.state.add_token(token, f"{slug}[bot]", app=slug)
        return app

    def add_token(self, token: str, login: str, *, app: str | None = None) -> None:
        """``token`` acts as ``login``; with ``app`` it is that app's installation token."""
        self.state.add_token(token, login, app=app)

    def add_team(self, slug: str, members: list[str]) -> Team:
        """An org team; ``slug`` may be ``ml-leads`` or ``@acme/ml-leads``."""
        return self.state.add_team(slug, members)

    def map_email(self, email: str, login: str) -> None:
        """Commits authored with ``email`` belong to ``login`` (noreply addresses map by themselves)."""
        self.state.email_logins[email.lower()] = login

    def fail(self, n: int, kind: FaultKind) -> None:
        """Fail the ``n``-th request (1-based) from now on with ``kind``."""
        if kind not in FAULT_KINDS or n < 1:
            raise ValueError(f"fail(n>=1, kind in {FAULT_KINDS}), got ({n}, {kind!r})")
        with self._lock:
            self._faults[self._seq + n] = kind

    def limit_rate(
        self, limit: int = 1000, *, remaining: int | None = None, reset: int = RATE_RESET_EPOCH
    ) -> None:
        """Enforce GitHub's primary rate limit from now on: every answer carries
        ``X-RateLimit-Limit/Remaining/Reset/Used/Resource``, every request counts, and once
        ``remaining`` is 0 every request is answered 403 "API rate limit exceeded". Calling
        it again is the window resetting."""
        with self._lock:
            self.rate = RateLimit(limit, limit if remaining is None else remaining, reset)

    def before(self, when: int | Callable[[str, str | None], bool], callback: Callable[[], object]) -> None:
        """Run ``callback`` once, just before answering a request: the ``when``-th from now
        (1-based), or the first whose ``(method, route template)`` satisfies ``when``.

        For races made deterministic: someone pushes, comments or merges between two of
        the bot's requests. The callback runs on the server thread, outside the lock. When
        it returns a fault kind (``FAULT_KINDS``), that request fails with it.
        """
        with self._lock:
            key: int | Callable[[str, str | None], bool] = self._seq + when if isinstance(when, int) else when
            self._hooks.append((key, callback))

    def _take_hook(self, seq: int, method: str, template: str | None) -> Callable[[], object] | None:
        with self._lock:
            for i, (key, callback) in enumerate(self._hooks):
                if (key == seq) if isinstance(key, int) else key(method, template):
                    del self._hooks[i]
                    return callback
        return None

    def fork(self, root: Path) -> Emulator:
        """A new started emulator holding a copy of this one's repository and state.

        Set a scenario up once, then fork it for every case that starts from there (the
        fault matrix does this hundreds of times). Faults, hooks and counts are not copied.
        """
        other = Emulator(
            root,
            owner=self.state.owner,
            repo=self.state.name,
            default_branch=self.state.default_branch,
            validate=self.checker is not None,
        )
        with self.state.lock:
            shutil.rmtree(other.git_dir)
            shutil.copytree(self.git_dir, other.git_dir, symlinks=True)
            skip = {"lock", "git"}
            copied = copy.deepcopy({k: v for k, v in vars(self.state).items() if k not in skip})
        for key, value in copied.items():
            setattr(other.state, key, value)
        return other.start()

    def reset_counts(self) -> None:
        with self._lock:
            self.counts.clear()
            self.requests.clear()

    def github(self, token: str, **kwargs: Any) -> Any:
        """A PyGithub client for this emulator (closed when the emulator stops)."""
        from github import Auth, Github

        options: dict[str, Any] = {"seconds_between_requests": 0, "seconds_between_writes": 0, "retry": None}
        options.update(kwargs)
        client = Github(base_url=self.url, auth=Auth.Token(token), **options)
        self._clients.append(client)
        return client

    def submit_review(
        self, number: int, login: str, event: str, *, body: str = "", commit_id: str | None = None
    ) -> Review:
        """``login`` reviews PR ``number`` (event APPROVE / REQUEST_CHANGES / COMMENT)."""
        with self.state.lock:
            self.state.sync()
            return self.state.submit_review(number, login=login, event=event, body=body, commit_id=commit_id)

    def comment(self, number: int, login: str, body: str) -> Comment:
        with self.state.lock:
            return self.state.add_comment(number, login=login, body=body)

    def react(self, comment_id: int, login: str, content: str) -> Reaction:
        with self.state.lock:
            return self.state.react(comment_id, login=login, content=content)[0]

    def head_sha(self, number: int) -> str:
        with self.state.lock:
            self.state.sync()
            return self.state.head_sha(self.state.pull(number))

    def pull_json(self, number: int) -> dict[str, Any]:
        """The PR as GET pulls/{n} would answer (for building webhook payloads)."""
        with self.state.lock:
            self.state.sync()
            return self.render.pull(self.state.pull(number), full=True)

    # ------------------------------------------------------------------- HTTP
    def _handle(self, http: _Handler) -> None:
        parsed = urllib.parse.urlsplit(http.path)
        length = int(http.headers.get("Content-Length") or 0)
        raw = http.rfile.read(length) if length else b""
        method = http.command
        with self._lock:
            self._seq += 1
            seq = self._seq
            fault = self._faults.pop(seq, None)
        path = parsed.path
        found = routes.match(method, path[len(API_PREFIX) :]) if path.startswith(API_PREFIX) else None
        template = found[0].template if found else None
        hook = self._take_hook(seq, method, template) if self._hooks else None
        if hook is not None:
            answer = hook()
            if fault is None and isinstance(answer, str) and answer in FAULT_KINDS:
                fault = answer
        with self._lock:
            if template is not None:
                self.counts[(method, template)] += 1
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")

        def record(status: int | None, login: str | None) -> None:
            with self._lock:
                self.requests.append(RequestRecord(seq, method, path, template, status, login, body, fault))

        if fault == "drop":
            record(None, None)
            http.close_connection = True
            return
        if fault == "5xx":
            record(502, None)
            self._send(http, routes.Response(502, {"message": "Server Error"}))
            return
        with self._lock:
            rate = self.rate
            exhausted = rate is not None and rate.remaining <= 0
            if rate is not None and not exhausted and fault != "rate-limit":
                rate.remaining -= 1
            extra = dict(rate.headers()) if rate is not None else {}
        if fault == "rate-limit" or exhausted:
            record(403, None)
            answer = {"message": PRIMARY_RATE_LIMIT, "documentation_url": f"{DOCS}/overview/rate-limits"}
            limits = (
                {**extra, "X-RateLimit-Remaining": "0"}
                if extra
                else RateLimit(1000, 0, RATE_RESET_EPOCH).headers()
            )
            self._send(http, routes.Response(403, answer, limits))
            return
        if fault == "secondary-rate-limit":
            record(403, None)
            answer = {"message": SECONDARY_RATE_LIMIT, "documentation_url": f"{DOCS}/overview/rate-limits"}
            self._send(http, routes.Response(403, answer, {"Retry-After": "1"}))
            return

        response, login = self._answer(http, method, path, parsed.query, found, body, raw)
        if extra:
            response = routes.Response(response.status, response.body, {**response.headers, **extra})
        if fault == "drop-after":
            record(None, login)
            http.close_connection = True
            return
        record(response.status, login)
        self._send(http, response)

    def _answer(
        self,
        http: _Handler,
        method: str,
        path: str,
        query: str,
        found: tuple[routes.Route, dict[str, str]] | None,
        body: Any,
        raw: bytes,
    ) -> tuple[routes.Response, str | None]:
        auth = http.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        token = token.strip()
        identity = self.state.tokens.get(token) if scheme.lower() in {"token", "bearer"} else None
        if identity is None and scheme.lower() == "bearer" and token.count(".") == 2:
            try:
                identity = self.state.jwt_identity(token)
            except ApiError as exc:
                return routes.Response(exc.status, {"message": exc.message, "documentation_url": DOCS}), None
        if identity is None:
            return routes.Response(401, {"message": "Bad credentials", "documentation_url": DOCS}), None
        if found is None:
            with self._lock:
                self.openapi_errors.append(f"{method} {path}: the emulator has no such route")
            return routes.Response(404, {"message": "Not Found", "documentation_url": DOCS}), identity.login
        route, params = found
        if route.jwt != identity.jwt:  # a JWT only mints tokens; tokens cannot act as the App
            message = "Bad credentials" if identity.jwt else "A JSON web token could not be decoded"
            return routes.Response(401, {"message": message, "documentation_url": DOCS}), identity.login
        if raw and isinstance(body, str):
            return routes.Response(400, {"message": "Problems parsing JSON"}), identity.login
        if self.checker is not None:
            self._note(self.checker.check_request(method, route.template, body))
        req = routes.Request(
            method=method,
            template=route.template,
            params=params,
            query=dict(urllib.parse.parse_qsl(query)),
            body=body,
            identity=identity,
            path=path[len(API_PREFIX) :],
        )
        api = routes.Api(self.state, self.render)
        with self.state.lock:
            try:
                if "owner" in params and (
                    f"{params['owner']}/{params['repo']}".lower() != self.state.full_name.lower()
                ):
                    raise ApiError(404, "Not Found")
                self.state.sync()
                response = route.handler(api, req)
            except ApiError as exc:
                answer = {"message": exc.message, "documentation_url": DOCS}
                response = routes.Response(exc.status, answer, exc.headers)
        if self.checker is not None:
            self._note(self.checker.check_response(method, route.template, response.status, response.body))
        return response, identity.login

    def _note(self, errors: Any) -> None:
        found = list(errors)
        if found:
            with self._lock:
                self.openapi_errors.extend(found)

    @staticmethod
    def _send(http: _Handler, response: routes.Response) -> None:
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        http.send_response(response.status)
        if response.body is not None:
            http.send_header("Content-Type", "application/json; charset=utf-8")
        http.send_header("Content-Length", str(len(payload)))
        http.send_header("X-GitHub-Media-Type", "github.v3; format=json")
        for name, value in response.headers.items():
            http.send_header(name, value)
        http.end_headers()
        if payload:
            http.wfile.write(payload)
