"""Command authorisation: may this person run this slash-command here? (reference §3 ``commands``, §7).

Pure: the app looks up the commenter's repository permission and teams and hands them
in, together with the ``commands`` rules of the **base-branch** policy.

Decisions, in order:

1. Bots never run commands: the bot itself (``bot_login``, with or without the
   ``[bot]`` suffix) and any login ending in ``[bot]``.
2. A command with a rule is allowed when the user has at least ``rule.permission``
   (when the rule sets one) **or** is a member of one of ``rule.teams`` (``@org/team``,
   compared case-insensitively, the ``@`` optional). A rule with neither allows nobody.
3. A command without a rule is denied (deny by default) — except ``status`` and
   ``help``, which only read and reply: without a rule they are allowed to anyone with
   read permission or more. A rule for them, when present, is applied like any other.

``command`` is the canonical command name (``retest``, not the ``gates`` alias);
a leading ``/`` and upper case are accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.core import command_table, identity
from bot.core.model import Permission
from bot.core.policy_model import CommandRule

READ_ONLY_COMMANDS = command_table.READ_ONLY
"""Allowed to anyone with read permission when the policy has no rule for them."""

COMMAND_ORDER = command_table.NAMES
"""reference §7's order, used by ``allowed_commands`` (other rule names follow, sorted)."""


@dataclass(frozen=True, slots=True)
class AuthzDecision:
    """Whether a command may run, and a sentence saying why (shown in the refusal reply)."""

    allowed: bool
    reason: str


def _team_key(name: str) -> str:
    return "@" + name.strip().lstrip("@").lower()


def _has(login: str, permission: Permission) -> str:
    if permission == Permission.NONE:
        return f"{login} has no access to this repository"
    return f"{login} has {permission.label} permission"


def _normalise(command: str) -> str:
    return command.strip().lstrip("/").lower()


def authorize(
    command: str,
    *,
    login: str,
    permission: Permission,
    teams_of_user: frozenset[str],
    rules: Mapping[str, CommandRule],
    bot_login: str,
) -> AuthzDecision:
    """Decide whether ``login`` may run ``/command`` (rules in the module docstring)."""
    name = _normalise(command)
    if identity.is_bot(login, bot_login):
        return AuthzDecision(False, f"{login} is a bot account; bots never run promobot commands")
    rule = {_normalise(k): v for k, v in rules.items()}.get(name)
    if rule is None:
        if name in READ_ONLY_COMMANDS:
            if permission >= Permission.READ:
                return AuthzDecision(True, f"/{name} only reads; anyone with read permission may run it")
            return AuthzDecision(
                False,
                f"/{name} needs read permission on this repository; {login} has none — "
                "ask a maintainer to add you as a collaborator",
            )
        return AuthzDecision(
            False,
            f"the policy does not allow /{name} for anyone; add commands.{name} to promotion.yaml",
        )

    if rule.permission is not None and permission >= rule.permission:
        return AuthzDecision(True, f"{_has(login, permission)} (/{name} needs {rule.permission.label})")
    user_teams = {_team_key(t) for t in teams_of_user}
    for team in rule.teams:
        if _team_key(team) in user_teams:
            return AuthzDecision(True, f"{login} is a member of {_team_key(team)}")

    if rule.permission is None and not rule.teams:
        return AuthzDecision(
            False,
            f"commands.{name} in promotion.yaml names no permission and no team, so nobody may run "
            f"/{name}; set commands.{name}.permission or commands.{name}.teams",
        )
    needs: list[str] = []
    if rule.permission is not None:
        needs.append(f"{rule.permission.label} permission")
    if rule.teams:
        needs.append("membership of " + ", ".join(_team_key(t) for t in rule.teams))
    return AuthzDecision(
        False,
        f"/{name} needs {' or '.join(needs)}; {_has(login, permission)} — "
        f"ask someone who may to run it, or change commands.{name} in promotion.yaml",
    )


def allowed_commands(
    *,
    login: str,
    permission: Permission,
    teams_of_user: frozenset[str],
    rules: Mapping[str, CommandRule],
    bot_login: str,
) -> list[str]:
    """The commands ``login`` may run here (for ``/help``), in reference §7 order, others after, sorted."""
    names = {_normalise(k) for k in rules} | set(READ_ONLY_COMMANDS)
    ordered = [c for c in COMMAND_ORDER if c in names] + sorted(names - set(COMMAND_ORDER))
    return [
        name
        for name in ordered
        if authorize(
            name,
            login=login,
            permission=permission,
            teams_of_user=teams_of_user,
            rules=rules,
            bot_login=bot_login,
        ).allowed
    ]
