"""The gateway's consent hook on the database: the subject's records → what a system may use."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    DateTime,
    Engine,
    Integer,
    String,
    bindparam,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.expression import ColumnElement, CompoundSelect

from ethica.governance import SystemSpec
from ethica.privacy import Notice, Objection, Preference, evaluate
from ethica.service.consent.service import ancestors
from ethica.service.consent.tables import ConsentRecord, NoticeVersion, ObjectionRecord
from ethica.service.decisions.hooks import ConsentState

#: How long a subject's records are reused without reading them again. Changes made through
#: this process take effect at once (:meth:`SqlConsentHook.forget`); changes made through
#: another replica within this many seconds.
CACHE_SECONDS = 1.0

Records = list[Preference | Objection]


class SqlConsentHook:
    """Reads subjects' choices, objections and the notices for a system's purpose.

    One indexed Core query per batch of subjects and purpose (:func:`consent_query`), each
    subject's rows reused for :data:`CACHE_SECONDS`; the rules are the privacy library's
    :func:`~ethica.privacy.evaluate`. A decision without a subject id is judged as a subject with
    no records: under the ``consent`` legal basis every feature is withheld.

    Parameters
    ----------
    sessions
        Its engine is read on a cache miss only (a pooled connection, no ORM session);
        without it, the gateway passes a session per batch.
    """

    def __init__(self, sessions: sessionmaker[Session] | None = None) -> None:
        self._sessions = sessions
        self.needs_session = sessions is None
        self._cache: dict[tuple[str | None, str], tuple[float, Records, list[Notice]]] = {}
        self._queries: dict[str, CompoundSelect[Any]] = {}
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Drop every cached record (after a consent change, so the next decision sees it)."""
        with self._lock:
            self._cache.clear()

    def check(
        self, session: Session | None, *, spec: SystemSpec, subject_id: str | None
    ) -> ConsentState:
        """Return the subject's consent state for this system's purpose."""
        return self.check_many(session, spec=spec, subject_ids=[subject_id])[0]

    def check_many(
        self, session: Session | None, *, spec: SystemSpec, subject_ids: Sequence[str | None]
    ) -> list[ConsentState]:
        """Return each subject's consent state for this system's purpose, in their order."""
        purpose = spec.purpose
        now = time.monotonic()
        found: dict[str | None, tuple[Records, list[Notice]]] = {}
        with self._lock:
            for subject in subject_ids:
                hit = self._cache.get((subject, purpose))
                if hit is not None and now - hit[0] < CACHE_SECONDS:
                    found[subject] = (hit[1], hit[2])
        missing = list(dict.fromkeys(s for s in subject_ids if s not in found))
        if missing:
            read = self._read(session, subject_ids=missing, purpose=purpose)
            with self._lock:
                for subject, (records, notices) in read.items():
                    self._cache[(subject, purpose)] = (now, records, notices)
            found.update(read)
        states = {subject: _state(spec, *records) for subject, records in found.items()}
        return [states[subject] for subject in subject_ids]

    def _read(
        self, session: Session | None, *, subject_ids: list[str | None], purpose: str
    ) -> dict[str | None, tuple[Records, list[Notice]]]:
        query = self._queries.get(purpose)
        if query is None:
            query = self._queries.setdefault(purpose, consent_query(purpose))
        if session is not None:
            return consent_rows(session.connection(), query, subject_ids=subject_ids)
        bind = None if self._sessions is None else self._sessions.kw.get("bind")
        if isinstance(bind, Engine):
            # A pooled connection: an ORM session per cache miss cost as much as the query.
            with bind.connect() as connection:
                return consent_rows(connection, query, subject_ids=subject_ids)
        if self._sessions is None:
            raise TypeError("SqlConsentHook reads the database: give it sessions or a session")
        with self._sessions() as own:
            return consent_rows(own.connection(), query, subject_ids=subject_ids)


