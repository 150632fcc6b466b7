"""What the gates judge (reference §3): the facts the app gathers before ``gates.evaluate``.

:class:`GateInputs` holds everything a gate may look at (manifests, rejections, when the version
reached ``from``, the artifact check, command outcomes, registry and Prometheus evidence, the
verification in ``from``); the adapters fill :class:`ArtifactCheck` and :class:`CommandOutcome`.
The small helpers every gate module uses to word a verdict live here too, so the gate modules
import this one and never each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from bot.core import promql
from bot.core.model import GateResult, Manifest, Rejection
from bot.core.promql import PrometheusGate
from bot.core.registry import RegistryEvidence

ArtifactOutcome = Literal[
    "ok", "mismatch", "missing", "too-large", "unreachable", "unsupported", "timeout", "escapes-repo"
]


@dataclass(frozen=True, slots=True)
class ArtifactCheck:
    """What ``adapters/artifacts.py`` found when it hashed the artifact."""

    outcome: ArtifactOutcome
    detail: str
    actual_digest: str | None = None
    bytes_read: int = 0


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    """How a command gate's process ended (``adapters/commands.py``)."""

    exit_code: int | None
    timed_out: bool
    output_tail: str
    duration_s: float
    error: str | None = None
    """Set when the command could not start (not found, not executable)."""


@dataclass(frozen=True, slots=True)
class VerifiedInput:
    """What the ``promobot/verify`` check says about the candidate in ``from``."""

    state: Literal["success", "failure", "pending"] | None
    """None: no verification exists for this version (it did not arrive by promotion/rollback)."""
    reason: str
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class GateInputs:
    """Everything the gates judge, gathered by the app before ``evaluate``."""

    model: str
    from_env: str
    to_env: str
    candidate: Manifest | None
    """The target manifest on the PR head (None when it failed to load)."""
    candidate_error: str | None
    """The schema error text when ``candidate`` is None."""
    source: Manifest | None
    """What ``from`` runs now, at the PR's base commit."""
    incumbent: Manifest | None
    """What the target runs now, at the PR's base commit (None: new to the target)."""
    local_keys: tuple[str, ...]
    rejections: tuple[Rejection, ...]
    became_current_at: datetime | None
    """When ``candidate.version`` became current in ``from`` (git history); None = unknown."""
    artifact: ArtifactCheck | None = None
    commands: Mapping[str, CommandOutcome] = field(default_factory=dict)
    action: str = "promote"
    """What the PR does (``promote`` or ``rollback``): hints name the command that rebuilds it."""
    from_is_first: bool = False
    """True when ``from_env`` is never promoted into (people or CI write it, e.g. dev)."""
    registry: RegistryEvidence | None = None
    """The MLflow registry's view (None: the policy has no mlflow provider); see bot/core/registry.py."""
    prometheus: Mapping[PrometheusGate, promql.Evidence | str] = field(default_factory=dict)
    """Each prometheus gate's evidence, or why its query could not be built (a failure)."""
    verified: VerifiedInput | None = None
    """The candidate's post-deploy verification in ``from`` (None: ``from`` has no verify)."""


def rerun(inputs: GateInputs) -> str:
    """The command that rebuilds this PR from what the environments run now."""
    if inputs.action == "rollback":
        return f"re-run `promobot rollback {inputs.model} --env {inputs.to_env}`"
    return f"re-run `promobot promote {inputs.model} --to {inputs.to_env}`"


def not_checked(name: str, kind: str) -> GateResult:
    """A failure for a gate that needs the candidate manifest, which did not load."""
    return GateResult(
        name=name,
        kind=kind,
        result="failure",
        reason="not checked: the manifest on this PR does not load (see the schema gate)",
    )


def num(value: float) -> str:
    """A number as a reason shows it: ``0.9``, ``41``, ``1e+12``."""
    return f"{value:g}"


def short_digest(digest: str) -> str:
    """``sha256:ab12cd34…``: enough of a digest to tell two apart in one line."""
    algo, _, hexpart = digest.partition(":")
    return f"{algo}:{hexpart[:8]}…" if hexpart and len(hexpart) > 8 else digest


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
