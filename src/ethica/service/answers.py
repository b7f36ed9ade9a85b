"""The error answers of the API, as OpenAPI documents them: one body shape, each status described.

Every router passes :data:`ERROR_ANSWERS` (or a subset) as its ``responses``, so a client
generated from the OpenAPI document knows every status the service may give; the one error
handler in ``app.py`` writes the body.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    """One problem with a request (validation errors list one per field)."""

    location: str
    message: str


class ErrorBody(BaseModel):
    """What went wrong: a stable code, a sentence saying how to fix it, details per field."""

    code: str
    message: str
    details: list[ErrorDetail] | None = None


class ErrorRead(BaseModel):
    """Every error answer of the API."""

    error: ErrorBody


_MEANINGS = {
    400: "The request could not be read.",
    401: "No valid credentials: send 'Authorization: Bearer <API key or token>'.",
    403: "The credentials do not hold the scope this needs.",
    404: "What was asked for does not exist, or is not visible to the caller.",
    409: "The request conflicts with the current state (e.g. an idempotency key reused).",
    413: "The request body is over the configured limit.",
    422: "The request is not valid; the message names the field and what is wrong.",
    429: "Too many failed attempts; the Retry-After header says how many seconds to wait.",
}


def error_answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error statuses, each with the error body."""
    return {status: {"model": ErrorRead, "description": _MEANINGS[status]} for status in statuses}


ERROR_ANSWERS = error_answers(400, 401, 403, 404, 409, 413, 422)
"""What any route that needs credentials may answer besides its success."""