def _state(spec: SystemSpec, records: Records, notices: list[Notice]) -> ConsentState:
    state = evaluate(spec, records, notices)
    return ConsentState(
        withhold=dict(state.withhold),
        objects_to_automation=state.objects_to_automation,
        objects_to_profiling=state.objects_to_profiling,
        version=state.version,
    )


def consent_query(purpose: str) -> CompoundSelect[Any]:
    """The one query for what :func:`~ethica.privacy.evaluate` needs about ``purpose``.

    The subjects' choices, their objections and the notices, as rows of one ``UNION ALL``
    (``record`` says which, ``subject`` whose; a notice has none), for the subject ids bound
    as the list ``subjects``. Only records whose data use is the purpose or above it can apply
    (the library's rule 1), so the rest are never read; the selects use the
    ``(subject_id, recorded_at)`` indexes and the ``(data_use, version)`` unique index. The
    uses are bound one by one (the subjects' expanding ``IN`` is rendered per execution, once
    for a whole batch): build it once per purpose.
    """
    uses = ancestors(purpose)
    subjects = bindparam("subjects", type_=String, expanding=True)

    def among(column: Any) -> ColumnElement[bool]:
        return or_(*(column == use for use in uses))

    no_text, no_number = null().cast(String), null().cast(Integer)
    return union_all(
        select(  # first: its column types (a UTC-aware recorded_at) are the union's
            literal("consent", String).label("record"),
            ConsentRecord.subject_id.label("subject"),
            ConsentRecord.data_use,
            ConsentRecord.data_category,
            ConsentRecord.status.label("what"),
            ConsentRecord.notice_version.label("version"),
            no_number.label("minimum"),
            ConsentRecord.source,
            ConsentRecord.recorded_at,
            literal(True, Boolean).label("active"),
        ).where(ConsentRecord.subject_id.in_(subjects), among(ConsentRecord.data_use)),
        select(
            literal("objection", String),
            ObjectionRecord.subject_id,
            ObjectionRecord.data_use,
            no_text,
            ObjectionRecord.kind,
            no_number,
            no_number,
            ObjectionRecord.source,
            ObjectionRecord.recorded_at,
            ObjectionRecord.active,
        ).where(
            ObjectionRecord.subject_id.in_(subjects),
            ObjectionRecord.data_use.is_(None) | among(ObjectionRecord.data_use),
        ),
        select(
            literal("notice", String),
            no_text,
            NoticeVersion.data_use,
            no_text,
            NoticeVersion.kind,
            NoticeVersion.version,
            NoticeVersion.min_consent_version,
            no_text,
            null().cast(DateTime(timezone=True)),
            null().cast(Boolean),
        ).where(among(NoticeVersion.data_use)),
    )


def consent_rows(
    connection: Connection, query: CompoundSelect[Any], *, subject_ids: Sequence[str | None]
) -> dict[str | None, tuple[Records, list[Notice]]]:
    """Run :func:`consent_query` for these subjects: each one's records, and the notices.

    ``None`` stands for a decision without a subject: no records, the notices only (a NULL
    subject id matches no record).
    """
    notices: list[Notice] = []
    records: dict[str | None, Records] = {subject: [] for subject in subject_ids}
    known = [subject for subject in subject_ids if subject is not None]
    for row in connection.execute(query, {"subjects": known}):
        if row.record == "notice":
            notices.append(
                Notice(
                    data_use=row.data_use,
                    kind=row.what,
                    version=row.version,
                    min_consent_version=row.minimum,
                )
            )
        elif row.record == "objection":
            records[row.subject].append(
                Objection(
                    kind=row.what,
                    recorded_at=row.recorded_at,
                    active=bool(row.active),
                    data_use=row.data_use,
                    source=row.source,
                )
            )
        else:
            records[row.subject].append(
                Preference(
                    data_use=row.data_use,
                    status=row.what,
                    recorded_at=row.recorded_at,
                    source=row.source,
                    notice_version=row.version,
                    data_category=row.data_category,
                )
            )
    return {subject: (found, notices) for subject, found in records.items()}
