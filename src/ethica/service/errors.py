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


class TooManyAttemptsError(EthicaError):
    """Too many failed attempts in a short time; the caller may try again after a wait."""

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class PayloadTooLargeError(InputError):
    """The request body is over the configured limit."""


STATUS: list[tuple[type[Exception], int, str]] = [
    (PayloadTooLargeError, 413, "payload_too_large"),
    (NotFoundError, 404, "not_found"),
    (ConflictError, 409, "conflict"),
    (AuthenticationError, 401, "unauthenticated"),
    (PermissionDeniedError, 403, "forbidden"),
    (TooManyAttemptsError, 429, "too_many_attempts"),
    (InputError, 422, "invalid"),
]
