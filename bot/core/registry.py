"""The model registry as promobot sees it (reference §16): names, versions, runs.

A manifest may name its registered model version (``registry: {mlflow: {model, version}}``);
the registry then follows git. This module holds the registry's data as promobot's own frozen
values (the MLflow adapter converts MLflow's JSON into them at once) and the rules on names
that hold before any request is sent: a hostile name never reaches a URL or a request body.

- A registered-model name is ``[A-Za-z0-9][A-Za-z0-9._-]{0,255}`` (MLflow allows more; promobot
  keeps to names that are safe in a URL, a log line and a comment).
- A model version is MLflow's: a positive whole number written as a string (``"12"``).
- An alias is ``[A-Za-z0-9_-]+`` and neither ``latest`` nor ``v<digits>`` (MLflow reserves both).

The policy's rules about the registry (one mlflow provider, valid aliases, ``source: mlflow``)
are read here too (:func:`check_registry_rules`, :func:`parse_metric_source`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from bot.core.yamlsafe import Path, Reader

if TYPE_CHECKING:
    from bot.core.policy_model import EnvironmentPolicy, MetricSource

REGISTERED_MODEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$")
MODEL_VERSION_RE = re.compile(r"^[1-9][0-9]{0,18}$")
ALIAS_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
RESERVED_ALIAS_RE = re.compile(r"^(latest|v[0-9]+)$", re.IGNORECASE)
RUN_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def alias_problem(alias: str) -> str | None:
    """Why ``alias`` cannot be an MLflow alias, or None when it can."""
    if ALIAS_RE.fullmatch(alias) is None:
        return f"alias {alias!r} is not valid: use letters, digits, '_' and '-'"
    if RESERVED_ALIAS_RE.fullmatch(alias) is not None:
        return f"alias {alias!r} is reserved by MLflow (latest and v<digits> are): choose another"
    return None


def model_problem(name: str) -> str | None:
    """Why ``name`` is not a registered-model name promobot accepts, or None."""
    if REGISTERED_MODEL_RE.fullmatch(name) is None:
        return (
            f"registered model name {name!r} is not valid: use letters, digits, '.', '_' and '-', "
            "starting with a letter or digit"
        )
    return None


def version_problem(version: str) -> str | None:
    """Why ``version`` is not an MLflow model version (a positive whole number as a string), or None."""
    if MODEL_VERSION_RE.fullmatch(version) is None:
        return (
            f"registry version {version!r} is not an MLflow model version: "
            'write it as a quoted whole number, e.g. "12"'
        )
    return None


class RegistryRef(NamedTuple):
    """``registry.mlflow`` of a manifest: which registered model version this manifest is."""

    model: str
    version: str


class ModelVersion(NamedTuple):
    """One registered model version as the registry reports it."""

    model: str
    version: str
    status: str
    """READY, PENDING_REGISTRATION or FAILED_REGISTRATION."""
    run_id: str | None
    source: str
    aliases: tuple[str, ...] = ()
    tags: Mapping[str, str] = MappingProxyType({})
    stage: str = "None"

    @property
    def is_deleted(self) -> bool:
        """True for a version MLflow keeps only as a deleted record."""
        return self.stage.lower().startswith("deleted")


class Run(NamedTuple):
    """A tracking run: its lifecycle and the latest logged value of each metric."""

    run_id: str
    lifecycle_stage: str
    metrics: Mapping[str, float]


class RegistryLookup(NamedTuple):
    """What the registry said about one manifest's ``registry.mlflow`` (gathered before the gates).

    ``unavailable`` is set when the registry could not be asked (an outage: the gates are pending);
    ``problem`` when promobot cannot ask it (a provider setting is missing: the gates fail).
    """

    ref: RegistryRef
    version: ModelVersion | None = None
    run: Run | None = None
    unavailable: str | None = None
    problem: str | None = None


class RegistryEvidence(NamedTuple):
    """The registry's view of the candidate and the incumbent (None: that manifest names no version)."""

    candidate: RegistryLookup | None
    incumbent: RegistryLookup | None = None


REL_TOLERANCE = 1e-9
"""How close a manifest metric must be to the run's logged value to be "equal"."""


def same_number(a: float, b: float) -> bool:
    """Equal within a relative tolerance of 1e-9 (exactly equal for zero)."""
    return a == b or abs(a - b) <= REL_TOLERANCE * max(abs(a), abs(b))


def logged_metrics(lookup: RegistryLookup) -> tuple[Mapping[str, float] | None, str]:
    """The run's logged metrics, or None and why they cannot be read (the caller picks the outcome)."""
    ref = lookup.ref
    where = f"{ref.model} version {ref.version}"
    if lookup.problem is not None:
        return None, lookup.problem
    if lookup.unavailable is not None:
        return None, lookup.unavailable
    if lookup.version is None or lookup.version.is_deleted:
        return None, f"registered model {where} does not exist in MLflow (missing or deleted)"
    if lookup.version.run_id is None:
        return None, f"registered model {where} names no source run"
    if lookup.run is None or lookup.run.lifecycle_stage == "deleted":
        return None, f"the source run {lookup.version.run_id} of {where} does not exist (missing or deleted)"
    return lookup.run.metrics, ""


# --------------------------------------------------------------------------- the policy's rules


def check_registry_rules(
    r: Reader, raw_envs: Sequence[Any], environments: Sequence[EnvironmentPolicy], *, mlflow: Collection[str]
) -> None:
    """The policy's registry rules (README "Keep MLflow in step"): with an mlflow provider, every
    environment's alias must be valid (its name is the default); ``source: mlflow`` needs one;
    at most one mlflow provider. ``mlflow``: the names under ``providers.mlflow``."""
    has_mlflow = bool(mlflow)
    for i, env in enumerate(environments):
        if has_mlflow and env.registry_alias is None and alias_problem(env.name) is not None:
            r.fail(
                ("environments", i, "name"),
                f"environment {env.name!r} cannot be an MLflow alias ({alias_problem(env.name)})",
                "set registry_alias: <letters, digits, '_' or '-'> on this environment",
            )
        for j, gate in enumerate(env.gates):
            if getattr(gate, "source", "manifest") == "mlflow" and not has_mlflow:
                raw_gate = raw_envs[i]["gates"][j]
                ((kind, _),) = raw_gate.items()
                r.fail(
                    ("environments", i, "gates", j, kind, "source"),
                    f"{kind} gate reads source: mlflow, but the policy has no mlflow provider",
                    "add providers: {mlflow: {registry: {tracking_uri_env: MLFLOW_TRACKING_URI}}}",
                )
    if len(mlflow) > 1:
        extra = sorted(mlflow)[1]
        r.fail(
            ("providers", "mlflow", extra),
            "more than one mlflow provider: promobot keeps one model registry in step with git",
            "list a single mlflow provider",
            key=True,
        )


def parse_metric_source(r: Reader, data: Mapping[str, Any], where: Path) -> MetricSource:
    """``source: manifest | mlflow`` of a metric or compare gate (README "Keep MLflow in step")."""
    value = data.get("source", "manifest")
    if value == "mlflow":
        return "mlflow"
    if value != "manifest":
        r.fail(
            (*where, "source"),
            f"source {value!r} is not known",
            "write source: mlflow (the registered version's logged metrics) or leave it out (the manifest's)",
        )
    return "manifest"
