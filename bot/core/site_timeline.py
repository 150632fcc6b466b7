"""A model page's history (reference §18): the timeline's geometry (one lane per environment,
one column per moment, the marks on them) and the table of events below it.

Pure layout numbers and plain strings: the template ``site/model.html.j2`` draws the SVG.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.model import Rejection
from bot.core.site_safe import clip, commit_href, pr_href, when

MAX_LANE_MARKS = 40
"""The timeline draws at most this many moments (the newest); the table below it lists all."""

ACTIONS: dict[str, tuple[str, str]] = {
    # kind: (icon, word) — colour is never the only signal
    "promote": ("▲", "promoted"),
    "rollback": ("↺", "rolled back"),
    "manual": ("✎", "edited by hand"),
    "rejected": ("✕", "rejected"),
    "verification-failed": ("⚠", "verification failed"),
}


@dataclass(frozen=True, slots=True)
class Verification:
    """Live-data verification of one model in one environment (README: verification).

    The hook the dashboard leaves for it: ``build_site(verifications=…)`` puts one on a cell
    and the matrix shows it; ``failed`` history rows become ⚠ marks on the timeline.
    """

    state: str
    """``passed``, ``failed`` or ``pending``."""
    summary: str = ""
    at: str | None = None
    commit: str | None = None
    """The commit that brought the verified version (its ``promobot/verify`` check)."""

    @property
    def icon(self) -> str:
        return {"passed": "✓", "failed": "⚠", "pending": "◔"}.get(self.state, "?")


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a table: cells of plain text, and an optional link per cell."""

    cells: tuple[str, ...]
    links: tuple[str | None, ...] = ()


@dataclass(frozen=True, slots=True)
class Mark:
    kind: str
    env: str
    x: int
    y: int
    version: str
    label: str
    """Everything the mark means, in words (the SVG title element: a tooltip, read by screen readers)."""
    href: str | None

    @property
    def icon(self) -> str:
        return ACTIONS.get(self.kind, ("•", self.kind))[0]

    @property
    def css(self) -> str:
        return self.kind if self.kind in ACTIONS else "other"

    @property
    def word(self) -> str:
        return ACTIONS.get(self.kind, ("•", self.kind))[1]


@dataclass(frozen=True, slots=True)
class Lane:
    name: str
    y: int


@dataclass(frozen=True, slots=True)
class Tick:
    x: int
    label: str


@dataclass(frozen=True, slots=True)
class Timeline:
    width: int
    height: int
    lanes: tuple[Lane, ...]
    marks: tuple[Mark, ...]
    ticks: tuple[Tick, ...]
    left: int
    shown: int
    total: int


