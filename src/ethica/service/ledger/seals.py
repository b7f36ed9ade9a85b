"""Writer seals: which entries the service itself wrote, so that a forged row is never signed.

A row appended straight into ``ledger_entries`` with a correct hash, link and a fresh time is
a valid chain entry: hashes alone cannot tell it from the service's. On a chain that several
processes append to, the head signer takes in rows others wrote, so it would sign it too. Each
entry the ledger writer inserts therefore carries a seal, an HMAC-SHA256 of its hash under a
key derived from the master key (which the database never holds). The head signer takes in no
row without a valid seal, and verification names an unsigned entry without one as forged.

Entries written before seals existed have none: a chain's rows before its first sealed row
are taken as they are (signed heads vouch for them).
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.orm import Session

from ethica.ledger import Problem
from ethica.service.ledger.reading import read_rows

SEAL_INFO = b"ethica ledger writer seal"
"""HKDF ``info`` that separates the seal key from every other use of the master key."""

_UNSIGNED = (
    "SELECT sequence, hash, seal FROM ledger_entries WHERE chain = :chain AND sequence >= :start "
    "ORDER BY sequence"
)
_SEALED_BEFORE = (
    "SELECT COUNT(*) FROM ledger_entries WHERE chain = :chain AND sequence < :start "
    "AND seal IS NOT NULL"
)


class WriterSeal:
    """Seals entry hashes with a key derived from the ledger's master key, and checks seals."""

    def __init__(self, master_key: bytes) -> None:
        self._key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=SEAL_INFO).derive(
            master_key
        )

    def seal(self, entry_hash: str) -> str:
        """The seal of an entry with hash ``entry_hash`` (hex)."""
        return hmac.new(self._key, bytes.fromhex(entry_hash), hashlib.sha256).hexdigest()

    def valid(self, entry_hash: str, seal: str | None) -> bool:
        """Whether ``seal`` is the seal of ``entry_hash``."""
        if seal is None:
            return False
        try:
            expected = self.seal(entry_hash)
        except ValueError:  # not hex: not a hash the service wrote
            return False
        return hmac.compare_digest(expected, seal)


class SealCheck:
    """Checks a chain's rows in sequence order: legacy rows until the first sealed one."""

    def __init__(self, seal: WriterSeal, *, sealed_before: bool) -> None:
        self._seal = seal
        self.sealed = sealed_before

    def accepts(self, entry_hash: str, seal: str | None) -> bool:
        """Whether a row may be taken in: validly sealed, or before any sealed row."""
        if seal is None and not self.sealed:
            return True
        self.sealed = True
        return self._seal.valid(entry_hash, seal)


def chain_check(session: Session, seal: WriterSeal, chain: str, start: int) -> SealCheck:
    """A :class:`SealCheck` for ``chain`` from sequence ``start`` (knowing the rows before)."""
    rows = list(read_rows(session, _SEALED_BEFORE, {"chain": chain, "start": start}))
    return SealCheck(seal, sealed_before=bool(rows and rows[0][0]))


def check_unsigned_seals(
    session: Session, seal: WriterSeal, newest: dict[str, int], chains: list[str]
) -> list[Problem]:
    """Name the first entry after each chain's newest signed head that lacks a valid seal."""
    problems: list[Problem] = []
    for chain in chains:
        start = newest.get(chain, 0)
        check = chain_check(session, seal, chain, start)
        for sequence, entry_hash, entry_seal in read_rows(
            session, _UNSIGNED, {"chain": chain, "start": start}
        ):
            if not check.accepts(entry_hash, entry_seal):
                problems.append(
                    Problem(
                        "forged",
                        chain,
                        int(sequence),
                        "it carries no valid writer seal: the service did not write it (a row "
                        "appended straight to the database); no head signs it or what follows",
                    )
                )
                break
    return problems
