"""`history` and `status` show post-deploy verification (reference §15), on the local forge
against a real Prometheus (the scenarios of tests/app/test_verify.py: staging verifies 06:10 → 08:10
after a merge at 06:00; 1.4.0 is healthy, 1.5.0 breaches at 08:00)."""

from __future__ import annotations

from typing import Any

from bot.app.history import history_rows
from tests.app.test_history import ROW_KEYS
from tests.conftest import Cli
from tests.helpers.local import local_context
from tests.verify_setup import (  # noqa: F401  (live_cli: the `live` fixture)
    live_cli,
    merge_locally,
    roll_back_after_a_breach,
    verify_once,
)

HISTORY_KEYS = ROW_KEYS - {"verification", "caused_by_verification"}
"""The history row keys before verification existed: they stay, unchanged."""


def _rows(cli: Cli) -> dict[str, dict[str, Any]]:
    return {row["sha"]: row for row in cli.json("history", "fraud-detector", "--env", "staging")}


def test_history_json_puts_the_failed_verification_beside_the_rollback_it_caused(live: Cli) -> None:
    bad, _, rollback = roll_back_after_a_breach(live)
    rows = _rows(live)
    assert set(rows[bad]) > HISTORY_KEYS and set(rows[bad]) - HISTORY_KEYS == {
        "verification",
        "caused_by_verification",
    }
    failed = rows[bad]["verification"]
    assert failed["state"] == "failure" and failed["rolled_back_by"] == rollback
    assert failed["reason"].startswith("error-rate: ") and "breaks <= 0.01" in failed["reason"]
    assert rows[bad]["caused_by_verification"] is None
    assert rows[rollback]["action"] == "rollback" and rows[rollback]["rollback_of"] == bad
    assert rows[rollback]["caused_by_verification"] == {"check": "error-rate", "commit": bad}
    assert rows[rollback]["verification"] is None  # not evaluated yet: no check on it


def test_the_newest_rows_alone_say_what_the_whole_history_says_of_them(live: Cli) -> None:
    """Text output asks for --limit rows only: each says what it says in the whole history
    (its verification, the rollback that reverted it — always newer — and the rejections)."""
    bad, _, rollback = roll_back_after_a_breach(live)
    whole = history_rows(local_context(live.repo), "fraud-detector")
    assert [r["sha"] for r in whole[:3]].count(rollback) == 1 and len(whole) > 3
    assert any(r["verification"] and r["verification"]["rolled_back_by"] == rollback for r in whole)
    for limit in range(len(whole) + 1):
        assert history_rows(local_context(live.repo), "fraud-detector", limit=limit) == whole[:limit]
    text = live("history", "fraud-detector", "--limit", "2").stdout
    assert rollback[:12] in text and bad[:12] in text


def test_history_text_and_markdown_say_which_verification_caused_the_rollback(live: Cli) -> None:
    bad, _, rollback = roll_back_after_a_breach(live)
    text = live("history", "fraud-detector", "--env", "staging").stdout
    (bad_line,) = [line for line in text.splitlines() if bad[:12] in line and "promote" in line]
    assert "✗ verification failed: error-rate" in bad_line
    assert f"rolled back by {rollback[:12]}" in bad_line
    (rollback_line,) = [line for line in text.splitlines() if line.split()[2:3] == [rollback[:12]]]
    assert (
        "after failed verification (error-rate)" in rollback_line and f"reverts {bad[:12]}" in rollback_line
    )
    markdown = live("history", "fraud-detector", "--env", "staging", output="markdown").stdout
    assert "after failed verification (error-rate)" in markdown
    assert "✗ verification failed: error-rate" in markdown


def test_history_shows_a_passed_verification_and_nothing_for_hand_edits(live: Cli) -> None:
    sha = merge_locally(live, "1.4.0")
    assert _rows(live)[sha]["verification"] is None  # merged, never evaluated: no check, no claim
    verify_once(live, "2026-11-27T09:00:00Z")
    rows = _rows(live)
    assert rows[sha]["verification"]["state"] == "success"
    assert rows[sha]["verification"]["rolled_back_by"] is None
    assert all(r["verification"] is None for s, r in rows.items() if s != sha)  # hand edits, seeds
    text = live("history", "fraud-detector", "--env", "staging").stdout
    assert "✓ verification passed" in text


def test_history_without_verify_has_null_verification_fields(cli: Cli) -> None:
    rows = cli.json("history", "fraud-detector")
    assert rows and all(set(r) == HISTORY_KEYS | {"verification", "caused_by_verification"} for r in rows)
    assert all(r["verification"] is None and r["caused_by_verification"] is None for r in rows)


def test_status_text_shows_verifying_until_verified_and_failed(live: Cli) -> None:
    merge_locally(live, "1.4.0")
    early = live("status", now="2026-11-27T07:00:00Z").stdout
    assert "fraud-detector in staging: ⏳ 1.4.0 being verified until 2026-11-27T08:10:00Z" in early
    verify_once(live, "2026-11-27T09:00:00Z")
    later = live("status", now="2026-11-27T09:00:00Z").stdout
    assert "fraud-detector in staging: ✓ 1.4.0 verified" in later
    assert "spam-filter in staging" not in later  # a hand-written version is not verified
    details = live.json("status", now="2026-11-27T09:00:00Z")["verification_details"]
    assert details["fraud-detector"]["staging"]["until"] == "2026-11-27T08:10:00Z"
    assert details["fraud-detector"]["staging"]["version"] == "1.4.0"
    assert details["spam-filter"]["staging"] is None


def test_status_text_and_json_show_a_failed_verification_with_its_reason(live: Cli) -> None:
    merge_locally(live, "1.5.0")
    verify_once(live, "2026-11-27T08:30:00Z")
    data = live.json("status", now="2026-11-27T08:30:00Z")
    assert data["verification"]["fraud-detector"] == {"staging": "failure"}
    assert "breaks <= 0.01" in data["verification_details"]["fraud-detector"]["staging"]["reason"]
    text = live("status", now="2026-11-27T08:30:00Z").stdout
    assert "fraud-detector in staging: ✗ 1.5.0 failed verification: error-rate: " in text
    markdown = live("status", output="markdown", now="2026-11-27T08:30:00Z").stdout
    assert "**Verification**" in markdown and "failed verification" in markdown
