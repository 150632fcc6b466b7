"""bot/app/diff.py: what a promotion would change and what its gates say, without changing
anything — and without the approval blockers every new pull request has."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app.diff import diff
from bot.core import report
from bot.core.readiness import Blocker
from bot.errors import BotError
from tests.conftest import Cli
from tests.helpers.git import commit_all, git
from tests.helpers.local import local_context

FRIDAY_AFTERNOON = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)  # 17:00 in Berlin: prod's freeze window


def snapshot(repo: Path) -> tuple[str, str, bytes]:
    """Every ref, the working tree's state and the local forge: equal snapshots, nothing changed."""
    forge = repo / ".git" / "promobot" / "forge.json"
    return (
        git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
        git(repo, "status", "--porcelain", "--untracked-files=all"),
        forge.read_bytes() if forge.exists() else b"",
    )


def test_diff_shows_the_promoted_change_and_every_gate_and_changes_nothing(cli: Cli) -> None:
    before = snapshot(cli.repo)
    data = diff(local_context(cli.repo), model="fraud-detector", to="prod")
    assert snapshot(cli.repo) == before
    assert (data["from"], data["version"], data["previous_version"]) == ("staging", "1.4.2", "1.4.1")
    assert (data["changed"], data["new_to_target"], data["path"]) == (
        True,
        False,
        "environments/prod/fraud-detector.yaml",
    )
    changed = [line for line in data["diff"].splitlines() if line.startswith(("-", "+"))]
    assert changed[:4] == [
        "--- a/environments/prod/fraud-detector.yaml",
        "+++ b/environments/prod/fraud-detector.yaml",
        "-version: 1.4.1",
        "+version: 1.4.2",
    ]
    assert "replicas" not in data["diff"]  # serving is prod's own: never promoted
    assert [g["name"] for g in data["gates"]] == [
        "schema",
        "order",
        "integrity",
        "not-rejected",
        "metric auc",
        "compare auc",
        "compare latency_p95_ms",
        "soak",
        "freeze",
        "artifact",
        "command smoke",
    ]
    assert {g["result"] for g in data["gates"]} == {"success"}
    assert data["ready_blockers"] == []  # prod needs 2 approvals: not a blocker a diff shows
    auc = data["metrics"][0]
    assert auc == {"name": "auc", "candidate": "0.931", "incumbent": "0.928", "delta": "+0.003", "gate": "✅"}


def test_ready_blockers_keep_every_kind_but_approvals(cli: Cli) -> None:
    data = diff(local_context(cli.repo, now=FRIDAY_AFTERNOON), model="fraud-detector", to="prod")
    (freeze,) = data["ready_blockers"]
    assert isinstance(freeze, Blocker) and freeze.kind == "gate"
    assert freeze.startswith("gate freeze: pending — freeze window (fri 15:00–24:00 Europe/Berlin)")
    policy = cli.repo / "environments/promotion.yaml"
    policy.write_text(policy.read_text().replace("{name: auc, min: 0.85}", "{name: auc, min: 0.95}"))
    commit_all(cli.repo, "staging wants a better auc")
    staging = diff(local_context(cli.repo), model="fraud-detector", to="staging")
    assert [(b.kind, b) for b in staging["ready_blockers"] if isinstance(b, Blocker)] == [
        ("gate", "gate metric auc: failure — auc 0.936 < min 0.95")
    ]
    assert not any("approvals" in b for b in staging["ready_blockers"])


def test_a_model_new_to_the_environment_is_a_whole_file_with_no_incumbent(cli: Cli) -> None:
    data = diff(local_context(cli.repo), model="churn-predictor", to="staging")
    assert (data["new_to_target"], data["previous_version"], data["changed"]) == (True, None, True)
    assert data["diff"].startswith("--- /dev/null\n+++ b/environments/staging/churn-predictor.yaml\n")
    assert all(line.startswith(("+", "@@", "---")) for line in data["diff"].splitlines())
    assert {(m["incumbent"], m["delta"]) for m in data["metrics"]} == {("—", "—")}
    text = report.diff(data, markdown=True)
    assert text.startswith("churn-predictor: dev → staging, new in staging (0.3.0)\n\n```diff\n")
    assert text.endswith(report.gates(data["gates"], markdown=True))  # the gates table closes it


def test_nothing_to_promote_says_so_and_shows_no_diff(cli: Cli) -> None:
    data = diff(local_context(cli.repo), model="search-ranker", to="staging")
    assert (data["changed"], data["diff"], data["version"], data["previous_version"]) == (
        False,
        "",
        "2.1.0",
        "2.1.0",
    )
    assert report.diff(data, markdown=False) == (
        "search-ranker: dev → staging, 2.1.0 → 2.1.0\n\n"
        "staging already has these promoted keys; nothing to promote."
    )


def test_a_local_key_change_alone_is_nothing_to_promote(cli: Cli) -> None:
    dev = cli.repo / "environments/dev/search-ranker.yaml"
    dev.write_text(dev.read_text().replace("replicas: 1", "replicas: 4"))
    commit_all(cli.repo, "scale search-ranker in dev")
    assert diff(local_context(cli.repo), model="search-ranker", to="staging")["changed"] is False


@pytest.mark.parametrize(
    ("model", "to", "message"),
    [
        ("fraud-detector", "dev", "dev is the first environment"),
        ("fraud-detector", "qa", "unknown environment 'qa'"),
        ("churn-predictor", "prod", "churn-predictor is not in staging, so there is nothing to promote"),
        ("fraud-detector.yaml", "staging", "is a file name, not a model name"),
    ],
    ids=["first-env", "unknown-env", "not-in-source", "file-name"],
)
def test_a_diff_that_cannot_be_made_says_why_and_changes_nothing(
    cli: Cli, model: str, to: str, message: str
) -> None:
    before = snapshot(cli.repo)
    with pytest.raises(BotError) as caught:
        diff(local_context(cli.repo), model=model, to=to)
    assert message in caught.value.message and caught.value.hint
    assert snapshot(cli.repo) == before
