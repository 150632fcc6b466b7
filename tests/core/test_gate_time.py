"""Tests for bot.core.gate_time: soak and freeze, with ``now`` passed in."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.core.policy_model import FreezeGate, FreezeWindow, SoakGate
from tests.core.gate_setup import (
    BERLIN,
    NOW,
    inputs,
    one,
)

# --------------------------------------------------------------------------- soak


def test_soak_is_pending_until_the_hours_have_passed() -> None:
    now = datetime(2026, 11, 27, 21, 0, tzinfo=UTC)
    since = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    got = one(SoakGate(hours=24), inputs(became_current_at=since), now=now)
    assert got.result == "pending"
    assert got.reason == "soaking in staging until 2026-11-28 10:00 UTC (13h left)"
    assert got.until == datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    assert got.until.utcoffset() == timedelta(0)


def test_soak_succeeds_once_the_hours_have_passed() -> None:
    since = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    got = one(SoakGate(hours=24), inputs(became_current_at=since), now=since + timedelta(hours=24))
    assert got.result == "success"
    assert got.until is None


def test_soak_fails_when_history_cannot_tell_when_the_version_arrived() -> None:
    got = one(SoakGate(hours=24), inputs(became_current_at=None))
    assert got.result == "failure"
    assert got.reason == (
        "cannot tell when 1.4.2 reached staging; history missing — fetch full history (fetch-depth: 0)"
    )


@pytest.mark.parametrize(
    ("local_now", "result"),
    [
        # 24 real hours after Sat 12:00 CEST is Sun 11:00 CET (the night had 25 hours).
        (datetime(2026, 10, 25, 10, 59, tzinfo=BERLIN), "pending"),
        (datetime(2026, 10, 25, 11, 0, tzinfo=BERLIN), "success"),
    ],
    ids=["one-minute-short", "exactly-24-real-hours"],
)
def test_soak_counts_real_hours_across_the_autumn_dst_change(local_now: datetime, result: str) -> None:
    since = datetime(2026, 10, 24, 12, 0, tzinfo=BERLIN)  # same tzinfo object: naive subtraction would lie
    got = one(SoakGate(hours=24), inputs(became_current_at=since), now=local_now)
    assert got.result == result
    if result == "pending":
        assert got.until == datetime(2026, 10, 25, 10, 0, tzinfo=UTC)
        assert "(1m left)" in got.reason


# --------------------------------------------------------------------------- freeze

POLICY_FREEZE = FreezeGate(
    timezone="Europe/Berlin",
    windows=(
        FreezeWindow(days=frozenset({5}), start=time(15, 0)),
        FreezeWindow(days=frozenset({6, 7})),
        FreezeWindow(dates=frozenset({date(2026, 12, 24), date(2026, 12, 31)})),
    ),
)


def freeze(*windows: FreezeWindow, tz: str = "Europe/Berlin") -> FreezeGate:
    return FreezeGate(timezone=tz, windows=windows)


def test_freeze_pending_until_the_end_of_chained_weekend_windows() -> None:
    now = datetime(2026, 11, 27, 16, 0, tzinfo=BERLIN)  # Friday
    got = one(POLICY_FREEZE, now=now)
    assert got.result == "pending"
    assert got.reason == "freeze window (fri 15:00–24:00 Europe/Berlin) until Mon 2026-11-30 00:00 CET"
    assert got.until == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert got.until.utcoffset() == timedelta(0)


def test_freeze_on_a_sunday_reports_the_window_it_is_in() -> None:
    got = one(POLICY_FREEZE, now=datetime(2026, 11, 29, 9, 0, tzinfo=BERLIN))
    assert got.reason == "freeze window (sat, sun Europe/Berlin) until Mon 2026-11-30 00:00 CET"


def test_freeze_date_window_does_not_chain_across_a_gap() -> None:
    # Thu 24 Dec is frozen all day; Fri 25 Dec freezes only from 15:00: the freeze ends at midnight.
    got = one(POLICY_FREEZE, now=datetime(2026, 12, 24, 10, 0, tzinfo=BERLIN))
    assert got.result == "pending"
    assert got.reason == "freeze window (2026-12-24, 2026-12-31 Europe/Berlin) until Fri 2026-12-25 00:00 CET"


@pytest.mark.parametrize(
    ("now", "result"),
    [
        (datetime(2026, 11, 26, 14, 0, tzinfo=BERLIN), "success"),  # Thursday
        (datetime(2026, 11, 27, 14, 59, tzinfo=BERLIN), "success"),  # Friday, before 15:00
        (datetime(2026, 11, 27, 15, 0, tzinfo=BERLIN), "pending"),  # Friday 15:00 sharp
        (datetime(2026, 11, 30, 0, 0, tzinfo=BERLIN), "success"),  # Monday: the freeze has ended
        (datetime(2026, 12, 31, 23, 59, tzinfo=BERLIN), "pending"),  # New Year's Eve (date window)
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "success"),  # 00:30 on Jan 1 in Berlin
    ],
    ids=["thursday", "friday-before-start", "friday-at-start", "monday-midnight", "date-window", "day-after"],
)
def test_freeze_windows_are_judged_in_local_time(now: datetime, result: str) -> None:
    assert one(POLICY_FREEZE, now=now).result == result


@pytest.mark.parametrize(
    ("utc_now", "result"),
    [
        (datetime(2026, 11, 26, 23, 30, tzinfo=UTC), "pending"),  # Thu in UTC, Fri 00:30 in Berlin
        (datetime(2026, 11, 27, 23, 30, tzinfo=UTC), "success"),  # Fri in UTC, Sat 00:30 in Berlin
    ],
    ids=["thursday-utc-is-friday-in-berlin", "friday-utc-is-saturday-in-berlin"],
)
def test_freeze_weekday_is_the_weekday_in_the_gate_timezone(utc_now: datetime, result: str) -> None:
    got = one(freeze(FreezeWindow(days=frozenset({5}))), now=utc_now)
    assert got.result == result
    if result == "pending":
        assert got.until == datetime(2026, 11, 27, 23, 0, tzinfo=UTC)


def test_freeze_whole_day_on_the_autumn_dst_change_lasts_25_hours() -> None:
    gate = freeze(FreezeWindow(days=frozenset({7})))
    start = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)  # Sun 00:00 CEST
    assert one(gate, now=start - timedelta(minutes=1)).result == "success"
    for hours in (0, 12, 24):
        got = one(gate, now=start + timedelta(hours=hours, minutes=30))
        assert got.result == "pending"
        assert got.until == start + timedelta(hours=25)
    assert got.reason == "freeze window (sun Europe/Berlin) until Mon 2026-10-26 00:00 CET"
    assert one(gate, now=start + timedelta(hours=25)).result == "success"


def test_freeze_window_on_the_spring_dst_change_uses_local_wall_times() -> None:
    gate = freeze(FreezeWindow(dates=frozenset({date(2026, 3, 29)}), start=time(1, 0), end=time(4, 0)))
    # 01:00 CET is 00:00 UTC; 04:00 CEST is 02:00 UTC: two real hours.
    assert one(gate, now=datetime(2026, 3, 28, 23, 59, tzinfo=UTC)).result == "success"
    got = one(gate, now=datetime(2026, 3, 29, 1, 30, tzinfo=UTC))
    assert got.result == "pending"
    assert got.until == datetime(2026, 3, 29, 2, 0, tzinfo=UTC)
    assert got.reason.endswith("until Sun 2026-03-29 04:00 CEST")
    assert one(gate, now=datetime(2026, 3, 29, 2, 0, tzinfo=UTC)).result == "success"


def test_freeze_window_past_midnight_started_yesterday_still_holds() -> None:
    gate = freeze(FreezeWindow(start=time(22, 0), end=time(6, 0)), tz="America/New_York")
    now = datetime(2026, 7, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT
    got = one(gate, now=now)
    assert got.result == "pending"
    assert got.until == datetime(2026, 7, 8, 10, 0, tzinfo=UTC)
    assert got.reason == "freeze window (daily 22:00–06:00 America/New_York) until Wed 2026-07-08 06:00 EDT"


def test_freeze_success_names_the_next_freeze() -> None:
    got = one(POLICY_FREEZE, now=datetime(2026, 11, 26, 14, 0, tzinfo=BERLIN))
    assert got.reason == "not in a freeze window (Thu 2026-11-26 14:00 CET)"
    assert got.details == "Next freeze: fri 15:00–24:00 from Fri 2026-11-27 15:00 CET."


def test_freeze_covering_every_day_is_pending_without_an_end() -> None:
    got = one(freeze(FreezeWindow(days=frozenset(range(1, 8)))), now=NOW)
    assert got.result == "pending"
    assert got.until is None
    assert "no end" in got.reason


def test_freeze_with_an_unknown_timezone_fails() -> None:
    got = one(freeze(FreezeWindow(days=frozenset({5})), tz="Mars/Olympus"))
    assert got.result == "failure"
    assert "Mars/Olympus" in got.reason
