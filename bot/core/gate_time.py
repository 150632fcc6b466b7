"""Gates judged against the clock passed in as ``now`` (reference §3): ``soak`` and ``freeze``.

Freeze windows: ``start``/``end`` are local wall-clock times in the gate's timezone; an ``end`` at
or before ``start`` runs past midnight into the next day; a window with neither ``days`` nor
``dates`` applies every day. A wall time that does not exist (spring forward) maps to the instant
zoneinfo gives it (fold=0). Windows that touch or overlap are one freeze: ``until`` is the end of
the whole chain (looked up to a year ahead), always a timezone-aware UTC datetime.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.gate_inputs import GateInputs, as_utc, not_checked, num, rerun
from bot.core.model import GateResult
from bot.core.policy_model import FreezeGate, FreezeWindow, SoakGate

FREEZE_LOOKAHEAD_DAYS = 400
"""How far ahead a chain of freeze windows is followed before it is called open-ended."""

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _duration(delta: timedelta) -> str:
    """``13h``, ``13h 20m``, ``20m``, ``2d 3h``: a time left, rounded up to the minute."""
    minutes = max(1, math.ceil(delta.total_seconds() / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {mins}m" if mins else f"{hours}h"
    return f"{mins}m"


def soak(gate: SoakGate, inputs: GateInputs, now: datetime) -> GateResult:
    """A ``soak`` gate: the candidate has run in ``from`` for ``hours`` (pending until then)."""
    cand = inputs.candidate
    if cand is None:
        return not_checked("soak", "soak")
    source = inputs.source
    if inputs.became_current_at is None and source is not None and source.version != cand.version:
        return GateResult(
            "soak",
            "soak",
            "failure",
            f"{inputs.from_env} no longer runs {cand.version} (it runs {source.version}) — {rerun(inputs)}",
        )
    if inputs.became_current_at is None:
        return GateResult(
            "soak",
            "soak",
            "failure",
            f"cannot tell when {cand.version} reached {inputs.from_env}; history missing"
            " — fetch full history (fetch-depth: 0)",
        )
    since = as_utc(inputs.became_current_at)
    until = since + timedelta(hours=gate.hours)
    if now >= until:
        live = _duration(now - since) if now > since else "0m"
        return GateResult(
            "soak",
            "soak",
            "success",
            f"{cand.version} has been in {inputs.from_env} for {live} (≥ {num(gate.hours)}h)",
        )
    return GateResult(
        "soak",
        "soak",
        "pending",
        f"soaking in {inputs.from_env} until {until:%Y-%m-%d %H:%M} UTC ({_duration(until - now)} left)",
        details=f"{cand.version} became current in {inputs.from_env} at {since:%Y-%m-%d %H:%M} UTC;"
        f" the policy asks for {num(gate.hours)}h.",
        until=until,
    )


@dataclass(frozen=True, slots=True)
class _Interval:
    start: datetime  # UTC
    end: datetime  # UTC
    window: FreezeWindow


def _window_applies(window: FreezeWindow, day: date) -> bool:
    if not window.days and not window.dates:
        return True
    return day.isoweekday() in window.days or day in window.dates


def _wall(day: date, at: time, tz: ZoneInfo, *, fold: int) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).replace(fold=fold).astimezone(UTC)


def _window_interval(window: FreezeWindow, day: date, tz: ZoneInfo) -> _Interval:
    start_t = window.start or time(0, 0)
    start = _wall(day, start_t, tz, fold=0)
    if window.end is None or window.end <= start_t:
        # "24:00", or a window that runs past midnight into the next day.
        end_t = window.end or time(0, 0)
        end = _wall(day + timedelta(days=1), end_t, tz, fold=1)
    else:
        end = _wall(day, window.end, tz, fold=1)
    return _Interval(start, end, window)


def _intervals(gate: FreezeGate, tz: ZoneInfo, first: date, days: int) -> list[_Interval]:
    out = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        for window in gate.windows:
            if _window_applies(window, day):
                iv = _window_interval(window, day, tz)
                if iv.end > iv.start:
                    out.append(iv)
    out.sort(key=lambda iv: (iv.start, iv.end))
    return out


def describe_window(window: FreezeWindow) -> str:
    """``fri 15:00–24:00``, ``sat, sun``, ``2026-12-24``: a window as the policy wrote it."""
    parts = []
    if window.days:
        parts.append(", ".join(_DAY_NAMES[d - 1] for d in sorted(window.days) if 1 <= d <= 7))
    if window.dates:
        parts.append(", ".join(d.isoformat() for d in sorted(window.dates)))
    if not parts:
        parts.append("daily")
    if window.start is not None or window.end is not None:
        start = (window.start or time(0, 0)).strftime("%H:%M")
        end = window.end.strftime("%H:%M") if window.end is not None else "24:00"
        parts.append(f"{start}–{end}")
    return " ".join(parts)


def _local(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    day = _DAY_NAMES[local.weekday()].capitalize()
    return f"{day} {local:%Y-%m-%d %H:%M} {local.tzname()}"


def freeze(gate: FreezeGate, now: datetime) -> GateResult:
    """A ``freeze`` gate: pending inside a window (until the end of its chain), success outside."""
    try:
        tz = ZoneInfo(gate.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return GateResult(
            "freeze",
            "freeze",
            "failure",
            f"unknown timezone {gate.timezone!r} — use an IANA name such as Europe/Berlin",
        )
    today = now.astimezone(tz).date()
    # Start a day early: yesterday's window may run past midnight (or be today's "24:00").
    intervals = _intervals(gate, tz, today - timedelta(days=1), FREEZE_LOOKAHEAD_DAYS + 1)
    current = next((iv for iv in intervals if iv.start <= now < iv.end), None)
    if current is None:
        upcoming = next((iv for iv in intervals if iv.start > now), None)
        details = (
            f"Next freeze: {describe_window(upcoming.window)} from {_local(upcoming.start, tz)}."
            if upcoming is not None
            else ""
        )
        return GateResult(
            "freeze",
            "freeze",
            "success",
            f"not in a freeze window ({_local(now, tz)})",
            details=details,
        )
    # Follow the chain: windows that start before (or exactly when) the freeze ends extend it.
    end = current.end
    chained = [current.window]
    for iv in intervals:  # sorted by start: once one starts after the end, so do the rest
        if iv.start > end:
            break
        if iv.end > end:
            end = iv.end
            if iv.window not in chained:
                chained.append(iv.window)
    horizon = _wall(today + timedelta(days=FREEZE_LOOKAHEAD_DAYS), time(0, 0), tz, fold=0)
    open_ended = end >= horizon - timedelta(days=1)
    label = f"freeze window ({describe_window(current.window)} {gate.timezone})"
    details = "Windows in this freeze: " + "; ".join(describe_window(w) for w in chained) + "."
    if open_ended:
        return GateResult(
            "freeze",
            "freeze",
            "pending",
            f"{label} with no end in the next {FREEZE_LOOKAHEAD_DAYS} days — check the policy's windows",
            details=details,
        )
    return GateResult(
        "freeze", "freeze", "pending", f"{label} until {_local(end, tz)}", details=details, until=end
    )
