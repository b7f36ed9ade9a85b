"""One pass over the ledger for the row checks: the entries that served rows are compared with.

Verification of the chains proves the entries; the row checks then prove the rows the API and
the portal serve against those entries. They need the public fields of the kinds that rows
come from, which keys sealed what, and which subjects were erased: all read here in one scan
of ``ledger_entries`` (raw tuples, see :mod:`ethica.service.ledger.reading`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from ethica.service.ledger.naming import names_a_pseudonym, subject_of_part, subject_part
from ethica.service.ledger.pseudonyms import Pseudonyms
from ethica.service.ledger.reading import read_rows

ROW_KINDS = frozenset(
    {
        "decision",
        "review",
        "appeal",
        "escalation",
        "outcome",
        "consent",
        "objection",
        "notice",
        "erasure",
        "request",
        "retention",
    }
)
"""Entry kinds that served rows are compared with (the decision's, the consent chain's...)."""

_SCAN = (
    "SELECT chain, sequence, kind, subject, key_id, recorded_at, hash, public "
    "FROM ledger_entries ORDER BY chain, sequence"
)
_ERASURES = (
    "SELECT id, subject_id, status, result FROM rights_requests WHERE kind = 'erasure' "
    "AND status = 'completed'"
)


@dataclass(frozen=True)
class Recorded:
    """One entry as the row checks see it: where it is, whose, when, and its public fields."""

    chain: str
    sequence: int
    kind: str
    subject: str | None
    recorded_at: str
    hash: str
    public: dict[str, Any]

    def where(self) -> str:
        """The entry's place, as a problem names it."""
        return f"{self.chain}#{self.sequence}"


@dataclass
class LedgerIndex:
    """The entries of :data:`ROW_KINDS` by kind in chain order, and the keys that sealed."""

    by_kind: dict[str, list[Recorded]] = field(default_factory=dict)
    at: dict[tuple[str, int], Recorded] = field(default_factory=dict)
    sealing_keys: dict[str, tuple[str, Recorded]] = field(default_factory=dict)
    # Subjects erased on record, by the master-keyed pseudonym their kept rows carry (what
    # tells the older key names, ``<subject id>#...``, of an erased subject).
    erased: set[str] = field(default_factory=set)
    # Erasures on record that destroyed a pseudonym key: at most this many pseudonyms may
    # have lost their key (see :mod:`ethica.service.ledger.pseudonyms`).
    pseudonyms_erased: int = 0
    named_pseudonyms: dict[str, Recorded] = field(default_factory=dict)  # first entry of each
    pseudonyms: Pseudonyms | None = None

    def of(self, kind: str) -> list[Recorded]:
        """The entries of one kind, in chain and sequence order."""
        return self.by_kind.get(kind, [])

    def retention_cutoffs(self) -> dict[str, datetime]:
        """Per system, the latest cutoff a recorded retention run applied."""
        cutoffs: dict[str, datetime] = {}
        for entry in self.of("retention"):
            system, cutoff = entry.public.get("system_id"), moment(entry.public.get("cutoff"))
            if isinstance(system, str) and cutoff is not None:
                cutoffs[system] = max(cutoff, cutoffs.get(system, cutoff))
        return cutoffs

    def erased_subject(self, subject: str | None) -> bool:
        """Whether ``subject`` (an entry's subject, or a key name) was erased.

        A pseudonym was when its key is gone (:meth:`dead_pseudonyms` bounds how many may
        be); an id (older entries) when an erasure of that id is on record.
        """
        if subject is None or self.pseudonyms is None:
            return False
        if names_a_pseudonym(subject):
            return not self.pseudonyms.live(subject_part(subject))
        ids = {subject, subject_of_part(subject_part(subject))}
        return any(self.pseudonyms.legacy(i) in self.erased for i in ids)


def index_ledger(session: Session, *, master_key: bytes) -> LedgerIndex:
    """Read the entries the row checks need, in one scan, and the erasures on record.

    An erasure counts only with both its completed request and the ``erasure`` entry that
    names the request: a request row added by hand does not excuse a missing key or row.
    """
    pseudonyms = Pseudonyms(session, master_key)
    index = LedgerIndex(pseudonyms=pseudonyms)
    for chain, sequence, kind, subject, key_id, recorded_at, entry_hash, public in read_rows(
        session, _SCAN
    ):
        if subject is not None:
            if key_id is not None and subject not in index.sealing_keys:
                index.sealing_keys[subject] = (key_id, _bare(chain, sequence, kind, subject))
            if names_a_pseudonym(subject):
                index.named_pseudonyms.setdefault(
                    subject_part(subject), _bare(chain, sequence, kind, subject)
                )
        if kind not in ROW_KINDS:
            continue
        fields = _fields(public)
        if fields is None:
            continue  # not JSON: verification of the chain names the entry
        recorded = Recorded(chain, sequence, kind, subject, recorded_at, entry_hash, fields)
        index.by_kind.setdefault(kind, []).append(recorded)
        index.at[(chain, sequence)] = recorded
    erasures = {str(r.public.get("request_id")): r for r in index.of("erasure")}
    for request_id, subject_id, _, _ in read_rows(session, _ERASURES):
        entry = erasures.get(str(request_id))
        if entry is None:
            continue
        named = str(subject_id)
        index.erased.add(named if named.startswith("erased:") else pseudonyms.legacy(named))
        index.pseudonyms_erased += entry.public.get("pseudonym_destroyed") is True
    return index


def moment(value: Any) -> datetime | None:
    """A stored time (a datetime, or SQLite's or RFC 3339 text) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _bare(chain: str, sequence: int, kind: str, subject: str) -> Recorded:
    return Recorded(chain, sequence, kind, subject, "", "", {})


def _fields(public: str) -> dict[str, Any] | None:
    try:
        fields = json.loads(public)
    except ValueError:
        return None
    return fields if isinstance(fields, dict) else None
