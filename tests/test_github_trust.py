"""Issue 10 on GitHub (the emulator): promobot believes only what it wrote and what GitHub authenticates.

The twins of tests/test_trust.py items 1, 2, 5 and 6: on GitHub commit identities are no
more authenticated than locally, and a PR body is editable by anyone with write access.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.adapters.github import ACTIONS_LOGIN
from bot.app.batch import Outcome
from bot.app.comment import handle_comment
from bot.app.evaluate import evaluate_pr
from bot.app.events import on_review
from bot.app.facts import pr_context
from bot.app.promote import merge, promote
from bot.app.reject import reject
from bot.app.rollback import rollback
from tests.emulator import Emulator
from tests.github_setup import pr_payload
from tests.helpers.git import git
from tests.helpers.rig import BOT_EMAIL, Hub, setup_hub
from tests.test_github_flows import hub as hub

PROD = "environments/prod/fraud-detector.yaml"
REJECTED = "environments/rejected.yaml"
PROD_BRANCH = "promobot/prod/fraud-detector"
ROLLBACK_BRANCH = "promobot/rollback/prod/fraud-detector"
FOREIGN = "this branch carries commits promobot did not write"


def push(hub: Hub, branch: str, path: str, old: str, new: str, *, name: str, email: str, message: str) -> str:
    """Push a commit to ``branch`` under any identity (GitHub maps ``email`` to the account
    ``name``): what anyone with write access can do."""
    hub.emu.map_email(email, name)

    def edit(text: str) -> str:
        assert old in text, f"{old!r} not in {path}"
        return text.replace(old, new, 1)

    return hub.push_commit(path, edit, message, branch=branch, name=name, email=email)[1]


def ready_check(hub: Hub, sha: str) -> str | None:
    runs = [r for r in hub.emu.state.check_runs.values() if r.name == "promobot/ready" and r.head_sha == sha]
    return max(runs, key=lambda r: r.id).conclusion if runs else None


def merged_prod_142(hub: Hub) -> None:
    result = promote(hub.context("alice"), model="fraud-detector", to="prod")
    assert result.pr is not None
    hub.emu.submit_review(result.pr, "carol", "APPROVE")
    hub.emu.submit_review(result.pr, "dave", "APPROVE")
    assert merge(hub.context("erin"), result.pr, actor="erin").merged


def test_github_an_edited_body_does_not_change_who_requested_the_promotion(hub: Hub) -> None:
    number = promote(hub.context("dave"), model="fraud-detector", to="prod").pr
    assert number is not None
    hub.emu.add_token("ghp_dave", "dave")
    pull = hub.emu.github("ghp_dave").get_repo("acme/models").get_pull(number)
    pull.edit(body=pull.body.replace('"requester":"dave"', '"requester":"erin"'))
    edited = hub.emu.state.pulls[number].body
    assert edited is not None and '"requester":"erin"' in edited
    hub.emu.submit_review(number, "carol", "APPROVE")
    hub.emu.submit_review(number, "dave", "APPROVE")

    outcome = on_review(hub.context(), number)

    assert isinstance(outcome, Outcome) and outcome.detail["ready"] is False
    a = evaluate_pr(hub.context(), number)
    assert a.state.requester == "dave" and a.verdict.counted == ("carol",)
    assert ready_check(hub, hub.emu.head_sha(number)) != "success"


def test_github_a_push_under_the_bots_identity_is_a_human_push(hub: Hub) -> None:
    number = promote(hub.context("dave"), model="fraud-detector", to="prod").pr
    assert number is not None
    # dave (the requester) pushes as github-actions[bot] and names erin in a trailer
    head = push(
        hub,
        PROD_BRANCH,
        PROD,
        "  replicas: 6\n",
        "  replicas: 0\n",
        name=ACTIONS_LOGIN,
        email=BOT_EMAIL,
        message="Promote fraud-detector 1.4.2 to prod\n\nPromobot-Requested-By: erin\n",
    )
    hub.emu.submit_review(number, "carol", "APPROVE")
    hub.emu.submit_review(number, "dave", "APPROVE")

    outcome = on_review(hub.context(), number)

    assert isinstance(outcome, Outcome) and outcome.detail["ready"] is False
    assert ready_check(hub, head) != "success"
    comment = hub.emu.comment(number, "erin", "/promote")
    done = handle_comment(
        hub.context("erin"), number=number, comment_id=comment.id, author="erin", body=comment.body
    )
    assert not done.merged and done.reply is not None and FOREIGN in done.reply
    assert hub.emu.state.pulls[number].state == "open"
    # rebuilt by promobot: the hand edit is gone, and whoever rebuilt it asked for it
    again = promote(hub.context("erin"), model="fraud-detector", to="prod")
    assert again.changed and FOREIGN not in " ".join(again.blockers)
    assert pr_context(hub.context(), number).state.requester == "erin"
    assert "replicas: 6" in git(hub.work, "--git-dir", str(hub.emu.git_dir), "show", f"{PROD_BRANCH}:{PROD}")


@pytest.mark.parametrize("edit", ["unreject-others", "invalid"])
def test_github_a_rollback_pr_carries_no_hand_edit_of_rejected_yaml(hub: Hub, edit: str) -> None:
    hub.emu.add_user("sam", "maintain")
    reject(hub.context("sam"), model="spam-filter", version="3.2.0", reason="bad", actor="sam", direct=True)
    merged_prod_142(hub)
    rb = rollback(hub.context("erin"), model="fraud-detector", env="prod", reason="auc", actor="erin")
    assert rb.pr is not None
    on_branch = git(hub.work, "--git-dir", str(hub.emu.git_dir), "show", f"{ROLLBACK_BRANCH}:{REJECTED}")
    assert "spam-filter" in on_branch and "fraud-detector" in on_branch
    start = on_branch[on_branch.index("  - model: spam-filter") :]
    old, new = (
        (start[: start.index("  - model: fraud-detector")], "")
        if edit == "unreject-others"
        else (
            "rejected:",
            "rejected: {",
        )
    )
    push(hub, ROLLBACK_BRANCH, REJECTED, old, new, name="erin", email="erin@example.com", message="tidy")
    hub.emu.submit_review(rb.pr, "carol", "APPROVE")

    a = evaluate_pr(hub.context(), rb.pr)

    expected = "changes other entries of" if edit == "unreject-others" else "on the branch does not load"
    assert not a.ready
    assert any(expected in b and "promobot rollback fraud-detector" in b for b in a.blockers), a.blockers
    main = hub.main()
    assert not merge(hub.context("dave"), rb.pr, actor="dave").merged
    assert hub.main() == main
    assert "spam-filter" in git(hub.work, "--git-dir", str(hub.emu.git_dir), "show", f"main:{REJECTED}")


def test_github_a_rollback_pr_goes_stale_when_prod_moves_on(hub: Hub) -> None:
    merged_prod_142(hub)
    rb = rollback(hub.context("erin"), model="fraud-detector", env="prod", reason="auc", actor="erin")
    assert rb.pr is not None and not rb.ready
    hub.emu.submit_review(rb.pr, "carol", "APPROVE")
    assert evaluate_pr(hub.context(), rb.pr).ready
    push(
        hub,
        "main",
        PROD,
        "version: 1.4.2",
        "version: 1.4.3",
        name="alice",
        email="alice@example.com",
        message="prod runs 1.4.3",
    )

    a = evaluate_pr(hub.context(), rb.pr)

    assert not a.ready
    assert any(b.startswith("stale:") and "now runs fraud-detector 1.4.3, not 1.4.2" in b for b in a.blockers)
    assert ready_check(hub, hub.emu.head_sha(rb.pr)) != "success"


def test_github_a_direct_reject_re_evaluates_the_open_prs_of_the_model(hub: Hub) -> None:
    hub.emu.add_user("sam", "maintain")
    hub.emu.add_team("@acme/sre", ["erin", "sam"])
    number = promote(hub.context("alice"), model="fraud-detector", to="prod").pr
    assert number is not None
    hub.emu.submit_review(number, "carol", "APPROVE")
    hub.emu.submit_review(number, "dave", "APPROVE")
    assert evaluate_pr(hub.context(), number).ready
    head = hub.emu.head_sha(number)
    assert ready_check(hub, head) == "success"

    out = reject(
        hub.context("sam"), model="fraud-detector", version="1.4.2", reason="leaks", actor="sam", direct=True
    )

    assert ready_check(hub, head) == "failure"
    assert out["reevaluated"] == [number]


def _merge_by_hand(emu: Emulator, number: int, login: str) -> None:
    """``login`` merges PR ``number`` with GitHub's button (squash), not through promobot."""
    emu.add_token(f"ghp_{login}", login)
    emu.github(f"ghp_{login}").get_repo("acme/models").get_pull(number).merge(merge_method="squash")


