"""Erasures again after a restore: find the subjects the erasure journal says were erased.

A database restored from a backup older than an erasure holds the erased subject again, and
with an old copy of the key file their data opens again. :func:`restored_erasures` finds them
(one HMAC per subject the database holds); :func:`replay_erasures` erases each through
:func:`~ethica.service.subjects.service.run_erasure`, the same path as any erasure; and
:func:`refuse_restored_erasures` keeps the service from serving until that is done.
"""

from __future__ import annotations

from sqlalchemy import and_, select, union
from sqlalchemy.orm import Session, sessionmaker

from ethica.errors import EthicaError
from ethica.ledger import ErasureJournal, ErasureRecord, KeyRing
from ethica.service.concerns.tables import Concern
from ethica.service.consent.tables import ConsentRecord, ObjectionRecord
from ethica.service.decisions.tables import Decision, ProtectedValue
from ethica.service.ledger.journal import journal_of
from ethica.service.ledger.tables import LedgerEntry
from ethica.service.ledger.writer import LedgerWriter
from ethica.service.notifications.tables import Notification
from ethica.service.reviews.tables import Appeal
from ethica.service.subjects.service import run_erasure
from ethica.service.subjects.tables import RightsRequest

REPLAY_COMMAND = "ethica subjects replay-erasures"

#: Every column that names a subject by id (kept proof names an erased one ``erased:…``).
SUBJECT_COLUMNS = (
    Decision.subject_id,
    ProtectedValue.subject_id,
    Concern.subject_id,
    Notification.subject_id,
    Appeal.subject_id,
    ConsentRecord.subject_id,
    ObjectionRecord.subject_id,
    RightsRequest.subject_id,
)


class RestoredErasureError(EthicaError):
    """The database holds subjects that the erasure journal says were erased."""


def held_subjects(session: Session) -> list[str]:
    """Every subject id the database holds, once each."""
    held = union(
        *(
            select(column.label("subject_id")).where(
                and_(column.is_not(None), ~column.startswith("erased:", autoescape=True))
            )
            for column in SUBJECT_COLUMNS
        )
    )
    rows = session.connection().execute(select(held.subquery().c.subject_id))
    return [str(subject) for (subject,) in rows]


def restored_erasures(session: Session, journal: ErasureJournal, master_key: bytes) -> list[str]:
    """The subjects held here whose latest erasure in ``journal`` this database never saw.

    A subject erased and then back (a returning customer) is not one: the database holds that
    erasure's ledger entry. A database restored from before it does not.
    """
    latest: dict[str, ErasureRecord] = {}
    for line in journal.records():  # oldest first: the newest line per subject wins
        latest[line.pseudonym] = line
    if not latest:
        return []
    keyring = KeyRing(master_key)
    found = []
    for subject in held_subjects(session):
        erasure = latest.get(keyring.pseudonym(subject))
        if erasure is not None and not _in_ledger(session, erasure):
            found.append(subject)
    return sorted(found)


def _in_ledger(session: Session, erasure: ErasureRecord) -> bool:
    stored = session.get(LedgerEntry, (erasure.chain, erasure.sequence))
    return stored is not None and stored.hash == erasure.hash


def replay_erasures(writer: LedgerWriter, *, master_key: bytes) -> tuple[int, int]:
    """Erase again every subject :func:`restored_erasures` finds; returns (re-applied, listed).

    Raises
    ------
    RestoredErasureError
        No erasure journal is configured.
    """
    journal = _journal(writer.sessions)
    with writer.sessions() as session:
        subjects = restored_erasures(session, journal, master_key)
    for subject in subjects:
        run_erasure(writer, subject_id=subject, requested_by="replay")
    return len(subjects), len({erasure.pseudonym for erasure in journal.records()})


def refuse_restored_erasures(sessions: sessionmaker[Session], *, master_key: bytes) -> None:
    """Raise :class:`RestoredErasureError` while the database holds an erased subject."""
    journal = journal_of(sessions)
    if journal is None:
        return
    with sessions() as session:
        found = restored_erasures(session, journal, master_key)
    if found:
        raise RestoredErasureError(
            f"the database holds {len(found)} subject(s) that the erasure journal "
            f"{journal.path} says were erased (it was restored from an older backup): run "
            f"`{REPLAY_COMMAND}` before serving"
        )


def _journal(sessions: sessionmaker[Session]) -> ErasureJournal:
    journal = journal_of(sessions)
    if journal is None:
        raise RestoredErasureError(
            "no erasure journal is configured: set ETHICA__LEDGER__ERASURE_JOURNAL (or "
            "ETHICA__LEDGER__KEY_FILE, beside which it is kept by default)"
        )
    return journal
