"""Tests for bot.core.site_marker: what a generated site remembers, and writing a new time into
an index whose content did not change."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core import site_marker

NOW = datetime(2026, 11, 27, 10, 5, tzinfo=UTC)
LATER = datetime(2026, 11, 28, 23, 59, 30, tzinfo=UTC)
MARKS = {"generated_at": "@AT@", "generated_iso": "@ISO@"}


def render(values: dict[str, str]) -> str:
    """Stands in for the index template: the clock strings, and text around and between them."""
    return f"<p>é {values['generated_iso']}|{values['generated_at']} tail"


def test_the_clock_strings_are_the_headers() -> None:
    assert site_marker.stamps(NOW) == {
        "generated_at": "2026-11-27 10:05 UTC",
        "generated_iso": "2026-11-27T10:05:00Z",
    }


def test_a_stamped_index_is_the_render_with_the_real_clock_and_restamps_to_a_later_one() -> None:
    values = site_marker.stamps(NOW)
    done = site_marker.stamped(render(MARKS), MARKS, values, key="k", extra={"tip": "abc"})
    assert done is not None
    raw, record = done
    assert raw == render(values).encode()
    assert record.slots == ("generated_iso", "generated_at") and record.stamps == values
    later = site_marker.stamps(LATER)
    again = site_marker.restamp(raw, record, later)
    assert again is not None
    assert again[0] == render(later).encode()
    assert again[1].stamps == later and again[1].key == "k" and again[1].extra == {"tip": "abc"}
    assert site_marker.restamp(again[0], again[1], values) == (raw, record)  # and back
    same = site_marker.restamp(raw, record, values)
    assert same is not None and same[0] == raw and same[1].digest == record.digest


def test_an_index_changed_since_it_was_written_is_not_restamped() -> None:
    values = site_marker.stamps(NOW)
    done = site_marker.stamped(render(MARKS), MARKS, values, key="k", extra={})
    assert done is not None
    raw, record = done
    later = site_marker.stamps(LATER)
    assert site_marker.restamp(raw.replace(b"tail", b"tall"), record, later) is None  # edited
    assert site_marker.restamp(raw + b"\n", record, later) is None  # grown
    forged = site_marker.IndexRecord(record.key, record.digest, (3, 4, 5), record.slots, values)
    assert site_marker.restamp(raw, forged, later) is None  # the record does not fit the file


def test_an_index_without_the_placeholders_has_no_record() -> None:
    assert site_marker.stamped("<p>no clock</p>", MARKS, site_marker.stamps(NOW), key="k", extra={}) is None


def test_the_marker_round_trips() -> None:
    values = site_marker.stamps(NOW)
    done = site_marker.stamped(
        render(MARKS), MARKS, values, key="k", extra={"verified": [["m", "prod", "a"]]}
    )
    assert done is not None
    text = site_marker.marker_text({"models/m.html": "key"}, done[1])
    assert site_marker.parse_marker(text) == site_marker.Marker({"models/m.html": "key"}, done[1])
    assert site_marker.parse_marker(site_marker.marker_text({}, None)) == site_marker.Marker()


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"pages": {"models/m.html": "k"}, "index": {"key": "k"}}',
        '{"pages": {"models/m.html": "k"}, "index": {"key": "k", "digest": "d", "parts": [1, -2],'
        ' "slots": ["generated_at"], "stamps": {"generated_at": "", "generated_iso": ""}, "extra": {}}}',
        '{"pages": {"models/m.html": "k"}, "index": {"key": "k", "digest": "d", "parts": [1, 2],'
        ' "slots": ["generated_at", "x"], "stamps": {"generated_at": "", "generated_iso": ""}, "extra": {}}}',
        '{"pages": {"models/m.html": "k"}, "index": {"key": "k", "digest": "d", "parts": [1, 2],'
        ' "slots": ["generated_at"], "stamps": {"generated_at": 1, "generated_iso": ""}, "extra": {}}}',
    ],
)
def test_a_marker_it_cannot_read_remembers_no_index(text: str) -> None:
    marker = site_marker.parse_marker(text)
    assert marker.index is None
    assert marker.pages == ({"models/m.html": "k"} if "pages" in text else {})


def test_the_site_key_changes_with_what_it_is_made_of() -> None:
    base: list[object] = ["code", "tip", None, [], []]
    assert site_marker.site_key(base) == site_marker.site_key(list(base))
    assert site_marker.site_key(base) != site_marker.site_key(["code", "tip", None, [{"number": 1}], []])
    assert site_marker.site_key(base) != site_marker.site_key(["code", "tip", None, [], [["m", "prod", "x"]]])
