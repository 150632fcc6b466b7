"""Conformance of emulator traffic with GitHub's own REST description.

Owns locating ``../shared/github/openapi/api.github.com.trimmed.json`` (never copied
into the project), matching a request to its documented operation, and validating
request bodies and JSON responses against the documented schemas. Validators are
compiled once per (operation, status) and cached.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema.exceptions import best_match  # type: ignore[import-untyped,unused-ignore]
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPEC_URI = "urn:github-openapi"
SHARED_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "github"
SPEC_PATH = SHARED_DIR / "openapi" / "api.github.com.trimmed.json"

# Routes PyGithub calls that GitHub's description does not list. Each maps to the
# documented operation whose schemas describe the same request and response.
ALIASES: dict[tuple[str, str], tuple[str, str]] = {
    # Commit.get_statuses(): the legacy alias of commits/{ref}/statuses, documented only
    # in the prose of that operation.
    ("GET", "/repos/{owner}/{repo}/statuses/{ref}"): ("GET", "/repos/{owner}/{repo}/commits/{ref}/statuses"),
    # Team objects carry url=/organizations/{org_id}/team/{team_id}; PyGithub's Team
    # methods append to it. GitHub serves these like the legacy /teams/{team_id} routes.
    ("GET", "/organizations/{org_id}/team/{team_id}"): ("GET", "/orgs/{org}/teams/{team_slug}"),
    ("GET", "/organizations/{org_id}/team/{team_id}/members"): ("GET", "/teams/{team_id}/members"),
    ("GET", "/organizations/{org_id}/team/{team_id}/members/{username}"): (
        "GET",
        "/teams/{team_id}/members/{username}",
    ),
    ("GET", "/organizations/{org_id}/team/{team_id}/memberships/{username}"): (
        "GET",
        "/teams/{team_id}/memberships/{username}",
    ),
}


# Routes GitHub serves that the trimmed description leaves out; their responses are
# not validated. GET /orgs/{org}: Github.get_organization() fetches it unless the
# client is created with lazy=True.
UNDOCUMENTED: set[tuple[str, str]] = {("GET", "/orgs/{org}")}


def spec_available() -> bool:
    return SPEC_PATH.is_file()


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    template: str
    pointer: str  # JSON pointer (without '#') of the operation object in the document
    operation: dict[str, Any]


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _normalise(node: Any) -> None:
    """Make GitHub's description mean to the validator what it means to GitHub.

    - ``discriminator`` is removed everywhere: on POST check-runs it has no ``mapping``
      (openapi-schema-validator cannot resolve it; see shared/github/README.md), and on
      GET contents it maps ``array`` for a response that is a JSON array, which a
      property lookup can never reach. The ``oneOf`` branches beside them are exclusive
      on their own (``public-user`` forbids additional properties), so plain ``oneOf``
      keeps the check.
    - ``nullable: true`` next to an ``enum`` gets ``null`` added to the enum (OAS 3.0.3
      leaves this open; GitHub returns ``"conclusion": null`` for queued check runs).
    """
    if isinstance(node, dict):
        node.pop("discriminator", None)
        enum = node.get("enum")
        if node.get("nullable") is True and isinstance(enum, list) and None not in enum:
            enum.append(None)
        for value in node.values():
            _normalise(value)
    elif isinstance(node, list):
        for value in node:
            _normalise(value)


class OpenApiChecker:
    """Validates requests and responses; thread-safe; collects nothing itself."""

    def __init__(self, path: Path = SPEC_PATH) -> None:
        self.document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        _normalise(self.document)
        resource = Resource.from_contents(self.document, default_specification=DRAFT4)
        self._registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
        self._validators: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self.operations: dict[tuple[str, str], Operation] = {}
        for template, item in self.document["paths"].items():
            for method, op in item.items():
                if method in {"get", "post", "put", "patch", "delete"}:
                    pointer = f"/paths/{_escape(template)}/{method}"
                    self.operations[(method.upper(), template)] = Operation(
                        method.upper(), template, pointer, op
                    )

    def operation_for(self, method: str, template: str) -> Operation | None:
        key = ALIASES.get((method, template), (method, template))
        return self.operations.get(key)

    def _validator(self, key: str, pointer: str, *, write: bool) -> Any:
        with self._lock:
            found = self._validators.get((key, pointer))
            if found is None:
                cls = OAS30WriteValidator if write else OAS30ReadValidator
                found = cls({"$ref": f"{SPEC_URI}#{pointer}"}, registry=self._registry)
                self._validators[(key, pointer)] = found
            return found

    def _resolve(self, node: dict[str, Any], pointer: str) -> tuple[dict[str, Any], str]:
        """Follow a ``$ref`` to a component (responses, request bodies)."""
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = self.document
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            return target, ref[1:]
        return node, pointer

    def check_request(self, method: str, template: str, body: Any) -> Iterator[str]:
        op = self.operation_for(method, template)
        if op is None:
            if (method, template) not in UNDOCUMENTED:
                yield f"{method} {template}: no such operation in GitHub's description"
            return
        request_body = op.operation.get("requestBody")
        if request_body is None:
            return
        rb, pointer = self._resolve(request_body, op.pointer + "/requestBody")
        media = rb.get("content", {}).get("application/json")
        if media is None or "schema" not in media:
            return
        if body is None:
            if rb.get("required"):
                yield f"{method} {template}: request body is required"
            return
        validator = self._validator("request", f"{pointer}/content/application~1json/schema", write=True)
        error = best_match(validator.iter_errors(body))
        if error is not None:
            yield f"{method} {template} request: {_describe(error)}"

    def check_response(self, method: str, template: str, status: int, body: Any) -> Iterator[str]:
        op = self.operation_for(method, template)
        if op is None:
            return
        responses = op.operation["responses"]
        if str(status) not in responses:
            if status < 400:
                yield f"{method} {template}: status {status} is not documented"
            elif not (isinstance(body, dict) and isinstance(body.get("message"), str)):
                yield f"{method} {template}: error {status} without a 'message'"
            return
        resp, pointer = self._resolve(responses[str(status)], f"{op.pointer}/responses/{status}")
        media = resp.get("content", {}).get("application/json")
        if media is None or "schema" not in media:
            if body is not None and status != 204:
                yield f"{method} {template}: {status} should have no JSON body"
            return
        validator = self._validator("response", f"{pointer}/content/application~1json/schema", write=False)
        error = best_match(validator.iter_errors(body))
        if error is not None:
            yield f"{method} {template} {status} response: {_describe(error)}"


def _describe(error: Any) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "<root>"
    message = re.sub(r"\s+", " ", str(error.message))
    return f"at {where}: {message[:300]}"


@cache
def shared_checker() -> OpenApiChecker | None:
    """One checker per process (the document is ~1 MB); None when the folder is absent."""
    return OpenApiChecker() if spec_available() else None
