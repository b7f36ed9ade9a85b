"""What every browser asks of the service besides pages: the favicon, and the API's own docs.

The docs are Swagger UI from the vendored ``static/swagger-ui`` (scripts/vendor_frontend.sh), so
``/docs`` works on a machine that cannot reach a CDN, and no page loads anything from elsewhere.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from ethica.service.web.rendering import STATIC

router = APIRouter(tags=["web"], include_in_schema=False)

FAVICON = STATIC / "favicon.svg"


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    """The service's icon (browsers ask for this path whatever the page declares)."""
    return FileResponse(FAVICON, media_type="image/svg+xml")


#: Darker colours for Swagger UI's text that fails WCAG AA contrast, loaded after its own CSS.
CONTRAST_CSS = '<link type="text/css" rel="stylesheet" href="/static/swagger-ui-contrast.css">'
#: Names for Swagger UI's request editors and keyboard access to its code samples.
A11Y_JS = '<script src="/static/swagger-ui-a11y.js"></script>'


@router.get("/docs")
def api_docs() -> HTMLResponse:
    """Swagger UI for the REST API, served from the package's own files.

    The page names its language and loads our contrast and labelling fixes; with deep links
    off, an operation's heading is one button with no link nested inside it.
    """
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="ethica API",
        swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="/static/swagger-ui/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
        # No validator badge: it would load an image from validator.swagger.io.
        swagger_ui_parameters={"validatorUrl": None, "deepLinking": False},
    )
    html = bytes(page.body).decode()
    html = html.replace("<html>", '<html lang="en">', 1)
    html = html.replace("</head>", f"{CONTRAST_CSS}\n{A11Y_JS}\n</head>", 1)
    return HTMLResponse(html)
