"""Signed tree heads of the service's chains, by count and by time, witnessed outside the database.

Every tampering with entries or heads made directly in the database (SQLite and PostgreSQL) is
named by verification against the heads the database and the witness file kept.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from ethica.ledger import (
    GENESIS_HASH,
    FileWitness,
    InclusionProof,
    SignedHead,
    VerificationReport,
    rfc3339,
    stored_hash,
    verify_store,
)
from ethica.service.db import make_engine, session_factory, unit_of_work, upgrade
from ethica.service.errors import ConflictError, NotFoundError
from ethica.service.ledger.heads import HeadSigner, witness_path
from ethica.service.ledger.proofs import prove_entry
from ethica.service.ledger.seals import WriterSeal, check_unsigned_seals
from ethica.service.ledger.store import SqlEntryStore, row_entry, stored_heads
from ethica.service.ledger.tables import LedgerEntry, LedgerHead
from ethica.service.ledger.writer import Batch, LedgerWriter

MASTER = os.urandom(32)
SEED = os.urandom(32)
PUBLIC = Ed25519PrivateKey.from_private_bytes(SEED).public_key()


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine: Engine = make_engine(database_url)
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def signed(
    sessions: sessionmaker[Session], tmp_path: Path
) -> Iterator[tuple[LedgerWriter, HeadSigner]]:
    signer = HeadSigner(SEED, every=4, witness=FileWitness(tmp_path / "heads.jsonl"))
    writer = LedgerWriter(sessions, MASTER, after_commit=signer)
    for i in range(10):
        chain = "consent" if i % 2 else "erasure"
        writer.run(_appending(chain, i))
    yield writer, signer
    writer.close()


def _appending(chain: str, i: int) -> object:
    def job(batch: Batch) -> int:
        return batch.ledger.append(
            "consent", chain=chain, subject=f"s{i}", public={"i": i}
        ).sequence

    return job


def _verify(sessions: sessionmaker[Session], witness: FileWitness) -> VerificationReport:
    with unit_of_work(sessions) as session:
        return verify_store(
            SqlEntryStore(session),
            heads=stored_heads(session),
            witnessed=witness.heads(),
            public_key=PUBLIC,
        )


def _problems(report: VerificationReport) -> list[tuple[str, str, int]]:
    return [(p.kind, p.chain, p.sequence) for p in report.problems]


def _heads(sessions: sessionmaker[Session]) -> list[SignedHead]:
    with unit_of_work(sessions) as session:
        return stored_heads(session)


def test_heads_by_count_then_by_time_cover_every_chain(
    sessions: sessionmaker[Session], signed: tuple[LedgerWriter, HeadSigner]
) -> None:
    writer, signer = signed
    assert [(h.chain, h.size) for h in _heads(sessions)] == [("consent", 4), ("erasure", 4)]
    due = writer.run(lambda batch: signer.sign_due(batch.session))
    assert sorted((h.chain, h.size) for h in due) == [("consent", 5), ("erasure", 5)]
    assert writer.run(lambda batch: signer.sign_due(batch.session)) == []  # nothing new
    heads = _heads(sessions)
    assert len(heads) == 4
    assert signer.witness is not None
    assert sorted(signer.witness.heads(), key=lambda h: (h.chain, h.size)) == heads
    report = _verify(sessions, signer.witness)  # type: ignore[arg-type]
    assert report.ok, str(report)
    assert report.signed_heads_checked == 4 and report.unsigned == {}


@pytest.mark.parametrize(
    "tampering",
    [
        "edit",
        "delete",
        "truncate",
        "delete_chain",
        "rewrite_tail",
        "forge_append",
        "delete_heads",
        "forge_head",
    ],
)
def test_every_tampering_in_the_database_is_named(
    sessions: sessionmaker[Session],
    signed: tuple[LedgerWriter, HeadSigner],
    tampering: str,
) -> None:
    writer, signer = signed
    writer.run(lambda batch: signer.sign_due(batch.session))
    witness = signer.witness
    assert isinstance(witness, FileWitness)
    assert _verify(sessions, witness).ok
    expected = _tamper(sessions, tampering)
    problems = _problems(_verify(sessions, witness))
    assert expected in problems, (tampering, problems)


def _tamper(sessions: sessionmaker[Session], tampering: str) -> tuple[str, str, int]:
    chain = "consent"
    with unit_of_work(sessions) as session:
        entry = (LedgerEntry.chain == chain) & (LedgerEntry.sequence == 2)
        if tampering == "edit":
            session.execute(update(LedgerEntry).where(entry).values(public='{"i":99}'))
            return ("edited", chain, 2)
        if tampering == "delete":
            session.execute(delete(LedgerEntry).where(entry))
            return ("deleted", chain, 3)
        if tampering == "truncate":
            session.execute(
                delete(LedgerEntry).where(LedgerEntry.chain == chain, LedgerEntry.sequence >= 3)
            )
            return ("truncated", chain, 3)
        if tampering == "delete_chain":
            session.execute(delete(LedgerEntry).where(LedgerEntry.chain == "erasure"))
            return ("truncated", "erasure", 0)
        if tampering == "delete_heads":
            session.execute(delete(LedgerHead).where(LedgerHead.chain == chain))
            return ("deleted", chain, 4)
        if tampering == "forge_head":
            session.execute(
                update(LedgerHead)
                .where(LedgerHead.chain == chain, LedgerHead.size == 4)
                .values(root="0" * 64)
            )
            return ("forged", chain, 4)
        rows = list(
            session.execute(
                select(LedgerEntry).where(LedgerEntry.chain == chain).order_by(LedgerEntry.sequence)
            ).scalars()
        )
        if tampering == "rewrite_tail":
            # Rewrite entry 3 and recompute every hash and link after it, as a careful forger.
            previous = rows[2].hash
            for row in rows[3:]:
                if row.sequence == 3:
                    row.public = '{"i":77}'
                row.previous_hash = previous
                row.hash = stored_hash(chain, _record(row))
                previous = row.hash
            return ("rewritten", chain, 0)  # before the head of 4: no head narrows it down
        # forge_append: a backdated entry after the newest head, with a correct hash and link.
        last = rows[-1]
        forged = LedgerEntry(
            chain=chain,
            sequence=last.sequence + 1,
            recorded_at=last.recorded_at,
            kind="consent",
            subject="s1",
            public='{"i":1000}',
            previous_hash=last.hash,
            hash="",
        )
        forged.hash = stored_hash(chain, _record(forged))
        session.add(forged)
        return ("forged", chain, last.sequence + 1)


def _record(row: LedgerEntry) -> tuple[object, ...]:
    return (
        row.sequence,
        row.recorded_at,
        row.kind,
        row.subject,
        row.public,
        row.sealed_nonce,
        row.sealed_ciphertext,
        row.key_id,
        row.previous_hash,
        row.hash,
    )


def test_a_removed_witness_line_is_named(
    sessions: sessionmaker[Session], signed: tuple[LedgerWriter, HeadSigner], tmp_path: Path
) -> None:
    writer, signer = signed
    writer.run(lambda batch: signer.sign_due(batch.session))
    witness = signer.witness
    assert isinstance(witness, FileWitness)
    lines = witness.path.read_text().splitlines()
    removed = [line for line in lines if '"chain":"consent"' in line and '"size":4' in line]
    witness.path.write_text("\n".join(line for line in lines if line not in removed) + "\n")
    assert ("deleted", "consent", 4) in _problems(_verify(sessions, witness))


def test_the_witness_file_sits_beside_a_sqlite_database() -> None:
    assert witness_path("sqlite:////var/lib/ethica/ethica.db", None) == Path(
        "/var/lib/ethica/ethica.db.heads.jsonl"
    )
    assert witness_path("sqlite:///:memory:", None) is None
    assert witness_path("postgresql+psycopg://h/db", None) is None
    assert witness_path("postgresql+psycopg://h/db", "/audit/heads.jsonl") == Path(
        "/audit/heads.jsonl"
    )
    assert GENESIS_HASH == "0" * 64


def test_an_inclusion_proof_verifies_offline_against_a_witnessed_head_and_not_after_a_change(
    sessions: sessionmaker[Session], signed: tuple[LedgerWriter, HeadSigner]
) -> None:
    writer, signer = signed
    writer.run(lambda batch: signer.sign_due(batch.session))
    witness = signer.witness
    assert isinstance(witness, FileWitness)
    with unit_of_work(sessions) as session:
        proof = prove_entry(session, chain="consent", sequence=3, public_key=PUBLIC)
    offline = InclusionProof.from_dict(json.loads(json.dumps(proof.to_dict())))
    assert offline.verify(PUBLIC)
    assert offline.head in witness.heads()  # the head an auditor kept
    assert offline.entry is not None and offline.entry.public == {"i": 7}
    # Edited in place, or rewritten with its hashes recomputed: no proof is given any more.
    with unit_of_work(sessions) as session:
        session.execute(
            update(LedgerEntry)
            .where(LedgerEntry.chain == "consent", LedgerEntry.sequence == 3)
            .values(public='{"i":8}')
        )
    with unit_of_work(sessions) as session, pytest.raises(ConflictError, match="was altered"):
        prove_entry(session, chain="consent", sequence=3, public_key=PUBLIC)
    _tamper(sessions, "rewrite_tail")
    with unit_of_work(sessions) as session, pytest.raises(ConflictError, match="not in the tree"):
        prove_entry(session, chain="consent", sequence=3, public_key=PUBLIC)
    # A proof forged for the changed entry against the witnessed head fails offline too.
    with unit_of_work(sessions) as session:
        changed = row_entry(session.get(LedgerEntry, ("consent", 3)))  # type: ignore[arg-type]
    forged = replace(offline, entry=changed, entry_hash=changed.hash)
    assert not forged.verify(PUBLIC)
    assert offline.verify(PUBLIC)  # the proof kept from before still proves what was signed


def test_no_proof_before_a_head_covers_the_entry(
    sessions: sessionmaker[Session], signed: tuple[LedgerWriter, HeadSigner]
) -> None:
    with unit_of_work(sessions) as session:
        with pytest.raises(ConflictError, match="no signed head covers"):
            prove_entry(session, chain="consent", sequence=4, public_key=PUBLIC)
        with pytest.raises(NotFoundError):
            prove_entry(session, chain="consent", sequence=99, public_key=PUBLIC)


def test_a_new_process_reports_deleted_head_rows_and_hands_the_witness_what_it_lacks(
    sessions: sessionmaker[Session], signed: tuple[LedgerWriter, HeadSigner]
) -> None:
    # Heads reach the witness only after their rows are committed. So a head the witness kept
    # and the database lacks was deleted there: a new process must not copy it back (which
    # would hide the deletion). A committed head the witness never got (kill -9 between the
    # commit and the witness) is handed to it.
    writer, signer = signed
    witness = signer.witness
    assert isinstance(witness, FileWitness)
    lost = [h for h in witness.heads() if h.chain == "consent"]
    deleted = [(h.chain, h.size) for h in lost]
    assert deleted
    with unit_of_work(sessions) as session:
        session.execute(delete(LedgerHead).where(LedgerHead.chain == "consent"))
    lines = witness.path.read_text().splitlines()
    witness.path.write_text("\n".join(line for line in lines if '"erasure"' not in line) + "\n")
    restarted = HeadSigner(SEED, every=4, witness=witness)
    writer.run(lambda batch: restarted.sign_due(batch.session))
    report = _verify(sessions, witness)
    found = _problems(report)
    assert found == [("deleted", chain, size) for chain, size in deleted], str(report)
    assert not {h.signature for h in _heads(sessions)} & {h.signature for h in lost}
    assert {h.chain for h in witness.heads()} == {"consent", "erasure"}


def test_a_forged_append_with_a_current_time_on_a_shared_chain_is_never_signed_and_is_named(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    # Two processes append to the consent chain; each signer takes in what the other wrote.
    # A forger inserts a row with a fresh time, a correct hash and link: no seal of the writer.
    seal = WriterSeal(MASTER)
    signer = HeadSigner(SEED, every=2, witness=FileWitness(tmp_path / "h.jsonl"), seal=seal)
    writer = LedgerWriter(sessions, MASTER, after_commit=signer)
    other = LedgerWriter(sessions, MASTER)
    try:
        for i in range(3):
            _retried(writer, _appending("consent", i))
            _retried(other, _appending("consent", 10 + i))
        with unit_of_work(sessions) as session:
            last = session.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.chain == "consent")
                .order_by(LedgerEntry.sequence.desc())
                .limit(1)
            ).one()
            forged = LedgerEntry(
                chain="consent",
                sequence=last.sequence + 1,
                recorded_at=rfc3339(datetime.now(UTC)),
                kind="consent",
                subject="s1",
                public='{"i":1000}',
                previous_hash=last.hash,
                hash="",
            )
            forged.hash = stored_hash("consent", _record(forged))
            session.add(forged)
            at = forged.sequence
        for i in range(3):  # both writers go on, on top of the forged row
            _retried(writer, _appending("consent", 20 + i))
            _retried(other, _appending("consent", 30 + i))
        writer.run(lambda batch: signer.sign_due(batch.session))
    finally:
        writer.close()
        other.close()
    with unit_of_work(sessions) as session:
        heads = stored_heads(session, chain="consent")
        assert heads and max(h.size for h in heads) <= at  # no head covers the forged row
        newest = {"consent": max(h.size for h in heads)}
        found = check_unsigned_seals(session, seal, newest, ["consent"])
    assert [(p.kind, p.chain, p.sequence) for p in found] == [("forged", "consent", at)]
    # Hashes and heads alone cannot tell it from the service's own rows: the seal does.
    assert _verify(sessions, signer.witness).ok  # type: ignore[arg-type]


def _retried(writer: LedgerWriter, job: object) -> None:
    """Run a job as a client would: again after a conflict with the other writer."""
    for _ in range(3):
        try:
            writer.run(job)  # type: ignore[arg-type]
            return
        except ConflictError:
            continue
    raise AssertionError("the job kept conflicting")
