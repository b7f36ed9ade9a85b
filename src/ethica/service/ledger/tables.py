"""Ledger entries, subjects' wrapped data keys, signed checkpoints and signed tree heads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ethica.service.db import Base, UTCDateTime, utcnow


class LedgerEntry(Base):
    """One hash-chained entry; ``(chain, sequence)`` is unique, so concurrent writers conflict."""

    __tablename__ = "ledger_entries"

    chain: Mapped[str] = mapped_column(String(100), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    recorded_at: Mapped[str] = mapped_column(String(40))  # RFC 3339 text: exactly what was hashed
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str | None] = mapped_column(String(200), index=True, nullable=True)
    public: Mapped[str] = mapped_column(Text)  # canonical JSON: exactly what was hashed
    sealed_nonce: Mapped[str | None] = mapped_column(String(32), nullable=True)
    sealed_ciphertext: Mapped[str | None] = mapped_column(Text, nullable=True)
    key_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # The writer's HMAC of ``hash`` (ethica.service.ledger.seals); None on older entries.
    seal: Mapped[str | None] = mapped_column(String(64), nullable=True)


class KeyEpoch(Base):
    """An erasure epoch whose key-encryption key (kept in the key file, never here) is in use.

    A subject key may only name an epoch listed here (a foreign key), and an erasure deletes
    the older epochs once it has re-wrapped every key: a process still wrapping new keys under
    a retired epoch fails and retries instead of writing a key nobody could open.
    """

    __tablename__ = "key_epochs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SubjectKey(Base):
    """A subject's data key, wrapped by the master key, then by its epoch's key-encryption key.

    Deleting the row erases the subject; retiring the epoch destroys every older copy.
    ``kek_epoch`` is None for a key wrapped by the master key only (no key file configured).
    """

    __tablename__ = "subject_keys"

    subject: Mapped[str] = mapped_column(String(200), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(64))
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kek_epoch: Mapped[str | None] = mapped_column(
        ForeignKey("key_epochs.id"), index=True, nullable=True
    )


class LedgerCheckpoint(Base):
    """A chain's head signed with the service's Ed25519 key (catches truncation)."""

    __tablename__ = "ledger_checkpoints"

    chain: Mapped[str] = mapped_column(String(100), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    head_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[str] = mapped_column(String(40))
    signature: Mapped[str] = mapped_column(String(200))


class LedgerHead(Base):
    """A chain's size and Merkle root signed with the service's Ed25519 key (a signed tree head)."""

    __tablename__ = "ledger_heads"

    chain: Mapped[str] = mapped_column(String(100), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[str] = mapped_column(String(40))  # RFC 3339 text: exactly what was signed
    signature: Mapped[str] = mapped_column(String(200))
