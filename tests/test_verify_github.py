"""Post-deploy verification end to end on GitHub: PyGithub → the emulator, and a real Prometheus.

fraud-detector is promoted dev → staging through a reviewed PR that merges at 06:00 (the data's
start, tests/servers/prometheus.py); staging's ``verify:`` judges 06:10 → 08:10. Each
``promobot verify`` is one workflow run at its own clock. Besides the ``promobot/verify`` check,
GitHub gets a Deployment of the merge commit to ``staging`` (task ``deploy:fraud-detector``)
whose statuses follow the verification (reference §15.3). The emulator validates every request
and answer against GitHub's OpenAPI description, the Deployments routes included.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.adapters.actions import load_event
from bot.app.events import dispatch
from tests.emulator import Emulator
from tests.github_setup import review_payload, snapshot
from tests.helpers.git import git
from tests.helpers.rig import Hub, setup_hub
from tests.servers.prometheus import PrometheusServer
from tests.verify_setup import (
    at,
    deployments,
    enable_verify,
    live,
    merge_into_staging,
    push_promotions,
    run_verify,
)

TASK = "deploy:fraud-detector"


@pytest.fixture
def hub(github_emulator: Emulator, tmp_path: Path, prometheus_server: PrometheusServer) -> Iterator[Hub]:
    hub = setup_hub(github_emulator, tmp_path / "work")
    live(hub, prometheus_server)
    yield hub


def _check(hub: Hub, sha: str) -> tuple[str, str | None]:
    (run,) = [
        r for r in hub.emu.state.check_runs.values() if r.head_sha == sha and r.name == "promobot/verify"
    ]
    return run.status, run.conclusion


def _verified_row(hub: Hub, number: int) -> str:
    """The ``verified`` row of the PR's gate table (its body)."""
    body = hub.emu.state.pulls[number].body or ""
    rows = [line for line in body.splitlines() if "verified" in line and line.startswith("|")]
    assert rows, body
    return rows[0]


def _gates(hub: Hub, number: int) -> str | None:
    head = hub.emu.head_sha(number)
    runs = [r for r in hub.emu.state.check_runs.values() if r.head_sha == head and r.name == "promobot/gates"]
    return max(runs, key=lambda r: r.id).conclusion if runs else None


def test_a_healthy_version_is_pending_then_verified_and_its_deployment_follows(hub: Hub) -> None:
    enable_verify(hub, dev_version="1.4.0")
    sha = merge_into_staging(hub)
    assert "⏳" in _verified_row(hub, 2) or "pending" in _verified_row(hub, 2)

    (early,) = run_verify(hub, at("2026-11-27T07:00:00Z"))
    assert (early["state"], early["commit"]) == ("pending", sha)
    assert early["until"].startswith("2026-11-27T08:10:0")
    assert _check(hub, sha) == ("in_progress", None)
    assert deployments(hub) == [deployments(hub)[0]]
    (shown,) = deployments(hub)
    assert (shown.environment, shown.task, shown.sha, shown.statuses) == (
        "staging",
        TASK,
        sha,
        ("in_progress",),
    )

    # A later run in the window changes nothing: no second deployment, no repeated status.
    before = snapshot(hub), deployments(hub)
    (again,) = run_verify(hub, at("2026-11-27T07:00:00Z"))
    assert again["state"] == "pending" and (snapshot(hub), deployments(hub)) == before

    (done,) = run_verify(hub, at("2026-11-27T09:00:00Z"))
    assert done["state"] == "success", done
    assert _check(hub, sha) == ("completed", "success")
    (shown,) = deployments(hub)
    assert shown.statuses == ("in_progress", "success")
    row = _verified_row(hub, 2)  # the prod PR was refreshed: its verified gate is green
    assert "✅" in row or "success" in row, row

    before = snapshot(hub), deployments(hub)
    (final,) = run_verify(hub, at("2026-11-27T09:30:00Z"))
    assert final["state"] == "success" and (snapshot(hub), deployments(hub)) == before


