"""Served rows outside the ledger against the entries that recorded them, table by table.

The portal and the API show consent choices, objections, notices, review steps, escalations,
appeals and (to officers and audits) protected attributes from their own tables; each row
points at the entry that recorded it. Every row's fields are compared with that entry's, and
the table and row that differ are named; so are a row whose entry is missing (inserted) and
an entry whose row is gone (deleted) unless an erasure on record explains it. A subject key
that sealed entries and is gone without an erasure or a retention run on record is named too.

Times are compared within :data:`TIME_SLACK`: a row's time is taken just before its entry is
appended, by the same clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ethica.ledger import KeyRing, LedgerError, Problem
from ethica.service.decisions.protected import (
    ProtectedValueError,
    protected_digest,
    protected_mac,
    session_cipher,
)
from ethica.service.ledger.entries import LedgerIndex, Recorded, moment
from ethica.service.ledger.naming import key_part, names_a_pseudonym, subject_part
from ethica.service.ledger.pseudonyms import Pseudonyms
from ethica.service.ledger.reading import read_rows
from ethica.service.ledger.store import SqlKeyStore
from ethica.service.subjects.requests import iso_moment, json_digest

TIME_SLACK = timedelta(seconds=1)
"""How far a row's time may be from its entry's (both read the clock, the row's first)."""


def _sha256(text: Any) -> str | None:
    return None if text is None else hashlib.sha256(str(text).encode()).hexdigest()


@dataclass(frozen=True)
class ServedTable:
    """A table of served rows, each pointing at one entry of ``kind``.

    ``select`` returns ``id, chain, sequence, hash``, then ``columns`` in order. Each column
    is compared with the entry's public field of the same name, or of the name ``fields``
    gives, after ``derived`` (e.g. a text's digest); ``subject`` and ``time`` name the columns
    compared with the entry's subject and recorded time.
    """

    table: str
    kind: str
    select: str
    columns: tuple[str, ...]
    fields: Mapping[str, str]
    derived: Mapping[str, Callable[[Any], Any]]
    subject: str | None = None
    time: str | None = None
    erasable: tuple[str, ...] = ()  # columns an erasure may clear or rewrite
    # Columns naming a subject that the entry names by keyed pseudonym (``pseudonym(value)``,
    # or the value itself once an erasure renamed the row to it).
    pseudonymous: tuple[str, ...] = ()


SERVED_TABLES = (
    ServedTable(
        "consent_records",
        "consent",
        "SELECT id, 'consent', ledger_sequence, ledger_hash, subject_id, recorded_at, data_use, "
        "data_category, status, notice_version, source FROM consent_records",
        ("subject_id", "recorded_at", "data_use", "data_category", "status", "notice_version",
         "source"),
        {}, {}, subject="subject_id", time="recorded_at",
    ),
    ServedTable(
        "objections",
        "objection",
        "SELECT id, 'consent', ledger_sequence, ledger_hash, subject_id, recorded_at, kind, "
        "active, data_use, source FROM objections",
        ("subject_id", "recorded_at", "kind", "active", "data_use", "source"),
        {}, {"active": bool}, subject="subject_id", time="recorded_at",
    ),
    ServedTable(
        "notices",
        "notice",
        "SELECT id, 'consent', ledger_sequence, ledger_hash, created_at, data_use, kind, "
        "version, min_consent_version, text FROM notices",
        ("created_at", "data_use", "kind", "version", "min_consent_version", "text"),
        {"text": "text_sha256"}, {"text": _sha256}, time="created_at",
    ),
    ServedTable(
        "reviews",
        "review",
        "SELECT r.id, d.ledger_chain, r.ledger_sequence, r.ledger_hash, r.created_at, "
        "r.decision_id, r.reviewer_id, r.action, r.status_after, r.original_outcome, "
        "r.outcome, r.reason_code, r.comment, r.matched_known "
        "FROM reviews r JOIN decisions d ON d.id = r.decision_id",
        ("created_at", "decision_id", "reviewer_id", "action", "status_after",
         "original_outcome", "outcome", "reason_code", "comment", "matched_known"),
        {"status_after": "status", "comment": "comment_sha256"},
        {"comment": _sha256, "matched_known": lambda v: None if v is None else bool(v)},
        time="created_at", erasable=("comment",),
    ),
    ServedTable(
        "review_escalations",
        "escalation",
        "SELECT e.decision_id, d.ledger_chain, e.ledger_sequence, e.ledger_hash, "
        "e.decision_id, e.deadline FROM review_escalations e "
        "JOIN decisions d ON d.id = e.decision_id",
        ("decision_id", "deadline"),
        {}, {"deadline": iso_moment},
    ),
    ServedTable(
        "rights_requests",
        "request",
        "SELECT id, ledger_chain, ledger_sequence, ledger_hash, id, subject_id, kind, status, "
        "requested_by, received_at, due_at, completed_at, result FROM rights_requests "
        "WHERE ledger_sequence IS NOT NULL",
        ("request_id", "subject_id", "kind", "status", "requested_by", "received_at", "due_at",
         "completed_at", "result"),
        {"subject_id": "subject_ref", "result": "result_sha256"},
        {"received_at": iso_moment, "due_at": iso_moment, "completed_at": iso_moment,
         "result": json_digest},
        pseudonymous=("subject_id",),
    ),
    ServedTable(
        "appeals",
        "appeal",
        "SELECT id, ledger_chain, ledger_sequence, ledger_hash, subject_id, created_at, "
        "decision_id, outcome_appealed FROM appeals",
        ("subject_id", "created_at", "decision_id", "outcome_appealed"),
        {}, {}, subject="subject_id", time="created_at",
    ),
)  # fmt: skip
"""The served tables whose rows each point at one entry, checked by :func:`check_served_rows`."""


def check_served_rows(session: Session, index: LedgerIndex, *, master_key: bytes) -> list[Problem]:
    """Name every served row that differs from its entry, lacks one, or whose entry lacks it."""
    problems: list[Problem] = []
    names = index.pseudonyms or Pseudonyms(session, master_key)
    for served in SERVED_TABLES:
        problems += _check_table(session, index, served, names)
    problems += check_protected_values(session, index, master_key=master_key)
    problems += check_subject_keys(session, index)
    return problems


def _check_table(
    session: Session, index: LedgerIndex, served: ServedTable, names: Pseudonyms
) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[str, int]] = set()
    decisions = _decision_subjects(index)
    for row in read_rows(session, served.select):
        row_id, chain, sequence, row_hash, *values = row
        entry = index.at.get((chain, sequence))
        if entry is None or entry.kind != served.kind or (chain, sequence) in seen:
            problems.append(
                Problem(
                    "inserted",
                    str(chain),
                    int(sequence),
                    f"{served.table} row {row_id} has no {served.kind} entry of its own in the "
                    "ledger: the row was inserted or its entry removed",
                )
            )
            continue
        seen.add((chain, sequence))
        erased = index.erased_subject(_whose(entry, decisions))
        row_values = dict(zip(served.columns, values, strict=True))
        differing = [
            f"{name} {value!r} (ledger: {expected!r})"
            for name, value, expected in _compared(served, entry, row_values, names)
            if not (erased and (name == served.subject or name in served.erasable))
        ]
        if row_hash != entry.hash:
            differing.append(f"ledger_hash {row_hash!r} (ledger: {entry.hash!r})")
        if differing:
            problems.append(
                Problem(
                    "edited",
                    entry.chain,
                    entry.sequence,
                    f"{served.table} row {row_id} differs from its ledger entry: "
                    + ", ".join(differing),
                )
            )
    for entry in index.of(served.kind):
        if (entry.chain, entry.sequence) in seen:
            continue
        if index.erased_subject(_whose(entry, decisions)):
            continue
        problems.append(
            Problem(
                "deleted",
                entry.chain,
                entry.sequence,
                f"the {served.table} row of {entry.kind} entry {entry.where()} is gone, and no "
                "erasure on record explains it",
            )
        )
    return problems


