"""Which key seals what, and destroying keys (crypto-shredding) by subject or by age.

A decision's personal fields are sealed with the key of its subject, system and month
(``<pseudonym>#system#yyyy-mm``, or ``<subject id>#system#yyyy-mm`` before pseudonyms; see
:mod:`ethica.service.ledger.naming`).
Erasure destroys every key of a subject; retention destroys the keys of a system's months
that have fully expired. The ledger's hashes cover the ciphertexts, so the chains verify
afterwards while the plaintext is gone for good.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from ethica.ledger import ErasedError
from ethica.service.ledger.naming import key_part
from ethica.service.ledger.tables import SubjectKey
from ethica.service.ledger.writer import Batch


def destroy_subject_keys(batch: Batch, subject: str) -> tuple[int, bool]:
    """Destroy every key of ``subject`` (erasure): their data keys and their pseudonym key.

    Returns how many data keys there were, and whether their pseudonym key was destroyed
    (then nothing in the ledger can be tied to their id any more). Data keys of both name
    forms go: ``<pseudonym>#...`` and the older ``<subject id>#...``.
    """
    keyring = batch.ledger.keyring
    if keyring is None:
        return 0, False
    batch.resolved.clear()  # names resolved before may stand for keys destroyed now
    destroyed = 0
    try:
        pseudonym = keyring.subject_pseudonym(subject, create=False)
    except ErasedError:
        pseudonym = None
    prefixes = [f"{key_part(subject)}#"] + ([] if pseudonym is None else [f"{pseudonym}#"])
    for prefix in prefixes:
        destroyed += destroy_keys(batch, like=_escape(prefix) + "%", matches=_starts(prefix))
    return destroyed, keyring.erase(keyring.pseudonym_key_name(subject))


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
    batch.resolved.clear()  # names resolved before may stand for keys destroyed now
    stored = batch.session.scalars(
        select(SubjectKey.subject).where(SubjectKey.subject.like(like, escape="\\"))
    )
    queued = (row["subject"] for row in batch.rows.get(SubjectKey, []))
    names = sorted({name for name in (*stored, *queued) if matches(name)})
    return sum(keyring.erase(name) for name in names)


def _starts(prefix: str) -> Callable[[str], bool]:
    return lambda name: name.startswith(prefix)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
