"""Use cases of the ledger: verify every chain against its signed heads and the witness's."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy.orm import Session

from ethica.ledger import FileWitness, ParallelReading, VerificationReport, verify_store
from ethica.service.ledger.entries import index_ledger
from ethica.service.ledger.heads import public_key, witness_path
from ethica.service.ledger.rows import check_decision_rows
from ethica.service.ledger.seals import WriterSeal, check_unsigned_seals
from ethica.service.ledger.second_half import spawned_reading
from ethica.service.ledger.served import check_served_rows
from ethica.service.ledger.store import SqlEntryStore, latest_checkpoints, stored_heads
from ethica.service.settings import Settings


def verify_ledger(
    session: Session,
    *,
    settings: Settings,
    chains: list[str] | None = None,
    witness: Path | None = None,
    parallel: bool = False,
) -> VerificationReport:
    """Check every chain (or the given ones) against every signed head and checkpoint.

    Heads come from ``ledger_heads`` and from the witness file (``witness``, by default the
    service's own): a chain that falls short of, or differs from, a head either kept is named,
    and so is a head the witness kept that the database lacks. Verifying every chain also
    compares every decision row with its entries (:func:`check_decision_rows`).

    ``parallel`` verifies each long chain in two halves on two processes (the second one
    started for it, :mod:`ethica.service.ledger.second_half`).
    """
    heads = stored_heads(session)
    # Started first, the second half's process gets ready while the rest is read and checked.
    long_chain = any(h.size >= ParallelReading.min_entries for h in heads)
    reading = spawned_reading(session) if parallel and long_chain else None
    path = witness or witness_path(settings.database.url, settings.ledger.witness_path)
    witnessed = FileWitness(path).heads() if path is not None and path.exists() else None
    store = SqlEntryStore(session)
    report = verify_store(
        store,
        chains=chains,
        checkpoint=[c for c in latest_checkpoints(session) if chains is None or c.chain in chains],
        heads=heads,
        witnessed=witnessed,
        public_key=public_key(settings),
        parallel=reading,
    )
    newest: dict[str, int] = {}
    for head in heads:
        newest[head.chain] = max(head.size, newest.get(head.chain, 0))
    seal = WriterSeal(settings.ledger.master_key_bytes)
    found = check_unsigned_seals(session, seal, newest, chains or store.chains())
    if chains is None:
        index = index_ledger(session, master_key=settings.ledger.master_key_bytes)
        found += check_decision_rows(session, index) + check_served_rows(
            session, index, master_key=settings.ledger.master_key_bytes
        )
    return replace(report, ok=report.ok and not found, problems=report.problems + tuple(found))
