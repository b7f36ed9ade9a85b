"""Routes of consent: notices (officers), choices and objections (applications, customers).

Reading a subject's consent history needs ``consent:write``, not ``decisions:read``: the
applications that record choices read them back, and reviewers and officers (who hold
``decisions:read``) have no need to browse customers' choices; the effect of a choice on a
decision is on the decision itself (withheld features, consent version).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Header, Query, Request, Response

from ethica.service.answers import ERROR_ANSWERS
from ethica.service.auth import Principal
from ethica.service.consent import service
from ethica.service.consent.schemas import (
    ConsentChoice,
    ConsentCreate,
    ConsentPage,
    ConsentRead,
    NoticePage,
    NoticeRead,
    NoticeUpdate,
    ObjectionCreate,
    ObjectionRead,
    SubjectConsentRead,
)
from ethica.service.consent.tables import (
    CONSENT_CHAIN,
    ConsentRecord,
    NoticeVersion,
    ObjectionRecord,
)
from ethica.service.decisions.schemas import LedgerRef
from ethica.service.deps import SessionDep, requires, run_job
from ethica.service.ledger.writer import Batch
from ethica.service.state import state_of
from ethica.service.subjects.ids import SubjectPath

router = APIRouter(tags=["consent"], responses=ERROR_ANSWERS)
T = TypeVar("T")

GpcHeader = Annotated[
    str | None,
    Header(alias="Sec-GPC", description="The browser's Global Privacy Control signal ('1')."),
]


async def _write(request: Request, job: Callable[[Batch], T]) -> T:
    """Run a ledger-affecting change on the writer; returns after its commit."""
    result = await run_job(request, job)
    forget = getattr(state_of(request.app).gateway.consent, "forget", None)
    if forget is not None:
        forget()  # the very next decision reads the change
    return result


def _ledger(sequence: int, hash_: str) -> LedgerRef:
    return LedgerRef(chain=CONSENT_CHAIN, sequence=sequence, hash=hash_)


def notice_read(row: NoticeVersion) -> NoticeRead:
    """The API's view of a notice row."""
    return NoticeRead(
        data_use=row.data_use,
        kind=row.kind,
        version=row.version,
        min_consent_version=row.min_consent_version,
        text=row.text,
        created_at=row.created_at,
        ledger=_ledger(row.ledger_sequence, row.ledger_hash),
    )


def consent_read(row: ConsentRecord) -> ConsentRead:
    """The API's view of a consent record."""
    return ConsentRead(
        id=row.id,
        subject_id=row.subject_id,
        data_use=row.data_use,
        data_category=row.data_category,
        status=row.status,
        notice_version=row.notice_version,
        source=row.source,
        recorded_at=row.recorded_at,
        ledger=_ledger(row.ledger_sequence, row.ledger_hash),
    )


def objection_read(row: ObjectionRecord) -> ObjectionRead:
    """The API's view of an objection record."""
    return ObjectionRead(
        id=row.id,
        subject_id=row.subject_id,
        kind=row.kind,
        active=row.active,
        data_use=row.data_use,
        source=row.source,
        recorded_at=row.recorded_at,
        ledger=_ledger(row.ledger_sequence, row.ledger_hash),
    )


# --- notices -----------------------------------------------------------------------------


@router.put(
    "/v1/notices/{data_use}",
    operation_id="put_notice",
    response_model=NoticeRead,
    responses={201: {"description": "A new version was published."}},
    dependencies=[requires("notices:write")],
)
async def put_notice(
    data_use: str, body: NoticeUpdate, request: Request, response: Response
) -> NoticeRead:
    """Publish the notice for a data use: a new version (201) when the wording changed, else 200."""

    def job(batch: Batch) -> tuple[NoticeRead, bool]:
        row, created = service.put_notice(
            batch,
            data_use_key=data_use,
            kind=body.kind,
            text=body.text,
            fresh_consent=body.fresh_consent,
        )
        return notice_read(row), created

    read, created = await _write(request, job)
    response.status_code = 201 if created else 200
    return read


@router.get(
    "/v1/notices",
    operation_id="list_notices",
    response_model=NoticePage,
    dependencies=[requires("systems:read")],
)
def list_notices(
    session: SessionDep,
    data_use: Annotated[str | None, Query(max_length=200)] = None,
    every_version: bool = False,
) -> NoticePage:
    """The notices customers are shown: the current version of each, or every version."""
    rows = service.list_notices(session, data_use_key=data_use, every_version=every_version)
    return NoticePage(items=[notice_read(r) for r in rows], total=len(rows))


