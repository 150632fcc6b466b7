"""``promobot init``: make a folder a GitOps repository for promobot (reference §17).

What it writes, all from package data under ``bot/templates/init/`` (nothing is assembled
from strings, so every file can be read and reviewed as it will land):

- ``environments/promotion.yaml`` — a commented starter policy (dev → staging → prod), and
  ``environments/rejected.yaml`` (no rejected versions); ``environments/{dev,staging,prod}/``
  (a ``.gitkeep`` each, as git keeps no empty folder);
- with ``--example``, instead: the example models, policy and artifacts. The example has one
  source: ``bot/templates/init/example/environments/`` is byte for byte promobot's own
  ``environments/`` (``tests/app/test_init.py`` fails on any drift), and init changes nothing in
  it but the editor's ``$schema`` comment line;
- ``.promobot/schemas/*.schema.json`` — the JSON Schemas of the installed promobot, which the
  ``# yaml-language-server: $schema=…`` first lines point at. A copy in the repository works
  offline, for a pip-installed promobot, and matches the version that wrote the files; after
  an upgrade, ``promobot validate`` stays the authority (copy the new ``bot/schemas/`` over to
  refresh editor hints);
- ``.github/workflows/promotion.yml`` (unless ``--no-workflow``) using promobot's action pinned
  by commit SHA. The SHA is known when promobot was pip-installed from a GitHub commit
  (PEP 610 ``direct_url.json``); otherwise the file carries ``OWNER/promobot@<40 zeros>`` and a
  TODO saying what to put there — still a valid, lint-clean workflow;
- ``.pre-commit-config.yaml`` running ``promobot validate`` on changes under ``environments/``.

Then one commit of exactly those files. It never overwrites: when any of them exists, nothing
is written and the use case raises ``Blocked`` listing them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import PurePosixPath
from typing import Any

from bot.errors import Blocked, UsageError
from bot.ports import NewRepository

ENVIRONMENTS = ("dev", "staging", "prod")
SCHEMA_DIR = ".promobot/schemas"
SCHEMAS = ("manifest", "policy", "rejected")
WORKFLOW = ".github/workflows/promotion.yml"
PRE_COMMIT = ".pre-commit-config.yaml"
PLACEHOLDER_REPOSITORY = "OWNER/promobot"
PLACEHOLDER_SHA = "0" * 40
EXAMPLE_ROOT = "example"
"""``bot/templates/init/example/`` holds ``environments/`` exactly as promobot's repository does."""

_SCHEMA_LINE = re.compile(
    rb"\A# yaml-language-server: \$schema=(?:\.\./)+bot/schemas/(?P<name>[a-z]+\.schema\.json)(?P<eol>\r?\n)"
)
_GITHUB_URL = re.compile(
    r"^(?:https://|ssh://git@|git@)github\.com[/:](?P<repo>[A-Za-z0-9-]+/[A-Za-z0-9._-]+?)(?:\.git)?/?$"
)
_SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True, slots=True)
class ActionPin:
    """``uses: <repository>@<sha>`` for the workflow."""

    repository: str
    sha: str

    @property
    def uses(self) -> str:
        return f"{self.repository}@{self.sha}"


def pin_from_direct_url(text: str | None) -> ActionPin | None:
    """promobot's own commit on GitHub, from its PEP 610 ``direct_url.json``; None when unknown.

    Known only for ``pip install git+https://github.com/OWNER/promobot@REF`` (pip records the
    commit it resolved). A local folder, an editable checkout or a package index install can
    not name a commit that is certainly on GitHub, so the workflow gets a placeholder instead.
    """
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    vcs = data.get("vcs_info")
    url = data.get("url")
    if not isinstance(vcs, dict) or vcs.get("vcs") != "git" or not isinstance(url, str):
        return None
    sha = vcs.get("commit_id")
    match = _GITHUB_URL.match(url)
    if match is None or not isinstance(sha, str) or not _SHA.match(sha):
        return None
    return ActionPin(repository=match["repo"], sha=sha)


def _templates() -> Traversable:
    return resources.files("bot") / "templates" / "init"


def _walk(folder: Traversable, prefix: PurePosixPath) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for entry in folder.iterdir():
        if entry.name in ("__pycache__",) or entry.name.endswith(".pyc"):
            continue
        if entry.is_dir():
            found.update(_walk(entry, prefix / entry.name))
        else:
            found[str(prefix / entry.name)] = entry.read_bytes()
    return found


def example_files() -> dict[str, bytes]:
    """The packaged example, path → bytes, exactly as promobot's repository holds ``environments/``."""
    return dict(sorted(_walk(_templates() / EXAMPLE_ROOT, PurePosixPath()).items()))


