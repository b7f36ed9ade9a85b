"""The portal's privacy pages: consent per data use, objections, GPC, the export, erasure.

Choices and objections are recorded by the consent domain's writer jobs with source
``"portal"``; the export and the erasure are the subjects domain's, recorded as requests.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from ethica.errors import InputError
from ethica.service.consent import service as consent
from ethica.service.consent.tables import ConsentRecord, NoticeVersion, ObjectionRecord
from ethica.service.deps import SessionDep, run_job
from ethica.service.ledger.writer import Batch
from ethica.service.state import state_of
from ethica.service.subjects import export
from ethica.service.subjects import requests as rights
from ethica.service.subjects import service as subjects
from ethica.service.systems.service import list_systems
from ethica.service.systems.tables import System
from ethica.service.web.portal.views import category_words, purpose_words
from ethica.service.web.rendering import render
from ethica.service.web.session import COOKIE, Viewer, page_requires

router = APIRouter(prefix="/portal/privacy", tags=["web"], include_in_schema=False)
T = TypeVar("T")
Reader = Annotated[Viewer, page_requires("self:read")]
Writer = Annotated[Viewer, page_requires("self:write")]

Changed = Literal["consent", "objection", "gpc"]
_CHANGED = {
    "consent": "Your choice is saved. It applies to the next decision about you.",
    "objection": "Your objection is saved. It applies to the next decision about you.",
    "gpc": "Your Global Privacy Control signal is recorded: marketing, personalization and "
    "sharing with third parties are withdrawn.",
}
OBJECTIONS = {
    "automated_decision": (
        "Decisions made by an AI system alone",
        "If you object, no AI model decides about you: a person does (GDPR Art. 22).",
    ),
    "profiling": (
        "Profiling and personalization",
        "If you object, decisions do not use a profile of you: the standard, non-personalized "
        "decision applies (GDPR Art. 21).",
    ),
}
#: What an erasure keeps, and why (said before and after the customer confirms).
KEPT = [
    "Each decision's outcome, score and date, no longer linked to you: they are needed to check "
    "that our AI systems treat groups of customers fairly.",
    "A pseudonymous reference in our tamper-evident record of decisions: removing it would "
    "break the record's seal; without your key nothing readable about you remains there.",
    "Your consent choices and objections: the law asks us to be able to show what you agreed to "
    "(GDPR Art. 7(1)).",
    "The record that you asked for erasure and that we did it.",
]


async def _write(request: Request, job: Callable[[Batch], T]) -> T:
    """A consent change on the ledger writer, then the gateway reads it at once (as the API)."""
    result = await run_job(request, job)
    forget = getattr(state_of(request.app).gateway.consent, "forget", None)
    if forget is not None:
        forget()
    return result


#: Where a choice was made, as the customer reads it.
SOURCE_WORDS = {
    "portal": "On this site",
    "api": "Through our staff or our app",
    "agent": "Through someone acting for you",
    "import": "Recorded before this site existed",
    "gpc": "Your browser's Global Privacy Control signal",
}
#: The customer's requests under data protection law, and where each stands, in words.
REQUEST_WORDS = {
    "access": "A copy of your data",
    "erasure": "Erasing your data",
    "objection": "Your objection",
    "rectification": "Correcting your data",
}
REQUEST_STATUS_WORDS = {"open": "In progress", "completed": "Done"}


class UseWords:
    """Names a data use as the customer knows it: by the services that use it for that purpose
    ("Product recommendations"), and by the taxonomy's name only where no service does."""

    def __init__(self, systems: list[System]) -> None:
        self._systems = systems

    def __call__(self, key: str) -> str:
        names = [
            s.name for s in self._systems if s.purpose == key or s.purpose.startswith(f"{key}.")
        ]
        return " and ".join(names) if names else purpose_words(key)


def _latest_choices(records: list[ConsentRecord]) -> dict[str, ConsentRecord]:
    """The newest whole-use choice per data use (``records`` come newest first)."""
    latest: dict[str, ConsentRecord] = {}
    for record in records:
        if record.data_category is None:
            latest.setdefault(record.data_use, record)
    return latest


def _category_choices(records: list[ConsentRecord], use_words: UseWords) -> list[dict[str, Any]]:
    """The newest choice per data use and data category, in words (``records`` newest first)."""
    latest: dict[tuple[str, str], ConsentRecord] = {}
    for record in records:
        if record.data_category is not None:
            latest.setdefault((record.data_use, record.data_category), record)
    return [
        {
            "data_use": use,
            "data_category": category,
            "name": f"{use_words(use)}: using {category_words(category)}",
            "status": r.status,
            "since": r.recorded_at,
        }
        for (use, category), r in latest.items()
    ]


def _objecting(objections: list[ObjectionRecord]) -> dict[str, ObjectionRecord | None]:
    """The newest objection (or lifting) of every kind for every use, or None."""
    return {
        kind: next((o for o in objections if o.kind == kind and o.data_use is None), None)
        for kind in OBJECTIONS
    }


