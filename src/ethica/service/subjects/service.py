"""Use cases of customers: sign-in links for the business's app."""

from __future__ import annotations

from ethica.errors import InputError
from ethica.service.auth import sign_token
from ethica.service.settings import AppSettings


def customer_link(
    *, subject_id: str, settings: AppSettings, minutes: int | None = None
) -> tuple[str, int]:
    """A signed, expiring token for one customer; returns it with its lifetime in minutes."""
    if not subject_id or len(subject_id) > 100:
        raise InputError("a subject id has 1 to 100 characters")
    lifetime = minutes or settings.customer_link_minutes
    token = sign_token(
        {"sub": subject_id, "kind": "customer"},
        secret=settings.secret_key.get_secret_value(),
        minutes=lifetime,
    )
    return token, lifetime
