"""Routes for customers (their own decisions and rights) and for officers handling requests."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse, PlainTextResponse
from sqlalchemy.orm import Session

from ethica.service.answers import ERROR_ANSWERS
from ethica.service.auth import Principal
from ethica.service.decisions import service as decisions
from ethica.service.decisions.explanations import Explanations
from ethica.service.decisions.record import customer_read
from ethica.service.decisions.schemas import DecisionPage, DecisionRead
from ethica.service.deps import SessionDep, SettingsDep, WriterDep, requires
from ethica.service.ledger.writer import LedgerWriter
from ethica.service.paging import Offset
from ethica.service.settings import Settings
from ethica.service.subjects import export, requests, service
from ethica.service.subjects.ids import SubjectPath, SubjectQuery
from ethica.service.subjects.schemas import (
    LinkCreate,
    LinkRead,
    RequestKind,
    RequestStatus,
    RightsRequestPage,
    RightsRequestRead,
)

router = APIRouter(tags=["subjects"], responses=ERROR_ANSWERS)


@router.post(
    "/v1/subjects/{subject_id}/links",
    operation_id="create_customer_link",
    response_model=LinkRead,
    status_code=201,
)
def create_link(
    subject_id: SubjectPath,
    body: LinkCreate,
    settings: SettingsDep,
    _: Annotated[Principal, requires("links:write")],
) -> LinkRead:
    """Sign a link token for a customer your app has authenticated (they see only their data)."""
    token, minutes = service.customer_link(
        subject_id=subject_id, settings=settings.app, minutes=body.minutes
    )
    return LinkRead(subject_id=subject_id, token=token, expires_in_minutes=minutes)


@router.get("/v1/me/decisions", operation_id="list_my_decisions", response_model=DecisionPage)
def my_decisions(
    session: SessionDep,
    settings: SettingsDep,
    customer: Annotated[Principal, requires("self:read")],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> DecisionPage:
    """The decisions about the signed-in customer, newest first."""
    rows, total = decisions.list_decisions(
        session, subject_id=customer.subject or "", limit=limit, offset=offset
    )
    explanations = Explanations.of_session(session, settings.ledger.master_key_bytes)
    explanations.load(rows)
    return DecisionPage(
        items=[customer_read(r, explanations) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/v1/me/decisions/{decision_id}", operation_id="get_my_decision", response_model=DecisionRead
)
def my_decision(
    decision_id: str,
    session: SessionDep,
    settings: SettingsDep,
    customer: Annotated[Principal, requires("self:read")],
) -> DecisionRead:
    """One decision about the signed-in customer (another customer's is not found)."""
    row = decisions.get_decision(
        session, decision_id=decision_id, subject_id=customer.subject or ""
    )
    return customer_read(row, Explanations.of_session(session, settings.ledger.master_key_bytes))


ExportFormat = Annotated[
    Literal["json", "html"], Query(description="json, or html for a readable page.")
]
_EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}}, "description": "The export, as JSON or a page."}
}


@router.get(
    "/v1/me/export",
    operation_id="export_my_data",
    response_model=None,
    responses=_EXPORT_RESPONSES,
)
def my_export(
    session: SessionDep,
    settings: SettingsDep,
    writer: WriterDep,
    customer: Annotated[Principal, requires("self:read")],
    format: ExportFormat = "json",
) -> dict[str, Any] | HTMLResponse:
    """Everything held about the signed-in customer (GDPR Art. 15); recorded as a request."""
    return _export(
        writer, session, settings, subject_id=_own(customer), caller=customer, format=format
    )


@router.get(
    "/v1/subjects/{subject_id}/export",
    operation_id="export_subject_data",
    response_model=None,
    responses=_EXPORT_RESPONSES,
)
def subject_export(
    subject_id: SubjectPath,
    session: SessionDep,
    settings: SettingsDep,
    writer: WriterDep,
    officer: Annotated[Principal, requires("subjects:manage")],
    format: ExportFormat = "json",
) -> dict[str, Any] | HTMLResponse:
    """Everything held about a subject, to answer their access request; recorded as a request."""
    return _export(writer, session, settings, subject_id=subject_id, caller=officer, format=format)


@router.post(
    "/v1/me/erasure",
    operation_id="erase_me",
    response_model=RightsRequestRead,
    status_code=201,
)
def erase_me(
    writer: WriterDep, customer: Annotated[Principal, requires("self:write")]
) -> RightsRequestRead:
    """Erase the signed-in customer's personal data (GDPR Art. 17); decisions stay, unlinked."""
    return service.run_erasure(
        writer, subject_id=_own(customer), requested_by=requests.requester(customer)
    )


@router.post(
    "/v1/subjects/{subject_id}/erasure",
    operation_id="erase_subject",
    response_model=RightsRequestRead,
    status_code=201,
)
def erase_subject(
    subject_id: SubjectPath,
    writer: WriterDep,
    officer: Annotated[Principal, requires("subjects:manage")],
) -> RightsRequestRead:
    """Erase a subject's personal data on their request; returns the completed request."""
    return service.run_erasure(
        writer, subject_id=subject_id, requested_by=requests.requester(officer)
    )


@router.get("/v1/requests", operation_id="list_rights_requests", response_model=RightsRequestPage)
def list_requests(
    session: SessionDep,
    _: Annotated[Principal, requires("subjects:manage")],
    status: RequestStatus | None = None,
    kind: RequestKind | None = None,
    subject_id: SubjectQuery = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> RightsRequestPage:
    """Data subjects' requests, nearest deadline first, each flagged when overdue."""
    rows, total = requests.list_requests(
        session, status=status, kind=kind, subject_id=subject_id, limit=limit, offset=offset
    )
    return RightsRequestPage(
        items=[requests.request_read(r) for r in rows], total=total, limit=limit, offset=offset
    )


def _own(customer: Principal) -> str:
    return customer.subject or customer.id


def _export(
    writer: LedgerWriter,
    session: Session,
    settings: Settings,
    *,
    subject_id: str,
    caller: Principal,
    format: str,
) -> dict[str, Any] | HTMLResponse:
    data = service.export_subject(
        writer,
        session,
        subject_id=subject_id,
        requested_by=requests.requester(caller),
        master_key=settings.ledger.master_key_bytes,
    )
    if format == "html":
        return HTMLResponse(export.render_html(data))
    return data


@router.get(
    "/v1/me/decisions/{decision_id}/notice",
    operation_id="get_my_decision_notice",
    response_class=PlainTextResponse,
)
def my_notice(
    decision_id: str,
    session: SessionDep,
    settings: SettingsDep,
    customer: Annotated[Principal, requires("self:read")],
    format: Annotated[Literal["text", "html"], Query()] = "text",
) -> Response:
    """The adverse-action notice of one of the signed-in customer's decisions."""
    text = decisions.decision_notice(
        session,
        decision_id=decision_id,
        format=format,
        master_key=settings.ledger.master_key_bytes,
        subject_id=customer.subject or "",
    )
    return HTMLResponse(text) if format == "html" else PlainTextResponse(text)
