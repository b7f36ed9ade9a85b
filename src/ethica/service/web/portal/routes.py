"""The customer portal: a customer's own decisions, explanations, reviews, consent and data.

Every page reads through the same service functions as the ``/v1/me`` API, always with the
viewer's own subject id, so another customer's decision is simply not found. Appeals and
concerns append to the ledger, so they run on the ledger writer like their API routes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.governance import outcome_is_adverse
from ethica.service.concerns import service as concerns
from ethica.service.decisions import service as decisions
from ethica.service.decisions.explanations import Explanations
from ethica.service.deps import SessionDep, run_job
from ethica.service.ledger.writer import Batch
from ethica.service.notifications import service as notifications
from ethica.service.paging import Offset
from ethica.service.reviews import appeals
from ethica.service.reviews.cases import OPEN_STATUSES
from ethica.service.reviews.history import case_history
from ethica.service.reviews.schemas import STATEMENT_MAX_CHARS
from ethica.service.state import state_of
from ethica.service.systems.service import get_system
from ethica.service.systems.tables import System
from ethica.service.web.portal import privacy as portal_privacy
from ethica.service.web.portal.views import (
    appeal_answer,
    data_of,
    disclosure_of,
    explanation_of,
    has_notice,
    history_of,
    no_reasons_words,
    notification_line,
    outcome_of,
    spec_of,
    summary_of,
)
from ethica.service.web.rendering import render
from ethica.service.web.session import Viewer, page_requires

# Full paths, no prefix: the privacy pages' router is included with its own full prefix, so
# every route states the path it answers (test_web_access.py walks them as written).
router = APIRouter(tags=["web"], include_in_schema=False)
router.include_router(portal_privacy.router)

PAGE_SIZE = 20
CONCERN_MAX_CHARS = 4000
Reader = Annotated[Viewer, page_requires("self:read")]
Writer = Annotated[Viewer, page_requires("self:write")]
#: What the customer just did, confirmed at the top of the decision page.
Sent = Literal["appeal", "concern"]
_SENT = {
    "appeal": "Your request is recorded: a person will review this decision, with your view. "
    "The decision below shows its review status.",
    "concern": "Your concern is recorded. You will see the answer on this page.",
}


def _systems(session: Session, system_ids: set[str]) -> dict[str, System]:
    return {sid: get_system(session, system_id=sid) for sid in sorted(system_ids)}


@router.get("/portal")
def my_decisions(
    request: Request,
    session: SessionDep,
    viewer: Reader,
    offset: Offset = 0,
) -> Response:
    """The customer's decisions, newest first, from every system."""
    rows, total = decisions.list_decisions(
        session, subject_id=viewer.subject, limit=PAGE_SIZE, offset=offset
    )
    systems = _systems(session, {r.system_id for r in rows})
    context = {
        "decisions": [summary_of(row, systems[row.system_id]) for row in rows],
        "total": total,
        "offset": offset,
        "page_size": PAGE_SIZE,
    }
    return render(request, "portal/decisions.html", context, viewer=viewer)


@router.get("/portal/notifications")
def my_notifications(
    request: Request, session: SessionDep, viewer: Reader, offset: Offset = 0
) -> Response:
    """What changed in the customer's cases, newest first; seeing them marks them read."""
    rows, total = notifications.list_notifications(
        session, subject_id=viewer.subject, limit=PAGE_SIZE, offset=offset
    )
    systems = _systems(session, {r.system_id for r in rows})
    lines = [
        notification_line(
            row,
            system=systems[row.system_id],
            outcome=None
            if row.outcome is None
            else outcome_of(spec_of(systems[row.system_id]), row.outcome),
        )
        for row in rows
    ]
    notifications.mark_read(session, subject_id=viewer.subject)
    context = {
        "lines": lines,
        "total": total,
        "unread": sum(line.unread for line in lines),
        "offset": offset,
        "page_size": PAGE_SIZE,
    }
    return render(request, "portal/notifications.html", context, viewer=viewer)


