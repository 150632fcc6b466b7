"""bot/app/evidence.py: what the gates judge, gathered at the base commit through the ports —
when a version became current (soak), its verification (verified), artifact and command
evidence, and why a prometheus query cannot be built."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from bot.app.context import Context, read_manifest
from bot.app.evidence import gate_inputs
from bot.core.gate_inputs import GateInputs, VerifiedInput
from bot.core.marker import PrState
from bot.core.model import CHECK_VERIFY
from bot.core.paths import REJECTED_PATH
from tests.conftest import Cli
from tests.helpers.git import commit_all
from tests.helpers.local import local_context, local_forge
from tests.verify_setup import add_verify, promote_locally

STAGING = "environments/staging/fraud-detector.yaml"
SLOW = frozenset({"artifact", "command"})


def inputs_for(
    ctx: Context,
    model: str,
    to: str,
    *,
    skip: frozenset[str] = SLOW,
    action: Literal["promote", "rollback"] = "promote",
) -> GateInputs:
    """The inputs of promoting what ``to``'s source runs at the tip into ``to``."""
    tip = ctx.tip()
    policy = ctx.policy(tip)
    env = policy.env(to)
    assert env is not None and env.from_ is not None
    _, candidate = read_manifest(ctx, tip, env.from_, model)
    _, incumbent = read_manifest(ctx, tip, to, model)
    assert candidate is not None
    state = PrState(action, model, to, candidate.version, from_=env.from_)
    return gate_inputs(
        ctx,
        state=state,
        env=env,
        policy=policy,
        base_sha=tip,
        candidate=candidate,
        candidate_error=None,
        source=candidate,
        incumbent=incumbent,
        skip_kinds=skip,
    )


def edit_staging(cli: Cli, old: str, new: str, date: str) -> None:
    path = cli.repo / STAGING
    path.write_text(path.read_text().replace(old, new, 1))
    commit_all(cli.repo, f"staging: {new}", date=date)


def test_soak_counts_from_when_the_version_last_became_what_the_source_runs(cli: Cli) -> None:
    example = datetime(2026, 11, 1, 9, tzinfo=UTC)  # the example's commit: staging runs 1.4.2
    assert inputs_for(local_context(cli.repo), "fraud-detector", "prod").became_current_at == example
    edit_staging(cli, "replicas: 2", "replicas: 3", "2026-11-05T09:00:00Z")
    assert inputs_for(local_context(cli.repo), "fraud-detector", "prod").became_current_at == example
    edit_staging(cli, "version: 1.4.2", "version: 1.4.3", "2026-11-06T09:00:00Z")
    edit_staging(cli, "version: 1.4.3", "version: 1.4.2", "2026-11-07T09:00:00Z")
    ctx = local_context(cli.repo)
    assert inputs_for(ctx, "fraud-detector", "prod").became_current_at == datetime(2026, 11, 7, 9, tzinfo=UTC)
    assert inputs_for(ctx, "fraud-detector", "prod", skip=SLOW | {"soak"}).became_current_at is None
    assert inputs_for(ctx, "fraud-detector", "staging").became_current_at is None  # staging has no soak


def test_artifact_and_command_evidence_is_gathered_unless_their_kind_is_skipped(cli: Cli) -> None:
    ctx = local_context(cli.repo)
    full = inputs_for(ctx, "fraud-detector", "prod", skip=frozenset())
    assert full.artifact is not None and full.artifact.outcome == "ok", full.artifact
    assert list(full.commands) == ["smoke"] and full.commands["smoke"].exit_code == 0
    skipped = inputs_for(ctx, "fraud-detector", "prod")
    assert (skipped.artifact, dict(skipped.commands)) == (None, {})
    assert (full.from_env, full.to_env, full.from_is_first) == ("staging", "prod", False)
    assert inputs_for(ctx, "fraud-detector", "staging").from_is_first  # dev is never promoted into


def test_rejections_are_read_from_the_base_commit(cli: Cli) -> None:
    (cli.repo / REJECTED_PATH).write_text(
        "rejected:\n"
        "  - {model: fraud-detector, version: 1.4.2, reason: leaks labels, by: sam, "
        'at: "2026-11-20T10:00:00Z"}\n'
    )
    commit_all(cli.repo, "reject 1.4.2")
    found = inputs_for(local_context(cli.repo), "fraud-detector", "prod").rejections
    assert [(r.model, r.version, r.reason) for r in found] == [("fraud-detector", "1.4.2", "leaks labels")]


def test_verified_is_none_unless_the_source_verifies_and_asks_for_a_promotion_into_it(cli: Cli) -> None:
    ctx = local_context(cli.repo)
    assert inputs_for(ctx, "fraud-detector", "prod").verified is None  # staging has no verify:
    add_verify(cli)
    commit_all(cli.repo, "staging verifies live data")
    ctx = local_context(cli.repo)
    assert inputs_for(ctx, "fraud-detector", "prod").verified == VerifiedInput(
        None, "it was not brought there by a promotion or rollback — promote it through promobot"
    )
    assert inputs_for(ctx, "fraud-detector", "prod", action="rollback").verified is None
    assert inputs_for(ctx, "fraud-detector", "staging").verified is None  # dev does not verify


def test_verified_follows_promobots_verify_check_on_the_commit_that_brought_the_version(people: Cli) -> None:
    add_verify(people)
    commit_all(people.repo, "staging verifies live data")
    merged = promote_locally(people)  # staging runs 1.5.0 since 06:00 (verify: 10m delay, 2h)
    until = datetime(2026, 11, 27, 8, 10, tzinfo=UTC)
    ctx = local_context(people.repo)
    assert inputs_for(ctx, "fraud-detector", "prod").verified == VerifiedInput(
        "pending", "not evaluated yet (`promobot verify` runs it)", until
    )
    local_forge(ctx).add_foreign_check(merged, CHECK_VERIFY, "success", title="verified, trust me")
    verified = inputs_for(ctx, "fraud-detector", "prod").verified
    assert verified is not None and verified.state == "pending"  # another app's check is not it
    ctx.forge.set_check(
        head_sha=merged, name=CHECK_VERIFY, result="failure", title="error-rate 3%", summary=""
    )
    assert inputs_for(ctx, "fraud-detector", "prod").verified == VerifiedInput(
        "failure", "error-rate 3%", until
    )


def test_a_query_that_needs_the_previous_version_says_so_when_the_target_runs_none(cli: Cli) -> None:
    policy = cli.repo / "environments" / "promotion.yaml"
    gate = (
        "      - prometheus:\n"
        "          name: no-worse\n"
        "          provider: staging-metrics\n"
        '          query: \'errors{version="{{ version }}"} - errors{version="{{ previous_version }}"}\'\n'
        "          max: 0\n"
    )
    text = policy.read_text().replace(
        "environments:\n",
        "providers:\n  prometheus:\n    staging-metrics: {url_env: PROMOBOT_NEVER_SET_URL}\nenvironments:\n",
        1,
    )
    policy.write_text(text.replace("      - artifact: {verify: digest}\n", gate, 1))
    commit_all(cli.repo, "staging compares with the version it replaces")
    found = inputs_for(local_context(cli.repo), "churn-predictor", "staging").prometheus  # new to staging
    assert [(g.name, why) for g, why in found.items()] == [
        (
            "no-worse",
            "the query uses {{ previous_version }} but staging runs no version yet"
            " — compare against a fixed bound instead, or promote without this gate",
        )
    ]
