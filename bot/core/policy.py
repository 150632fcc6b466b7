"""The promotion policy (reference §3): ``environments/promotion.yaml`` → ``Policy``.

Validation is strict: an unknown key anywhere is an error, because a typo
(``gates`` → ``gate``) must never silently disable a gate. Every error points at
``file:line:column`` and says what to write instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, time
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core import yamlsafe
from bot.core.model import (
    ENV_NAME_RE,
    NAME_RULE,
    ApprovalPolicy,
    ArtifactGate,
    CommandGate,
    CommandRule,
    CompareGate,
    EnvironmentPolicy,
    FreezeGate,
    FreezeWindow,
    Gate,
    MetricGate,
    MetricSource,
    Permission,
    Policy,
    RollbackPolicy,
    SoakGate,
)
from bot.core.promql import MAX_POINTS, PrometheusGate, TrafficSpec, parse_duration, template_problem
from bot.core.providers import Providers, parse_providers
from bot.core.registry import alias_problem
from bot.core.verify import ON_FAILURE, VerifyPolicy
from bot.errors import PolicyError

API_VERSION = "promobot/v1"
KIND = "PromotionPolicy"
DEFAULT_PATH = "environments/promotion.yaml"
GATE_TYPES = ("metric", "compare", "soak", "freeze", "artifact", "command", "prometheus")
COMMAND_NAMES = ("promote", "retest", "hold", "unhold", "rollback", "cancel", "status", "help")
PERMISSIONS = ("read", "triage", "write", "maintain", "admin")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LOGIN_RE = re.compile(
    r"^(?:@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]+|[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?)$"
)
TEAM_RE = re.compile(r"^@[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]+$")
IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
HHMM_RE = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$|^24:00$")

Path = tuple[str | int, ...]


MAX_NUMBER = 1e12
"""The largest number a policy field takes (beyond it, time and size arithmetic overflows)."""
MAX_INTEGER = 2**63 - 1
MAX_METRIC = 1e300
"""Thresholds compared with metrics and live values go up to what a manifest metric may be."""
MAX_HOURS = 24 * 365 * 100
"""Durations in hours stop at a century (``timedelta`` overflows near 2.7e10 hours)."""
MAX_SECONDS = 7 * 24 * 3600.0
"""Timeouts stop at a week."""


def _finite(value: float) -> bool:
    """True for a number that converts to a finite float (an integer of 400 digits does not)."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _shown(value: float) -> str:
    """A number for a message: an integer of hundreds of digits is cut short."""
    text = str(value)
    return text if len(text) <= 24 else f"{text[:20]}… ({len(text)} digits)"


