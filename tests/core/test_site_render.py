"""Tests for bot.core.site_render: the templates escape what they show."""

from __future__ import annotations

from bot.core import site_render


def test_templates_autoescape() -> None:
    env = site_render._env()
    assert env.autoescape is True
    assert "&lt;b&gt;" in env.from_string("{{ x }}").render(x="<b>")
