"""Signing staff in and out: throttled, as slow for unknown accounts as for known ones, revocable.

- Throttling: :data:`ACCOUNT_FAILURES` failed sign-ins for one account, or :data:`ADDRESS_FAILURES`
  from one address, within :data:`FAILURE_WINDOW` refuse further attempts (429, with the seconds to
  wait) until the oldest of them leaves the window. Counted in the database, so replicas share it.
- Timing: an unknown or disabled account still costs one scrypt, against a hash no password
  matches, so the answer's delay does not tell which emails have accounts.
- Revocation: signing out records the token's ``jti``, which
  :func:`ethica.service.auth.authenticate` then refuses, until the token would have expired.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from ethica.service.auth import check_password
from ethica.service.db import unit_of_work, utcnow
from ethica.service.errors import AuthenticationError, TooManyAttemptsError
from ethica.service.users.tables import RevokedToken, SignInFailure, User

FAILURE_WINDOW = timedelta(minutes=15)
"""How long a failed sign-in counts towards throttling."""
ACCOUNT_FAILURES = 5
"""Failed sign-ins for one account within the window before its sign-ins are refused."""
ADDRESS_FAILURES = 20
"""Failed sign-ins from one address within the window before its sign-ins are refused."""

# No password hashes to this: scrypt of anything never yields 32 zero bytes in practice.
_NO_ACCOUNT_HASH = f"scrypt${secrets.token_hex(16)}${'00' * 32}"


@dataclass(frozen=True)
class SignedIn:
    """Who signed in."""

    user_id: str
    role: str


def sign_in(
    sessions: sessionmaker[Session], *, email: str, password: str, address: str
) -> SignedIn:
    """The user with these credentials, unless throttled; a failure is remembered.

    Unlike other use cases this one commits, in a transaction of its own: a failure must be
    counted although the request then fails.
    """
    account = _digest(email.strip().lower())
    where = _digest(address)
    now = utcnow()
    with unit_of_work(sessions) as session:
        _refuse_if_throttled(session, account=account, address=where, now=now)
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        matches = check_password(password, user.password_hash if user else _NO_ACCOUNT_HASH)
        if user is not None and user.active and matches:
            session.execute(delete(SignInFailure).where(SignInFailure.account == account))
            return SignedIn(user.id, user.role)
        session.execute(delete(SignInFailure).where(SignInFailure.failed_at < now - FAILURE_WINDOW))
        session.add(SignInFailure(account=account, address=where, failed_at=now))
    raise AuthenticationError("wrong email or password")


def revoke(session: Session, *, jti: str, expires: int) -> None:
    """End the session of the token with this ``jti`` (``expires``: its expiry, Unix seconds)."""
    now = utcnow()
    session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
    if session.get(RevokedToken, jti) is None:
        expires_at = datetime.fromtimestamp(expires, tz=now.tzinfo)
        session.add(RevokedToken(jti=jti, expires_at=max(expires_at, now)))
        session.flush()


def _refuse_if_throttled(session: Session, *, account: str, address: str, now: datetime) -> None:
    limits = (
        (SignInFailure.account == account, ACCOUNT_FAILURES, "this account"),
        (SignInFailure.address == address, ADDRESS_FAILURES, "your address"),
    )
    for condition, limit, whose in limits:
        recent = session.scalars(
            select(SignInFailure.failed_at)
            .where(condition, SignInFailure.failed_at >= now - FAILURE_WINDOW)
            .order_by(SignInFailure.failed_at.desc())
            .limit(limit)
        ).all()
        if len(recent) >= limit:
            wait = (recent[-1] + FAILURE_WINDOW - now).total_seconds()
            seconds = max(1, math.ceil(wait))
            raise TooManyAttemptsError(
                f"too many failed sign-ins for {whose}; try again in {_minutes(seconds)}",
                retry_after_seconds=seconds,
            )


def _minutes(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