class _Reader:
    """Typed accessors over the parsed document that fail with a located ``PolicyError``."""

    def __init__(self, doc: yamlsafe.Document) -> None:
        self.doc = doc
        self.providers = Providers()  # set once `providers:` is read; prometheus gates name them

    def fail(self, path: Path, what: str, hint: str, *, key: bool = False) -> NoReturn:
        raise self.doc.error(path, what, hint, key=key, cls=PolicyError)

    def mapping(self, value: Any, path: Path, allowed: Sequence[str], what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, f"{what} must be a mapping", "write it as `key: value` pairs")
        for key in value:
            if key not in allowed:
                self.fail(
                    (*path, key),
                    f"unknown key {key!r} in {what}",
                    f"the keys allowed here are {', '.join(allowed)} (check the spelling)",
                    key=True,
                )
        return value

    def number(
        self,
        value: Any,
        path: Path,
        what: str,
        *,
        minimum: float | None = None,
        above: bool = False,
        maximum: float = MAX_NUMBER,
    ) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not _finite(value):
            self.fail(path, f"{what} must be a number", f"write a number, e.g. {what.split()[-1]}: 1")
        if minimum is not None and (value <= minimum if above else value < minimum):
            relation = "greater than" if above else "at least"
            self.fail(path, f"{what} is {value}, must be {relation} {minimum:g}", "change the number")
        if value > maximum:
            self.fail(path, f"{what} is {_shown(value)}, more than {maximum:g}", "change the number")
        return float(value)

    def integer(
        self,
        value: Any,
        path: Path,
        what: str,
        *,
        minimum: int,
        hint: str | None = None,
        maximum: int = MAX_INTEGER,
    ) -> int:
        if type(value) is not int:
            self.fail(path, f"{what} must be a whole number", f"write e.g. {minimum}")
        if value < minimum:
            self.fail(
                path,
                f"{what} is {_shown(value)}, must be at least {minimum}",
                hint or f"write {minimum} or more",
            )
        if value > maximum:
            self.fail(path, f"{what} is {_shown(value)}, more than {maximum}", "change the number")
        return value

    def boolean(self, value: Any, path: Path, what: str) -> bool:
        if type(value) is not bool:
            self.fail(path, f"{what} must be true or false", "write true or false (unquoted)")
        return value

    def string(self, value: Any, path: Path, what: str, hint: str) -> str:
        if not isinstance(value, str) or not value:
            self.fail(path, f"{what} must be a non-empty string", hint)
        return value

    def strings(self, value: Any, path: Path, what: str, hint: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            self.fail(path, f"{what} must be a list", hint)
        return tuple(self.string(v, (*path, i), f"{what}[{i}]", hint) for i, v in enumerate(value))


IDENTITY_KEYS = frozenset({"apiVersion", "kind", "name", "version", "artifact"})
"""What a promotion exists to move: these can never be environment-local."""


def load_policy(text: str | bytes, *, path: str = DEFAULT_PATH) -> Policy:
    """Parse and validate the promotion policy."""
    doc = yamlsafe.parse(text, path=path)
    r = _Reader(doc)
    top = r.mapping(
        doc.data if doc.data is not None else {},
        (),
        ("apiVersion", "kind", "local_keys", "providers", "environments", "rollback", "commands"),
        "the policy",
    )
    for key, want in (("apiVersion", API_VERSION), ("kind", KIND)):
        if key not in top:
            r.fail((), f"{key} is missing", f"add `{key}: {want}` at the top of the file")
        if top[key] != want:
            r.fail((key,), f"{key} is {top[key]!r}, expected {want!r}", f"write `{key}: {want}`")

    local_keys: tuple[str, ...] = ("serving",)
    if "local_keys" in top:
        listed = r.strings(
            top["local_keys"], ("local_keys",), "local_keys", "a list of top-level manifest keys"
        )
        for i, key in enumerate(listed):
            if key in IDENTITY_KEYS:
                r.fail(
                    ("local_keys", i),
                    f"{key} cannot be a local key: a promotion must move it",
                    f"remove {key} from local_keys (only keys such as serving stay per environment)",
                )
        local_keys = ("serving", *(k for k in dict.fromkeys(listed) if k != "serving"))

    providers = r.providers = parse_providers(top.get("providers"), r.fail)

    if "environments" not in top:
        r.fail((), "environments is missing", "list the environments in promotion order: dev, staging, prod")
    raw_envs = top["environments"]
    if not isinstance(raw_envs, list) or not raw_envs:
        r.fail(("environments",), "environments must be a non-empty list", "write `- name: dev` items")
    environments: list[EnvironmentPolicy] = []
    for i, raw in enumerate(raw_envs):
        environments.append(_environment(r, raw, i, environments, raw_envs))

    _registry_rules(r, raw_envs, environments, has_mlflow=bool(providers.mlflow))
    if len(providers.mlflow) > 1:
        extra = sorted(providers.mlflow)[1]
        r.fail(
            ("providers", "mlflow", extra),
            "more than one mlflow provider: promobot keeps one model registry in step with git",
            "list a single mlflow provider",
            key=True,
        )
    rollback = _rollback(r, top.get("rollback"))
    commands = _commands(r, top.get("commands"))
    return Policy(
        environments=tuple(environments),
        local_keys=local_keys,
        rollback=rollback,
        commands=commands,
        providers=providers,
    )


def env_names(policy: Policy) -> tuple[str, ...]:
    """The environment names in promotion order."""
    return policy.names


def source_env(policy: Policy, env: str) -> str | None:
    """The environment ``env`` is promoted from (None for the first, or an unknown name)."""
    found = policy.env(env)
    return None if found is None else found.from_


def _environment(
    r: _Reader, raw: Any, i: int, earlier: Sequence[EnvironmentPolicy], all_raw: Sequence[Any]
) -> EnvironmentPolicy:
    path: Path = ("environments", i)
    env = r.mapping(
        raw,
        path,
        ("name", "from", "auto_promote", "auto_merge", "approvals", "gates", "verify", "registry_alias"),
        f"environments[{i}]",
    )
    if "name" not in env:
        r.fail(path, f"environments[{i}] has no name", "add `name: <environment>`")
    name = r.string(env["name"], (*path, "name"), "environment name", "e.g. name: staging")
    if ENV_NAME_RE.fullmatch(name) is None:
        r.fail(
            (*path, "name"),
            f"environment name {name!r} is not valid",
            NAME_RULE,
        )
    if any(e.name == name for e in earlier):
        r.fail(
            (*path, "name"), f"environment {name!r} is listed twice", "give each environment a unique name"
        )

    from_: str | None = earlier[-1].name if earlier else None
    if "from" in env:
        from_ = r.string(env["from"], (*path, "from"), "from", "name an earlier environment")
        earlier_names = [e.name for e in earlier]
        if from_ not in earlier_names:
            later = [e.get("name") for e in all_raw[i:] if isinstance(e, dict)]
            if from_ == name:
                what, hint = (
                    f"environment {name!r} is promoted from itself (a cycle)",
                    "name an earlier environment",
                )
            elif from_ in later:
                what = f"environment {name!r} is promoted from {from_!r}, which comes later in the list"
                if _is_cycle(all_raw, i, from_, name):
                    what += " (a cycle)"
                hint = "list environments in promotion order: `from` may only name an earlier one"
            else:
                what, hint = f"unknown environment {from_!r} in `from`", "name an earlier environment"
            if earlier_names:
                hint += f" ({', '.join(earlier_names)})"
            else:
                hint = "the first environment is never promoted into; remove `from`"
            r.fail((*path, "from"), what, hint)

    auto_promote = r.boolean(env.get("auto_promote", False), (*path, "auto_promote"), "auto_promote")
    auto_merge = r.boolean(env.get("auto_merge", False), (*path, "auto_merge"), "auto_merge")
    approvals = _approvals(r, env.get("approvals"), (*path, "approvals"), minimum=0)
    gates: tuple[Gate, ...] = ()
    if "gates" in env:
        raw_gates = env["gates"]
        if raw_gates is None:
            raw_gates = []
        if not isinstance(raw_gates, list):
            r.fail((*path, "gates"), "gates must be a list", "write `- metric: {...}` items")
        gates = tuple(_gate(r, g, (*path, "gates", j)) for j, g in enumerate(raw_gates))
    if from_ is None and (auto_promote or auto_merge or gates):
        r.fail(
            path,
            f"the first environment {name!r} is never promoted into, so it cannot have gates or auto_*",
            "move these settings to a later environment",
        )
    verify = _verify(r, env["verify"], (*path, "verify")) if env.get("verify") is not None else None
    registry_alias: str | None = None
    if "registry_alias" in env:  # README "Keep MLflow in step"
        registry_alias = r.string(
            env["registry_alias"],
            (*path, "registry_alias"),
            "registry_alias",
            "e.g. registry_alias: champion",
        )
        problem = alias_problem(registry_alias)
        if problem is not None:
            r.fail((*path, "registry_alias"), problem, "e.g. registry_alias: champion")
    return EnvironmentPolicy(
        name=name,
        from_=from_,
        auto_promote=auto_promote,
        auto_merge=auto_merge,
        approvals=approvals,
        gates=gates,
        verify=verify,
        registry_alias=registry_alias,
    )


def _is_cycle(all_raw: Sequence[Any], i: int, from_: str, name: str) -> bool:
    """True when following ``from`` links starting at ``from_`` leads back to ``name``."""
    links: dict[str, str] = {}
    for j, e in enumerate(all_raw):
        if isinstance(e, dict) and isinstance(e.get("name"), str):
            prev = all_raw[j - 1] if j else None
            default = prev.get("name") if isinstance(prev, dict) else None
            link = e.get("from", default)
            if isinstance(link, str):
                links[e["name"]] = link
    seen: set[str] = set()
    current: str | None = from_
    while current is not None and current not in seen:
        if current == name:
            return True
        seen.add(current)
        current = links.get(current)
    return False


def _approvals(r: _Reader, raw: Any, path: Path, *, minimum: int) -> ApprovalPolicy:
    if raw is None:
        return ApprovalPolicy(required=max(minimum, 0))
    data = r.mapping(raw, path, ("required", "approvers"), ".".join(map(str, path)))
    required = minimum
    if "required" in data:
        hint = (
            "zero is not allowed: a rollback needs at least one approval"
            if minimum >= 1
            else "write 0 for no required approvals"
        )
        required = r.integer(
            data["required"], (*path, "required"), "approvals.required", minimum=minimum, hint=hint
        )
    approvers: tuple[str, ...] = ()
    if "approvers" in data:
        hint = 'list logins or teams, e.g. ["@acme/ml-leads", carol]'
        approvers = r.strings(data["approvers"] or [], (*path, "approvers"), "approvers", hint)
        for j, login in enumerate(approvers):
            if LOGIN_RE.fullmatch(login) is None:
                r.fail((*path, "approvers", j), f"approver {login!r} is not a login or @org/team", hint)
    return ApprovalPolicy(required=required, approvers=approvers)


def _registry_rules(
    r: _Reader, raw_envs: Sequence[Any], environments: Sequence[EnvironmentPolicy], *, has_mlflow: bool
) -> None:
    """With an mlflow provider every environment's alias must be valid (its name is the default);
    ``source: mlflow`` needs one (README "Keep MLflow in step")."""
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


def _metric_source(r: _Reader, data: Mapping[str, Any], where: Path) -> MetricSource:
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


def _gate(r: _Reader, raw: Any, path: Path) -> Gate:
    if not isinstance(raw, dict) or len(raw) != 1:
        r.fail(
            path, "each gate must be a mapping with exactly one key", f"use one of: {', '.join(GATE_TYPES)}"
        )
    ((kind, body),) = raw.items()
    if kind not in GATE_TYPES:
        r.fail(
            (*path, kind),
            f"unknown gate type {kind!r}",
            f"the gate types are {', '.join(GATE_TYPES)}",
            key=True,
        )
    where: Path = (*path, kind)
    if kind == "metric":
        data = r.mapping(body, where, ("name", "min", "max", "source"), "metric gate")
        name = r.string(data.get("name"), (*where, "name"), "metric gate name", "e.g. {name: auc, min: 0.85}")
        if "min" not in data and "max" not in data:
            r.fail(where, f"metric gate {name!r} has neither min nor max", "add min: and/or max:")
        low = (
            r.number(data["min"], (*where, "min"), "metric min", maximum=MAX_METRIC)
            if "min" in data
            else None
        )
        high = (
            r.number(data["max"], (*where, "max"), "metric max", maximum=MAX_METRIC)
            if "max" in data
            else None
        )
        if low is not None and high is not None and low > high:
            r.fail(where, f"metric gate {name!r} has min {low} above max {high}", "swap or fix the bounds")
        return MetricGate(name=name, min=low, max=high, source=_metric_source(r, data, where))
    if kind == "compare":
        data = r.mapping(body, where, ("metric", "max_drop", "max_increase", "source"), "compare gate")
        metric = r.string(
            data.get("metric"), (*where, "metric"), "compare metric", "e.g. {metric: auc, max_drop: 0.005}"
        )
        if "max_drop" not in data and "max_increase" not in data:
            r.fail(where, f"compare gate {metric!r} has neither max_drop nor max_increase", "add one or both")
        drop = (
            r.number(data["max_drop"], (*where, "max_drop"), "max_drop", minimum=0)
            if "max_drop" in data
            else None
        )
        inc = (
            r.number(data["max_increase"], (*where, "max_increase"), "max_increase", minimum=0)
            if "max_increase" in data
            else None
        )
        return CompareGate(
            metric=metric, max_drop=drop, max_increase=inc, source=_metric_source(r, data, where)
        )
    if kind == "soak":
        data = r.mapping(body, where, ("hours",), "soak gate")
        if "hours" not in data:
            r.fail(where, "soak gate has no hours", "write e.g. soak: {hours: 24}")
        return SoakGate(
            hours=r.number(
                data["hours"], (*where, "hours"), "soak hours", minimum=0, above=True, maximum=MAX_HOURS
            )
        )
    if kind == "freeze":
        return _freeze(r, body, where)
    if kind == "prometheus":
        return _prometheus_gate(r, body, where)
    if kind == "artifact":
        data = r.mapping(
            body if body is not None else {"verify": "digest"},
            where,
            ("verify", "max_bytes", "timeout"),
            "artifact gate",
        )
        if data.get("verify", "digest") != "digest":
            r.fail(
                (*where, "verify"),
                f"unknown artifact check {data.get('verify')!r}",
                "the only check is verify: digest",
            )
        max_bytes = (
            r.integer(data["max_bytes"], (*where, "max_bytes"), "max_bytes", minimum=1)
            if "max_bytes" in data
            else ArtifactGate().max_bytes
        )
        timeout = (
            r.number(
                data["timeout"], (*where, "timeout"), "timeout", minimum=0, above=True, maximum=MAX_SECONDS
            )
            if "timeout" in data
            else ArtifactGate().timeout
        )
        return ArtifactGate(max_bytes=max_bytes, timeout=timeout)
    return _command_gate(r, body, where)


def _command_gate(r: _Reader, body: Any, where: Path, *, what: str = "command gate") -> CommandGate:
    """A ``command`` gate, or (``what="command check"``) a verification check: an argv, no shell."""
    data = r.mapping(body, where, ("name", "run", "timeout"), what)
    name = r.string(data.get("name"), (*where, "name"), f"{what} name", "e.g. name: smoke")
    if IDENTIFIER_RE.fullmatch(name) is None:
        r.fail(
            (*where, "name"),
            f"{what} name {name!r} is not an identifier",
            "use letters, digits, _ and -",
        )
    run = data.get("run")
    if isinstance(run, str):
        r.fail(
            (*where, "run"),
            "run is a string; it must be an argv list, no shell",
            f"write run as a list, e.g. run: [{', '.join(run.split()) or 'python3, checks/smoke.py'}]",
        )
    argv = r.strings(run, (*where, "run"), "run", "an argv list, e.g. [python3, checks/smoke.py]")
    if not argv:
        r.fail((*where, "run"), "run is empty", "an argv list, e.g. [python3, checks/smoke.py]")
    timeout = r.number(
        data.get("timeout", 300), (*where, "timeout"), "timeout", minimum=0, above=True, maximum=MAX_SECONDS
    )
    return CommandGate(name=name, run=argv, timeout=float(timeout))


def _freeze(r: _Reader, body: Any, where: Path) -> FreezeGate:
    data = r.mapping(body, where, ("timezone", "windows"), "freeze gate")
    tz = r.string(
        data.get("timezone", "UTC"), (*where, "timezone"), "timezone", "an IANA name, e.g. Europe/Berlin"
    )
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        r.fail(
            (*where, "timezone"), f"unknown timezone {tz!r}", "use an IANA name, e.g. Europe/Berlin or UTC"
        )
    raw_windows = data.get("windows")
    if not isinstance(raw_windows, list) or not raw_windows:
        r.fail(where, "freeze gate needs a non-empty windows list", "e.g. windows: [{days: [sat, sun]}]")
    windows: list[FreezeWindow] = []
    for k, raw in enumerate(raw_windows):
        path: Path = (*where, "windows", k)
        w = r.mapping(raw, path, ("days", "dates", "from", "to"), "freeze window")
        if "days" not in w and "dates" not in w:
            r.fail(
                path,
                "a freeze window needs days or dates",
                'e.g. {days: [sat, sun]} or {dates: ["2026-12-24"]}',
            )
        days: set[int] = set()
        for j, day in enumerate(r.strings(w.get("days", []), (*path, "days"), "days", "e.g. [sat, sun]")):
            if day.lower() not in WEEKDAYS:
                r.fail((*path, "days", j), f"unknown weekday {day!r}", f"use {', '.join(WEEKDAYS)}")
            days.add(WEEKDAYS.index(day.lower()) + 1)
        dates: set[date] = set()
        for j, text in enumerate(
            r.strings(w.get("dates", []), (*path, "dates"), "dates", 'e.g. ["2026-12-24"]')
        ):
            try:
                dates.add(date.fromisoformat(text))
            except ValueError:
                r.fail((*path, "dates", j), f"{text!r} is not a date", 'write an ISO date, e.g. "2026-12-24"')
        start = _clock(r, w, (*path, "from"))
        end = _clock(r, w, (*path, "to"))
        if start is not None and end is not None and start >= end:
            r.fail(
                (*path, "from"),
                f"freeze window from {w['from']} is not before to {w['to']}",
                'a window cannot cross midnight; split it in two (… to "24:00" and "00:00" to …)',
            )
        windows.append(FreezeWindow(days=frozenset(days), dates=frozenset(dates), start=start, end=end))
    return FreezeGate(timezone=tz, windows=tuple(windows))


def _clock(r: _Reader, window: Mapping[str, Any], path: Path) -> time | None:
    key = str(path[-1])
    if key not in window:
        return None
    text = window[key]
    if not isinstance(text, str) or HHMM_RE.fullmatch(text) is None or (text == "24:00" and key == "from"):
        r.fail(
            path,
            f"freeze {key} {text!r} is not a time of day",
            'write "HH:MM" in quotes, e.g. "15:00" (to may be "24:00")',
        )
    if text == "24:00":
        return None
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _rollback(r: _Reader, raw: Any) -> RollbackPolicy:
    if raw is None:
        return RollbackPolicy()
    data = r.mapping(
        raw, ("rollback",), ("approvals", "direct", "verify_direct", "reject_version"), "rollback"
    )
    approvals = _approvals(r, data.get("approvals"), ("rollback", "approvals"), minimum=1)
    direct = r.boolean(data.get("direct", False), ("rollback", "direct"), "rollback.direct")
    verify_direct = r.boolean(
        data.get("verify_direct", False), ("rollback", "verify_direct"), "rollback.verify_direct"
    )
    if verify_direct and not direct:
        r.fail(
            ("rollback", "verify_direct"),
            "rollback.verify_direct needs rollback.direct: true (no direct rollbacks at all otherwise)",
            "set rollback.direct: true as well, or drop verify_direct so promobot opens rollback PRs",
        )
    return RollbackPolicy(
        approvals=approvals,
        direct=direct,
        verify_direct=verify_direct,
        reject_version=r.boolean(
            data.get("reject_version", True), ("rollback", "reject_version"), "rollback.reject_version"
        ),
    )


def _commands(r: _Reader, raw: Any) -> dict[str, CommandRule]:
    if raw is None:
        return {}
    data = r.mapping(raw, ("commands",), COMMAND_NAMES, "commands")
    rules: dict[str, CommandRule] = {}
    for name, body in data.items():
        path: Path = ("commands", name)
        rule = r.mapping(body, path, ("permission", "teams"), f"commands.{name}")
        permission: Permission | None = None
        if "permission" in rule:
            level = rule["permission"]
            if level not in PERMISSIONS:
                r.fail(
                    (*path, "permission"),
                    f"unknown permission {level!r}",
                    f"use one of {', '.join(PERMISSIONS)}",
                )
            permission = Permission.parse(level)
        teams = r.strings(rule.get("teams", []), (*path, "teams"), "teams", 'e.g. ["@acme/sre"]')
        for j, team in enumerate(teams):
            if TEAM_RE.fullmatch(team) is None:
                r.fail((*path, "teams", j), f"{team!r} is not a team", 'write teams as "@org/team"')
        if permission is None and not teams:
            r.fail(path, f"commands.{name} allows nobody", "add permission: write (or teams: [...])")
        rules[name] = CommandRule(permission=permission, teams=teams)
    return rules


# --------------------------------------------------------------------------- prometheus gates

PROMETHEUS_KEYS = ("name", "provider", "env", "query", "min", "max", "over", "step", "min_points", "traffic")


def _prometheus_gate(r: _Reader, body: Any, where: Path, *, window: bool = False) -> PrometheusGate:
    """A ``prometheus`` gate; ``window``: a verification check, whose range is the verify window."""
    keys = tuple(k for k in PROMETHEUS_KEYS if not (window and k == "over"))
    data = r.mapping(body, where, keys, "prometheus gate" if not window else "prometheus check")
    name = r.string(data.get("name"), (*where, "name"), "prometheus gate name", "e.g. name: error-rate")
    if IDENTIFIER_RE.fullmatch(name) is None:
        r.fail(
            (*where, "name"),
            f"prometheus gate name {name!r} is not an identifier",
            "use letters, digits, _ and -",
        )
    provider = r.string(
        data.get("provider"), (*where, "provider"), "provider", "name a providers.prometheus entry"
    )
    if provider not in r.providers.prometheus:
        known = ", ".join(r.providers.prometheus) or "none yet"
        r.fail(
            (*where, "provider"),
            f"unknown prometheus provider {provider!r}",
            f"add it under providers.prometheus (defined: {known})",
        )
    env: str | None = None
    if "env" in data:
        env = r.string(data["env"], (*where, "env"), "env", "name an environment")
        raw_envs = r.doc.data.get("environments") if isinstance(r.doc.data, dict) else None
        names = [e.get("name") for e in raw_envs or () if isinstance(e, dict)]
        if env not in names:
            r.fail(
                (*where, "env"),
                f"unknown environment {env!r} in env",
                f"name one of {', '.join(map(str, names))}",
            )
    query = r.string(data.get("query"), (*where, "query"), "query", "a PromQL query returning one series")
    problem = template_problem(query)
    if problem is not None:
        r.fail(
            (*where, "query"),
            f"query has {problem}",
            "write only the placeholders listed, or remove the braces",
        )
    if "min" not in data and "max" not in data:
        r.fail(where, f"prometheus gate {name!r} has neither min nor max", "add min: and/or max:")
    low = (
        r.number(data["min"], (*where, "min"), "prometheus min", maximum=MAX_METRIC)
        if "min" in data
        else None
    )
    high = (
        r.number(data["max"], (*where, "max"), "prometheus max", maximum=MAX_METRIC)
        if "max" in data
        else None
    )
    if low is not None and high is not None and low > high:
        r.fail(where, f"prometheus gate {name!r} has min {low} above max {high}", "swap or fix the bounds")
    over = _duration(r, data, where, "over", "1h")
    step = _duration(r, data, where, "step", "1m")
    if not window and over / step > MAX_POINTS:
        r.fail(
            (*where, "step"),
            f"over / step is {over / step:.0f} points, Prometheus answers at most {MAX_POINTS}",
            "use a larger step",
        )
    min_points = (
        r.integer(data["min_points"], (*where, "min_points"), "min_points", minimum=1)
        if "min_points" in data
        else 1
    )
    traffic = None
    if "traffic" in data:
        tpath: Path = (*where, "traffic")
        raw = r.mapping(data["traffic"], tpath, ("query", "min"), "traffic")
        tquery = r.string(raw.get("query"), (*tpath, "query"), "traffic query", "e.g. sum(increase(...[2h]))")
        problem = template_problem(tquery)
        if problem is not None:
            r.fail((*tpath, "query"), f"traffic query has {problem}", "write only the placeholders listed")
        if "min" not in raw:
            r.fail(tpath, "traffic has no min", "write e.g. traffic: {query: ..., min: 1000}")
        traffic = TrafficSpec(
            query=tquery,
            min=r.number(raw["min"], (*tpath, "min"), "traffic min", minimum=0, maximum=MAX_METRIC),
        )
    return PrometheusGate(
        name=name,
        provider=provider,
        query=query,
        env=env,
        min=low,
        max=high,
        over=over,
        step=step,
        min_points=min_points,
        traffic=traffic,
    )


def _duration(r: _Reader, data: Mapping[str, Any], where: Path, key: str, default: str) -> float:
    value = data.get(key, default)
    try:
        seconds = parse_duration(value)
    except OverflowError:  # an integer of hundreds of digits
        seconds = math.inf
    if seconds is None:
        r.fail((*where, key), f"{key} must be a duration", f"write e.g. {key}: {default} (s, m, h or d)")
    if not seconds <= MAX_HOURS * 3600:
        r.fail((*where, key), f"{key} is longer than a century", f"write e.g. {key}: {default}")
    return seconds


def _verify(r: _Reader, raw: Any, path: Path) -> VerifyPolicy:
    """``verify:`` on an environment: checks judged over a window after each merge into it."""
    data = r.mapping(raw, path, ("delay", "duration", "checks", "on_failure", "max_errors"), "verify")
    zero = data.get("delay") in (0, "0s", "0m", "0h")
    delay = 0.0 if zero else _duration(r, data, path, "delay", "10m")
    duration = _duration(r, data, path, "duration", "2h")
    raw_checks = data.get("checks")
    if not isinstance(raw_checks, list) or not raw_checks:
        r.fail(
            (*path, "checks") if "checks" in data else path,
            "verify needs a non-empty checks list",
            "e.g. checks: [{prometheus: {name: ..., ...}}] or [{command: {name: ..., run: [...]}}]",
        )
    checks: list[PrometheusGate | CommandGate] = []
    for j, item in enumerate(raw_checks):
        where: Path = (*path, "checks", j)
        if not isinstance(item, dict) or len(item) != 1 or not set(item) <= {"prometheus", "command"}:
            r.fail(
                where,
                "each verify check is `- prometheus: {...}` or `- command: {...}`",
                "write the check as a prometheus entry (a query judged over the window) or a command "
                "entry (name, run as an argv list, timeout)",
            )
        ((kind, body),) = item.items()
        check: PrometheusGate | CommandGate
        if kind == "prometheus":
            check = _prometheus_gate(r, body, (*where, kind), window=True)
        else:
            check = _command_gate(r, body, (*where, kind), what="command check")
        if any(c.name == check.name for c in checks):
            r.fail(
                (*where, kind, "name"),
                f"check {check.name!r} is listed twice",
                "give each a unique name",
            )
        if isinstance(check, PrometheusGate) and check.step > duration:
            r.fail((*where, kind, "step"), "step is longer than verify.duration", "use a smaller step")
        if isinstance(check, PrometheusGate) and duration / check.step > MAX_POINTS:
            # The window is the query's range: Prometheus would refuse it (like a gate's over/step).
            r.fail(
                (*where, kind, "step"),
                f"verify.duration / step is {duration / check.step:.0f} points, "
                f"Prometheus answers at most {MAX_POINTS}",
                "use a larger step or a shorter duration",
            )
        checks.append(check)
    on_failure = data.get("on_failure", "notify")
    if on_failure not in ON_FAILURE:
        r.fail(
            (*path, "on_failure"), f"unknown on_failure {on_failure!r}", f"use one of {', '.join(ON_FAILURE)}"
        )
    max_errors = (
        r.integer(data["max_errors"], (*path, "max_errors"), "max_errors", minimum=1)
        if "max_errors" in data
        else 6
    )
    return VerifyPolicy(
        checks=tuple(checks), delay=delay, duration=duration, on_failure=on_failure, max_errors=max_errors
    )