def test_a_breach_rolls_back_once_rejects_comments_turns_prod_red_and_is_idempotent(hub: Hub) -> None:
    enable_verify(hub, on_failure="rollback", dev_version="1.5.0")
    sha = merge_into_staging(hub)
    assert run_verify(hub, at("2026-11-27T07:00:00Z"))[0]["state"] == "pending"

    (failed,) = run_verify(hub, at("2026-11-27T08:30:00Z"))
    assert failed["state"] == "failure" and "error-rate" in failed["reason"], failed
    assert _check(hub, sha) == ("completed", "failure")
    rollback = failed["rollback"]
    assert rollback is not None
    state = hub.emu.state
    rollbacks = [p for p in state.pulls.values() if "promobot:rollback" in p.labels]
    # The example policy's direct rollbacks are for authorised people, not the bot: a PR.
    assert rollback["pr"] is not None and rollback["sha"] is None
    assert [p.number for p in rollbacks] == [rollback["pr"]]
    assert rollbacks[0].title == 'Revert "Promote fraud-detector 1.5.0 to staging (#1)"'
    comments = [
        c for c in state.comments.values() if c.issue_number == 1 and "Post-deploy verification" in c.body
    ]
    assert len(comments) == 1 and "error-rate" in comments[0].body
    assert _gates(hub, 2) == "failure"  # the downstream prod PR is red
    assert "❌" in _verified_row(hub, 2) or "failure" in _verified_row(hub, 2)
    (shown,) = deployments(hub)
    assert (shown.sha, shown.statuses) == (sha, ("in_progress", "failure"))

    # Re-running verify changes nothing: no second rollback, comment, check or status.
    before = snapshot(hub), deployments(hub)
    (again,) = run_verify(hub, at("2026-11-27T09:00:00Z"))
    assert again["state"] == "failure"
    assert (snapshot(hub), deployments(hub)) == before

    # The rollback merges at 09:00; its own verification replaces the failed one.
    number = rollback["pr"]
    state.clock = int(at("2026-11-27T09:00:00Z").timestamp())
    hub.emu.submit_review(number, "erin", "APPROVE")
    hub.now = at("2026-11-27T09:00:00Z")
    hub.deliver(
        "pull_request_review",
        review_payload(hub, number, login="erin", commit_id=hub.emu.head_sha(number)),
        actor="erin",
    )
    assert state.pulls[number].merged, [c.body for c in state.comments.values() if c.issue_number == number]
    message = git(hub.work, "--git-dir", str(hub.emu.git_dir), "log", "-1", "--format=%B", "main")
    assert "Promobot-Verification: failed error-rate" in message
    assert "Promobot-Requested-By: promobot" in message
    rejected = git(hub.work, "--git-dir", str(hub.emu.git_dir), "show", "main:environments/rejected.yaml")
    assert "1.5.0" in rejected
    (after,) = run_verify(hub, at("2026-11-27T09:05:00Z"))
    assert after["version"] == "1.4.2" and after["state"] == "pending" and after["rollback"] is None
    old, new = deployments(hub)
    assert old.statuses == ("in_progress", "failure", "inactive")
    assert (new.sha, new.statuses) == (after["commit"], ("in_progress",))


def test_deployments_of_different_models_in_one_environment_never_inactivate_each_other(hub: Hub) -> None:
    enable_verify(hub)
    push_promotions(hub, ["model-a", "model-b"])
    assert {v["state"] for v in run_verify(hub, at("2026-11-27T09:00:00Z"))} == {"failure"}  # no data
    shown = deployments(hub)
    assert [(d.task, d.statuses) for d in shown] == [
        ("deploy:model-a", ("failure",)),
        ("deploy:model-b", ("failure",)),
    ]


@pytest.mark.parametrize("n", [1, 5])
@pytest.mark.parametrize("statuses", [False, True], ids=["check-runs", "commit-statuses"])
def test_a_quiet_scheduled_verify_costs_at_most_2n_plus_2_requests(hub: Hub, n: int, statuses: bool) -> None:
    """Request budget (reference §14): N open verifications, nothing changed → ≤ 2N + 2 requests.

    Also with commit statuses (a token that cannot create check runs): the deployment record is
    then read from promobot's record status, so the deployments are still not read.
    """
    hub.emu.state.pat_mode = statuses
    enable_verify(hub)
    push_promotions(hub, [f"model-{i}" for i in range(n)])
    hub.now = at("2026-11-27T07:00:00Z")
    first = run_verify(hub, hub.now)
    assert [v["state"] for v in first] == ["pending"] * n
    assert [d.statuses for d in deployments(hub)] == [("in_progress",)] * n
    before = snapshot(hub), deployments(hub)

    hub.emu.reset_counts()
    loaded = load_event(name="schedule", payload={"schedule": "*/30 * * * *"}, environ={})
    outcome = dispatch(loaded, hub.context())
    assert outcome.handled and "verify: " in outcome.summary
    used = [f"{r.method} {r.template}" for r in hub.emu.requests]
    kind = "statuses" if statuses else "check runs"
    print(f"\nscheduled verify, {n} open ({kind}): {len(used)} requests")  # benchmarks/request_budgets.py
    for op in sorted(set(used)):
        print(f"  {used.count(op)} × {op}")
    assert len(used) <= 2 * n + 2, used
    assert not [u for u in used if not u.startswith("GET")], used  # reads only
    assert not [u for u in used if "deployments" in u], used  # the check's record says it all
    assert (snapshot(hub), deployments(hub)) == before


