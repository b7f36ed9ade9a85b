"""Use cases of consent: publish notices, record choices and objections, read them back.

Every change is a writer job (it takes the writer's :class:`Batch`): the row and its ledger entry
are written in one transaction, so a change is never recorded without its evidence, nor the
reverse. Ledger entries carry the choice and the pseudonymous subject id, nothing else personal.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.privacy import (
    Notice,
    NoticeKind,
    Objection,
    ObjectionKind,
    Preference,
    PreferenceSource,
    PreferenceStatus,
    data_category,
    data_use,
    global_privacy_control,
    governing_notice,
)
from ethica.service.consent.tables import (
    CONSENT_CHAIN,
    ConsentRecord,
    NoticeVersion,
    ObjectionRecord,
)
from ethica.service.db import new_id, utcnow
from ethica.service.errors import ConflictError
from ethica.service.ledger.naming import subject_ref
from ethica.service.ledger.writer import Batch
from ethica.service.subjects.requests import complete_request, open_request, prove_request


def ancestors(key: str) -> list[str]:
    """The dotted key and every key above it: ``a.b.c`` → ``a``, ``a.b``, ``a.b.c``."""
    parts = key.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def as_notice(row: NoticeVersion) -> Notice:
    """The privacy library's view of a notice row."""
    kind: NoticeKind = row.kind  # type: ignore[assignment]  # the column holds only NoticeKind
    return Notice(
        data_use=row.data_use,
        kind=kind,
        version=row.version,
        min_consent_version=row.min_consent_version,
    )


# --- notices -----------------------------------------------------------------------------


