"""Which key seals what, and destroying keys (crypto-shredding) by subject or by age.

A decision's personal fields are sealed with the key of its subject, system and month
(``subject#system#yyyy-mm``, the subject percent-encoded so that names never collide).
Erasure destroys every key of a subject; retention destroys the keys of a system's months
that have fully expired. The ledger's hashes cover the ciphertexts, so the chains verify
afterwards while the plaintext is gone for good.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from ethica.service.ledger.tables import SubjectKey
from ethica.service.ledger.writer import Batch


def sealing_subject(subject: str, system_id: str, at: datetime) -> str:
    """Name the key that seals a decision's personal fields: per subject, system and month."""
    return f"{key_part(subject)}#{system_id}#{at:%Y-%m}"


def key_part(subject: str) -> str:
    """The subject as the first part of its key names: without ``#``, so names never collide.

    ``%`` and ``#`` are percent-encoded, so the first ``#`` of a key name always ends the
    subject: erasing ``a#b`` can never reach the keys of ``a``. Ids without either character
    (every id the service accepts) are their own key part, as before.
    """
    return subject.replace("%", "%25").replace("#", "%23")


def destroy_subject_keys(batch: Batch, subject: str) -> int:
    """Destroy every key of ``subject`` (erasure); returns how many there were."""
    prefix = f"{key_part(subject)}#"
    return destroy_keys(batch, like=_escape(prefix) + "%", matches=lambda n: n.startswith(prefix))


def destroy_expired_keys(batch: Batch, system_id: str, *, before_month: str) -> int:
    """Destroy the keys of ``system_id``'s months before ``before_month`` (``yyyy-mm``)."""

    def expired(name: str) -> bool:
        *_, system, month = name.split("#")
        return system == system_id and month < before_month

    return destroy_keys(batch, like="%#" + _escape(system_id) + "#%", matches=expired)


def destroy_keys(batch: Batch, *, like: str, matches: Callable[[str], bool]) -> int:
    """Destroy the keys whose names match; returns how many were destroyed.

    Keys created earlier in the same write group are not inserted yet: they are found among
    the group's queued rows and destroyed too. The key ring drops the writer's cached copies.
    """
    keyring = batch.ledger.keyring
    if keyring is None:
        return 0
    stored = batch.session.scalars(
        select(SubjectKey.subject).where(SubjectKey.subject.like(like, escape="\\"))
    )
    queued = (row["subject"] for row in batch.rows.get(SubjectKey, []))
    names = sorted({name for name in (*stored, *queued) if matches(name)})
    return sum(keyring.erase(name) for name in names)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
