"""The emulator's REST routes: a table of (method, path template) → handler.

Owns request parsing per endpoint, pagination (``per_page``/``page`` with ``Link``
headers) and the mapping from state to responses. Templates are spelled exactly as in
GitHub's OpenAPI description so that counts and validation share one key. Handlers
change state only through ``RepoState`` methods (the test-control API uses the same).
Routes marked ``jwt=True`` (the GitHub App's own endpoints) answer only to an App JWT,
and every other route refuses one (the server enforces both).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tests.emulator.payloads import Json, Render, iso
from tests.emulator.state import (
    ApiError,
    Identity,
    Pull,
    RepoState,
    not_found,
)

T = TypeVar("T")
GREEDY = {"ref", "path", "basehead"}


@dataclass
class Request:
    method: str
    template: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    identity: Identity
    path: str  # as received, without the API prefix and query


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Api:
    state: RepoState
    render: Render


Handler = Callable[[Api, Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: Handler
    jwt: bool = False  # authenticated with a GitHub App's JWT, not a token


ROUTES: list[Route] = []


def _compile(template: str) -> re.Pattern[str]:
    pattern = ""
    for literal, name in re.findall(r"([^{]*)(?:\{(\w+)\})?", template):
        pattern += re.escape(literal)
        if name:
            pattern += f"(?P<{name}>{'.+' if name in GREEDY else '[^/]+'})"
    return re.compile(f"^{pattern}$")


def route(method: str, template: str, *, jwt: bool = False) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(method, template, _compile(template), handler, jwt))
        return handler

    return register


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The first route for ``method`` whose template matches ``path`` (more specific first)."""
    for candidate in ROUTES:
        if candidate.method != method:
            continue
        found = candidate.regex.match(path)
        if found:
            return candidate, {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()}
    return None


