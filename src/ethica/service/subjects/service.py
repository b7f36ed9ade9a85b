"""Use cases of customers: sign-in links, and their rights (access, erasure) with deadlines.

An erasure is one ledger-writer job, so it is all or nothing: the subject's data key is
destroyed (crypto-shredding their sealed inputs in the ledger), every other key moves to a new
key epoch, their protected attributes are deleted, their decisions are unlinked from them
(outcome, score and time stay for audits), their concerns are deleted (the words, sealed in the
ledger, are shredded with the key), the rows kept as proof name them by a keyed pseudonym, an
``"erasure"`` entry without personal data is appended to the ``"subjects"`` chain, and the
request is recorded as completed. Every chain still verifies afterwards. :func:`run_erasure`
then destroys the old epoch's key-encryption key and compacts the database.

What stays, table by table, and what the database files keep for how long: ``docs/erasure.md``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import String, cast, delete, or_, select, update
from sqlalchemy.orm import Session

from ethica.ledger import ErasureRecord
from ethica.service.auth import sign_token
from ethica.service.concerns.tables import Concern
from ethica.service.consent.tables import ConsentRecord, ObjectionRecord
from ethica.service.db import utcnow
from ethica.service.decisions.explanations import erased_marker
from ethica.service.decisions.tables import Decision, ProtectedValue
from ethica.service.errors import ConflictError
from ethica.service.ledger.compaction import compact_after_erasure
from ethica.service.ledger.epochs import (
    reseal_protected_values,
    retire_epochs,
    rewrap_keys,
    start_epoch,
)
from ethica.service.ledger.journal import journal_of
from ethica.service.ledger.shredding import destroy_subject_keys
from ethica.service.ledger.writer import Batch, LedgerWriter
from ethica.service.notifications.service import erase_notifications
from ethica.service.reviews.tables import Appeal, Review
from ethica.service.settings import AppSettings
from ethica.service.subjects.export import subject_export
from ethica.service.subjects.requests import (
    REQUEST_CHAIN,
    check_subject,
    complete_request,
    iso_moment,
    open_request,
    prove_request,
    record_access,
    request_read,
)
from ethica.service.subjects.schemas import RightsRequestRead
from ethica.service.subjects.tables import RightsRequest

ERASURE_CHAIN = REQUEST_CHAIN
"""The ledger chain that records erasures (no personal data: counts and the request id)."""


def customer_link(
    *, subject_id: str, settings: AppSettings, minutes: int | None = None
) -> tuple[str, int]:
    """A signed, expiring token for one customer; returns it with its lifetime in minutes."""
    check_subject(subject_id)
    lifetime = minutes or settings.customer_link_minutes
    token = sign_token(
        {"sub": subject_id, "kind": "customer"},
        secret=settings.secret_key.get_secret_value(),
        minutes=lifetime,
    )
    return token, lifetime


def erase_subject(
    batch: Batch,
    *,
    subject_id: str,
    requested_by: str,
    now: datetime | None = None,
    epoch: str | None = None,
) -> RightsRequest:
    """Erase a subject (GDPR Art. 17) as one writer job; returns the completed request.

    Run it through :func:`run_erasure`, which also starts the new key ``epoch`` that every
    surviving key moves to, then destroys the old epoch's key and compacts the database. The
    key is destroyed through the batch's key ring, which also drops the writer's cached copy.
    """
    session = batch.session
    request = open_request(
        session, kind="erasure", subject_id=subject_id, requested_by=requested_by, now=now
    )
    keys_destroyed, pseudonym_destroyed = destroy_subject_keys(batch, subject_id)
    their_decisions = select(Decision.id).where(Decision.subject_id == subject_id)
    deleted = session.execute(
        delete(ProtectedValue).where(
            or_(
                ProtectedValue.subject_id == subject_id,
                ProtectedValue.decision_id.in_(their_decisions),
            )
        )
    )
    # Their concerns' words are sealed with the keys just destroyed; the rows go too.
    concerns = session.execute(delete(Concern).where(Concern.subject_id == subject_id))
    notifications = erase_notifications(session, subject_id=subject_id)
    # Comments written before comments were sealed quote them in plain text.
    session.execute(
        update(Review)
        .where(Review.decision_id.in_(their_decisions), Review.comment.is_not(None))
        .values(comment=None)
    )
    pseudonymised = _pseudonymise_links(batch, subject_id)
    # An explanation quotes their values: it is sealed in the ledger with the keys just
    # destroyed; one kept in the row (before explanations were sealed) goes the same way.
    session.execute(
        update(Decision)
        .where(
            Decision.subject_id == subject_id,
            Decision.explanation.is_not(None),
            cast(Decision.explanation, String) != "null",
        )
        .values(explanation=erased_marker(_today(now)))
    )
    unlinked = session.execute(
        update(Decision).where(Decision.subject_id == subject_id).values(subject_id=None)
    )
    rewrap_keys(batch, epoch)
    reseal_protected_values(batch, epoch)
    # Decisions about the subject earlier in this group are still queued, not inserted: erase
    # them too. Done last, as a job that fails afterwards could not put them back.
    queued_deleted, queued_unlinked = _queued_rows(batch, subject_id)
    counts = {
        "key_destroyed": keys_destroyed > 0,
        # Verify counts these against the pseudonyms whose keys are gone (docs/erasure.md).
        "pseudonym_destroyed": pseudonym_destroyed,
        "protected_values_deleted": _rowcount(deleted) + queued_deleted,
        "decisions_unlinked": _rowcount(unlinked) + queued_unlinked,
        "concerns_deleted": _rowcount(concerns),
        "notifications_deleted": notifications,
        "links_pseudonymised": pseudonymised,
    }
    entry = batch.ledger.append(
        "erasure", chain=ERASURE_CHAIN, public={"request_id": request.id, **counts}
    )
    ledger = {"chain": entry.chain, "sequence": entry.sequence, "hash": entry.hash}
    complete_request(request, result={**counts, "ledger": ledger}, now=now)
    session.flush()
    prove_request(batch, request)
    _scrub_queued_rows(batch, subject_id)
    return request


def _pseudonymise_links(batch: Batch, subject_id: str) -> int:
    """Name the subject by a keyed pseudonym in the rows kept as proof (see docs/erasure.md).

    Appeals would re-link the unlinked decisions; consent records and objections are kept as
    proof of consent (GDPR Art. 7(1)) and their other requests as proof they were honoured
    (Art. 5(2)), findable again only by whoever holds both the subject's id and the master key.
    """
    keyring = batch.ledger.keyring
    if keyring is None:
        return 0
    pseudonym = keyring.pseudonym(subject_id)
    renamed = 0
    for table in (Appeal, ConsentRecord, ObjectionRecord):
        result = batch.session.execute(
            update(table).where(table.subject_id == subject_id).values(subject_id=pseudonym)
        )
        renamed += _rowcount(result)
    # The erasure request too: `ethica ledger verify` tells the subject's shredded keys and
    # rows from tampering by this pseudonym (ids in older key names) and by the erasure's
    # entry (pseudonyms), so no row keeps the id.
    requests = batch.session.execute(
        update(RightsRequest)
        .where(RightsRequest.subject_id == subject_id)
        .values(subject_id=pseudonym)
    )
    return renamed + _rowcount(requests)


def _queued_rows(batch: Batch, subject_id: str) -> tuple[int, int]:
    """How many queued protected values and decisions of the group are about the subject."""
    protected = batch.rows.get(ProtectedValue, [])
    decisions = batch.rows.get(Decision, [])
    return (
        sum(r.get("subject_id") == subject_id for r in protected),
        sum(r.get("subject_id") == subject_id for r in decisions),
    )


def _scrub_queued_rows(batch: Batch, subject_id: str) -> None:
    """Apply the erasure to decisions of the same group that are not inserted yet."""
    protected = batch.rows.get(ProtectedValue, [])
    protected[:] = [r for r in protected if r.get("subject_id") != subject_id]
    for row in batch.rows.get(Decision, []):
        if row.get("subject_id") == subject_id:
            row["subject_id"] = None
            if row.get("explanation") is not None:  # it quotes the customer's own values
                row["explanation"] = erased_marker(_today(None))


def _today(now: datetime | None) -> date:
    return (now or utcnow()).date()


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


ERASURE_ATTEMPTS = 3
"""Erasures retried when another process extended the erasure chain first."""


def run_erasure(writer: LedgerWriter, *, subject_id: str, requested_by: str) -> RightsRequestRead:
    """Erase a subject on the ledger writer, leaving no copy of their key that can be opened.

    A new key epoch is started first; after the erasure committed, it is recorded in the
    erasure journal, the old epoch's key is destroyed and the database compacted (retried if
    another process extended the chain).
    """
    check_subject(subject_id)  # before a new epoch is started for nothing
    epoch = start_epoch(writer.sessions)
    row = _erase_on(writer, subject_id=subject_id, requested_by=requested_by, epoch=epoch)
    try:  # journalled first: the sooner it is outside the database, the smaller the gap
        _journal(writer, row)
    finally:  # the old key is destroyed even if the journal cannot be written
        retire_epochs(writer.sessions)
        bind = writer.sessions.kw.get("bind")
        if bind is not None:
            compact_after_erasure(bind)
    # The row names them by pseudonym now; the answer names whom the caller asked about.
    return request_read(row).model_copy(update={"subject_id": subject_id})


def _journal(writer: LedgerWriter, row: RightsRequest) -> None:
    """Record the committed erasure in the journal outside the database (docs/erasure.md)."""
    journal = journal_of(writer.sessions)
    ledger = (row.result or {}).get("ledger")
    if journal is None or not row.subject_id.startswith("erased:") or not ledger:
        return
    at = iso_moment(row.completed_at) or ""
    journal.record(
        ErasureRecord(row.subject_id, at, ledger["chain"], ledger["sequence"], ledger["hash"])
    )


def _erase_on(
    writer: LedgerWriter, *, subject_id: str, requested_by: str, epoch: str | None
) -> RightsRequest:
    attempts = 0
    while True:
        try:
            return writer.run(
                lambda batch: erase_subject(
                    batch, subject_id=subject_id, requested_by=requested_by, epoch=epoch
                )
            )
        except ConflictError:
            # Another process (`ethica subjects erase`, a replica) extended the erasure chain;
            # the writer has dropped its stale head, so the job lands on a retry.
            attempts += 1
            if attempts == ERASURE_ATTEMPTS:
                raise


def export_subject(
    writer: LedgerWriter, session: Session, *, subject_id: str, requested_by: str, master_key: bytes
) -> dict[str, Any]:
    """Everything recorded about a subject (GDPR Art. 15), the access request recorded first."""
    check_subject(subject_id)
    writer.run(lambda batch: record_access(batch, subject_id=subject_id, requested_by=requested_by))
    return subject_export(session, subject_id=subject_id, master_key=master_key)
