"""bot/core/report.py: the aligned text table and the terminal cleaning every text output goes
through — their fast paths (an all-ASCII row, text without a control character) say exactly
what the general paths say."""

from __future__ import annotations

from bot.core.report import status, table, terminal, width


def _aligned_by_hand(headers: list[str], rows: list[list[str]]) -> str:
    """The table as the general path builds it: every cell padded to its column's width."""
    grid = [headers, *rows]
    widths = [max(width(r[i]) for r in grid) for i in range(len(headers))]
    lines = [
        "  ".join(c + " " * (w - width(c)) for c, w in zip(r, widths, strict=True)).rstrip() for r in grid
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def test_ascii_rows_and_rows_with_wide_characters_align_in_one_table() -> None:
    headers = ["model", "dev", "prod"]
    rows = [
        ["fraud-detector", "1.5.0", "1.4.1 (rejected!)"],
        ["spam", "✅ ok", "—"],  # an emoji takes two columns, the dash one
        ["churn", "0.3.0", ""],  # an empty last cell: no trailing spaces
    ]
    text = table(headers, rows)
    assert text == _aligned_by_hand(headers, rows)
    assert text.splitlines()[3] == "spam            ✅ ok  —"
    assert all(line == line.rstrip() for line in text.splitlines())


def test_a_ragged_row_is_refused_not_misaligned() -> None:
    try:
        table(["a", "b"], [["1", "2", "3"]])
    except ValueError:
        return
    raise AssertionError("a row with more cells than headers was accepted")


def test_terminal_cleans_escapes_and_controls_and_leaves_plain_text_alone() -> None:
    plain = "model  dev\n-----  ---\nfraud  1.5.0\ttab stays\n"
    assert terminal(plain) == plain
    assert terminal("a\u200bb") == "ab" and terminal("a\u200bb", markdown=True) == "a\u200bb"
    hostile = "x\x1b]52;c;Zm9v\x07y\x1b[31mred\x1b[0m\rz\x9b2Jw\u202eq"
    assert terminal(hostile) == "xyredzwq"


def test_status_text_marks_rejected_and_invalid_cells() -> None:
    data = {
        "environments": ["dev", "prod"],
        "models": {"a": {"dev": "2.0", "prod": None}, "b": {"dev": "1.0", "prod": "1.0"}},
        "errors": {"environments/prod/a.yaml": "bad"},
        "rejected": {"b": ["dev", "prod"]},
        "drift": {},
        "pull_requests": [],
    }
    lines = status(data).splitlines()
    assert lines[2] == "a      2.0              invalid!"
    assert lines[3] == "b      1.0 (rejected!)  1.0 (rejected!)"
    assert status(data, markdown=True).splitlines()[3] == ("| `b` | `1.0 (rejected!)` | `1.0 (rejected!)` |")