# ------------------------------------------------------------------ helpers
def paginate(
    api: Api, req: Request, items: Sequence[T], render: Callable[[T], Json]
) -> tuple[list[Json], dict[str, str]]:
    """One page of ``items`` (rendered) and its ``Link`` header."""
    try:
        per_page = max(1, min(int(req.query.get("per_page", "30")), 100))
        page = max(1, int(req.query.get("page", "1")))
    except ValueError as exc:
        raise ApiError(422, "Validation Failed: per_page and page must be integers") from exc
    last = max(1, -(-len(items) // per_page))
    chunk = [render(item) for item in items[(page - 1) * per_page : page * per_page]]

    def link(n: int) -> str:
        query = {**req.query, "per_page": str(per_page), "page": str(n)}
        return f"<{api.render.api}{req.path}?{urllib.parse.urlencode(query)}>"

    rels = []
    if page < last:
        rels += [f'{link(page + 1)}; rel="next"', f'{link(last)}; rel="last"']
    if page > 1:
        rels += [f'{link(1)}; rel="first"', f'{link(page - 1)}; rel="prev"']
    return chunk, ({"Link": ", ".join(rels)} if rels else {})


def page_of(api: Api, req: Request, items: Sequence[T], render: Callable[[T], Json]) -> Response:
    chunk, headers = paginate(api, req, items, render)
    return Response(200, chunk, headers)


def body_of(req: Request) -> dict[str, Any]:
    if req.body is None:
        return {}
    if not isinstance(req.body, dict):
        raise ApiError(422, "Invalid request: a JSON object is expected")
    return req.body


def number(req: Request, name: str) -> int:
    try:
        return int(req.params[name])
    except ValueError as exc:
        raise not_found() from exc


def resolve_commit(api: Api, ref: str) -> str:
    sha = api.state.git.resolve(ref)
    if sha is None or not re.fullmatch(r"[\w./-]+", ref):
        raise ApiError(422, f"No commit found for SHA: {ref}")
    return sha


def pull_of(api: Api, req: Request) -> Pull:
    return api.state.pull(number(req, "pull_number"))


def issue_of(api: Api, req: Request) -> Pull:
    return api.state.pull(number(req, "issue_number"))


R = "/repos/{owner}/{repo}"


# -------------------------------------------------------------- users, repo
@route("GET", "/user")
def get_authenticated(api: Api, req: Request) -> Response:
    if req.identity.app is not None:
        raise ApiError(403, "Resource not accessible by integration")
    return Response(200, api.render.full_user(req.identity.login, private=True))


@route("GET", "/users/{username}")
def get_user(api: Api, req: Request) -> Response:
    user = api.state.find_user(req.params["username"])
    if user is None:
        raise not_found()
    return Response(200, api.render.full_user(user.login, private=False))


@route("GET", R)
def get_repo(api: Api, req: Request) -> Response:
    return Response(200, api.render.repository())


@route("PATCH", R)
def update_repo(api: Api, req: Request) -> Response:
    body = body_of(req)
    api.state.require(req.identity.login, "admin")
    if "default_branch" in body:
        if api.state.git.branch_sha(body["default_branch"]) is None:
            raise ApiError(422, "Validation Failed: default_branch does not exist")
        api.state.default_branch = body["default_branch"]
    if "description" in body:
        api.state.description = body["description"]
    return Response(200, api.render.repository())


@route("GET", R + "/branches/{branch}")
def get_branch(api: Api, req: Request) -> Response:
    name = req.params["branch"]
    sha = api.state.git.branch_sha(name)
    if sha is None:
        raise ApiError(404, "Branch not found")
    url = f"{api.render.repo_api}/branches/{name}"
    return Response(
        200,
        {
            "name": name,
            "commit": api.render.commit(api.state.git.commit(sha)),
            "_links": {"html": f"{api.render.repo_web}/tree/{name}", "self": url},
            "protected": False,
            "protection": {"enabled": False},
            "protection_url": f"{url}/protection",
        },
    )


@route("GET", R + "/collaborators/{username}/permission")
def collaborator_permission(api: Api, req: Request) -> Response:
    user = api.state.find_user(req.params["username"])
    if user is None or user.type == "Organization":
        raise ApiError(404, f"{req.params['username']} is not a user")
    legacy = {"maintain": "write", "triage": "read"}.get(user.permission, user.permission)
    data = api.render.user(user)
    data.update({"permissions": api.render.permissions(user.permission), "role_name": user.permission})
    return Response(200, {"permission": legacy, "role_name": user.permission, "user": data})


@route("GET", R + "/collaborators/{username}")
def check_collaborator(api: Api, req: Request) -> Response:
    user = api.state.find_user(req.params["username"])
    if user is None or user.permission == "none":
        raise not_found()
    return Response(204)


# ------------------------------------------------------------------ commits
@route("GET", R + "/commits/{ref}/check-runs")
def list_check_runs(api: Api, req: Request) -> Response:
    sha = resolve_commit(api, req.params["ref"])
    runs = api.state.check_runs_for(
        sha, name=req.query.get("check_name"), latest=req.query.get("filter", "latest") == "latest"
    )
    if "status" in req.query:
        runs = [r for r in runs if r.status == req.query["status"]]
    if "app_id" in req.query:
        runs = [r for r in runs if str(r.app.id) == req.query["app_id"]]
    chunk, headers = paginate(api, req, runs, api.render.check_run)
    return Response(200, {"total_count": len(runs), "check_runs": chunk}, headers)


@route("GET", R + "/commits/{ref}/status")
def combined_status(api: Api, req: Request) -> Response:
    sha = resolve_commit(api, req.params["ref"])
    latest: dict[str, Any] = {}
    for status in api.state.statuses_for(sha):
        latest.setdefault(status.context, status)
    states = {s.state for s in latest.values()}
    if states & {"failure", "error"}:
        state = "failure"
    elif "pending" in states or not states:
        state = "pending"
    else:
        state = "success"
    return Response(
        200,
        {
            "state": state,
            "sha": sha,
            "total_count": len(latest),
            "statuses": [api.render.status(s, with_creator=False) for s in latest.values()],
            "repository": api.render.repository(full=False),
            "commit_url": f"{api.render.repo_api}/commits/{sha}",
            "url": f"{api.render.repo_api}/commits/{sha}/status",
        },
    )


@route("GET", R + "/commits/{ref}/statuses")
def list_statuses(api: Api, req: Request) -> Response:
    sha = resolve_commit(api, req.params["ref"])
    return page_of(api, req, api.state.statuses_for(sha), api.render.status)


# Legacy alias used by PyGithub's Commit.get_statuses (see openapi.ALIASES).
route("GET", R + "/statuses/{ref}")(list_statuses)


@route("POST", R + "/statuses/{sha}")
def create_status(api: Api, req: Request) -> Response:
    body = body_of(req)
    if body.get("state") not in {"error", "failure", "pending", "success"}:
        raise ApiError(422, "Validation Failed: state must be error, failure, pending or success")
    status = api.state.create_status(req.params["sha"], login=req.identity.login, fields=body)
    return Response(201, api.render.status(status))


@route("GET", R + "/commits/{ref}")
def get_commit(api: Api, req: Request) -> Response:
    sha = resolve_commit(api, req.params["ref"])
    info = api.state.git.commit(sha)
    parent = info.parents[0] if info.parents else None
    files = api.state.git.diff(parent, sha) if parent else []
    return Response(200, api.render.commit(info, files=files))


@route("GET", R + "/compare/{basehead}")
def compare(api: Api, req: Request) -> Response:
    base_ref, sep, head_ref = req.params["basehead"].partition("...")
    if not sep:
        raise not_found()
    git = api.state.git
    base, head = git.resolve(base_ref), git.resolve(head_ref)
    if base is None or head is None:
        raise not_found()
    merge_base = git.merge_base(base, head)
    if merge_base is None:
        raise not_found()
    ahead, behind = git.count(f"{merge_base}..{head}"), git.count(f"{merge_base}..{base}")
    status = "identical" if base == head else "ahead" if not behind else "behind" if not ahead else "diverged"
    commits = [api.render.commit(git.commit(c)) for c in git.rev_list(f"{merge_base}..{head}")]
    url = f"{api.render.repo_api}/compare/{base_ref}...{head_ref}"
    html = f"{api.render.repo_web}/compare/{base_ref}...{head_ref}"
    return Response(
        200,
        {
            "url": url,
            "html_url": html,
            "permalink_url": f"{api.render.repo_web}/compare/{base}...{head}",
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "base_commit": api.render.commit(git.commit(base)),
            "merge_base_commit": api.render.commit(git.commit(merge_base)),
            "status": status,
            "ahead_by": ahead,
            "behind_by": behind,
            "total_commits": ahead,
            "commits": commits,
            "files": [api.render.file_change(c, head) for c in git.diff(merge_base, head)],
        },
    )


@route("GET", R + "/contents/{path}")
def get_contents(api: Api, req: Request) -> Response:
    ref = req.query.get("ref", api.state.default_branch)
    path = req.params["path"].strip("/")
    git = api.state.git
    if git.resolve(ref) is None:
        raise ApiError(404, f"No commit found for the ref {ref}")
    kind = git.object_type(f"{ref}:{path}")
    sha = git.object_id(f"{ref}:{path}")
    if kind is None or sha is None:
        raise not_found()
    if kind == "blob":
        return Response(200, api.render.content_file(path, sha, git.read_blob(sha), ref))
    entries = [
        api.render.content_entry(f"{path}/{name}", "dir" if t == "tree" else "file", s, size, ref)
        for t, s, name, size in git.list_tree(f"{ref}:{path}")
    ]
    return Response(200, entries)


# --------------------------------------------------------------------- refs
def _full_ref(req: Request) -> str:
    return "refs/" + req.params["ref"].removeprefix("refs/")


@route("GET", R + "/git/ref/{ref}")
def get_ref(api: Api, req: Request) -> Response:
    full = _full_ref(req)
    sha = api.state.git.ref_sha(full) if full.count("/") >= 2 else None
    if sha is None:
        raise not_found()
    return Response(200, api.render.git_ref(full, sha))


@route("GET", R + "/git/matching-refs/{ref}")
def matching_refs(api: Api, req: Request) -> Response:
    prefix = _full_ref(req)
    found = [(n, s) for n, s in api.state.git.refs() if n.startswith(prefix)]
    return page_of(api, req, found, lambda item: api.render.git_ref(*item))


@route("POST", R + "/git/refs")
def create_ref(api: Api, req: Request) -> Response:
    body = body_of(req)
    full, sha = str(body.get("ref", "")), str(body.get("sha", ""))
    api.state.create_ref(full, sha, login=req.identity.login)
    return Response(201, api.render.git_ref(full, sha), {"Location": f"{api.render.repo_api}/git/{full}"})


@route("PATCH", R + "/git/refs/{ref}")
def update_ref(api: Api, req: Request) -> Response:
    body = body_of(req)
    full = _full_ref(req)
    api.state.update_ref(
        full, str(body.get("sha", "")), force=bool(body.get("force")), login=req.identity.login
    )
    return Response(200, api.render.git_ref(full, str(body["sha"])))


@route("DELETE", R + "/git/refs/{ref}")
def delete_ref(api: Api, req: Request) -> Response:
    api.state.delete_ref(_full_ref(req), login=req.identity.login)
    return Response(204)


# -------------------------------------------------------------- GitHub Apps
@route("GET", R + "/installation", jwt=True)
def repo_installation(api: Api, req: Request) -> Response:
    app = req.identity.app
    if app is None or app.installation_id is None:
        raise not_found()
    return Response(200, api.render.installation(app))


@route("POST", "/app/installations/{installation_id}/access_tokens", jwt=True)
def create_installation_token(api: Api, req: Request) -> Response:
    body = body_of(req)
    installation = api.state.installation(number(req, "installation_id"))
    if req.identity.app is None or installation.id != req.identity.app.id:
        raise not_found()
    asked = body.get("permissions") or {}
    granted = installation.permissions
    if not isinstance(asked, dict) or any(
        granted.get(name) not in (level, "write") for name, level in asked.items()
    ):
        raise ApiError(422, "The permissions requested are not granted to this installation.")
    token, expires_at = api.state.create_installation_token(installation)
    answer = {
        "token": token,
        "expires_at": iso(expires_at),
        "permissions": dict(asked or granted),
        "repository_selection": "selected",
    }
    return Response(201, answer)


# ------------------------------------------------------------------- checks
@route("POST", R + "/check-runs")
def create_check_run(api: Api, req: Request) -> Response:
    body = body_of(req)
    if not body.get("name") or not body.get("head_sha"):
        raise ApiError(422, "Invalid request: name and head_sha are required")
    run = api.state.create_check_run(req.identity, body)
    return Response(201, api.render.check_run(run))


@route("GET", R + "/check-runs/{check_run_id}")
def get_check_run(api: Api, req: Request) -> Response:
    return Response(200, api.render.check_run(api.state.check_run(number(req, "check_run_id"))))


@route("PATCH", R + "/check-runs/{check_run_id}")
def update_check_run(api: Api, req: Request) -> Response:
    run = api.state.update_check_run(req.identity, number(req, "check_run_id"), body_of(req))
    return Response(200, api.render.check_run(run))


# -------------------------------------------------------------- deployments
@route("GET", R + "/deployments")
def list_deployments(api: Api, req: Request) -> Response:
    return page_of(api, req, api.state.list_deployments(req.query), api.render.deployment)


@route("POST", R + "/deployments")
def create_deployment(api: Api, req: Request) -> Response:
    try:
        deployment = api.state.create_deployment(req.identity.login, body_of(req))
    except ApiError as exc:
        if exc.status == 409:  # documented without a body ("Conflict when ... status checks failed")
            return Response(409)
        raise
    return Response(201, api.render.deployment(deployment))


@route("GET", R + "/deployments/{deployment_id}/statuses")
def list_deployment_statuses(api: Api, req: Request) -> Response:
    found = api.state.statuses_of_deployment(number(req, "deployment_id"))
    return page_of(api, req, found, api.render.deployment_status)


@route("POST", R + "/deployments/{deployment_id}/statuses")
def create_deployment_status(api: Api, req: Request) -> Response:
    status = api.state.create_deployment_status(
        req.identity.login, number(req, "deployment_id"), body_of(req)
    )
    return Response(201, api.render.deployment_status(status))


# ------------------------------------------------------------------- issues
@route("GET", R + "/issues/comments/{comment_id}/reactions")
def list_reactions(api: Api, req: Request) -> Response:
    comment = api.state.comment(number(req, "comment_id"))
    found = [r for r in api.state.reactions if r.comment_id == comment.id]
    if "content" in req.query:
        found = [r for r in found if r.content == req.query["content"]]
    return page_of(api, req, found, api.render.reaction)


@route("POST", R + "/issues/comments/{comment_id}/reactions")
def create_reaction(api: Api, req: Request) -> Response:
    body = body_of(req)
    reaction, created = api.state.react(
        number(req, "comment_id"), login=req.identity.login, content=str(body.get("content"))
    )
    return Response(201 if created else 200, api.render.reaction(reaction))


@route("GET", R + "/issues/comments/{comment_id}")
def get_comment(api: Api, req: Request) -> Response:
    return Response(200, api.render.comment(api.state.comment(number(req, "comment_id"))))


@route("PATCH", R + "/issues/comments/{comment_id}")
def update_comment(api: Api, req: Request) -> Response:
    comment = api.state.comment(number(req, "comment_id"))
    if comment.user.lower() != req.identity.login.lower():
        api.state.require(req.identity.login, "write")
    comment.body = str(body_of(req).get("body", comment.body))
    comment.updated_at = api.state.tick()
    return Response(200, api.render.comment(comment))


@route("DELETE", R + "/issues/comments/{comment_id}")
def delete_comment(api: Api, req: Request) -> Response:
    comment = api.state.comment(number(req, "comment_id"))
    if comment.user.lower() != req.identity.login.lower():
        api.state.require(req.identity.login, "write")
    del api.state.comments[comment.id]
    return Response(204)


@route("GET", R + "/issues/{issue_number}")
def get_issue(api: Api, req: Request) -> Response:
    return Response(200, api.render.issue(issue_of(api, req)))


@route("GET", R + "/issues/{issue_number}/comments")
def list_comments(api: Api, req: Request) -> Response:
    pull = issue_of(api, req)
    found = sorted(
        (c for c in api.state.comments.values() if c.issue_number == pull.number), key=lambda c: c.id
    )
    return page_of(api, req, found, api.render.comment)


@route("POST", R + "/issues/{issue_number}/comments")
def create_comment(api: Api, req: Request) -> Response:
    pull = issue_of(api, req)
    body = body_of(req).get("body")
    if not isinstance(body, str) or not body:
        raise ApiError(422, "Validation Failed: body is required")
    comment = api.state.add_comment(pull.number, login=req.identity.login, body=body)
    return Response(201, api.render.comment(comment), {"Location": api.render.comment(comment)["url"]})


def _label_names(req: Request) -> list[str]:
    raw = req.body
    if isinstance(raw, dict):
        raw = raw.get("labels", [])
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        raise ApiError(422, "Invalid request: labels must be a list")
    return [str(item["name"] if isinstance(item, dict) else item) for item in raw]


@route("GET", R + "/issues/{issue_number}/labels")
def list_labels(api: Api, req: Request) -> Response:
    pull = issue_of(api, req)
    return page_of(api, req, [api.state.label(n) for n in pull.labels], api.render.label)


@route("POST", R + "/issues/{issue_number}/labels")
def add_labels(api: Api, req: Request) -> Response:
    pull = issue_of(api, req)
    api.state.require(req.identity.login, "triage")
    api.state.add_labels(pull.number, _label_names(req))
    return Response(200, api.render.labels(pull))


@route("PUT", R + "/issues/{issue_number}/labels")
def set_labels(api: Api, req: Request) -> Response:
    pull = issue_of(api, req)
    api.state.require(req.identity.login, "triage")
    api.state.set_labels(pull.number, _label_names(req))
    return Response(200, api.render.labels(pull))


@route("DELETE", R + "/issues/{issue_number}/labels/{name}")
def remove_label(api: Api, req: Request) -> Response:
    pull = issue_of(api, req)
    api.state.require(req.identity.login, "triage")
    api.state.remove_label(pull.number, req.params["name"])
    return Response(200, api.render.labels(pull))


# -------------------------------------------------------------------- pulls
@route("GET", R + "/pulls")
def list_pulls(api: Api, req: Request) -> Response:
    state = req.query.get("state", "open")
    found = [p for p in api.state.pulls.values() if state == "all" or p.state == state]
    if "head" in req.query:
        owner, _, branch = req.query["head"].rpartition(":")
        if owner and owner.lower() != api.state.owner.lower():
            found = []
        found = [p for p in found if p.head_ref == branch]
    if "base" in req.query:
        found = [p for p in found if p.base_ref == req.query["base"]]
    key = "updated_at" if req.query.get("sort") == "updated" else "created_at"
    found.sort(
        key=lambda p: (getattr(p, key), p.number), reverse=req.query.get("direction", "desc") == "desc"
    )
    return page_of(api, req, found, lambda p: api.render.pull(p, full=False))


@route("POST", R + "/pulls")
def create_pull(api: Api, req: Request) -> Response:
    body = body_of(req)
    if not body.get("head") or not body.get("base") or not body.get("title"):
        raise ApiError(422, "Validation Failed: head, base and title are required")
    if not api.state.actions_may_open_prs and req.identity.login.lower() == "github-actions[bot]":
        raise ApiError(403, "GitHub Actions is not permitted to create or approve pull requests.")
    pull = api.state.open_pull(
        login=req.identity.login,
        title=str(body["title"]),
        head=str(body["head"]),
        base=str(body["base"]),
        body=body.get("body"),
        draft=bool(body.get("draft", False)),
    )
    data = api.render.pull(pull, full=True)
    return Response(201, data, {"Location": data["url"]})


@route("GET", R + "/pulls/{pull_number}")
def get_pull(api: Api, req: Request) -> Response:
    return Response(200, api.render.pull(pull_of(api, req), full=True))


@route("PATCH", R + "/pulls/{pull_number}")
def update_pull(api: Api, req: Request) -> Response:
    body = body_of(req)
    pull = api.state.update_pull(
        number(req, "pull_number"),
        title=body.get("title"),
        body=body.get("body"),
        state=body.get("state"),
        base=body.get("base"),
    )
    return Response(200, api.render.pull(pull, full=True))


@route("GET", R + "/pulls/{pull_number}/commits")
def pull_commits(api: Api, req: Request) -> Response:
    pull = pull_of(api, req)
    git = api.state.git
    head, base = api.state.head_sha(pull), api.state.base_sha(pull)
    merge_base = git.merge_base(base, head) if pull.merge_commit_sha is None else None
    if pull.merged and pull.merge_commit_sha:
        merge_base = git.merge_base(git.commit(pull.merge_commit_sha).parents[0], head)
    shas = git.rev_list(f"{merge_base}..{head}") if merge_base else [head]
    return page_of(api, req, shas, lambda sha: api.render.commit(git.commit(sha)))


@route("GET", R + "/pulls/{pull_number}/files")
def pull_files(api: Api, req: Request) -> Response:
    pull = pull_of(api, req)
    git = api.state.git
    head = api.state.head_sha(pull)
    merge_base = git.merge_base(api.state.base_sha(pull), head)
    changes = git.diff(merge_base, head) if merge_base else []
    return page_of(api, req, changes, lambda c: api.render.file_change(c, head))


@route("GET", R + "/pulls/{pull_number}/merge")
def check_merged(api: Api, req: Request) -> Response:
    if not pull_of(api, req).merged:
        raise not_found()
    return Response(204)


@route("PUT", R + "/pulls/{pull_number}/merge")
def merge_pull(api: Api, req: Request) -> Response:
    body = body_of(req)
    method = str(body.get("merge_method", "merge"))
    if method not in {"merge", "squash", "rebase"}:
        raise ApiError(422, "Validation Failed: merge_method must be merge, squash or rebase")
    sha = api.state.merge(
        number(req, "pull_number"),
        login=req.identity.login,
        sha=body.get("sha"),
        method=method,
        title=body.get("commit_title"),
        message=body.get("commit_message"),
    )
    return Response(200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"})


@route("GET", R + "/pulls/{pull_number}/reviews")
def list_reviews(api: Api, req: Request) -> Response:
    pull = pull_of(api, req)
    found = [r for r in api.state.reviews if r.pull_number == pull.number and r.state != "PENDING"]
    return page_of(api, req, found, api.render.review)


@route("POST", R + "/pulls/{pull_number}/reviews")
def create_review(api: Api, req: Request) -> Response:
    body = body_of(req)
    review = api.state.submit_review(
        number(req, "pull_number"),
        login=req.identity.login,
        event=body.get("event"),
        body=str(body.get("body") or ""),
        commit_id=body.get("commit_id"),
    )
    return Response(200, api.render.review(review))


@route("GET", R + "/pulls/{pull_number}/reviews/{review_id}")
def get_review(api: Api, req: Request) -> Response:
    review = api.state.review(number(req, "pull_number"), number(req, "review_id"))
    return Response(200, api.render.review(review))


@route("PUT", R + "/pulls/{pull_number}/reviews/{review_id}/dismissals")
def dismiss_review(api: Api, req: Request) -> Response:
    review = api.state.dismiss_review(
        number(req, "pull_number"), number(req, "review_id"), login=req.identity.login
    )
    return Response(200, api.render.review(review))


# --------------------------------------------------------------------- orgs
def _org(api: Api, req: Request) -> None:
    if req.params["org"].lower() != api.state.owner.lower():
        raise not_found()


def _team_by_slug(api: Api, req: Request) -> Any:
    _org(api, req)
    team = api.state.teams.get(req.params["team_slug"])
    if team is None:
        raise not_found()
    return team


def _team_by_id(api: Api, req: Request) -> Any:
    if "org_id" in req.params and req.params["org_id"] != str(api.state.org_id):
        raise not_found()
    for team in api.state.teams.values():
        if str(team.id) == req.params["team_id"]:
            return team
    raise not_found()


def _members(api: Api, req: Request, team: Any) -> Response:
    return page_of(api, req, team.members, api.render.user)


def _is_member(team: Any, login: str) -> bool:
    return login.lower() in (m.lower() for m in team.members)


@route("GET", "/orgs/{org}")
def get_org(api: Api, req: Request) -> Response:
    _org(api, req)
    return Response(200, api.render.organization())


@route("GET", "/orgs/{org}/members/{username}")
def org_membership(api: Api, req: Request) -> Response:
    _org(api, req)
    if not api.state.is_org_member(req.params["username"]):
        raise not_found()
    return Response(204)


@route("GET", "/orgs/{org}/teams/{team_slug}")
def get_team(api: Api, req: Request) -> Response:
    return Response(200, api.render.team(_team_by_slug(api, req)))


@route("GET", "/orgs/{org}/teams/{team_slug}/members")
def team_members(api: Api, req: Request) -> Response:
    return _members(api, req, _team_by_slug(api, req))


@route("GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}")
def team_membership(api: Api, req: Request) -> Response:
    team = _team_by_slug(api, req)
    if not _is_member(team, req.params["username"]):
        raise not_found()
    return Response(200, api.render.membership(team, req.params["username"]))


def team_by_id(api: Api, req: Request) -> Response:
    return Response(200, api.render.team(_team_by_id(api, req)))


def team_members_by_id(api: Api, req: Request) -> Response:
    return _members(api, req, _team_by_id(api, req))


def team_member_by_id(api: Api, req: Request) -> Response:
    if not _is_member(_team_by_id(api, req), req.params["username"]):
        raise not_found()
    return Response(204)


def team_membership_by_id(api: Api, req: Request) -> Response:
    team = _team_by_id(api, req)
    if not _is_member(team, req.params["username"]):
        raise not_found()
    return Response(200, api.render.membership(team, req.params["username"]))


# Team objects carry url=/organizations/{org_id}/team/{team_id} and PyGithub's Team
# methods append to it (see openapi.ALIASES); the legacy /teams/{team_id} is documented.
route("GET", "/organizations/{org_id}/team/{team_id}")(team_by_id)
for _prefix in ("/organizations/{org_id}/team/{team_id}", "/teams/{team_id}"):
    route("GET", _prefix + "/members")(team_members_by_id)
    route("GET", _prefix + "/members/{username}")(team_member_by_id)
    route("GET", _prefix + "/memberships/{username}")(team_membership_by_id)
