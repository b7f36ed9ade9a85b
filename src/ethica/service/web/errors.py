"""Errors on pages: a page that says what went wrong, or a trip to the sign-in form."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from ethica.service.web.rendering import render
from ethica.service.web.session import SignInRequired

_TITLES = {
    400: "The request could not be read",
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    409: "That cannot be done now",
    413: "Too large",
    422: "Please check what you entered",
}


def page_error(request: Request, error: Exception | None, status: int, message: str) -> Response:
    """The answer to an error on a page: sign in again, or an error page with the message."""
    if isinstance(error, SignInRequired) and request.method == "GET":
        if request.url.path.startswith("/portal"):
            return render(request, "error.html", _context(401, message, customer=True), status=401)
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/login?next={target}", status_code=303)
    if status == 404 and message == "Not Found":
        message = "There is no page at this address: check the link, or start from the home page."
    context = _context(status, message, customer=request.url.path.startswith("/portal"))
    return render(request, "error.html", context, status=status)


def _context(status: int, message: str, *, customer: bool = False) -> dict[str, object]:
    return {
        "status": status,
        "title": _TITLES.get(status, "Something went wrong"),
        "message": message,
        "customer": customer,
    }
