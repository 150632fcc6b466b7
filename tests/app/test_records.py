"""bot/app/records.py: what promobot itself recorded, and nothing a pusher can type."""

from __future__ import annotations

from pathlib import Path

from bot.app.records import branch_rejection, bringing_commit, verify_check, version_of, write_record
from bot.core.marker import WriteRecord, render_record
from bot.core.model import CHECK_READY, CHECK_VERIFY, Rejection
from bot.core.paths import REJECTED_PATH
from tests.conftest import Cli
from tests.helpers.git import commit_all, commit_to, git
from tests.helpers.local import local_context, local_forge
from tests.helpers.rig import Hub

STAGING = "environments/staging/fraud-detector.yaml"
BRANCH = "promobot/staging/fraud-detector"


def test_the_head_promobot_wrote_carries_its_record_with_the_requester(cli: Cli) -> None:
    cli("promote", "fraud-detector", "--to", "staging", actor="erin")
    ctx = local_context(cli.repo)
    head = git(cli.repo, "rev-parse", BRANCH)
    assert write_record(ctx, head) == WriteRecord("erin")
    assert write_record(ctx, git(cli.repo, "rev-parse", "main")) is None  # a commit people made
    assert write_record(ctx, None) is None


def test_a_commit_that_types_promobots_name_and_trailers_has_no_record(cli: Cli) -> None:
    text = (cli.repo / STAGING).read_text().replace("version: 1.4.2", "version: 1.5.0")
    forged = commit_to(
        cli.repo,
        BRANCH,
        {STAGING: text},
        message=(
            "Promote fraud-detector 1.5.0 to staging\n\n"
            "Promobot-Action: promote\nPromobot-Model: fraud-detector\nPromobot-To: staging\n"
            "Promobot-Version: 1.5.0\nPromobot-Requested-By: mallory\n"
        ),
        name="promobot",
        email="promobot@users.noreply.github.com",
    )
    ctx = local_context(cli.repo)
    assert (
        git(cli.repo, "log", "-1", "--format=%an <%ae>", forged)
        == "promobot <promobot@users.noreply.github.com>"
    )
    local_forge(ctx).add_foreign_check(forged, CHECK_READY, "success", title=render_record("mallory"))
    assert write_record(ctx, forged) is None  # identity, trailers and another app's check: all text

    ctx.forge.set_check(head_sha=forged, name=CHECK_READY, result="pending", title="t", summary="s")
    assert write_record(ctx, forged) is None  # promobot's own check, but it recorded no write
    ctx.forge.set_check(
        head_sha=forged, name=CHECK_READY, result="pending", title="t", summary="s", record="mallory wrote it"
    )
    assert write_record(ctx, forged) is None  # a record promobot would never write is no record
    ctx.forge.set_check(
        head_sha=forged,
        name=CHECK_READY,
        result="pending",
        title="t",
        summary="s",
        record=render_record(None),
    )
    assert write_record(ctx, forged) == WriteRecord(None)


def test_bringing_commit_is_the_newest_commit_that_changed_to_the_version(cli: Cli) -> None:
    path = cli.repo / STAGING

    def edit(old: str, new: str, message: str) -> str:
        path.write_text(path.read_text().replace(old, new, 1))
        return commit_all(cli.repo, message)

    first = git(cli.repo, "rev-parse", "main")  # staging runs 1.4.2 since the example's commit
    up = edit("version: 1.4.2", "version: 1.5.0", "staging runs 1.5.0")
    edit("replicas: 2", "replicas: 3", "scale staging up")
    back = edit("version: 1.5.0", "version: 1.4.2", "staging back on 1.4.2")
    edit("replicas: 3", "replicas: 4", "scale staging up again")
    entries = local_context(cli.repo).ws.history(STAGING, ref="main")
    assert [e.version for e in entries] == ["1.4.2", "1.4.2", "1.5.0", "1.5.0", "1.4.2"]

    def sha(found: object) -> str | None:
        return getattr(found, "sha", None)

    assert sha(bringing_commit(entries)) == back  # not the newest commit, nor the first 1.4.2
    assert sha(bringing_commit(entries, "1.5.0")) == up
    assert sha(bringing_commit(entries[-1:])) == first
    assert bringing_commit(entries, "1.4.1") is None
    assert bringing_commit([]) is None


def test_verify_check_is_promobots_verification_check_only(cli: Cli) -> None:
    ctx = local_context(cli.repo)
    sha = ctx.tip()
    local_forge(ctx).add_foreign_check(sha, CHECK_VERIFY, "success", title="verified, trust me")
    ctx.forge.set_check(head_sha=sha, name=CHECK_READY, result="success", title="ready", summary="")
    assert verify_check(ctx, sha) is None
    ctx.forge.set_check(head_sha=sha, name=CHECK_VERIFY, result="pending", title="window open", summary="")
    found = verify_check(ctx, sha)
    assert found is not None and (found.name, found.result, found.title) == (
        CHECK_VERIFY,
        "pending",
        "window open",
    )
    assert found.by_promobot


def test_version_of_is_none_for_anything_that_is_not_a_manifest_of_that_model(cli: Cli) -> None:
    text = (cli.repo / STAGING).read_bytes()
    assert version_of(text, STAGING, "fraud-detector") == "1.4.2"
    assert version_of(text, STAGING, "search-ranker") is None  # another model's manifest
    assert version_of(b"version: [", STAGING, "fraud-detector") is None
    assert version_of(b"", STAGING, "fraud-detector") is None
    assert version_of(None, STAGING, "fraud-detector") is None


def test_branch_rejection_is_the_entry_the_existing_branch_carries(example_repo: Path) -> None:
    entry = (
        "rejected:\n"
        "  - {model: fraud-detector, version: 1.5.0, reason: leaks labels, by: sam, "
        'at: "2026-11-20T10:00:00Z"}\n'
    )
    branch = "promobot/rejected/fraud-detector/1.5.0"
    ctx = local_context(example_repo)
    assert branch_rejection(ctx, branch, "fraud-detector", "1.5.0") is None  # no branch yet
    commit_to(example_repo, branch, {REJECTED_PATH: entry})
    assert branch_rejection(ctx, branch, "fraud-detector", "1.5.0") == Rejection(
        "fraud-detector", "1.5.0", "leaks labels", "sam", "2026-11-20T10:00:00Z"
    )
    assert branch_rejection(ctx, branch, "fraud-detector", "1.4.2") is None
    commit_to(example_repo, branch, {REJECTED_PATH: "rejected: {broken"})
    assert branch_rejection(ctx, branch, "fraud-detector", "1.5.0") is None


def test_on_github_another_apps_check_that_types_the_record_is_no_record(hub: Hub) -> None:
    sha = hub.main()
    hub.emu.add_app("other-ci", token="ghs_otherCI")
    other = hub.emu.github("ghs_otherCI").get_repo("acme/models")
    other.create_check_run(
        name=CHECK_READY,
        head_sha=sha,
        status="completed",
        conclusion="success",
        external_id=render_record("mallory"),
        output={"title": "ready", "summary": ""},
    )
    ctx = hub.context()
    (typed,) = ctx.forge.list_checks(sha)
    assert typed.record == render_record("mallory") and not typed.by_promobot
    assert write_record(ctx, sha) is None
    hub.forge.set_check(
        head_sha=sha, name=CHECK_READY, result="success", title="t", summary="s", record=render_record("erin")
    )
    assert write_record(hub.context(), sha) == WriteRecord("erin")
