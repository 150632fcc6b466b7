"""bot/app/history.py: every change of a model, newest first in graph order, each row saying
whether its version is rejected now — called directly on real repositories."""

from __future__ import annotations

import pytest

from bot.app.history import history, history_rows
from bot.errors import UsageError
from tests.conftest import Cli
from tests.helpers.git import commit_all, edit, git
from tests.helpers.local import local_context

ROW_KEYS = {
    "sha",
    "at",
    "action",
    "model",
    "env",
    "version",
    "previous_version",
    "pr",
    "approved_by",
    "rollback_of",
    "from",
    "subject",
    "author",
    "rejected",
    "verification",
    "caused_by_verification",
}


def test_a_rollback_row_links_the_commit_it_reverts_and_the_rejected_version_is_flagged(people: Cli) -> None:
    cli = people
    opened = cli.json("promote", "fraud-detector", "--to", "staging", actor="alice")
    cli("pr", "review", str(opened["pr"]), "--approve", actor="carol")  # auto-merges
    done = cli.json(
        "rollback", "fraud-detector", "--env", "staging", "--direct", "--reason", "bad", actor="sam"
    )
    rows = history_rows(local_context(cli.repo), "fraud-detector", "staging")
    rollback, promotion, initial = rows
    assert (rollback["action"], rollback["sha"], rollback["version"]) == ("rollback", done["sha"], "1.4.2")
    assert rollback["rollback_of"] == promotion["sha"] == done["reverts"]
    assert (promotion["action"], promotion["pr"], promotion["approved_by"], promotion["from"]) == (
        "promote",
        opened["pr"],
        ["carol"],
        "dev",
    )
    rejected = {"reason": "bad", "by": "sam", "at": "2026-11-27T10:00:00Z"}
    assert [r["rejected"] for r in rows] == [None, rejected, None]
    assert initial["action"] == "manual" and initial["previous_version"] is None
    dev = history_rows(local_context(cli.repo), "fraud-detector", "dev")
    assert [r["rejected"] for r in dev] == [rejected]  # 1.5.0 still runs in dev: flagged there too
    assert all(set(r) == ROW_KEYS and r["verification"] is None for r in rows + dev)


def test_graph_order_holds_across_a_merge_and_one_environment_is_a_slice_of_all(cli: Cli) -> None:
    repo = cli.repo
    git(repo, "checkout", "-q", "-b", "side")
    edit(repo, "environments/prod/fraud-detector.yaml", "version: 1.4.1", "version: 1.4.9")
    commit_all(repo, "prod hand edit on a side branch", date="2026-11-25T09:00:00Z")
    git(repo, "checkout", "-q", "main")
    edit(repo, "environments/dev/fraud-detector.yaml", "version: 1.5.0", "version: 1.5.1")
    commit_all(repo, "dev bump", date="2026-11-20T09:00:00Z")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge side", "side", date="2026-11-10T09:00:00Z")
    edit(repo, "environments/staging/fraud-detector.yaml", "version: 1.4.2", "version: 1.4.3")
    commit_all(repo, "staging edit", date="2026-11-05T09:00:00Z")  # the oldest date, the newest commit

    entries = history(local_context(repo), "fraud-detector")
    subjects = [e.subject for e in entries]
    assert subjects[0] == "staging edit" and subjects[1] == "merge side"  # a commit before its parents
    assert set(subjects[2:4]) == {"prod hand edit on a side branch", "dev bump"}
    assert subjects[4:] == ["Example GitOps repository"] * 3
    for env in ("dev", "staging", "prod"):
        assert history(local_context(repo), "fraud-detector", env) == [e for e in entries if e.env == env]
    assert [r["sha"] for r in history_rows(local_context(repo), "fraud-detector")] == [e.sha for e in entries]


def test_a_removed_model_keeps_its_history_and_a_model_never_there_is_an_error(cli: Cli) -> None:
    (cli.repo / "environments/dev/churn-predictor.yaml").unlink()
    removal = commit_all(cli.repo, "retire churn-predictor")
    rows = history_rows(local_context(cli.repo), "churn-predictor")
    assert [(r["sha"], r["previous_version"], r["version"]) for r in rows] == [
        (removal, "0.3.0", None),
        (git(cli.repo, "rev-parse", "HEAD~1"), None, "0.3.0"),
    ]
    with pytest.raises(UsageError, match="churn-predictor is not in staging") as caught:
        history_rows(local_context(cli.repo), "churn-predictor", "staging")
    assert caught.value.hint == "check the name with `promobot status`"


@pytest.mark.parametrize(
    ("model", "env", "message", "hint"),
    [
        ("fraud-detectr", None, "fraud-detectr is not in dev, staging, prod", "`promobot status`"),
        ("fraud-detector.yaml", None, "is a file name, not a model name", "name the model: fraud-detector"),
        ("Fraud Detector", None, "is not a valid model name", "lowercase"),
        ("fraud-detector", "qa", "unknown environment 'qa'", "dev, staging, prod"),
    ],
    ids=["unknown-model", "file-name", "bad-name", "unknown-env"],
)
def test_bad_names_are_usage_errors_that_say_what_to_do(
    cli: Cli, model: str, env: str | None, message: str, hint: str
) -> None:
    for read in (history, history_rows):
        with pytest.raises(UsageError) as caught:
            read(local_context(cli.repo), model, env)
        assert message in caught.value.message and hint in (caught.value.hint or "")
