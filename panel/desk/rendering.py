"""The desk's templates: its own, and render.py's, so a record page includes the published parts.
Sandboxed and autoescaped: every value a template shows is data."""

from __future__ import annotations

import base64
import functools
import hashlib
from pathlib import Path
from typing import Any

from jinja2.sandbox import SandboxedEnvironment
from starlette.responses import HTMLResponse

from panel.editorial import render

HERE = Path(__file__).parent
STATIC = {"desk.css": HERE / "static" / "desk.css", "page.css": render.PAGE_CSS}


@functools.cache
def templates() -> SandboxedEnvironment:
    return render.html_templates(HERE / "templates")


def page_style_hash() -> str:
    """The CSP hash of the published page's inline stylesheet, so the preview can show it."""
    inline = "\n" + render.PAGE_CSS.read_text(encoding="utf-8")
    return "sha256-" + base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()


def html(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(templates().get_template(template).render(**context), status_code=status)
