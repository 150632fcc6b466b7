"""The promotion policy (reference §3): ``environments/promotion.yaml`` → ``Policy``.

Validation is strict: an unknown key anywhere is an error, because a typo
(``gates`` → ``gate``) must never silently disable a gate. Every error points at
``file:line:column`` and says what to write instead.

This module reads the top level, the environments, their gates, ``rollback`` and ``commands``.
Sections whose parsing lives with their types: ``providers`` (``providers.parse_providers``),
``prometheus`` gates and checks (``promql.parse_prometheus_gate``), ``verify`` and the ``command``
form (``verify.parse_verify``, ``verify.parse_command``); all read through ``yamlsafe.Reader``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core import yamlsafe
from bot.core.model import ENV_NAME_RE, NAME_RULE, Permission
from bot.core.paths import POLICY_PATH
from bot.core.policy_model import (
    ApprovalPolicy,
    ArtifactGate,
    CommandRule,
    CompareGate,
    EnvironmentPolicy,
    FreezeGate,
    FreezeWindow,
    Gate,
    MetricGate,
    Policy,
    RollbackPolicy,
    SoakGate,
)
from bot.core.promql import parse_prometheus_gate
from bot.core.providers import parse_providers
from bot.core.registry import alias_problem, check_registry_rules, parse_metric_source
from bot.core.verify import parse_command, parse_verify
from bot.core.yamlsafe import MAX_HOURS, MAX_METRIC, MAX_SECONDS, Path, Reader
from bot.errors import PolicyError

API_VERSION = "promobot/v1"
KIND = "PromotionPolicy"
DEFAULT_PATH = POLICY_PATH
GATE_TYPES = ("metric", "compare", "soak", "freeze", "artifact", "command", "prometheus")
COMMAND_NAMES = ("promote", "retest", "hold", "unhold", "rollback", "cancel", "status", "help")
PERMISSIONS = ("read", "triage", "write", "maintain", "admin")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LOGIN_RE = re.compile(
    r"^(?:@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]+|[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?)$"
)
TEAM_RE = re.compile(r"^@[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]+$")
HHMM_RE = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$|^24:00$")


IDENTITY_KEYS = frozenset({"apiVersion", "kind", "name", "version", "artifact"})
"""What a promotion exists to move: these can never be environment-local."""


def load_policy(text: str | bytes, *, path: str = DEFAULT_PATH) -> Policy:
    """Parse and validate the promotion policy."""
    doc = yamlsafe.parse(text, path=path)
    r = Reader(doc, PolicyError)
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

    providers = parse_providers(top.get("providers"), r.fail)
    prometheus = tuple(providers.prometheus)  # the names prometheus gates and checks may use

    if "environments" not in top:
        r.fail((), "environments is missing", "list the environments in promotion order: dev, staging, prod")
    raw_envs = top["environments"]
    if not isinstance(raw_envs, list) or not raw_envs:
        r.fail(("environments",), "environments must be a non-empty list", "write `- name: dev` items")
    environments: list[EnvironmentPolicy] = []
    for i, raw in enumerate(raw_envs):
        environments.append(_environment(r, raw, i, environments, raw_envs, prometheus=prometheus))

    check_registry_rules(r, raw_envs, environments, mlflow=tuple(providers.mlflow))
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
    r: Reader,
    raw: Any,
    i: int,
    earlier: Sequence[EnvironmentPolicy],
    all_raw: Sequence[Any],
    *,
    prometheus: Collection[str],
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
        gates = tuple(
            _gate(r, g, (*path, "gates", j), prometheus=prometheus) for j, g in enumerate(raw_gates)
        )
    if from_ is None and (auto_promote or auto_merge or gates):
        r.fail(
            path,
            f"the first environment {name!r} is never promoted into, so it cannot have gates or auto_*",
            "move these settings to a later environment",
        )
    verify = (
        parse_verify(r, env["verify"], (*path, "verify"), providers=prometheus)
        if env.get("verify") is not None
        else None
    )
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


def _approvals(r: Reader, raw: Any, path: Path, *, minimum: int) -> ApprovalPolicy:
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


def _gate(r: Reader, raw: Any, path: Path, *, prometheus: Collection[str]) -> Gate:
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
        return MetricGate(name=name, min=low, max=high, source=parse_metric_source(r, data, where))
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
            metric=metric, max_drop=drop, max_increase=inc, source=parse_metric_source(r, data, where)
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
        return parse_prometheus_gate(r, body, where, providers=prometheus)
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
    return parse_command(r, body, where)


def _freeze(r: Reader, body: Any, where: Path) -> FreezeGate:
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


def _clock(r: Reader, window: Mapping[str, Any], path: Path) -> time | None:
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


def _rollback(r: Reader, raw: Any) -> RollbackPolicy:
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


def _commands(r: Reader, raw: Any) -> dict[str, CommandRule]:
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