def editor_schema_line(path: str, data: bytes) -> bytes:
    """Point a YAML file's ``$schema`` first line at the schema copies under ``.promobot/schemas/``.

    The example's files point at ``bot/schemas/`` of promobot's own checkout; in a new
    repository the same schemas sit under ``.promobot/schemas/``. Nothing else changes.
    """
    match = _SCHEMA_LINE.match(data)
    if match is None:
        return data
    up = "../" * (len(PurePosixPath(path).parts) - 1)
    line = f"# yaml-language-server: $schema={up}{SCHEMA_DIR}/{match['name'].decode()}".encode()
    return line + match["eol"] + data[match.end() :]


def _render_workflow(*, pin: ActionPin | None, version: str, branch: str) -> bytes:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bot", "templates/init"),
        # GitHub's own ${{ … }} expressions stay literal: our placeholders are [[ … ]] / [% … %].
        variable_start_string="[[",
        variable_end_string="]]",
        block_start_string="[%",
        block_end_string="%]",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 — YAML for a file, not HTML; the values are validated above
    )
    target = pin or ActionPin(PLACEHOLDER_REPOSITORY, PLACEHOLDER_SHA)
    text = env.get_template("promotion.yml.j2").render(
        pinned=pin is not None,
        repository=target.repository,
        sha=target.sha,
        version=version,
        branch=branch,
    )
    return text.encode()


def plan_files(
    *, example: bool, workflow: bool, pin: ActionPin | None, version: str, branch: str
) -> dict[str, bytes]:
    """Every file ``init`` writes, path → bytes (the decision; ``init`` only checks and applies it)."""
    templates = _templates()
    files: dict[str, bytes] = {}
    packaged = example_files()
    if example:
        files.update({p: editor_schema_line(p, data) for p, data in packaged.items()})
    else:
        files["environments/promotion.yaml"] = (templates / "promotion.yaml").read_bytes()
        rejected = "environments/rejected.yaml"
        files[rejected] = editor_schema_line(rejected, packaged[rejected])
        files.update({f"environments/{env}/.gitkeep": b"" for env in ENVIRONMENTS})
    schemas = resources.files("bot") / "schemas"
    files.update(
        {f"{SCHEMA_DIR}/{s}.schema.json": (schemas / f"{s}.schema.json").read_bytes() for s in SCHEMAS}
    )
    if workflow:
        files[WORKFLOW] = _render_workflow(pin=pin, version=version, branch=branch)
    files[PRE_COMMIT] = (templates / "pre-commit-config.yaml").read_bytes()
    return dict(sorted(files.items()))


def executable(files: Mapping[str, bytes]) -> list[str]:
    """Scripts (a ``#!`` first line) are written with mode 755, like the example's checks/smoke.py."""
    return [path for path, data in files.items() if data.startswith(b"#!")]


@dataclass(frozen=True, slots=True)
class InitResult:
    path: str
    created_repository: bool
    branch: str
    commit: str
    files: list[str]
    example: bool
    action: str | None
    pinned: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "created_repository": self.created_repository,
            "branch": self.branch,
            "commit": self.commit,
            "files": self.files,
            "example": self.example,
            "action": None if self.action is None else {"uses": self.action, "pinned": self.pinned},
        }


def init(
    target: NewRepository,
    *,
    example: bool,
    workflow: bool,
    pin: ActionPin | None,
    version: str,
) -> InitResult:
    """Make ``target`` a GitOps repository: check, then write everything and commit once."""
    enclosing = target.enclosing_repository()
    if enclosing is not None and not target.is_repository():
        raise UsageError(
            f"{target.path} is inside the git repository {enclosing}, not at its top level",
            "promobot reads environments/ at a repository's top level: init that repository "
            f"(promobot init {enclosing}) or a folder outside it",
        )
    branch = target.branch()
    files = plan_files(example=example, workflow=workflow, pin=pin, version=version, branch=branch)
    conflicts = target.existing(list(files))
    if conflicts:
        raise Blocked(
            f"{len(conflicts)} of the files promobot init would write already exist in {target.path}; "
            "nothing was written",
            "init never overwrites: move them away, or init another folder"
            + (" (or pass --no-workflow)" if WORKFLOW in conflicts else ""),
            blockers=conflicts,
        )
    created = enclosing is None
    message = "Start a promobot GitOps repository" + (" with the example models" if example else "")
    commit = target.create(
        files,
        executable=executable(files),
        message=f"{message}\n\nWritten by `promobot init` (promobot {version}).\n",
    )
    return InitResult(
        path=target.path,
        created_repository=created,
        branch=branch,
        commit=commit,
        files=list(files),
        example=example,
        action=None if not workflow else (pin.uses if pin else f"{PLACEHOLDER_REPOSITORY}@{PLACEHOLDER_SHA}"),
        pinned=workflow and pin is not None,
    )