DIRECT = "  direct: true                    # authorised users may push a rollback straight to main\n"


def _verify_direct(text: str) -> str:
    assert DIRECT in text
    return text.replace(DIRECT, DIRECT + "  verify_direct: true\n", 1)


def test_a_user_named_promobot_with_maintain_never_lets_the_bot_roll_back_directly(hub: Hub) -> None:
    """The bot's authority is never a permission lookup of the login ``promobot``: a real account
    of that name with maintain access (and ``rollback.direct: true``) still gets a rollback PR."""
    hub.emu.add_user("promobot", "maintain")
    enable_verify(hub, on_failure="rollback", dev_version="1.5.0")
    merge_into_staging(hub)
    before_main = hub.main()
    (failed,) = run_verify(hub, at("2026-11-27T08:30:00Z"))
    assert failed["state"] == "failure" and failed["rollback"]["sha"] is None
    assert hub.main() == before_main  # nothing pushed to main
    (pull,) = [p for p in hub.emu.state.pulls.values() if "promobot:rollback" in p.labels]
    assert failed["rollback"]["pr"] == pull.number and not pull.merged


def test_when_policy_lets_the_bot_roll_back_directly_a_breach_is_one_direct_rollback(hub: Hub) -> None:
    """``rollback.direct`` and ``rollback.verify_direct``: no PR, one commit — and no account
    named promobot exists on the repository (its permission is never looked up)."""
    enable_verify(hub, on_failure="rollback", dev_version="1.5.0")
    hub.push_commit("environments/promotion.yaml", _verify_direct, "promobot rolls back directly")
    assert hub.emu.state.find_user("promobot") is None
    sha = merge_into_staging(hub)
    before_main = hub.main()

    (failed,) = run_verify(hub, at("2026-11-27T08:30:00Z"))
    assert failed["state"] == "failure" and failed["rollback"]["pr"] is None
    main = hub.main()
    assert failed["rollback"]["sha"] == main and main != before_main
    assert (
        git(hub.work, "--git-dir", str(hub.emu.git_dir), "rev-parse", "main~1") == before_main
    )  # one commit
    asked = [r.path for r in hub.emu.requests if (r.template or "").endswith("/permission")]
    assert not [p for p in asked if "/promobot/" in p.lower()], asked  # never looked up
    message = git(hub.work, "--git-dir", str(hub.emu.git_dir), "log", "-1", "--format=%B", "main")
    assert "Promobot-Verification: failed error-rate" in message and sha in message
    assert not [p for p in hub.emu.state.pulls.values() if "promobot:rollback" in p.labels]
    # The prod PR no longer offers 1.5.0: staging runs 1.4.2 again, whose verification just began.
    assert hub.emu.state.pulls[2].title == "Promote fraud-detector 1.4.2 to prod"
    assert _gates(hub, 2) is None  # in progress
    assert "pending" in _verified_row(hub, 2)

    again = snapshot(hub), deployments(hub)
    (rerun,) = run_verify(hub, at("2026-11-27T08:30:00Z"))  # now the rollback's own verification
    assert rerun["commit"] == main and rerun["version"] == "1.4.2" and rerun["state"] == "pending"
    assert snapshot(hub)["main"] == again[0]["main"]  # never a second rollback
    old, new = deployments(hub)
    assert (old.sha, old.statuses) == (sha, ("failure", "inactive"))
    assert (new.sha, new.statuses) == (main, ("in_progress",))
