"""Tests for bot.core.site: the index matrix's cells, PR views from check summaries, page keys."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core import site as views
from bot.core import site_render
from bot.core.model import Rejection
from bot.core.site_timeline import Verification


def test_gate_rows_and_blockers_come_from_promobots_check_summaries() -> None:
    summary = (
        "| gate | result | reason |\n| --- | :---: | --- |\n"
        "| `schema` | ✅ success | the manifest is valid |\n"
        "| `metric latency_p95_ms` | ❌ failure | latency\\_p95\\_ms 90 > max 80 |\n"
        "| `soak` | ⏳ pending | soaking until 2026-11-28 |\n"
    )
    assert views.gate_rows(summary) == (
        views.Gate("schema", "success", "the manifest is valid"),
        views.Gate("metric latency_p95_ms", "failure", "latency_p95_ms 90 > max 80"),
        views.Gate("soak", "pending", "soaking until 2026-11-28"),
    )
    assert views.blocker_lines("- gate soak: pending\n- approvals: 0 of 2") == (
        "gate soak: pending",
        "approvals: 0 of 2",
    )


def _minimal(**extra: object) -> views.Site:
    status = {
        "environments": ["dev", "prod"],
        "models": {"m": {"dev": "2.0", "prod": "1.0"}},
        "errors": {},
    }
    args: dict[str, object] = {
        "status": status,
        "sources": {"dev": None, "prod": "dev"},
        "histories": {},
        "pulls": [],
        "rejections": [Rejection("m", "1.0", "broke", "sam", "2026-11-02T00:00:00Z")],
        "manifests": {},
        "now": datetime(2026, 11, 27, 10, tzinfo=UTC),
        "commit": "a" * 40,
    }
    args.update(extra)
    return views.build_site(**args)  # type: ignore[arg-type]


def test_cells_carry_drift_rejection_and_the_verification_hook() -> None:
    site = _minimal(verifications={("m", "prod"): Verification("failed", "error rate 4% > 1%")})
    dev, prod = site.index.rows[0].cells
    assert (dev.drift, prod.drift) == (None, "dev runs 2.0")
    assert prod.rejected == "broke" and dev.rejected is None
    assert prod.verification is not None and dev.verification is None
    html = site_render.render_index(site)
    assert 'data-verification="failed"' in html and "⚠ verification failed" in html
    assert "error rate 4% &gt; 1%" in html
    assert site.index.rows[0].flags == ("drift", "rejected")


def test_a_page_is_built_again_only_when_what_it_shows_or_the_code_changes() -> None:
    first = _minimal(salt="code-1")
    assert [p.model for p in first.models] == ["m"] and first.reused == frozenset()
    again = _minimal(salt="code-1", previous=first.keys)
    assert (tuple(again.models), again.reused, again.keys) == ((), frozenset({"models/m.html"}), first.keys)
    assert again.index.rows == first.index.rows  # the index is whole either way
    row = {"at": "2026-11-20T09:00:00Z", "env": "dev", "action": "manual", "version": "2.0", "sha": "c" * 40}
    changed = {
        "salt": "code-2",  # another promobot, or edited templates
        "histories": {"m": [row]},
        "manifests": {"m": {"owner": "@acme/team"}},
        "verifications": {("m", "prod"): Verification("failed", "error rate")},
        "web_url": "https://github.com/acme/models",
        "rejections": [],
    }
    for name, value in changed.items():
        extra: dict[str, object] = {"salt": "code-1", "previous": first.keys, name: value}
        site = _minimal(**extra)
        assert [p.model for p in site.models] == ["m"], name
        assert site.keys["models/m.html"] != first.keys["models/m.html"], name
    late = _minimal(salt="code-1", previous=first.keys, now=datetime(2027, 1, 1, tzinfo=UTC), commit="b" * 40)
    assert late.reused == frozenset({"models/m.html"})  # no clock and no tip on a model page
