"""The three faces in a browser: the customer portal, the reviewer console, the officer dashboard.

Server-rendered pages (Jinja2 templates, htmx for partial updates, charts rendered to SVG on the
server); every asset is served from ``static/``, nothing comes from another site. Pages sign in
with a cookie holding the same signed token as the API (HttpOnly, SameSite=Lax) and every form
that changes something carries a CSRF token derived from it.
"""

from __future__ import annotations

from starlette.requests import Request

#: Paths of pages (not API routes): errors on them are shown as pages, not JSON.
PAGE_PREFIXES = ("/login", "/logout", "/portal", "/console", "/dashboard")
#: Paths of the REST API and its schema: their errors stay JSON whatever the client accepts.
API_PREFIXES = ("/v1/", "/openapi.json", "/health", "/static/")


def is_page(path: str) -> bool:
    """Whether ``path`` is a page of the web faces (so errors render as HTML)."""
    return path == "/" or any(
        path == prefix or path.startswith(prefix + "/") for prefix in PAGE_PREFIXES
    )


def wants_page(request: Request) -> bool:
    """Whether a browser asked (HTML accepted) for a path outside the API: errors are pages too."""
    if request.url.path.startswith(API_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "")