# --- a subject's choices, recorded by applications ---------------------------------------


async def _record_consent(
    request: Request, subject_id: str, body: ConsentChoice, *, source: str, gpc: bool
) -> ConsentPage:
    def job(batch: Batch) -> ConsentPage:
        rows = service.record_consent(
            batch,
            subject_id=subject_id,
            data_use_key=body.data_use,
            status=body.status,
            data_category_key=body.data_category,
            notice_version=body.notice_version,
            source=source,  # type: ignore[arg-type]  # the schemas allow only valid sources
            gpc=body.gpc or gpc,
        )
        return ConsentPage(items=[consent_read(r) for r in rows])

    return await _write(request, job)


async def _record_objection(
    request: Request, subject_id: str, body: ObjectionCreate, *, source: str
) -> ObjectionRead:
    def job(batch: Batch) -> ObjectionRead:
        row = service.record_objection(
            batch,
            subject_id=subject_id,
            kind=body.kind,
            active=body.active,
            data_use_key=body.data_use,
            source=source,  # type: ignore[arg-type]
        )
        return objection_read(row)

    return await _write(request, job)


def _history(session: SessionDep, subject_id: str) -> SubjectConsentRead:
    records, objections = service.subject_history(session, subject_id=subject_id)
    return SubjectConsentRead(
        subject_id=subject_id,
        records=[consent_read(r) for r in records],
        objections=[objection_read(o) for o in objections],
    )


@router.post(
    "/v1/subjects/{subject_id}/consent",
    operation_id="record_consent",
    response_model=ConsentPage,
    status_code=201,
    dependencies=[requires("consent:write")],
)
async def record_consent(
    subject_id: SubjectPath,
    body: ConsentCreate,
    request: Request,
    sec_gpc: GpcHeader = None,
) -> ConsentPage:
    """Record a customer's choice for a data use, and/or their Global Privacy Control signal."""
    return await _record_consent(request, subject_id, body, source=body.source, gpc=sec_gpc == "1")


@router.get(
    "/v1/subjects/{subject_id}/consent",
    operation_id="get_subject_consent",
    response_model=SubjectConsentRead,
    dependencies=[requires("consent:write")],
)
def subject_consent(subject_id: SubjectPath, session: SessionDep) -> SubjectConsentRead:
    """A customer's choices and objections, newest first."""
    return _history(session, subject_id)


@router.post(
    "/v1/subjects/{subject_id}/objections",
    operation_id="record_objection",
    response_model=ObjectionRead,
    status_code=201,
    dependencies=[requires("consent:write")],
)
async def record_objection(
    subject_id: SubjectPath, body: ObjectionCreate, request: Request
) -> ObjectionRead:
    """Record a customer's objection to automated decisions or profiling (or its lifting)."""
    return await _record_objection(request, subject_id, body, source="api")


# --- the signed-in customer's own choices ------------------------------------------------


@router.get("/v1/me/consent", operation_id="get_my_consent", response_model=SubjectConsentRead)
def my_consent(
    session: SessionDep, customer: Annotated[Principal, requires("self:read")]
) -> SubjectConsentRead:
    """The signed-in customer's choices and objections, newest first."""
    return _history(session, customer.subject or "")


@router.post(
    "/v1/me/consent", operation_id="record_my_consent", response_model=ConsentPage, status_code=201
)
async def record_my_consent(
    body: ConsentChoice,
    request: Request,
    customer: Annotated[Principal, requires("self:write")],
    sec_gpc: GpcHeader = None,
) -> ConsentPage:
    """Record the signed-in customer's own choice, and/or their Global Privacy Control signal."""
    return await _record_consent(
        request, customer.subject or "", body, source="portal", gpc=sec_gpc == "1"
    )


@router.post(
    "/v1/me/objections",
    operation_id="record_my_objection",
    response_model=ObjectionRead,
    status_code=201,
)
async def record_my_objection(
    body: ObjectionCreate, request: Request, customer: Annotated[Principal, requires("self:write")]
) -> ObjectionRead:
    """Object to automated decisions or profiling about the signed-in customer (or lift it)."""
    return await _record_objection(request, customer.subject or "", body, source="portal")
