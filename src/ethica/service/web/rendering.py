"""How a page is answered: rendered from ethica's one Jinja2 environment, with safe headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from ethica._templates import environment
from ethica.governance import fact_words
from ethica.monitoring._report import drift_figure
from ethica.service.web.dashboard.words import (
    group_words,
    humanised,
    rule_words,
    tier_words,
)
from ethica.service.web.session import CSRF_FIELD, Viewer

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


# Keys put into words on every page: a monitoring rule, a group with its attribute, an id.
environment.filters["rule_words"] = lambda alert: rule_words(alert.metric, alert.subject)
environment.filters["group_words"] = lambda alert: group_words(
    alert.subject, alert.group, alert.metric
)
environment.filters["drift_words"] = lambda alert: drift_figure(
    alert.group, alert.score, alert.score_threshold
)
environment.filters["humanised"] = humanised
environment.filters["tier_words"] = tier_words
environment.filters["fact_words"] = fact_words


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
