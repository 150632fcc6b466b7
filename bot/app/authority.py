"""Who may do what: slash-commands and their CLI twins authorised against the base-branch
policy (``commands:``), and the extra conditions of a direct commit (reference §7, §8)."""

from __future__ import annotations

import logging

from bot.app.context import Context
from bot.core import authz
from bot.core.policy_model import Policy
from bot.errors import BotError, NotAuthorized, OutageError

logger = logging.getLogger(__name__)


def _user_teams(ctx: Context, login: str, rules: Policy) -> frozenset[str]:
    """The policy's command teams that ``login`` belongs to (only those are ever resolved)."""
    teams = {t.lower() for rule in rules.commands.values() for t in rule.teams}
    if not teams:
        return frozenset()
    mine = set()
    for team in sorted(teams):
        try:
            if login.lower() in ctx.forge.team_members(team):
                mine.add(team)
        except OutageError:
            raise  # an outage is not a refusal: exit 3 and let the re-run decide
        except BotError as exc:  # fail closed: an unresolvable team grants nothing
            logger.info("cannot resolve %s: %s", team, exc.message)
    return frozenset(mine)


def decide(ctx: Context, command: str, login: str, policy: Policy) -> authz.AuthzDecision:
    """May ``login`` run ``command``? Teams are looked up only when permission alone says no."""
    permission = ctx.forge.permission(login)

    def ask(teams: frozenset[str]) -> authz.AuthzDecision:
        return authz.authorize(
            command,
            login=login,
            permission=permission,
            teams_of_user=teams,
            rules=policy.commands,
            bot_login=ctx.forge.bot_login,
        )

    decision = ask(frozenset())
    rule = policy.commands.get(command)
    if decision.allowed or rule is None or not rule.teams:
        return decision
    return ask(_user_teams(ctx, login, policy))


def require(ctx: Context, command: str, login: str, policy: Policy) -> None:
    """Raise ``NotAuthorized`` unless ``login`` may run ``command`` under ``policy``."""
    decision = decide(ctx, command, login, policy)
    if not decision.allowed:
        raise NotAuthorized(f"{login} may not /{command}: {decision.reason}")


def require_direct(ctx: Context, policy: Policy, actor: str, what: str, *, by_bot: bool = False) -> None:
    """A person needs ``rollback.direct`` and ``commands.rollback``; promobot itself (``by_bot``,
    a failed verification) needs ``rollback.direct`` and ``rollback.verify_direct`` — its
    authority is the policy's word, never a permission lookup of a login (reference §15)."""

    if not policy.rollback.direct:
        raise NotAuthorized(
            f"{what} straight to {ctx.default_branch} is off: "
            "rollback.direct is false in environments/promotion.yaml",
            "drop --direct to go through a pull request",
        )
    if by_bot:
        if not policy.rollback.verify_direct:
            raise NotAuthorized(
                f"promobot's own rollbacks straight to {ctx.default_branch} are off: "
                "rollback.verify_direct is not true in environments/promotion.yaml",
                "promobot opens a rollback PR instead",
            )
        return
    require(ctx, "rollback", actor, policy)
