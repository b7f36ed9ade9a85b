"""Templates and how a page is answered: one Jinja2 environment, strict and autoescaped."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ethica.service.web.session import CSRF_FIELD, Viewer

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

#: Pages may load only what this service serves; nothing from another site, no inline script.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _when(value: datetime | None, style: str = "datetime") -> str:
    """A timestamp as people read it (UTC, minutes), or an em dash."""
    if value is None:
        return "—"
    return value.strftime("%d %b %Y" if style == "date" else "%d %b %Y, %H:%M UTC")


def _percent(value: float | None, digits: int = 0) -> str:
    if value is None or value != value:  # NaN
        return "—"
    return f"{100 * value:.{digits}f}%"


environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(("html", "svg")),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["when"] = _when
environment.filters["percent"] = _percent


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    viewer: Viewer | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render ``template`` with ``context``, the viewer, and the CSRF field for forms."""
    page = environment.get_template(template).render(
        request=request,
        viewer=viewer,
        csrf_field=CSRF_FIELD,
        csrf=viewer.csrf if viewer is not None else "",
        **(context or {}),
    )
    return HTMLResponse(page, status_code=status, headers={**_HEADERS, **(headers or {})})


def is_htmx(request: Request) -> bool:
    """Whether the request came from htmx (answer with a fragment, not a whole page)."""
    return request.headers.get("hx-request") == "true"