def _notice_view(
    notice: NoticeVersion, choice: ConsentRecord | None, use_words: UseWords
) -> dict[str, Any]:
    return {
        "data_use": notice.data_use,
        "name": use_words(notice.data_use),
        "kind": notice.kind,
        "version": notice.version,
        "text": notice.text,
        "choice": None if choice is None else choice.status,
        "since": None if choice is None else choice.recorded_at,
        # A grant under a materially older wording no longer counts.
        "stale": choice is not None
        and choice.status == "granted"
        and (choice.notice_version or 0) < notice.min_consent_version,
    }


@router.get("")
def privacy(
    request: Request, session: SessionDep, viewer: Reader, changed: Changed | None = None
) -> Response:
    """Consent per data use, objections, the GPC signal, the export and erasure."""
    records, objections = consent.subject_history(session, subject_id=viewer.subject)
    choices = _latest_choices(records)
    notices = consent.list_notices(session)
    requests, _ = rights.list_requests(session, subject_id=viewer.subject, limit=200)
    use_words = UseWords(list_systems(session, limit=1000)[0])
    context = {
        "notices": [_notice_view(n, choices.get(n.data_use), use_words) for n in notices],
        "objections": [
            {"kind": kind, "title": title, "text": text, "record": current}
            for kind, (title, text), current in (
                (k, OBJECTIONS[k], c) for k, c in _objecting(objections).items()
            )
        ],
        "category_choices": _category_choices(records, use_words),
        "records": [
            {
                "name": use_words(r.data_use),
                "category": category_words(r.data_category) if r.data_category else None,
                "status": r.status,
                "source": SOURCE_WORDS.get(r.source, r.source),
                "at": r.recorded_at,
            }
            for r in records
        ],
        "request_words": REQUEST_WORDS,
        "request_status_words": REQUEST_STATUS_WORDS,
        "browser_gpc": request.headers.get("sec-gpc") == "1",
        "gpc_recorded": any(r.source == "gpc" for r in records),
        "requests": requests,
        "changed": None if changed is None else _CHANGED[changed],
    }
    return render(request, "portal/privacy.html", context, viewer=viewer)


@router.post("/consent")
async def record_choice(
    request: Request,
    viewer: Writer,
    data_use: Annotated[str, Form(min_length=1, max_length=200)],
    status: Annotated[Literal["granted", "withdrawn"], Form()],
    data_category: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Record the customer's choice for one data use (and their browser's GPC signal, if sent)."""
    subject_id = viewer.subject
    gpc = request.headers.get("sec-gpc") == "1"
    await _write(
        request,
        lambda batch: consent.record_consent(
            batch,
            subject_id=subject_id,
            data_use_key=data_use,
            status=status,
            data_category_key=data_category or None,
            source="portal",
            gpc=gpc,
        ),
    )
    return RedirectResponse("/portal/privacy?changed=consent", status_code=303)


@router.post("/objections")
async def record_objection(
    request: Request,
    viewer: Writer,
    kind: Annotated[Literal["automated_decision", "profiling"], Form()],
    active: Annotated[bool, Form()],
) -> Response:
    """Object to automated decisions or profiling, or lift the objection."""
    subject_id = viewer.subject
    await _write(
        request,
        lambda batch: consent.record_objection(
            batch, subject_id=subject_id, kind=kind, active=active, source="portal"
        ),
    )
    return RedirectResponse("/portal/privacy?changed=objection", status_code=303)


@router.post("/gpc")
async def record_gpc(request: Request, viewer: Writer) -> Response:
    """Record the Global Privacy Control signal: withdraw marketing, personalization, sharing."""
    subject_id = viewer.subject
    await _write(
        request,
        lambda batch: consent.record_consent(
            batch, subject_id=subject_id, source="portal", gpc=True
        ),
    )
    return RedirectResponse("/portal/privacy?changed=gpc", status_code=303)


@router.get("/export")
def download_export(
    request: Request,
    session: SessionDep,
    viewer: Reader,
    format: Annotated[Literal["json", "html"], Query()] = "json",
) -> Response:
    """Everything held about the customer as a file (GDPR Art. 15); recorded as a request."""
    master_key = state_of(request.app).settings.ledger.master_key_bytes
    data = subjects.export_subject(
        state_of(request.app).writer,
        session,
        subject_id=viewer.subject,
        requested_by=rights.requester(viewer.principal),
        master_key=master_key,
    )
    if format == "html":
        body, media = export.render_html(data), "text/html; charset=utf-8"
    else:
        body, media = json.dumps(data, indent=2, ensure_ascii=False), "application/json"
    filename = f"my-data-{datetime.now().strftime('%Y-%m-%d')}.{format}"
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/erasure")
def confirm_erasure(request: Request, viewer: Reader) -> Response:
    """What erasure removes and what it keeps, and the button that confirms it."""
    return render(request, "portal/erasure.html", _erasure_context(), viewer=viewer)


@router.post("/erasure")
def erase(
    request: Request,
    viewer: Writer,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Erase the customer's personal data (GDPR Art. 17), then end their session."""
    if confirm != "yes":
        raise InputError("tick the box to confirm that you want your data erased")
    done = subjects.run_erasure(
        state_of(request.app).writer,
        subject_id=viewer.subject,
        requested_by=rights.requester(viewer.principal),
    )
    response = render(
        request, "portal/erased.html", {**_erasure_context(), "done": done}, viewer=None
    )
    response.delete_cookie(COOKIE, path="/")
    return response


def _erasure_context() -> dict[str, Any]:
    return {"kept": KEPT}
