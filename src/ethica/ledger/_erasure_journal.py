"""The erasure journal: every completed erasure, kept outside the database, naming nobody.

A database backup older than an erasure brings the erased subject back, and with an old copy
of the key file their data opens again. Each erasure appends one line here before it answers:
the subject's ``erased:`` pseudonym (:meth:`~ethica.ledger.KeyRing.pseudonym`), the time and
the erasure's ledger entry, with an HMAC under a key derived from the master key, so that an
edited or cut line is named instead of silently skipped. After a restore the service finds the
subjects the journal says were erased and erases them again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ethica.errors import InputError
from ethica.ledger._canonical import canonical_json
from ethica.ledger._files import append_synced
from ethica.ledger._keys import KEY_BYTES, MasterKey

__all__ = ["ErasureJournal", "ErasureRecord"]

JOURNAL_INFO = b"ethica erasure journal"
"""HKDF ``info`` that separates the journal's MAC key from every other use of the master key."""


@dataclass(frozen=True)
class ErasureRecord:
    """One completed erasure: whom (by pseudonym), when, and its ledger entry."""

    pseudonym: str
    erased_at: str
    chain: str
    sequence: int
    hash: str

    def fields(self) -> dict[str, object]:
        """Return the record as the JSON object its line holds (without the MAC)."""
        return {
            "pseudonym": self.pseudonym,
            "erased_at": self.erased_at,
            "entry": {"chain": self.chain, "sequence": self.sequence, "hash": self.hash},
        }


class ErasureJournal:
    """An append-only file of completed erasures, one MAC'd JSON line each, synced per line.

    Parameters
    ----------
    path : str or Path
        The file; created (with its folder) on the first erasure. Keep it outside the database
        and outside its backups, where a restore does not roll it back.
    master_key : MasterKey or bytes
        Derives the key of each line's MAC.
    """

    def __init__(self, path: str | Path, master_key: MasterKey | bytes) -> None:
        self.path = Path(path)
        master = master_key.export() if isinstance(master_key, MasterKey) else master_key
        self._mac_key = HKDF(
            algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=JOURNAL_INFO
        ).derive(master)

    def __repr__(self) -> str:
        return f"ErasureJournal({str(self.path)!r})"

    def record(self, erasure: ErasureRecord) -> None:
        """Append ``erasure`` as one line and sync it to disk before returning."""
        if not erasure.pseudonym.startswith("erased:"):
            raise InputError("the journal names a subject only by its erased: pseudonym")
        fields = erasure.fields()
        line = json.dumps({**fields, "mac": self._mac(fields)}, sort_keys=True) + "\n"
        append_synced(self.path, line.encode("utf-8"))

    def records(self) -> list[ErasureRecord]:
        """Every erasure recorded, oldest first; none when the file does not exist.

        Raises
        ------
        InputError
            A line is cut short, is not a record, or its MAC does not match (it was edited,
            or written under another master key): the line is named.
        """
        if not self.path.exists():
            return []
        found: list[ErasureRecord] = []
        content = self.path.read_bytes()
        lines = content.split(b"\n")
        for number, raw in enumerate(lines, start=1):
            if number == len(lines):
                if raw:  # no newline after it: the write was cut short
                    raise self._bad(number, "it is cut short (no end of line)")
                break
            found.append(self._parse(number, raw))
        return found

    def _parse(self, number: int, raw: bytes) -> ErasureRecord:
        try:
            data = json.loads(raw)
            entry = data["entry"]
            erasure = ErasureRecord(
                pseudonym=_text(data["pseudonym"]),
                erased_at=_text(data["erased_at"]),
                chain=_text(entry["chain"]),
                sequence=_integer(entry["sequence"]),
                hash=_text(entry["hash"]),
            )
            mac = _text(data["mac"])
        except (ValueError, KeyError, TypeError) as error:
            raise self._bad(number, f"it is not an erasure record ({error})") from None
        if not hmac.compare_digest(mac, self._mac(erasure.fields())):
            raise self._bad(number, "its MAC does not match (edited, or another master key)")
        return erasure

    def _mac(self, fields: dict[str, object]) -> str:
        return hmac.new(self._mac_key, canonical_json(fields), hashlib.sha256).hexdigest()

    def _bad(self, number: int, why: str) -> InputError:
        return InputError(
            f"line {number} of the erasure journal {self.path} cannot be trusted: {why}; "
            "restore the journal from its copy (each line must be as the erasure wrote it)"
        )


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def _integer(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value