def test_github_a_merge_event_chains_with_the_upstream_requester_and_a_reject_re_evaluates(
    github_emulator: Emulator, tmp_path: Path
) -> None:
    h = setup_hub(github_emulator, tmp_path / "work")
    staging = promote(h.context("alice"), model="fraud-detector", to="staging")
    assert staging.pr == 1 and not staging.ready
    h.emu.submit_review(1, "bob", "APPROVE")
    _merge_by_hand(h.emu, 1, "erin")

    h.deliver("pull_request", pr_payload(h, "closed", 1), actor="erin")

    prod = pr_context(h.context(), 2)
    assert prod.pr.head_branch == PROD_BRANCH
    assert prod.state.requester == "alice"  # never erin, who merged upstream

    rejected = reject(h.context("erin"), model="fraud-detector", version="1.5.0", reason="x", actor="erin")
    h.emu.submit_review(rejected["pr"], "carol", "APPROVE")
    _merge_by_hand(h.emu, rejected["pr"], "carol")
    before = [r.id for r in h.emu.state.check_runs.values() if r.head_sha == prod.pr.head_sha]

    outcome = h.deliver("pull_request", pr_payload(h, "closed", rejected["pr"]), actor="carol")

    assert outcome.detail["reevaluated"] == [2]
    gates = [
        r
        for r in h.emu.state.check_runs.values()
        if r.head_sha == prod.pr.head_sha and r.name == "promobot/gates"
    ]
    assert [r.conclusion for r in gates] == ["failure"] and before
