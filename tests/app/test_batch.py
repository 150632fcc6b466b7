"""bot/app/batch.py: many items in one event, each on its own."""

from __future__ import annotations

from typing import Any

import pytest

from bot.app.batch import Batch, HandlerFailures
from bot.errors import Blocked, NotApplicable, UsageError


def item(exc: Exception) -> Any:
    def work() -> tuple[str, dict[str, Any]]:
        raise exc

    return work


def test_items_that_do_not_apply_are_skipped_and_the_run_passes() -> None:
    batch = Batch("schedule", "schedule")
    batch.run("#1", item(NotApplicable("pull request #1 is not a promobot promotion or rollback")))
    batch.run("#2", item(Blocked("pull request #2 is closed", "nothing to evaluate")))
    batch.run("#3", lambda: ("#3 ready", {}))
    outcome = batch.finish()
    assert outcome.detail["failed"] == 0
    assert [i.get("skipped", "") for i in outcome.detail["items"]][:2] == [
        "pull request #1 is not a promobot promotion or rollback",
        "pull request #2 is closed — nothing to evaluate",
    ]


def test_a_misconfiguration_in_one_item_is_a_failure_not_a_skip() -> None:
    """A usage error (an unknown environment, a bad name) is something to fix: the run fails,
    after every other item was handled."""
    batch = Batch("push", "push to main")
    batch.run("promote m to qa", item(UsageError("unknown environment 'qa'", "environments in …: dev")))
    batch.run("#7", lambda: ("#7 ready", {}))
    with pytest.raises(HandlerFailures) as caught:
        batch.finish()
    assert caught.value.exit_code == 1 and [i for i, _ in caught.value.failures] == ["promote m to qa"]
    assert caught.value.outcome.summary.endswith("#7 ready")