def _compared(
    served: ServedTable, entry: Recorded, row: dict[str, Any], names: Pseudonyms
) -> list[tuple[str, Any, Any]]:
    """The (column, row value, entry value) triples that differ."""
    differ: list[tuple[str, Any, Any]] = []
    for name, value in row.items():
        if name in served.pseudonymous:
            named = value if value is None or str(value).startswith("erased:") else None
            field = served.fields.get(name, name)
            if field in entry.public and entry.public[field] not in (
                named,
                names.legacy(str(value)),
            ):
                differ.append((name, value, "(a pseudonym)"))
            continue
        if name == served.time:
            at, recorded = moment(value), moment(entry.recorded_at)
            if at is None or recorded is None or abs(at - recorded) > TIME_SLACK:
                differ.append((name, str(value), entry.recorded_at))
            continue
        if name == served.subject:
            if not _names_subject(entry, value, names):
                differ.append((name, value, entry.subject))
            continue
        field = served.fields.get(name, name)
        if field not in entry.public:
            continue  # an entry older than the field
        derive = served.derived.get(name)
        shown = derive(value) if derive is not None else value
        if shown != entry.public[field]:
            differ.append((name, value if derive is None else shown, entry.public[field]))
    return differ


def _names_subject(entry: Recorded, subject: Any, names: Pseudonyms) -> bool:
    """Whether the entry names the row's subject: by its pseudonym, or (older) by its id."""
    named = entry.subject
    if named is None or subject is None:
        return named is None and subject is None
    part = subject_part(named)  # an appeal's is its key's name: ``<subject>#system#month``
    if names_a_pseudonym(named):
        return names.of_subject(str(subject)) == part
    return part == (key_part(str(subject)) if part != named else str(subject))


