"""Tests for bot.core.site_timeline: the timeline's columns, lanes and marks."""

from __future__ import annotations

from bot.core import site_timeline
from bot.core.model import Rejection


def test_the_timeline_keeps_the_newest_moments_and_says_so() -> None:
    history = [  # newest first, as `promobot history` gives it: 30 promotions in dev …
        {"at": f"2026-11-{day:02d}T09:00:00Z", "env": "dev", "action": "promote", "version": f"1.{day}",
         "previous_version": None, "pr": day, "sha": f"{day:040x}", "subject": "s"}
        for day in range(30, 0, -1)
    ]  # fmt: skip
    history += [  # … after 19 hand edits in prod
        {"at": f"2026-10-{d:02d}T09:00:00Z", "env": "prod", "action": "manual", "version": f"0.{d}",
         "sha": f"{100 + d:040x}"}
        for d in range(19, 0, -1)
    ]  # fmt: skip
    line = site_timeline.timeline(history, ["dev", "prod"], [], "https://github.com/a/b")
    assert (line.shown, line.total) == (site_timeline.MAX_LANE_MARKS, 49)
    assert all(
        m.href and m.href.startswith("https://github.com/a/b/pull/") for m in line.marks if m.env == "dev"
    )
    xs = sorted({m.x for m in line.marks})
    assert len(xs) == site_timeline.MAX_LANE_MARKS and xs[0] > line.left
    shown = [m.version for m in sorted(line.marks, key=lambda m: m.x)]
    assert shown == [f"0.{d}" for d in range(10, 20)] + [f"1.{d}" for d in range(1, 31)]  # oldest left


def test_the_timeline_follows_history_order_not_commit_dates() -> None:
    """Columns are commits in graph order; a skewed clock moves nothing (reference §9)."""

    def row(at: str, env: str, action: str, version: str, sha: str) -> dict[str, str]:
        return {"at": f"2026-11-{at}:00Z", "env": env, "action": action, "version": version, "sha": sha * 40}

    history = [  # newest first: the prod edit came last although its clock said 10 days earlier
        row("10T09:00", "prod", "manual", "1.4.9", "c"),
        row("20T09:00", "dev", "manual", "1.5.1", "b"),
        row("01T09:00", "dev", "promote", "1.5.0", "a"),
        row("01T09:00", "prod", "promote", "1.4.1", "a"),
    ]
    rejections = [
        Rejection("m", "1.5.0", "broke", "sam", "2026-11-15T00:00:00Z"),  # after a, before b's date
        Rejection("m", "1.5.1", "broke too", "sam", "2026-11-20T09:00:00Z"),  # at b's date
    ]
    line = site_timeline.timeline(history, ["dev", "prod"], rejections, None)
    x = {(m.kind, m.version): m.x for m in line.marks}
    assert x[("promote", "1.5.0")] == x[("promote", "1.4.1")]  # one commit, one column
    assert x[("promote", "1.5.0")] < x[("rejected", "1.5.0")] < x[("manual", "1.5.1")]
    assert x[("manual", "1.5.1")] == x[("rejected", "1.5.1")] < x[("manual", "1.4.9")]
    assert line.total == 4
