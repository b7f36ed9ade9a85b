"""Use cases of staff users and application keys."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.service.auth import hash_password, new_api_key
from ethica.service.errors import ConflictError
from ethica.service.scopes import APPLICATION_SCOPES
from ethica.service.users.tables import ApiKey, User


def create_user(session: Session, *, email: str, name: str, role: str, password: str) -> User:
    """Create a staff user; the email must be new."""
    email = email.strip().lower()
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise ConflictError(f"a user with email {email!r} exists")
    user = User(email=email, name=name, role=role, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def create_api_key(session: Session, *, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    """A new application key with application scopes only; returns the row and the full key."""
    refused = sorted(set(scopes) - APPLICATION_SCOPES)
    if refused:
        raise InputError(
            f"scopes {refused} cannot be given to an application; allowed: "
            f"{sorted(APPLICATION_SCOPES)}"
        )
    key_id, key, secret_hash = new_api_key()
    row = ApiKey(id=key_id, name=name, secret_hash=secret_hash, scopes=sorted(set(scopes)))
    session.add(row)
    session.flush()
    return row, key


def display_names(session: Session, *, user_ids: Iterable[str]) -> dict[str, str]:
    """The name of each of these staff users that exists, by id (pages show names, not ids)."""
    wanted = set(user_ids)
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.name).where(User.id.in_(wanted)))
    return {row.id: row.name for row in rows}