def _whose(entry: Recorded, decisions: Mapping[Any, str | None]) -> str | None:
    """The subject of an entry: its own, or its decision's (a review step has none)."""
    return entry.subject or decisions.get(entry.public.get("decision_id"))


def _decision_subjects(index: LedgerIndex) -> dict[Any, str | None]:
    """Each decision id's entry subject (the key name that sealed its inputs)."""
    return {e.public.get("decision_id"): e.subject for e in index.of("decision")}


_PROTECTED = "SELECT decision_id, name, value FROM protected_values ORDER BY decision_id, name"
_DECISION_TIMES = "SELECT id, system_id, created_at FROM decisions"


def check_protected_values(
    session: Session, index: LedgerIndex, *, master_key: bytes
) -> list[Problem]:
    """Compare each decision's protected values with the digest its entry keeps.

    The rows are opened (they are sealed under the current key epoch) and compared with the
    keyed digest of the values in clear (or, for entries from before key epochs, with the
    digest of the master key's ciphertexts). A decision whose values are all gone is fine
    when its subject was erased or its system's recorded retention run passed its time (both
    delete them); any other difference is named.
    """
    stored: dict[str, dict[str, str]] = {}
    for decision_id, name, value in read_rows(session, _PROTECTED):
        stored.setdefault(str(decision_id), {})[str(name)] = str(value)
    expired = _expired_decisions(session, index.retention_cutoffs())
    digests = _ProtectedDigests(session, master_key)
    problems: list[Problem] = []
    for entry in index.of("decision"):
        decision_id = str(entry.public.get("decision_id"))
        if "protected_mac" not in entry.public and "protected_sha256" not in entry.public:
            stored.pop(decision_id, None)
            continue  # recorded before entries kept the digest
        values = stored.pop(decision_id, {})
        if digests.match(entry, values):
            continue
        if not values and (index.erased_subject(entry.subject) or decision_id in expired):
            continue
        names = ", ".join(sorted(values)) or "none"
        problems.append(
            Problem(
                "edited",
                entry.chain,
                entry.sequence,
                f"protected_values rows of decision {decision_id} differ from its ledger entry "
                f"(rows now: {names}): a value was edited, added or deleted",
            )
        )
    for decision_id, values in stored.items():
        problems.append(
            Problem(
                "inserted",
                "protected_values",
                0,
                f"protected_values rows of decision {decision_id} ({', '.join(sorted(values))}) "
                "have no decision entry in the ledger",
            )
        )
    return problems


class _ProtectedDigests:
    """Opens sealed protected values and compares them with a decision entry's digest."""

    def __init__(self, session: Session, master_key: bytes) -> None:
        self._cipher = session_cipher(session, master_key)
        self._keyring = KeyRing(master_key, store=SqlKeyStore(session))

    def match(self, entry: Recorded, sealed: dict[str, str]) -> bool:
        try:
            if "protected_mac" in entry.public:
                opened = {name: self._cipher.open(name, v) for name, v in sealed.items()}
                mac = protected_mac(self._keyring, opened, subject=entry.subject, create=False)
                return bool(mac == entry.public["protected_mac"])
            legacy = {name: self._cipher.master_sealed(name, v) for name, v in sealed.items()}
            return bool(protected_digest(legacy) == entry.public["protected_sha256"])
        except (ProtectedValueError, LedgerError):
            return False


