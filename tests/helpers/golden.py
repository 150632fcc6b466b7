"""Golden files: text people read, compared byte for byte with a file under tests/golden/.

``assert_golden("pr-body/promote.md", text)`` fails when ``text`` differs from
``tests/golden/pr-body/promote.md`` by a single byte. Run the tests with
``PROMOBOT_REGEN_GOLDEN=1`` to rewrite the files from what the code produces now, then review
``git diff tests/golden`` like any other change (CONTRIBUTING.md "Habits").
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
"""tests/golden/: one folder per kind of text (pr-body, check-summary, reply, promote, roundtrip)."""


def regenerating() -> bool:
    """True when ``PROMOBOT_REGEN_GOLDEN=1``: golden files are rewritten instead of compared."""
    return os.environ.get("PROMOBOT_REGEN_GOLDEN") == "1"


def assert_golden(name: str, actual: str) -> None:
    """Compare ``actual`` (encoded as UTF-8) with ``tests/golden/<name>`` byte for byte, or
    rewrite that file first under ``PROMOBOT_REGEN_GOLDEN=1``."""
    path = GOLDEN / name
    data = actual.encode("utf-8")
    if regenerating():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    if not path.exists():
        raise AssertionError(
            f"no golden file tests/golden/{name} — run with PROMOBOT_REGEN_GOLDEN=1 to write it, "
            "then review and commit it"
        )
    expected = path.read_bytes()
    if data != expected:
        diff = difflib.unified_diff(
            expected.decode("utf-8", "replace").splitlines(keepends=True),
            actual.splitlines(keepends=True),
            fromfile=f"tests/golden/{name}",
            tofile="what the code produces",
        )
        raise AssertionError(
            f"tests/golden/{name} differs from what the code produces — if the change is intended, "
            "rewrite it with PROMOBOT_REGEN_GOLDEN=1 and review `git diff tests/golden`:\n" + "".join(diff)
        )
