"""Signed tree heads of the service's chains: by count after group commits, and by time.

Each chain's Merkle frontier is kept in memory and extended, after each commit, with the
entries up to the head this process just wrote (read back as hashes only), so a head costs
``O(log n)`` to sign. A head is signed once a chain is ``every`` entries past its newest head,
and by a scheduled job (:meth:`HeadSigner.sign_due`) for every chain with unsigned entries, so
no entry stays unsigned longer than the job's interval. Every head is saved to ``ledger_heads``
(in a savepoint: another process may have signed that size first), and to the witness file once
that row is committed; a head whose row was lost with a failed commit is saved again on the
next run. A head the witness kept and the database lacks is therefore a deleted row: a new
process reports it and never copies it back.

Chains that several processes append to (not the gateway's partitions) are caught up with what
the others wrote before a head is signed; a row without a valid writer seal (one forged
straight into the table, even with a fresh timestamp) is never signed, nor anything after it
(:mod:`~ethica.service.ledger.seals`), and verification names it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import bindparam, event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ethica.errors import InputError
from ethica.ledger import (
    Entry,
    FileWitness,
    Frontier,
    SignedHead,
    Witness,
    sign_head,
)
from ethica.service.db import beside_database_file
from ethica.service.ledger.seals import SealCheck, WriterSeal
from ethica.service.ledger.store import SqlEntryStore, save_head, stored_heads
from ethica.service.ledger.tables import LedgerEntry, LedgerHead
from ethica.service.ledger.writer import Batch, LedgerWriter
from ethica.service.scheduled import JobWriter, start_every
from ethica.service.settings import Settings

log = logging.getLogger("ethica.service.ledger")

_HASHES = (
    select(LedgerEntry.sequence, LedgerEntry.hash, LedgerEntry.seal)
    .where(
        LedgerEntry.chain == bindparam("chain"),
        LedgerEntry.sequence >= bindparam("start"),
        LedgerEntry.sequence <= bindparam("last"),
    )
    .order_by(LedgerEntry.sequence)
)


def _key(head: SignedHead) -> tuple[str, int, str, bytes]:
    return (head.chain, head.size, head.root, head.signature)


def witness_path(database_url: str, configured: str | None) -> Path | None:
    """Where heads are witnessed: the setting, else beside a SQLite database file, else none."""
    if configured:
        return Path(configured)
    return beside_database_file(database_url, ".heads.jsonl")


class HeadSigner:
    """Signs the chains' tree heads for the ledger writer and hands each to the witness.

    Parameters
    ----------
    signing_key : bytes
        The 32-byte Ed25519 seed.
    every : int
        Sign a chain's head once it is this many entries past its newest head.
    witness : Witness, optional
        Keeps every head outside the database (a :class:`FileWitness` in the service).
    seal : WriterSeal, optional
        Checks that the service wrote each row before it is signed (see
        :mod:`~ethica.service.ledger.seals`); without it every row is taken.
    """

    def __init__(
        self,
        signing_key: bytes,
        *,
        every: int,
        witness: Witness | None = None,
        seal: WriterSeal | None = None,
    ) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(signing_key)
        self._seal = seal
        self._checks: dict[str, SealCheck] = {}
        self._every = every
        self.witness = witness
        self._trees: dict[str, Frontier] = {}
        self._signed: dict[str, int] = {}  # chain -> size of its newest head
        self._unsaved: list[SignedHead] = []  # signed in a group whose commit may have failed
        self._reconciled = False
        self._lock = threading.Lock()

    def __call__(self, session: Session, heads: dict[str, Entry | None]) -> None:
        """After a group commit: extend each written chain's tree, sign those due by count."""
        with self._lock:
            self._save_again(session)
            self._reconcile(session)
            for chain, head in heads.items():
                if head is None:
                    continue
                tree = self._caught_up(session, chain, head)
                if tree is not None and tree.size - self._newest(session, chain) >= self._every:
                    self._sign(session, chain, tree)

    def sign_due(self, session: Session) -> list[SignedHead]:
        """Sign every chain with entries after its newest head (the scheduled job).

        Every chain of the database, so that entries another process or a command wrote (and
        a stopped process left unsigned) are signed too; one query per chain finds them.
        """
        signed: list[SignedHead] = []
        with self._lock:
            self._save_again(session)
            self._reconcile(session)
            for chain in SqlEntryStore(session).chains():
                last = session.scalar(
                    select(func.max(LedgerEntry.sequence)).where(LedgerEntry.chain == chain)
                )
                if last is None or last + 1 <= self._newest(session, chain):
                    continue
                tree = self._caught_up_to(session, chain, int(last))
                if tree is not None and tree.size > self._newest(session, chain):
                    head = self._sign(session, chain, tree)
                    if head is not None:
                        signed.append(head)
        return signed

    def _sign(self, session: Session, chain: str, tree: Frontier) -> SignedHead | None:
        head = sign_head(chain, tree.size, tree.root(), self._key, signed_at=datetime.now(UTC))
        self._signed[chain] = head.size
        try:
            with session.begin_nested():
                save_head(session, head)
        except IntegrityError:  # another process signed this size first: its head stands
            return None
        self._witness_after_commit(session, head)
        self._unsaved.append(head)
        return head

    def _witness_after_commit(self, session: Session, head: SignedHead) -> None:
        """Give ``head`` to the witness once its row is committed, never before.

        So a head the witness kept and the database lacks was always deleted from the
        database: a restarted process reports it instead of copying it back.
        """
        witness = self.witness
        if witness is None:
            return

        def record(_: Session) -> None:
            try:
                witness.record(head)
            except OSError:  # the next process copies committed heads the witness lacks
                log.exception("the witness could not keep %s of %s", head.describe(), head.chain)

        event.listen(session, "after_commit", record, once=True)

    def _reconcile(self, session: Session) -> None:
        """Once per process: report heads the database lost, give the witness those it lacks.

        Heads reach the witness only after their rows are committed, so a head the witness
        kept and ``ledger_heads`` lacks was deleted from the database: it is reported (and
        verification names it), never copied back. A committed head newer than the witness's
        newest of its chain is one a stopped process did not hand over: the witness gets it.
        Older ones missing from the witness were removed from it; verification names them.
        """
        if self._reconciled or self.witness is None:
            return
        self._reconciled = True
        try:
            kept = self.witness.heads()
        except InputError:
            log.exception("the witness file cannot be read; heads are not reconciled")
            return
        stored = stored_heads(session)
        known = {_key(head) for head in stored}
        for head in kept:
            if _key(head) not in known:
                log.error(
                    "%s of chain %s, kept by the witness, is missing from ledger_heads: head rows "
                    "were deleted (ethica ledger verify names them)",
                    head.describe(),
                    head.chain,
                )
        witnessed = {_key(head) for head in kept}
        newest: dict[str, datetime] = {}
        for head in kept:
            if head.chain not in newest or head.signed_at > newest[head.chain]:
                newest[head.chain] = head.signed_at
        for head in sorted(stored, key=lambda h: h.signed_at):
            latest = newest.get(head.chain)
            if _key(head) not in witnessed and (latest is None or head.signed_at > latest):
                self.witness.record(head)

    def _save_again(self, session: Session) -> None:
        """Save the heads of the last run again if their rows are missing (a failed commit)."""
        for head in self._unsaved:
            if session.get(LedgerHead, (head.chain, head.size)) is None:
                save_head(session, head)
                self._witness_after_commit(session, head)
        self._unsaved = []

    def _newest(self, session: Session, chain: str) -> int:
        if chain not in self._signed:
            size = session.scalar(
                select(func.max(LedgerHead.size)).where(LedgerHead.chain == chain)
            )
            self._signed[chain] = 0 if size is None else int(size)
        return self._signed[chain]

    def _caught_up(self, session: Session, chain: str, head: Entry) -> Frontier | None:
        tree = self._caught_up_to(session, chain, head.sequence)
        if tree is None or tree.size != head.sequence + 1:
            return None
        return tree

    def _caught_up_to(self, session: Session, chain: str, last: int) -> Frontier | None:
        """The chain's tree up to sequence ``last``, reading only the hashes it lacks.

        Reading stops at the head this process knows, so rows appended after it by anyone
        else are not signed here; a gap means the chain changed under the writer, and the
        tree is rebuilt from the start on the next call.
        """
        tree = self._trees.setdefault(chain, Frontier())
        if tree.size > last:
            return tree
        if tree.size == 0 and self._seal is not None:
            self._checks[chain] = SealCheck(self._seal, sealed_before=False)
        check = self._checks.get(chain)
        rows = session.execute(_HASHES, {"chain": chain, "start": tree.size, "last": last})
        for sequence, stored, seal in rows:
            if sequence != tree.size:
                log.error("chain %s has a gap before sequence %s; not signing it", chain, sequence)
                del self._trees[chain]
                return None
            if check is not None and not check.accepts(stored, seal):
                log.error(
                    "entry %s#%s has no valid writer seal: the service did not write it; the "
                    "chain is not signed past it (ethica ledger verify names it)",
                    chain,
                    sequence,
                )
                return None
            tree.append(bytes.fromhex(stored))
        return tree


