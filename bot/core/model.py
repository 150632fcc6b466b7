"""Values shared by the whole bot: immutable records and the closed sets promobot owns.

Dicts live at the edges (YAML, JSON, PyGithub); everything inside is one of these. The
records are ``NamedTuple``s, not frozen dataclasses: every command defines them all at
start-up, and a frozen dataclass costs about five times as much to define (benchmarks/README.md,
"Where start-up goes"). Change one with ``._replace(field=value)``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

if TYPE_CHECKING:
    from bot.core.registry import RegistryRef

MODEL_NAME_RE = re.compile(r"^(?!.*\.\.)(?!.*\.lock$)[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$")
"""The only names that may become a path or a branch component (``promobot/<env>/<model>``):
git refuses ``..`` anywhere in a branch name and a component ending in ``.lock``."""
NAME_RULE = (
    "use lowercase letters, digits, '.', '_' and '-', starting and ending with a letter or digit, "
    "at most 64 characters, without '..' and not ending in '.lock' (git refuses those in branch names)"
)
"""The name rule in words, for error hints."""

ENV_NAME_RE = MODEL_NAME_RE
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")

GateOutcome = Literal["success", "failure", "pending"]
ReviewState = Literal["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"]
PullState = Literal["open", "closed", "merged"]
Action = Literal["promote", "rollback"]

CHECK_GATES = "promobot/gates"
CHECK_APPROVALS = "promobot/approvals"
CHECK_READY = "promobot/ready"
CHECK_NAMES = (CHECK_GATES, CHECK_APPROVALS, CHECK_READY)
CHECK_VERIFY = "promobot/verify"
"""A post-deploy verification's check (reference §15; ``bot.core.verify``), not one of a PR's three."""

LABEL_PROMOTION = "promobot:promotion"
LABEL_ROLLBACK = "promobot:rollback"
LABEL_HOLD = "promobot:hold"
LABEL_ENV_PREFIX = "promobot:env:"


def is_valid_name(name: str) -> bool:
    """True when ``name`` may be used as a model or environment name (and so as a path part)."""
    return MODEL_NAME_RE.fullmatch(name) is not None


class Permission(enum.IntEnum):
    """Repository permission levels, ordered so that ``>=`` means "at least"."""

    NONE = 0
    READ = 1
    TRIAGE = 2
    WRITE = 3
    MAINTAIN = 4
    ADMIN = 5

    @classmethod
    def parse(cls, text: str) -> Permission:
        """``"write"`` → ``Permission.WRITE``; GitHub's ``pull``/``push`` aliases too."""
        aliases = {"pull": "read", "push": "write", "triage": "triage"}
        key = aliases.get(text.lower(), text.lower())
        try:
            return cls[key.upper()]
        except KeyError:
            raise ValueError(f"unknown permission {text!r}") from None

    @property
    def label(self) -> str:
        return self.name.lower()


# --------------------------------------------------------------------------- manifests


class Manifest(NamedTuple):
    """A validated model manifest (reference §2). ``data`` is the whole document as plain data."""

    name: str
    version: str
    artifact_uri: str
    artifact_digest: str
    metrics: Mapping[str, float]
    data: Mapping[str, Any]
    eval_dataset_uri: str | None = None
    eval_dataset_digest: str | None = None
    owner: str | None = None
    lineage: Mapping[str, Any] = MappingProxyType({})
    path: str = ""
    registry: RegistryRef | None = None
    """``registry.mlflow`` (README "Keep MLflow in step"): the registered model version, if named."""

    def promoted(self, local_keys: tuple[str, ...]) -> dict[str, Any]:
        """The promoted part of the document: every top-level key except local ones."""
        return {k: v for k, v in self.data.items() if k not in local_keys}


class Rejection(NamedTuple):
    """One entry of ``environments/rejected.yaml``."""

    model: str
    version: str
    reason: str
    by: str
    at: str


# --------------------------------------------------------------------------- forge values


class PullRequest(NamedTuple):
    number: int
    state: PullState
    title: str
    body: str
    head_branch: str
    head_sha: str
    base_branch: str
    author: str
    labels: tuple[str, ...] = ()
    draft: bool = False
    merge_sha: str | None = None
    base_sha: str | None = None
    from_fork: bool = False


class Review(NamedTuple):
    id: int
    login: str
    state: ReviewState
    commit_id: str
    is_bot: bool = False


class Comment(NamedTuple):
    id: int
    author: str
    body: str
    is_bot: bool = False


class CheckRun(NamedTuple):
    """A check (or commit status) on a commit, as the forge reports it.

    ``by_promobot`` is False when another app or user created a check of the same name:
    such a check never makes a PR ready.
    """

    name: str
    head_sha: str
    result: GateOutcome
    title: str = ""
    summary: str = ""
    by_promobot: bool = True
    record: str = ""
    """What promobot recorded on the check when it created it (GitHub: the check run's
    ``external_id``); only meaningful when ``by_promobot``. See ``bot.core.marker.WROTE``."""


DeploymentState = Literal["in_progress", "success", "failure", "inactive"]
"""The deployment states promobot sets (GitHub knows more: queued, pending, error)."""


class Deployment(NamedTuple):
    """A deployment of a commit to an environment, as the forge reports it (reference §15.3).

    ``task`` is ``deploy:<model>``: one environment holds many models, each its own line of
    deployments. ``state`` is the newest status (None when it has none), known only from
    ``Forge.deployment_state``; listings leave it None.
    """

    id: int
    sha: str
    environment: str
    task: str
    description: str = ""
    state: str | None = None


class GateResult(NamedTuple):
    name: str
    kind: str
    result: GateOutcome
    reason: str
    details: str = ""
    until: datetime | None = None
    """For ``pending``: when the gate is expected to pass (soak end, freeze end)."""


class HistoryEntry(NamedTuple):
    """One commit that changed a manifest, newest first in lists (reference §8–9)."""

    sha: str
    at: datetime
    action: Literal["promote", "rollback", "manual"]
    model: str
    env: str
    version: str | None
    previous_version: str | None
    subject: str = ""
    author: str = ""
    pr: int | None = None
    approved_by: tuple[str, ...] = ()
    rollback_of: str | None = None
    from_env: str | None = None
    verification: str | None = None
    """``Promobot-Verification`` (``failed <check>``): a rollback started by a failed verification."""
