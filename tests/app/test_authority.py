"""bot/app/authority.py: who may run which command (permission, teams that fail closed, bots
never) and who may commit straight to the default branch."""

from __future__ import annotations

import dataclasses

import pytest

from bot.app.authority import decide, require, require_direct
from bot.core.model import Permission
from bot.core.policy_model import Policy
from bot.errors import NotAuthorized
from tests.conftest import Cli
from tests.helpers.local import local_context, local_forge


def example_policy(cli: Cli) -> Policy:
    ctx = local_context(cli.repo)
    return ctx.policy(ctx.tip())


def with_rollback(policy: Policy, *, direct: bool = True, verify_direct: bool = False) -> Policy:
    rollback = dataclasses.replace(policy.rollback, direct=direct, verify_direct=verify_direct)
    return dataclasses.replace(policy, rollback=rollback)


def test_decide_allows_by_permission_and_says_why_it_refuses(people: Cli) -> None:
    ctx = local_context(people.repo)
    policy = ctx.policy(ctx.tip())
    allowed = decide(ctx, "promote", "alice", policy)
    assert allowed.allowed and allowed.reason == "alice has write permission (/promote needs write)"
    refused = decide(ctx, "promote", "mallory", policy)
    assert not refused.allowed
    assert refused.reason.startswith("/promote needs write permission; mallory has read permission")
    stranger = decide(ctx, "retest", "zed", policy)  # not a collaborator: no access at all
    assert not stranger.allowed and "zed has no access to this repository" in stranger.reason
    assert decide(ctx, "status", "mallory", policy).allowed
    assert not decide(ctx, "reject", "sam", policy).allowed  # no rule: nobody (deny by default)


def test_a_team_in_the_rule_allows_who_lacks_the_permission(people: Cli) -> None:
    ctx = local_context(people.repo)
    local_forge(ctx).set_user("tess", Permission.WRITE, ["@acme/sre"])
    policy = ctx.policy(ctx.tip())
    by_team = decide(ctx, "rollback", "tess", policy)
    assert by_team.allowed and by_team.reason == "tess is a member of @acme/sre"
    assert decide(ctx, "rollback", "sam", policy).allowed  # maintain (and in the team)
    refused = decide(ctx, "rollback", "erin", policy)  # write, in no team
    assert not refused.allowed
    assert "needs maintain permission or membership of @acme/sre; erin has write permission" in refused.reason


def test_a_team_the_forge_cannot_resolve_grants_nothing(cli: Cli) -> None:
    ctx = local_context(cli.repo)
    forge = local_forge(ctx)
    forge.set_user("tess", Permission.WRITE, ["@acme/other"])
    policy = ctx.policy(ctx.tip())
    assert "@acme/sre" not in forge.teams()
    refused = decide(ctx, "rollback", "tess", policy)  # the lookup fails: no error, no grant
    assert not refused.allowed and "membership of @acme/sre" in refused.reason
    forge.set_user("tess", Permission.WRITE, ["@acme/sre"])
    assert decide(ctx, "rollback", "tess", policy).allowed


@pytest.mark.parametrize("login", ["promobot", "promobot[bot]", "PromoBot", "dependabot[bot]"])
def test_bots_never_run_commands_whatever_their_permission(people: Cli, login: str) -> None:
    ctx = local_context(people.repo)
    local_forge(ctx).set_user(login, Permission.ADMIN, ["@acme/sre"])
    policy = ctx.policy(ctx.tip())
    for command in ("status", "promote", "rollback"):
        decision = decide(ctx, command, login, policy)
        assert not decision.allowed and "bots never run promobot commands" in decision.reason


def test_require_raises_not_authorized_naming_who_and_which_command(people: Cli) -> None:
    ctx = local_context(people.repo)
    policy = ctx.policy(ctx.tip())
    require(ctx, "rollback", "sam", policy)  # allowed: returns
    with pytest.raises(NotAuthorized) as refused:
        require(ctx, "rollback", "erin", policy)
    assert refused.value.what.startswith("erin may not /rollback: /rollback needs maintain permission")


def test_a_direct_commit_needs_rollback_direct_and_the_rollback_command(people: Cli) -> None:
    ctx = local_context(people.repo)
    policy = example_policy(people)
    assert policy.rollback.direct
    require_direct(ctx, policy, "sam", "rollback")
    with pytest.raises(NotAuthorized, match="erin may not /rollback"):
        require_direct(ctx, policy, "erin", "rollback")
    for by_bot in (False, True):
        with pytest.raises(NotAuthorized) as off:
            require_direct(ctx, with_rollback(policy, direct=False), "sam", "rollback", by_bot=by_bot)
        assert off.value.what == (
            "rollback straight to main is off: rollback.direct is false in environments/promotion.yaml"
        )
        assert off.value.hint == "drop --direct to go through a pull request"


def test_promobots_own_direct_rollback_needs_verify_direct_and_no_permission(people: Cli) -> None:
    ctx = local_context(people.repo)
    policy = example_policy(people)
    with pytest.raises(NotAuthorized) as off:
        require_direct(ctx, policy, "promobot", "rollback", by_bot=True)
    assert "rollback.verify_direct is not true" in off.value.what
    assert off.value.hint == "promobot opens a rollback PR instead"
    allowed = with_rollback(policy, verify_direct=True)
    require_direct(ctx, allowed, "promobot", "rollback", by_bot=True)  # the policy's word is enough
    with pytest.raises(NotAuthorized, match="bots never run promobot commands"):
        require_direct(ctx, allowed, "promobot", "rollback")  # the same login as a person: refused
