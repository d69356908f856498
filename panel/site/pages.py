"""The site's HTML: its own templates (panel/site/templates) around the published page's parts
(panel/editorial/templates: cards, decision table, scorecard), so a comparison reads the same on
the site as on the page `panel publish` writes.

The templates run in Jinja's sandbox with autoescaping and StrictUndefined, as the published
page's do: every vendor and model string is data. Structured data comes in already encoded for a
script block (`jsonld.script`).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from panel.editorial import render
from panel.site.views import CategoryView, ComparisonView, IndexView, ToolView

TEMPLATES = Path(__file__).parent / "templates"
SITE_CSS = TEMPLATES / "site.css"


@functools.cache
def env() -> SandboxedEnvironment:
    return render.html_templates(TEMPLATES)


def stylesheet() -> bytes:
    """assets/site.css: the published page's stylesheet, then the site's additions."""
    return render.PAGE_CSS.read_bytes() + b"\n" + SITE_CSS.read_bytes()


@functools.cache
def code_digest() -> str:
    """What every page's look depends on besides its records: the templates and stylesheets of
    the site and of the published page, and the code that words them. A change rebuilds all."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    files = [
        *sorted(package.glob("*.py")),
        *sorted(TEMPLATES.iterdir()),
        Path(render.__file__),
        *sorted(render.TEMPLATES.iterdir()),
    ]
    for path in files:
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return "sha256:" + digest.hexdigest()


def _render(template: str, **context: object) -> str:
    return env().get_template(template).render(**context)


def comparison(view: ComparisonView, canonical: str, jsonld: Markup) -> str:
    return _render("comparison.html.jinja", view=view, site=view.site, canonical=canonical, jsonld=jsonld)


def comparison_content(view: ComparisonView) -> str:
    """A comparison without the page around it: a feed entry's full content."""
    return _render("_comparison_body.html.jinja", view=view, site=view.site)


def tool(view: ToolView, canonical: str, jsonld: Markup) -> str:
    return _render("tool.html.jinja", view=view, site=view.site, canonical=canonical, jsonld=jsonld)


def category(view: CategoryView, canonical: str, jsonld: Markup) -> str:
    return _render("category.html.jinja", view=view, site=view.site, canonical=canonical, jsonld=jsonld)


def index(view: IndexView, canonical: str, jsonld: Markup) -> str:
    return _render("index.html.jinja", view=view, site=view.site, canonical=canonical, jsonld=jsonld)
