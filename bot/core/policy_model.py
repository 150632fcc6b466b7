"""The promotion policy as values: gates, environments, approvals, rollback and command rules.

``policy.py`` reads ``environments/promotion.yaml`` into these (reference §3); the sections
whose types have an owner are defined there (``prometheus`` gates in ``promql.py``,
``providers`` in ``providers.py``, ``verify`` in ``verify.py``). Apart from ``model.py``: the
read-only commands (``status``, ``history``) on a warm cache use no policy, and defining
these frozen dataclasses (and importing their owners) was a fifth of their start-up (issue #16).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from typing import TYPE_CHECKING, Literal

from bot.core.model import Permission
from bot.core.promql import PrometheusGate, bounds_label
from bot.core.providers import Providers

if TYPE_CHECKING:
    from bot.core.verify import VerifyPolicy

MetricSource = Literal["manifest", "mlflow"]


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
        via = " (mlflow)" if self.source == "mlflow" else ""
        return f"metric {self.name}{via} {bounds_label(self.min, self.max)}"


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
