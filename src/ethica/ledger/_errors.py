"""Errors the ledger raises on purpose, each saying what happened and what to do."""

from __future__ import annotations

from ethica.errors import EthicaError, InputError


class LedgerError(EthicaError):
    """Base class of the ledger's errors."""


class ErasedError(LedgerError, LookupError):
    """The subject's data key was destroyed (crypto-shredded): their personal fields are gone."""


class MasterKeyError(LedgerError, ValueError):
    """The master key has the wrong length or does not unwrap a stored data key."""


class TamperedError(LedgerError, ValueError):
    """Sealed personal data does not authenticate: its ciphertext, nonce or context was changed."""


class SequenceConflictError(LedgerError, RuntimeError):
    """Another writer took this sequence number of the chain first; append again on the new head."""


__all__ = [
    "ErasedError",
    "InputError",
    "LedgerError",
    "MasterKeyError",
    "SequenceConflictError",
    "TamperedError",
]
