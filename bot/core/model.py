"""Values shared by the whole bot: frozen dataclasses and the closed sets promobot owns.

Dicts live at the edges (YAML, JSON, PyGithub); everything inside is one of these.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, Literal

from bot.core.promql import PrometheusGate
from bot.core.providers import Providers
from bot.core.registry import RegistryRef

if TYPE_CHECKING:
    from bot.core.verify import VerifyPolicy

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
MetricSource = Literal["manifest", "mlflow"]

CHECK_GATES = "promobot/gates"
CHECK_APPROVALS = "promobot/approvals"
CHECK_READY = "promobot/ready"
CHECK_NAMES = (CHECK_GATES, CHECK_APPROVALS, CHECK_READY)

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


@dataclass(frozen=True, slots=True)
class Manifest:
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
    lineage: Mapping[str, Any] = field(default_factory=dict)
    path: str = ""
    registry: RegistryRef | None = None
    """``registry.mlflow`` (README "Keep MLflow in step"): the registered model version, if named."""

    def promoted(self, local_keys: tuple[str, ...]) -> dict[str, Any]:
        """The promoted part of the document: every top-level key except local ones."""
        return {k: v for k, v in self.data.items() if k not in local_keys}


@dataclass(frozen=True, slots=True)
class Rejection:
    """One entry of ``environments/rejected.yaml``."""

    model: str
    version: str
    reason: str
    by: str
    at: str


# --------------------------------------------------------------------------- policy


@dataclass(frozen=True, slots=True)
class MetricGate:
    name: str
    min: float | None = None
    max: float | None = None
    kind: Literal["metric"] = "metric"
    source: MetricSource = "manifest"
    """Where the number comes from: the manifest's ``metrics`` or the MLflow run's logged metrics."""

    @property
    def label(self) -> str:
        bounds = []
        if self.min is not None:
            bounds.append(f"≥ {self.min:g}")
        if self.max is not None:
            bounds.append(f"≤ {self.max:g}")
        via = " (mlflow)" if self.source == "mlflow" else ""
        return f"metric {self.name}{via} {' and '.join(bounds)}"


@dataclass(frozen=True, slots=True)
class CompareGate:
    metric: str
    max_drop: float | None = None
    max_increase: float | None = None
    kind: Literal["compare"] = "compare"
    source: MetricSource = "manifest"

    @property
    def label(self) -> str:
        limits = []
        if self.max_drop is not None:
            limits.append(f"drop ≤ {self.max_drop:g}")
        if self.max_increase is not None:
            limits.append(f"increase ≤ {self.max_increase:g}")
        via = " (mlflow)" if self.source == "mlflow" else ""
        return f"compare {self.metric}{via} ({', '.join(limits)})"


@dataclass(frozen=True, slots=True)
class SoakGate:
    hours: float
    kind: Literal["soak"] = "soak"

    @property
    def label(self) -> str:
        return f"soak {self.hours:g}h"


@dataclass(frozen=True, slots=True)
class FreezeWindow:
    """A freeze window: weekly (``days`` with an optional ``start``/``end``) or on ``dates``.

    ``days`` are ISO weekdays (1 = Monday … 7 = Sunday). ``end`` None means the end of the
    day ("24:00"); ``start`` None means the start of the day.
    """

    days: frozenset[int] = frozenset()
    dates: frozenset[date] = frozenset()
    start: time | None = None
    end: time | None = None


@dataclass(frozen=True, slots=True)
class FreezeGate:
    timezone: str
    windows: tuple[FreezeWindow, ...]
    kind: Literal["freeze"] = "freeze"

    @property
    def label(self) -> str:
        return f"freeze ({self.timezone})"


@dataclass(frozen=True, slots=True)
class ArtifactGate:
    verify: Literal["digest"] = "digest"
    max_bytes: int = 10 * 1024**3
    timeout: float = 300.0
    kind: Literal["artifact"] = "artifact"

    @property
    def label(self) -> str:
        return "artifact digest"


@dataclass(frozen=True, slots=True)
class CommandGate:
    name: str
    run: tuple[str, ...]
    timeout: float = 300.0
    kind: Literal["command"] = "command"

    @property
    def label(self) -> str:
        return f"command {self.name}"


Gate = MetricGate | CompareGate | SoakGate | FreezeGate | ArtifactGate | CommandGate | PrometheusGate

BUILTIN_GATES = ("schema", "order", "integrity", "not-rejected", "registry")


@dataclass(frozen=True, slots=True)
class ApprovalPolicy:
    required: int = 0
    approvers: tuple[str, ...] = ()
    """Logins and ``@org/team`` names; empty means anyone with write permission or more."""


@dataclass(frozen=True, slots=True)
class EnvironmentPolicy:
    name: str
    from_: str | None = None
    auto_promote: bool = False
    auto_merge: bool = False
    approvals: ApprovalPolicy = ApprovalPolicy()
    gates: tuple[Gate, ...] = ()
    verify: VerifyPolicy | None = None  # post-deploy verification (bot/core/verify.py)
    registry_alias: str | None = None
    """The model-registry alias that follows this environment (None: the environment's name)."""

    @property
    def alias(self) -> str:
        """The registry alias for this environment (``registry_alias``, default its name)."""
        return self.registry_alias or self.name


@dataclass(frozen=True, slots=True)
class RollbackPolicy:
    approvals: ApprovalPolicy = ApprovalPolicy(required=1)
    direct: bool = False
    """Authorised people (``commands.rollback``) may roll back straight to the default branch."""
    verify_direct: bool = False
    """promobot's own rollbacks (``verify.on_failure: rollback``) go straight to the default
    branch too (needs ``direct``). The only source of the bot's authority: never a lookup of
    an account's permission (reference §15)."""
    reject_version: bool = True


@dataclass(frozen=True, slots=True)
class CommandRule:
    """Who may run a slash-command: at least ``permission``, or a member of one of ``teams``."""

    permission: Permission | None = None
    teams: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Policy:
    environments: tuple[EnvironmentPolicy, ...]
    local_keys: tuple[str, ...] = ("serving",)
    rollback: RollbackPolicy = RollbackPolicy()
    commands: Mapping[str, CommandRule] = field(default_factory=dict)
    providers: Providers = field(default_factory=Providers)  # bot/core/providers.py

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.environments)

    def env(self, name: str) -> EnvironmentPolicy | None:
        for e in self.environments:
            if e.name == name:
                return e
        return None

    def downstream(self, name: str) -> tuple[EnvironmentPolicy, ...]:
        """Environments promoted *from* ``name`` (fan-out included)."""
        return tuple(e for e in self.environments if e.from_ == name)


# --------------------------------------------------------------------------- forge values


@dataclass(frozen=True, slots=True)
class PullRequest:
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


@dataclass(frozen=True, slots=True)
class Review:
    id: int
    login: str
    state: ReviewState
    commit_id: str
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    author: str
    body: str
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class CheckRun:
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


@dataclass(frozen=True, slots=True)
class Deployment:
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


@dataclass(frozen=True, slots=True)
class GateResult:
    name: str
    kind: str
    result: GateOutcome
    reason: str
    details: str = ""
    until: datetime | None = None
    """For ``pending``: when the gate is expected to pass (soak end, freeze end)."""


@dataclass(frozen=True, slots=True)
class HistoryEntry:
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
