"""Signed checkpoints of the service's chains, taken after the ledger writer's group commits."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ethica.ledger import Entry, sign_checkpoint
from ethica.service.ledger.store import save_checkpoint
from ethica.service.ledger.tables import LedgerCheckpoint
from ethica.service.ledger.writer import LedgerWriter
from ethica.service.settings import Settings


class Checkpoints:
    """Sign a chain's head once it is ``every`` entries past its last checkpoint.

    Called after each group commit; a group that appends many entries at once still gets its
    checkpoint, and a chain whose head is already signed is not signed twice.
    """

    def __init__(self, signing_key: bytes, *, every: int) -> None:
        self._signer = Ed25519PrivateKey.from_private_bytes(signing_key)
        self._every = every
        self._signed: dict[str, int] = {}  # chain -> sequence of its newest checkpoint

    def __call__(self, session: Session, heads: dict[str, Entry | None]) -> None:
        signed = []
        for chain, head in heads.items():
            if head is None:
                continue
            last = self._signed.get(chain)
            if last is None:
                newest = session.scalar(
                    select(func.max(LedgerCheckpoint.sequence)).where(
                        LedgerCheckpoint.chain == chain
                    )
                )
                last = -1 if newest is None else int(newest)
                self._signed[chain] = last
            if head.sequence - last >= self._every:
                save_checkpoint(session, sign_checkpoint(head, self._signer))
                signed.append(head)
        session.flush()
        for head in signed:
            self._signed[head.chain] = head.sequence


def signing_writer(sessions: sessionmaker[Session], settings: Settings) -> LedgerWriter:
    """The service's ledger writer: group commits, a shard of the chains, signed checkpoints."""
    return LedgerWriter(
        sessions,
        settings.ledger.master_key_bytes,
        max_group=settings.gateway.group_commit_max,
        wait_seconds=settings.gateway.group_commit_wait_ms / 1000.0,
        after_commit=Checkpoints(
            settings.ledger.signing_key_bytes, every=settings.ledger.checkpoint_every
        ),
        partitioned=True,  # each process appends decisions to its own shard of the chains
    )