def timeline(
    history: Sequence[Mapping[str, Any]],
    environments: Sequence[str],
    rejections: Sequence[Rejection],
    web_url: str | None,
    verifications: Mapping[str, Verification] | None = None,
) -> Timeline:
    """Marks on one lane per environment, plus a lane for rejections when there are any.

    The x axis is ordinal (one column per moment, oldest left): promotions minutes apart stay
    apart, and months without change take no room. The newest ``MAX_LANE_MARKS`` moments show.
    A moment is a commit, in ``history``'s order (newest first in graph order, as ``promobot
    history`` shows it: commit dates can be skewed, so they never order commits). A rejection
    (rejected.yaml has no commit here) shares the column of a commit with its exact date (the
    rollback that wrote it), or else goes before the oldest commit dated after it.
    """
    lanes = list(environments)
    events: list[tuple[str, str, str, Mapping[str, Any] | None, Rejection | None]] = []
    moments: list[str] = []  # oldest first
    dated: dict[str, str] = {}
    for entry in reversed(history):
        if entry.get("env") not in lanes:
            continue
        at = str(entry.get("at") or "")
        key = "c:" + str(entry.get("sha") or at)
        if key not in dated:
            moments.append(key)
            dated[key] = at
        kind = str(entry.get("action") or "manual")
        events.append((key, kind, str(entry["env"]), entry, None))
    for item in sorted(rejections, key=lambda r: r.at):
        same = [m for m in moments if m.startswith("c:") and dated[m] == item.at]
        if same:
            key = same[-1]  # the commit that rejected it (a rollback, usually): one column
        else:
            key = f"r:{item.model}:{item.version}:{item.at}"
            if key not in dated:
                later = next((i for i, m in enumerate(moments) if dated[m] > item.at), len(moments))
                moments.insert(later, key)
                dated[key] = item.at
        events.append((key, "rejected", "rejected", None, item))
    if rejections:
        lanes.append("rejected")
    total = len(moments)
    moments = moments[-MAX_LANE_MARKS:]
    column = {key: i for i, key in enumerate(moments)}
    left, step, top, lane_h = 96, 64, 34, 48
    width = left + step * max(len(moments), 1) + 24
    lane_y = {name: top + i * lane_h for i, name in enumerate(lanes)}
    height = top + lane_h * len(lanes) + 8
    marks = []
    for key, kind, env, row, rej in events:
        if key not in column:
            continue
        at = dated[key] if row is None else str(row.get("at") or "")
        x = left + step * column[key] + step // 2
        if rej is not None:
            label = f"{rej.version} rejected on {when(rej.at)} by {rej.by}: {rej.reason}"
            marks.append(Mark("rejected", env, x, lane_y[env], clip(rej.version, 24), clip(label), None))
            continue
        assert row is not None
        version = str(row.get("version") or "—")
        previous = row.get("previous_version")
        word = ACTIONS.get(kind, ("•", kind))[1]
        label = f"{env}: {word} {previous or '—'} → {version} on {when(at)}"
        if row.get("pr"):
            label += f" (#{row['pr']})"
        if row.get("subject"):
            label += f" — {row['subject']}"
        href = pr_href(web_url, row.get("pr")) or commit_href(web_url, row.get("sha"))
        marks.append(Mark(kind, env, x, lane_y[env], clip(version, 24), clip(label), href))
        check = (verifications or {}).get(env)
        if check is not None and check.state == "failed" and check.commit and check.commit == row.get("sha"):
            label = f"{env}: verification of {version} failed — {check.summary}"
            marks.append(
                Mark(
                    "verification-failed",
                    env,
                    x + 24,
                    lane_y[env],
                    "",
                    clip(label),
                    commit_href(web_url, check.commit),
                )
            )
    ticks = []
    last_day = ""
    for key, i in column.items():
        day = when(dated[key])[:10]
        if day != last_day:
            ticks.append(Tick(left + step * i + step // 2, day[5:]))
            last_day = day
    return Timeline(
        width=width,
        height=height,
        lanes=tuple(Lane(name, lane_y[name]) for name in lanes),
        marks=tuple(marks),
        ticks=tuple(ticks),
        left=left,
        shown=len(moments),
        total=total,
    )


def event_rows(history: Sequence[Mapping[str, Any]], web_url: str | None) -> tuple[Row, ...]:
    rows = []
    for row in history:
        kind = str(row.get("action") or "manual")
        icon, word = ACTIONS.get(kind, ("•", kind))
        pr = row.get("pr")
        sha = str(row.get("sha") or "")
        rejected = row.get("rejected")
        version = str(row.get("version") or "—") + (" (rejected)" if rejected else "")
        rows.append(
            Row(
                (
                    when(row.get("at")),
                    str(row.get("env") or ""),
                    f"{icon} {word}",
                    clip(f"{row.get('previous_version') or '—'} → {version}", 120),
                    f"#{pr}" if pr else "",
                    sha[:12],
                    clip(row.get("subject")),
                ),
                (None, None, None, None, pr_href(web_url, pr), commit_href(web_url, sha), None),
            )
        )
    return tuple(rows)
