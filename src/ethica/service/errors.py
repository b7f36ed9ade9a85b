"""Domain errors of the service; ``app.py`` maps each to one HTTP status in one handler."""

from __future__ import annotations

from ethica.errors import EthicaError, InputError


class NotFoundError(EthicaError, LookupError):
    """The thing asked for does not exist (or is not visible to the caller)."""


class ConflictError(EthicaError):
    """The request conflicts with the current state (e.g. an idempotency key reused differently)."""


class AuthenticationError(EthicaError):
    """No valid credentials were presented."""


class PermissionDeniedError(EthicaError):
    """The caller is authenticated but lacks the scope for this."""


class PayloadTooLargeError(InputError):
    """The request body is over the configured limit."""


STATUS: list[tuple[type[Exception], int, str]] = [
    (PayloadTooLargeError, 413, "payload_too_large"),
    (NotFoundError, 404, "not_found"),
    (ConflictError, 409, "conflict"),
    (AuthenticationError, 401, "unauthenticated"),
    (PermissionDeniedError, 403, "forbidden"),
    (InputError, 422, "invalid"),
]
