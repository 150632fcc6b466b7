"""bot.core.deployments: the status that shows a verification, and the check's record of it."""

from __future__ import annotations

import pytest

from bot.core import deployments


@pytest.mark.parametrize(
    ("verification", "status"),
    [("pending", "in_progress"), ("success", "success"), ("failure", "failure"), ("inactive", "inactive")],
)
def test_each_verification_state_has_its_deployment_status(verification: str, status: str) -> None:
    assert deployments.state_for(verification) == status


def test_a_record_round_trips_and_carries_the_refresh_owed_mark() -> None:
    record = deployments.record(123, "failure")
    assert record == "deployment 123 failure"
    assert deployments.parse_record(record) == (123, "failure")
    owed = deployments.owing_refresh(record)
    assert deployments.owes_refresh(owed) and not deployments.owes_refresh(record)
    assert deployments.parse_record(owed) == (123, "failure")
    assert deployments.owing_refresh(owed) == owed
    assert deployments.settled(owed) == record


@pytest.mark.parametrize(
    "text",
    [
        "",
        "deployment x success",
        "deployment 1 queued",
        "deployment 1 success extra",
        "wrote abc",
        "deployment  1 success",
    ],
)
def test_anything_else_is_no_record(text: str) -> None:
    assert deployments.parse_record(text) is None
    assert not deployments.owes_refresh(text + " refresh")


def test_a_description_is_one_line_of_at_most_140_characters() -> None:
    text = deployments.description("m", "1.0", "failure", "error-rate: 0.5\nat 08:05 " + "x" * 300)
    assert (
        len(text) == 140 and "\n" not in text and text.startswith("m 1.0: verification failed — error-rate")
    )
    assert deployments.description("m", "1.0", "success", "") == "m 1.0: verified"
    assert deployments.task("fraud-detector") == "deploy:fraud-detector"
