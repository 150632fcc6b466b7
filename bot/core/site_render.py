"""The dashboard's HTML (reference §18): the package's templates under ``bot/templates/site/``
lay out the view-model of ``site``; jinja2 autoescapes every string. The one stylesheet and the
one script are inlined as they are, and the CSP allows exactly their sha256.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.core.site_safe import content_security_policy

if TYPE_CHECKING:
    import jinja2

    from bot.core.site import ModelPage, Site


@cache
def _env() -> jinja2.Environment:
    import jinja2  # lazily: `promobot --help` must not import it

    return jinja2.Environment(
        loader=jinja2.PackageLoader("bot", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        auto_reload=False,  # the package's templates do not change while promobot runs
    )


@cache
def templates_digest() -> str:
    """sha256 of every template and asset a page is made from (part of each page's key)."""
    names = ("base.html.j2", "macros.html.j2", "model.html.j2", "index.html.j2", "site.css", "filter.js")
    return hashlib.sha256("\0".join(_asset(n) for n in names).encode("utf-8")).hexdigest()


SITE_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "site"
"""Where ``_env``'s loader finds ``site/…`` (the package's ``templates/site``)."""


@cache
def _asset(name: str) -> str:
    """A template or asset as the loader reads it (read directly: a run that reuses every page
    digests the templates without importing jinja2)."""
    return (SITE_TEMPLATES / name).read_bytes().decode("utf-8")


@cache
def _page_globals(script: bool) -> dict[str, Any]:
    """The stylesheet, the script (index only) and the CSP that allows exactly them."""
    import markupsafe

    style = _asset("site.css")
    code = _asset("filter.js") if script else None
    return {
        "style": markupsafe.Markup(style),  # noqa: S704 — the package's own stylesheet
        "script": markupsafe.Markup(code) if code is not None else None,  # noqa: S704 — the package's own script
        "csp": content_security_policy(code, style),
    }


def prepare() -> None:
    """Import jinja2 and compile the index and model templates (once per process; processes
    forked afterwards to render pages share them)."""
    _env().get_template("site/model.html.j2")
    _env().get_template("site/index.html.j2")


def render_model_page(page: ModelPage) -> str:
    """One model page's HTML."""
    template = _env().get_template("site/model.html.j2")
    return template.render(page=page, header=page.header, root="../", **_page_globals(False))


def render_index(site: Site) -> str:
    """The index page's HTML; when ``site`` has model pages to render, also compiles their
    template, so that processes forked afterwards to render them share it (each model page is
    ``render_model_page``; pages in ``site.reused`` keep their previous HTML: same key).

    The one script (the model-name filter) and the one stylesheet are the package's own files,
    inlined as they are; the Content-Security-Policy allows exactly their sha256 and nothing else.
    """
    if site.models:
        _env().get_template("site/model.html.j2")
    index = _env().get_template("site/index.html.j2")
    return index.render(page=site.index, header=site.index.header, root="", **_page_globals(True))
