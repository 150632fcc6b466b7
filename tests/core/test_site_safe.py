"""Tests for bot.core.site_safe: links only from validated parts."""

from __future__ import annotations

from bot.core import site_safe


def test_links_are_built_only_from_validated_parts() -> None:
    assert site_safe.check_web_url("https://github.com/acme/models/") == "https://github.com/acme/models"
    for bad in ("javascript:alert(1)", "https://github.com/acme", "https://x/a/b?q=<", "data:text/html,x"):
        assert site_safe.check_web_url(bad) is None
    web = "https://github.com/acme/models"
    assert site_safe.commit_href(web, "abc123def") == f"{web}/commit/abc123def"
    assert site_safe.commit_href(web, "abc;rm") is None and site_safe.pr_href(web, -1) is None
    assert site_safe.safe_link("https://example.com/card.md") == "https://example.com/card.md"
    assert site_safe.safe_link("javascript:alert(1)") is None and site_safe.safe_link("https://x/ y") is None