def put_notice(
    batch: Batch, *, data_use_key: str, kind: NoticeKind, text: str, fresh_consent: bool = False
) -> tuple[NoticeVersion, bool]:
    """Publish a notice's wording; a new version only if the kind or the text changed.

    ``fresh_consent`` marks the change as material: grants given under older versions no longer
    count. Returns the current version and whether it was created now.
    """
    data_use(data_use_key)  # an unknown data use is refused, naming the closest known ones
    session = batch.session
    current = session.scalar(
        select(NoticeVersion)
        .where(NoticeVersion.data_use == data_use_key)
        .order_by(NoticeVersion.version.desc())
        .limit(1)
    )
    if current is not None and current.kind == kind and current.text == text:
        return current, False
    version = 1 if current is None else current.version + 1
    minimum = version if fresh_consent or current is None else current.min_consent_version
    Notice(data_use=data_use_key, kind=kind, version=version, min_consent_version=minimum)
    entry = batch.ledger.append(
        "notice",
        chain=CONSENT_CHAIN,
        public={
            "data_use": data_use_key,
            "kind": kind,
            "version": version,
            "min_consent_version": minimum,
            "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
        },
    )
    row = NoticeVersion(
        id=new_id(),
        data_use=data_use_key,
        kind=kind,
        version=version,
        min_consent_version=minimum,
        text=text,
        created_at=utcnow(),
        ledger_sequence=entry.sequence,
        ledger_hash=entry.hash,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError as error:  # another replica published the same version first
        raise ConflictError(
            f"notice {data_use_key!r} version {version} was published concurrently; retry"
        ) from error
    return row, True


def list_notices(
    session: Session, *, data_use_key: str | None = None, every_version: bool = False
) -> list[NoticeVersion]:
    """Notices by data use; only the current version of each unless ``every_version``."""
    query = select(NoticeVersion).order_by(NoticeVersion.data_use, NoticeVersion.version.desc())
    if data_use_key is not None:
        query = query.where(NoticeVersion.data_use == data_use_key)
    rows = list(session.scalars(query))
    if every_version:
        return rows
    seen: set[str] = set()
    current = []
    for row in rows:  # newest version first within each data use
        if row.data_use not in seen:
            seen.add(row.data_use)
            current.append(row)
    return current


def _governing(session: Session, key: str) -> Notice | None:
    rows = session.scalars(select(NoticeVersion).where(NoticeVersion.data_use.in_(ancestors(key))))
    return governing_notice(key, [as_notice(r) for r in rows])


def _shown_version(session: Session, key: str, given: int | None) -> int | None:
    """The notice version the subject saw: the one given (checked), else the current one."""
    notice = _governing(session, key)
    if given is None:
        return notice.version if notice is not None else None
    if notice is None:
        raise InputError(f"no notice is published for {key!r}; omit notice_version")
    if not 1 <= given <= notice.version:
        raise InputError(
            f"the notice for {key!r} ({notice.data_use!r}) has versions 1 to {notice.version}; "
            f"got notice_version {given}"
        )
    return given


# --- choices and objections --------------------------------------------------------------


def _check_subject(subject_id: str) -> None:
    if not subject_id or len(subject_id) > 100:
        raise InputError("a subject id has 1 to 100 characters")


def record_consent(
    batch: Batch,
    *,
    subject_id: str,
    data_use_key: str | None = None,
    status: PreferenceStatus | None = None,
    data_category_key: str | None = None,
    notice_version: int | None = None,
    source: PreferenceSource = "api",
    gpc: bool = False,
) -> list[ConsentRecord]:
    """Record a subject's choice and/or a Global Privacy Control signal (one row and entry each).

    A GPC signal is recorded as a withdrawal of every GPC data use (marketing, personalization,
    third-party sharing), each with the notice version current for it.
    """
    _check_subject(subject_id)
    session = batch.session
    now = utcnow()
    preferences: list[Preference] = []
    if data_use_key is not None or status is not None or data_category_key is not None:
        if data_use_key is None or status is None:
            raise InputError("a choice needs both data_use and status ('granted' or 'withdrawn')")
        data_use(data_use_key)
        if data_category_key is not None:
            data_category(data_category_key)
        preferences.append(
            Preference(
                data_use=data_use_key,
                status=status,
                recorded_at=now,
                source=source,
                notice_version=_shown_version(session, data_use_key, notice_version),
                data_category=data_category_key,
            )
        )
    elif notice_version is not None:
        raise InputError("notice_version belongs to a choice: send data_use and status with it")
    if gpc:
        for withdrawal in global_privacy_control(recorded_at=now):
            shown = _shown_version(session, withdrawal.data_use, None)
            preferences.append(
                Preference(
                    data_use=withdrawal.data_use,
                    status="withdrawn",
                    recorded_at=now,
                    source="gpc",
                    notice_version=shown,
                )
            )
    if not preferences:
        raise InputError(
            "send a choice (data_use and status) or the Global Privacy Control signal "
            "(gpc: true, or the header Sec-GPC: 1)"
        )
    rows = []
    for preference in preferences:
        entry = batch.ledger.append(
            "consent",
            chain=CONSENT_CHAIN,
            subject=subject_ref(batch.ledger.keyring, subject_id),
            public={
                "data_use": preference.data_use,
                "data_category": preference.data_category,
                "status": preference.status,
                "notice_version": preference.notice_version,
                "source": preference.source,
            },
        )
        row = ConsentRecord(
            id=new_id(),
            subject_id=subject_id,
            data_use=preference.data_use,
            data_category=preference.data_category,
            status=preference.status,
            notice_version=preference.notice_version,
            source=preference.source,
            recorded_at=now,
            ledger_sequence=entry.sequence,
            ledger_hash=entry.hash,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def record_objection(
    batch: Batch,
    *,
    subject_id: str,
    kind: ObjectionKind,
    active: bool = True,
    data_use_key: str | None = None,
    source: PreferenceSource = "api",
) -> ObjectionRecord:
    """Record an objection to automated decisions or profiling, or lift one (``active=False``)."""
    _check_subject(subject_id)
    if data_use_key is not None:
        data_use(data_use_key)
    now = utcnow()
    Objection(kind=kind, recorded_at=now, active=active, data_use=data_use_key, source=source)
    entry = batch.ledger.append(
        "objection",
        chain=CONSENT_CHAIN,
        subject=subject_ref(batch.ledger.keyring, subject_id),
        public={"kind": kind, "active": active, "data_use": data_use_key, "source": source},
    )
    row = ObjectionRecord(
        id=new_id(),
        subject_id=subject_id,
        kind=kind,
        active=active,
        data_use=data_use_key,
        source=source,
        recorded_at=now,
        ledger_sequence=entry.sequence,
        ledger_hash=entry.hash,
    )
    batch.session.add(row)
    batch.session.flush()
    if active:
        # An objection is a data subject request (Art. 21 / 22): it is tracked with the other
        # requests, and complete at once because the very next decision honours it.
        request = open_request(
            batch.session, kind="objection", subject_id=subject_id, requested_by=source, now=now
        )
        complete_request(
            request,
            result={"objection_id": row.id, "kind": kind, "data_use": data_use_key},
            now=now,
        )
        batch.session.flush()
        prove_request(batch, request)
    return row


def subject_history(
    session: Session, *, subject_id: str
) -> tuple[list[ConsentRecord], list[ObjectionRecord]]:
    """A subject's choices and objections, newest first."""
    records = session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.subject_id == subject_id)
        .order_by(ConsentRecord.recorded_at.desc(), ConsentRecord.ledger_sequence.desc())
    )
    objections = session.scalars(
        select(ObjectionRecord)
        .where(ObjectionRecord.subject_id == subject_id)
        .order_by(ObjectionRecord.recorded_at.desc(), ObjectionRecord.ledger_sequence.desc())
    )
    return list(records), list(objections)