_KEYS = "SELECT subject, key_id FROM subject_keys"


def check_subject_keys(session: Session, index: LedgerIndex) -> list[Problem]:
    """Name each key that sealed entries and is gone (or changed) without an erasure.

    Keys named after a pseudonym whose own key is gone are accounted for together (see
    :func:`_lost_pseudonyms`): nothing ties them to the erasure that destroyed them.
    """
    stored = {str(subject): str(key_id) for subject, key_id in read_rows(session, _KEYS)}
    cutoffs = index.retention_cutoffs()
    problems: list[Problem] = []
    held: dict[str, list[Problem]] = {}  # keys of lost pseudonyms: named if not explained
    for name, (key_id, first) in sorted(index.sealing_keys.items()):
        kept = stored.get(name)
        if kept == key_id or (kept is None and _expired_key(name, cutoffs)):
            continue
        erased = kept is None and index.erased_subject(name)
        if erased and not names_a_pseudonym(name):
            continue
        what = "is gone" if kept is None else f"is now key {kept!r}, not {key_id!r}"
        problem = Problem(
            "deleted" if kept is None else "edited",
            first.chain,
            first.sequence,
            f"subject_keys row {name!r}, the key that sealed {first.where()} and later "
            f"entries, {what}, and no erasure on record explains it",
        )
        (held.setdefault(subject_part(name), []) if erased else problems).append(problem)
    return problems + _lost_pseudonyms(index, stored, held)


def _lost_pseudonyms(
    index: LedgerIndex, stored: Mapping[str, str], held: Mapping[str, list[Problem]]
) -> list[Problem]:
    """Name pseudonyms whose key is gone beyond what the erasures on record explain.

    An erasure destroys a subject's pseudonym key with every key named after it, and records
    that it destroyed one (``pseudonym_destroyed``). So keys still named after a pseudonym
    whose key is gone are a finding, and so are more lost pseudonyms than such erasures:
    then each lost one is named, with its data keys (``held``).
    """
    if index.pseudonyms is None or not index.named_pseudonyms:
        return []
    lost = {p: e for p, e in index.named_pseudonyms.items() if not index.pseudonyms.live(p)}
    kept_under = {subject_part(name) for name in stored if names_a_pseudonym(name)}
    problems = [
        Problem(
            "deleted",
            first.chain,
            first.sequence,
            f"the pseudonym key of {pseudonym} (first named by {first.where()}) is gone, but "
            "keys named after it are kept: an erasure destroys both",
        )
        for pseudonym, first in lost.items()
        if pseudonym in kept_under
    ]
    if len(lost) > index.pseudonyms_erased:
        for pseudonym, first in lost.items():
            problems.append(
                Problem(
                    "deleted",
                    first.chain,
                    first.sequence,
                    f"the pseudonym key of {pseudonym} (first named by {first.where()}) is "
                    f"gone: {len(lost)} pseudonyms lost their keys, but only "
                    f"{index.pseudonyms_erased} erasures on record destroyed one",
                )
            )
            problems += held.get(pseudonym, [])
    return problems


def _expired_key(name: str, cutoffs: Mapping[str, datetime]) -> bool:
    """Whether retention destroyed the key ``subject#system#yyyy-mm`` (its month expired)."""
    parts = name.split("#")
    cutoff = cutoffs.get(parts[-2]) if len(parts) >= 3 else None
    return cutoff is not None and parts[-1] < f"{cutoff:%Y-%m}"


def _expired_decisions(session: Session, cutoffs: Mapping[str, datetime]) -> set[str]:
    """The decisions before a recorded retention run's cutoff (their values deleted)."""
    if not cutoffs:
        return set()
    expired: set[str] = set()
    for decision_id, system_id, created_at in read_rows(session, _DECISION_TIMES):
        cutoff, at = cutoffs.get(str(system_id)), moment(created_at)
        if cutoff is not None and at is not None and at < cutoff:
            expired.add(str(decision_id))
    return expired
