"""The gateway's consent hook on the database: the subject's records → what a system may use."""

from __future__ import annotations

import threading
import time
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
from ethica.service.hooks import ConsentState

#: How long a subject's records are reused without reading them again. Changes made through
#: this process take effect at once (:meth:`SqlConsentHook.forget`); changes made through
#: another replica within this many seconds.
CACHE_SECONDS = 1.0

Records = list[Preference | Objection]


class SqlConsentHook:
    """Reads a subject's choices, objections and the notices for a system's purpose.

    One indexed Core query per subject and purpose (:func:`consent_query`), reused for
    :data:`CACHE_SECONDS`; the rules are the privacy library's :func:`~ethica.privacy.evaluate`.
    A decision without a subject id is judged as a subject with no records: under the
    ``consent`` legal basis every feature is withheld.

    Parameters
    ----------
    sessions
        Its engine is read on a cache miss only (a pooled connection, no ORM session);
        without it, the gateway passes a session per decision.
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
        key = (subject_id, spec.purpose)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            records, notices = hit[1], hit[2]
        else:
            records, notices = self._read(session, subject_id=subject_id, purpose=spec.purpose)
            with self._lock:
                self._cache[key] = (now, records, notices)
        state = evaluate(spec, records, notices)
        return ConsentState(
            withhold=dict(state.withhold),
            objects_to_automation=state.objects_to_automation,
            objects_to_profiling=state.objects_to_profiling,
            version=state.version,
        )

    def _read(
        self, session: Session | None, *, subject_id: str | None, purpose: str
    ) -> tuple[Records, list[Notice]]:
        query = self._queries.get(purpose)
        if query is None:
            query = self._queries.setdefault(purpose, consent_query(purpose))
        if session is not None:
            return consent_rows(session.connection(), query, subject_id=subject_id)
        bind = None if self._sessions is None else self._sessions.kw.get("bind")
        if isinstance(bind, Engine):
            # A pooled connection: an ORM session per cache miss cost as much as the query.
            with bind.connect() as connection:
                return consent_rows(connection, query, subject_id=subject_id)
        if self._sessions is None:
            raise TypeError("SqlConsentHook reads the database: give it sessions or a session")
        with self._sessions() as own:
            return consent_rows(own.connection(), query, subject_id=subject_id)


def consent_query(purpose: str) -> CompoundSelect[Any]:
    """The one query for what :func:`~ethica.privacy.evaluate` needs about ``purpose``.

    The subject's choices, their objections and the notices, as rows of one ``UNION ALL``
    (``record`` says which), bound to the subject's id as ``subject``. Only records whose
    data use is the purpose or above it can apply (the library's rule 1), so the rest are
    never read; the selects use the ``(subject_id, recorded_at)`` indexes and the
    ``(data_use, version)`` unique index. The uses are bound one by one (no expanding ``IN``,
    which the database layer re-renders on every execution): build it once per purpose.
    """
    uses = ancestors(purpose)
    subject = bindparam("subject", type_=String)

    def among(column: Any) -> ColumnElement[bool]:
        return or_(*(column == use for use in uses))

    no_text, no_number = null().cast(String), null().cast(Integer)
    return union_all(
        select(  # first: its column types (a UTC-aware recorded_at) are the union's
            literal("consent", String).label("record"),
            ConsentRecord.data_use,
            ConsentRecord.data_category,
            ConsentRecord.status.label("what"),
            ConsentRecord.notice_version.label("version"),
            no_number.label("minimum"),
            ConsentRecord.source,
            ConsentRecord.recorded_at,
            literal(True, Boolean).label("active"),
        ).where(ConsentRecord.subject_id == subject, among(ConsentRecord.data_use)),
        select(
            literal("objection", String),
            ObjectionRecord.data_use,
            no_text,
            ObjectionRecord.kind,
            no_number,
            no_number,
            ObjectionRecord.source,
            ObjectionRecord.recorded_at,
            ObjectionRecord.active,
        ).where(
            ObjectionRecord.subject_id == subject,
            ObjectionRecord.data_use.is_(None) | among(ObjectionRecord.data_use),
        ),
        select(
            literal("notice", String),
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
    connection: Connection, query: CompoundSelect[Any], *, subject_id: str | None
) -> tuple[Records, list[Notice]]:
    """Run :func:`consent_query` for one subject (``None``: the notices only)."""
    records: Records = []
    notices: list[Notice] = []
    # A NULL subject matches no record (``subject_id = NULL`` is never true): notices only.
    for row in connection.execute(query, {"subject": subject_id}):
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
            records.append(
                Objection(
                    kind=row.what,
                    recorded_at=row.recorded_at,
                    active=bool(row.active),
                    data_use=row.data_use,
                    source=row.source,
                )
            )
        else:
            records.append(
                Preference(
                    data_use=row.data_use,
                    status=row.what,
                    recorded_at=row.recorded_at,
                    source=row.source,
                    notice_version=row.version,
                    data_category=row.data_category,
                )
            )
    return records, notices
