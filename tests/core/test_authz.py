"""Tests for bot.core.authz: who may run which slash-command (deny by default)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest

from bot.core.authz import AuthzDecision, allowed_commands, authorize
from bot.core.model import Permission
from bot.core.policy_model import CommandRule

BOT = "promobot[bot]"

RULES: Mapping[str, CommandRule] = {
    "promote": CommandRule(permission=Permission.WRITE),
    "retest": CommandRule(permission=Permission.WRITE),
    "hold": CommandRule(permission=Permission.TRIAGE),
    "unhold": CommandRule(permission=Permission.WRITE),
    "rollback": CommandRule(permission=Permission.MAINTAIN, teams=("@Acme/SRE",)),
    "cancel": CommandRule(permission=Permission.WRITE),
    "deploy-notes": CommandRule(teams=("@acme/docs",)),
    "nobody": CommandRule(),
}


@dataclass(frozen=True)
class Case:
    id: str
    command: str
    login: str
    permission: Permission
    teams: frozenset[str] = frozenset()
    rules: Mapping[str, CommandRule] = field(default_factory=lambda: RULES)
    allowed: bool = False
    reason: str = ""


CASES = [
    Case(
        "write-may-promote",
        "promote",
        "alice",
        Permission.WRITE,
        allowed=True,
        reason="alice has write permission (/promote needs write)",
    ),
    Case(
        "admin-may-run-a-write-command",
        "cancel",
        "erin",
        Permission.ADMIN,
        allowed=True,
        reason="erin has admin permission (/cancel needs write)",
    ),
    Case(
        "read-may-not-promote",
        "promote",
        "dave",
        Permission.READ,
        allowed=False,
        reason=(
            "/promote needs write permission; dave has read permission — ask someone who may to run it, "
            "or change commands.promote in promotion.yaml"
        ),
    ),
    Case(
        "triage-may-hold",
        "hold",
        "tina",
        Permission.TRIAGE,
        allowed=True,
        reason="tina has triage permission (/hold needs triage)",
    ),
    Case(
        "triage-may-not-unhold",
        "unhold",
        "tina",
        Permission.TRIAGE,
        allowed=False,
        reason=(
            "/unhold needs write permission; tina has triage permission — ask someone who may to run it, "
            "or change commands.unhold in promotion.yaml"
        ),
    ),
    Case(
        "team-member-may-rollback-without-the-permission",
        "rollback",
        "sam",
        Permission.WRITE,
        teams=frozenset({"@acme/sre"}),
        allowed=True,
        reason="sam is a member of @acme/sre",
    ),
    Case(
        "team-names-compare-case-insensitively-and-without-at",
        "rollback",
        "sam",
        Permission.READ,
        teams=frozenset({"ACME/sre"}),
        allowed=True,
        reason="sam is a member of @acme/sre",
    ),
    Case(
        "maintainer-may-rollback-without-the-team",
        "rollback",
        "mia",
        Permission.MAINTAIN,
        allowed=True,
        reason="mia has maintain permission (/rollback needs maintain)",
    ),
    Case(
        "writer-outside-the-team-may-not-rollback",
        "rollback",
        "alice",
        Permission.WRITE,
        teams=frozenset({"@acme/ml"}),
        allowed=False,
        reason=(
            "/rollback needs maintain permission or membership of @acme/sre; alice has write permission — "
            "ask someone who may to run it, or change commands.rollback in promotion.yaml"
        ),
    ),
    Case(
        "team-only-rule-refuses-an-admin-outside-the-team",
        "deploy-notes",
        "erin",
        Permission.ADMIN,
        allowed=False,
        reason=(
            "/deploy-notes needs membership of @acme/docs; erin has admin permission — "
            "ask someone who may to run it, or change commands.deploy-notes in promotion.yaml"
        ),
    ),
    Case(
        "a-command-missing-from-the-policy-is-denied",
        "promote",
        "erin",
        Permission.ADMIN,
        rules={},
        allowed=False,
        reason="the policy does not allow /promote for anyone; add commands.promote to promotion.yaml",
    ),
    Case(
        "a-rule-with-neither-permission-nor-team-allows-nobody",
        "nobody",
        "erin",
        Permission.ADMIN,
        allowed=False,
        reason=(
            "commands.nobody in promotion.yaml names no permission and no team, so nobody may run /nobody; "
            "set commands.nobody.permission or commands.nobody.teams"
        ),
    ),
    Case(
        "the-bot-itself-is-never-allowed",
        "promote",
        BOT,
        Permission.ADMIN,
        allowed=False,
        reason="promobot[bot] is a bot account; bots never run promobot commands",
    ),
    Case(
        "the-bot-login-without-suffix-is-never-allowed",
        "promote",
        "Promobot",
        Permission.ADMIN,
        allowed=False,
        reason="Promobot is a bot account; bots never run promobot commands",
    ),
    Case(
        "other-bots-are-never-allowed",
        "rollback",
        "renovate[bot]",
        Permission.ADMIN,
        teams=frozenset({"@acme/sre"}),
        allowed=False,
        reason="renovate[bot] is a bot account; bots never run promobot commands",
    ),
    Case(
        "status-without-a-rule-is-open-to-readers",
        "status",
        "dave",
        Permission.READ,
        rules={},
        allowed=True,
        reason="/status only reads; anyone with read permission may run it",
    ),
    Case(
        "help-without-a-rule-is-open-to-readers",
        "help",
        "dave",
        Permission.READ,
        allowed=True,
        reason="/help only reads; anyone with read permission may run it",
    ),
    Case(
        "status-without-a-rule-is-closed-to-strangers",
        "status",
        "eve",
        Permission.NONE,
        rules={},
        allowed=False,
        reason=(
            "/status needs read permission on this repository; eve has none — "
            "ask a maintainer to add you as a collaborator"
        ),
    ),
    Case(
        "a-rule-for-status-is-applied",
        "status",
        "dave",
        Permission.READ,
        rules={"status": CommandRule(permission=Permission.WRITE)},
        allowed=False,
        reason=(
            "/status needs write permission; dave has read permission — ask someone who may to run it, "
            "or change commands.status in promotion.yaml"
        ),
    ),
    Case(
        "command-names-ignore-case-and-a-leading-slash",
        "/Promote",
        "alice",
        Permission.WRITE,
        allowed=True,
        reason="alice has write permission (/promote needs write)",
    ),
    Case(
        "no-permission-may-not-run-anything",
        "retest",
        "eve",
        Permission.NONE,
        allowed=False,
        reason=(
            "/retest needs write permission; eve has no access to this repository — "
            "ask someone who may to run it, or change commands.retest in promotion.yaml"
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_authorize(case: Case) -> None:
    decision = authorize(
        case.command,
        login=case.login,
        permission=case.permission,
        teams_of_user=case.teams,
        rules=case.rules,
        bot_login=BOT,
    )
    assert decision == AuthzDecision(case.allowed, case.reason)


@pytest.mark.parametrize(
    ("login", "permission", "teams", "expected"),
    [
        ("dave", Permission.READ, frozenset(), ["status", "help"]),
        ("tina", Permission.TRIAGE, frozenset(), ["hold", "status", "help"]),
        (
            "alice",
            Permission.WRITE,
            frozenset(),
            ["promote", "retest", "hold", "unhold", "cancel", "status", "help"],
        ),
        (
            "sam",
            Permission.WRITE,
            frozenset({"@acme/sre", "@acme/docs"}),
            ["promote", "retest", "hold", "unhold", "rollback", "cancel", "status", "help", "deploy-notes"],
        ),
        ("eve", Permission.NONE, frozenset(), []),
        (BOT, Permission.ADMIN, frozenset(), []),
    ],
    ids=["reader", "triager", "writer", "writer-in-teams", "stranger", "bot"],
)
def test_allowed_commands_lists_what_help_may_offer(
    login: str, permission: Permission, teams: frozenset[str], expected: list[str]
) -> None:
    assert (
        allowed_commands(login=login, permission=permission, teams_of_user=teams, rules=RULES, bot_login=BOT)
        == expected
    )