def file_witness(database_url: str, configured: str | None) -> FileWitness | None:
    """The service's witness file, or ``None`` when there is nowhere to put one."""
    path = witness_path(database_url, configured)
    return None if path is None else FileWitness(path)


def public_key(settings: Settings) -> Ed25519PublicKey:
    """The public half of the service's signing key: what checks its heads and proofs."""
    return Ed25519PrivateKey.from_private_bytes(settings.ledger.signing_key_bytes).public_key()


def head_signer(settings: Settings) -> HeadSigner:
    """The service's head signer, with its witness file."""
    return HeadSigner(
        settings.ledger.signing_key_bytes,
        every=settings.ledger.checkpoint_every,
        witness=file_witness(settings.database.url, settings.ledger.witness_path),
        seal=WriterSeal(settings.ledger.master_key_bytes),
    )


def signing_writer(
    sessions: sessionmaker[Session], settings: Settings, heads: HeadSigner | None = None
) -> LedgerWriter:
    """The service's ledger writer: group commits, a shard of the chains, signed tree heads."""
    return LedgerWriter(
        sessions,
        settings.ledger.master_key_bytes,
        max_group=settings.gateway.group_commit_max,
        wait_seconds=settings.gateway.group_commit_wait_ms / 1000.0,
        after_commit=heads if heads is not None else head_signer(settings),
        partitioned=True,  # each process appends decisions to its own shard of the chains
    )


def start_schedule(
    writer: JobWriter, heads: HeadSigner, *, seconds: float
) -> asyncio.Task[None] | None:
    """Sign the heads due by time every ``seconds`` on the writer (``None`` when 0)."""

    def job(batch: Batch) -> list[SignedHead]:
        return heads.sign_due(batch.session)

    def report(signed: list[SignedHead]) -> None:
        for head in signed:
            log.info("signed %s of chain %s", head.describe(), head.chain)

    return start_every(writer, job, seconds=seconds, name="ledger heads", report=report)
