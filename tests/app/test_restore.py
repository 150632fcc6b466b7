"""bot/app/restore.py: the rollback commit, decided on a real repository but never written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.app.context import Context
from bot.app.restore import Prepared, prepare
from bot.core.manifest import apply_promotion, load_manifest
from bot.core.model import Rejection
from bot.core.rejected import load_rejected
from bot.core.trailers import parse_trailers
from bot.errors import NotApplicable, UsageError
from tests.conftest import Cli
from tests.helpers.git import commit_all, edit, git
from tests.helpers.local import local_context

PROD = "environments/prod/fraud-detector.yaml"
STAGING = "environments/staging/fraud-detector.yaml"
POLICY = "environments/promotion.yaml"
REJECTED = "environments/rejected.yaml"


def bad_release(repo: Path) -> tuple[str, str]:
    """prod gets staging's 1.4.2 by hand, then someone scales it to 9 replicas (same version).
    Returns (the commit that brought 1.4.2, the last commit that changed prod's 1.4.1)."""
    good = git(repo, "log", "-1", "--format=%H", "--", PROD)
    prod = repo / PROD
    prod.write_text(apply_promotion((repo / STAGING).read_text(), prod.read_text(), ["serving"]))
    bad = commit_all(repo, "Ship fraud-detector 1.4.2 to prod", date="2026-11-10T09:00:00Z")
    edit(repo, PROD, "replicas: 6", "replicas: 9")
    commit_all(repo, "Scale fraud-detector in prod", date="2026-11-11T09:00:00Z")
    return bad, good


def prepared(
    ctx: Context,
    env: str = "prod",
    model: str = "fraud-detector",
    *,
    to_version: str | None = None,
    reason: str | None = None,
    keep_rejection: Rejection | None = None,
) -> Prepared:
    """``restore.prepare`` at the tip, as sam (an SRE) asks for it."""
    tip = ctx.tip()
    return prepare(
        ctx,
        tip=tip,
        policy=ctx.policy(tip),
        model=model,
        env=env,
        to_version=to_version,
        reason=reason,
        actor="sam",
        keep_rejection=keep_rejection,
    )


def refs(repo: Path) -> str:
    return git(repo, "for-each-ref", "--format=%(refname) %(objectname)")


def test_prepare_restores_the_promoted_keys_keeps_local_keys_and_writes_nothing(cli: Cli) -> None:
    edit(cli.repo, POLICY, "local_keys: [serving]", "local_keys: [serving, labels]")
    commit_all(cli.repo, "labels stay with each environment")
    bad, good = bad_release(cli.repo)
    edit(cli.repo, PROD, "tier: critical", "tier: gold")
    commit_all(cli.repo, "prod's own label", date="2026-11-12T09:00:00Z")
    before = refs(cli.repo), git(cli.repo, "status", "--porcelain")
    done = prepared(local_context(cli.repo, actor="sam"), reason="  checkout\x07 errors\n\n up 3x ")

    assert (done.target.current, done.target.version) == ("1.4.2", "1.4.1")
    assert (done.target.bad_sha, done.target.restores_sha) == (bad, good)
    restored = load_manifest(done.new_text, path=PROD, expected_name="fraud-detector")
    original = load_manifest(git(cli.repo, "show", f"{good}:{PROD}"), path=PROD)
    local = ("serving", "labels")
    assert restored.promoted(local) == original.promoted(local)  # 1.4.1's promoted keys, all of them
    assert restored.data["serving"]["replicas"] == 9  # the scaling after the bad release stays
    assert restored.data["labels"] == {"team": "fraud", "tier": "gold"}  # so does prod's own label
    assert done.restored.version == "1.4.1" and done.current_text == (cli.repo / PROD).read_bytes()
    assert done.reason == "checkout errors up 3x"  # one clean paragraph
    assert done.subject == 'Revert "Ship fraud-detector 1.4.2 to prod"'
    assert f"This reverts commit {bad}." in done.message
    assert parse_trailers(done.message) | {"Promobot-Requested-By": "sam"} == {
        "Promobot-Action": "rollback",
        "Promobot-Model": "fraud-detector",
        "Promobot-To": "prod",
        "Promobot-Version": "1.4.1",
        "Promobot-Previous-Version": "1.4.2",
        "Promobot-Rollback-Of": bad,
        "Promobot-Requested-By": "sam",
    }
    assert (refs(cli.repo), git(cli.repo, "status", "--porcelain")) == before


def test_prepare_adds_the_rolled_back_version_to_rejected_yaml_when_the_policy_says_so(cli: Cli) -> None:
    bad_release(cli.repo)
    done = prepared(local_context(cli.repo, actor="sam"))
    assert set(done.files) == {PROD, REJECTED}
    assert done.rejection == Rejection(
        "fraud-detector", "1.4.2", "rolled back in prod to 1.4.1", "sam", "2026-11-27T10:00:00Z"
    )
    assert load_rejected(done.files[REJECTED]) == (done.rejection,)
    kept = Rejection("fraud-detector", "1.4.2", "kept from the PR", "erin", "2026-11-26T08:00:00Z")
    again = prepared(local_context(cli.repo, actor="sam"), keep_rejection=kept)
    assert again.rejection == kept and load_rejected(again.files[REJECTED]) == (kept,)


def test_prepare_leaves_rejected_yaml_alone_without_reject_version(cli: Cli) -> None:
    edit(cli.repo, POLICY, "reject_version: true", "reject_version: false")
    bad_release(cli.repo)
    done = prepared(local_context(cli.repo, actor="sam"))
    assert set(done.files) == {PROD} and done.rejection is None
    assert done.target.version == "1.4.1"


def test_prepare_does_not_reject_a_version_twice(people: Cli) -> None:
    cli = people
    bad_release(cli.repo)
    cli("reject", "fraud-detector", "1.4.2", "--reason", "leaks labels", "--direct", actor="sam")
    done = prepared(local_context(cli.repo, actor="sam"))
    assert done.rejection is None and set(done.files) == {PROD}


def test_prepare_refuses_with_not_applicable_when_there_is_nothing_to_roll_back(cli: Cli) -> None:
    ctx = local_context(cli.repo, actor="sam")
    with pytest.raises(NotApplicable, match=re.escape("staging has only ever run fraud-detector 1.4.2")):
        prepared(ctx, env="staging")
    with pytest.raises(NotApplicable, match="churn-predictor is not in staging"):
        prepared(ctx, env="staging", model="churn-predictor")
    bad_release(cli.repo)
    with pytest.raises(NotApplicable, match=re.escape("prod already runs fraud-detector 1.4.2")):
        prepared(local_context(cli.repo, actor="sam"), to_version="1.4.2")


def test_a_broken_current_manifest_is_still_rolled_back_by_its_history(cli: Cli) -> None:
    _, good = bad_release(cli.repo)
    edit(cli.repo, PROD, "auc: 0.931", 'auc: "high"')  # 1.4.2 no longer loads
    commit_all(cli.repo, "Break prod", date="2026-11-12T09:00:00Z")
    done = prepared(local_context(cli.repo, actor="sam"))
    assert (done.target.current, done.target.version, done.target.restores_sha) == ("1.4.2", "1.4.1", good)
    assert load_manifest(done.new_text, path=PROD).metrics["auc"] == 0.928


def test_a_restored_version_that_does_not_load_is_a_usage_error_naming_the_way_out(cli: Cli) -> None:
    edit(cli.repo, PROD, "auc: 0.928", 'auc: "high"')  # 1.4.1 as committed is broken
    commit_all(cli.repo, "Break 1.4.1", date="2026-11-05T09:00:00Z")
    bad_release(cli.repo)
    with pytest.raises(UsageError, match="does not load") as caught:
        prepared(local_context(cli.repo, actor="sam"))
    assert caught.value.hint == "roll back to another version with --to"