@router.get("/portal/decisions/{decision_id}")
def my_decision(
    decision_id: str,
    request: Request,
    session: SessionDep,
    viewer: Reader,
    sent: Sent | None = None,
) -> Response:
    """One decision: outcome, why, what would change it, the data, its review, concerns."""
    row = decisions.get_decision(session, decision_id=decision_id, subject_id=viewer.subject)
    system = get_system(session, system_id=row.system_id)
    spec = spec_of(system)
    theirs, _ = concerns.list_concerns(
        session, master_key=_master_key(request), subject_id=viewer.subject, limit=200
    )
    opened = Explanations.of_session(session, _master_key(request)).of(row)
    events = case_history(session, decision_id=row.id)
    answered = appeal_answer(row, events)
    context = {
        "decision": summary_of(row, system),
        "row": row,
        "system": system,
        "disclosure": disclosure_of(row),
        "explanation": explanation_of(spec, opened.explanation),
        "explanation_status": opened.status,
        "no_reasons": no_reasons_words(row),
        "data": data_of(spec, row.data or {}),
        "history": history_of(events),
        "has_notice": has_notice(row, opened.explanation),
        "changed_by_person": row.review_status in ("overridden", "decided"),
        # What weighed against the customer did not decide an approval: not shown as its reasons.
        "favourable": not outcome_is_adverse(spec, outcome=row.outcome),
        "under_review": row.review_status in OPEN_STATUSES,
        "can_appeal": row.review_status not in OPEN_STATUSES and answered is None,
        "appeal_answer": answered,
        "concerns": [c for c in theirs if c.decision_id == row.id],
        "sent": None if sent is None else _SENT[sent],
        "statement_max": STATEMENT_MAX_CHARS,
        "concern_max": CONCERN_MAX_CHARS,
    }
    return render(request, "portal/decision.html", context, viewer=viewer)


@router.get("/portal/decisions/{decision_id}/notice")
def my_notice(decision_id: str, request: Request, session: SessionDep, viewer: Reader) -> Response:
    """The adverse-action notice of one of the customer's decisions, as a page.

    A decision a person still has to act on has no notice yet (it could contradict the final
    one): the page says so, and when the notice will come, instead of an error.
    """
    row = decisions.get_decision(session, decision_id=decision_id, subject_id=viewer.subject)
    opened = Explanations.of_session(session, _master_key(request)).of(row)
    notice = None
    if has_notice(row, opened.explanation):
        notice = Markup(  # the library escapes every value
            decisions.decision_notice(
                session,
                decision_id=decision_id,
                format="html",
                master_key=_master_key(request),
                subject_id=viewer.subject,
            )
        )
    system = get_system(session, system_id=row.system_id)
    context = {
        "decision_id": decision_id,
        "notice": notice,
        "decision": summary_of(row, system),
        "disclosure": disclosure_of(row),
        # Without a notice, the page says where to turn: appeal, or (once decided) a concern.
        "appeal_decided": notice is None
        and appeal_answer(row, case_history(session, decision_id=row.id)) is not None,
    }
    return render(request, "portal/notice.html", context, viewer=viewer)


@router.post("/portal/decisions/{decision_id}/appeal")
async def appeal(
    decision_id: str,
    request: Request,
    viewer: Writer,
    statement: Annotated[str, Form(max_length=STATEMENT_MAX_CHARS)] = "",
) -> Response:
    """Ask for a person to review the decision, with the customer's view (a ledger job)."""
    if not statement.strip():
        raise InputError("say in a few words why a person should look at this decision again")
    subject_id = viewer.subject

    def job(batch: Batch) -> None:
        appeals.appeal(batch, decision_id=decision_id, subject_id=subject_id, statement=statement)

    await run_job(request, job)
    return RedirectResponse(f"/portal/decisions/{decision_id}?sent=appeal", status_code=303)


@router.post("/portal/decisions/{decision_id}/concerns")
async def report_concern(
    decision_id: str,
    request: Request,
    viewer: Writer,
    text: Annotated[str, Form(max_length=CONCERN_MAX_CHARS)] = "",
) -> Response:
    """Report a concern about the decision (a ledger job); the answer shows on its page."""
    subject_id = viewer.subject

    def job(batch: Batch) -> None:
        concerns.report(batch, decision_id=decision_id, subject_id=subject_id, text=text)

    await run_job(request, job)
    return RedirectResponse(f"/portal/decisions/{decision_id}?sent=concern", status_code=303)


def _master_key(request: Request) -> bytes:
    return state_of(request.app).settings.ledger.master_key_bytes
