"""One case in the reviewer console: what the model saw and said, and the reviewer's actions.

Claim / release and blind-first judgements are plain rows (the request's session); deciding and
approving append to the ledger, so they run on the ledger writer exactly as the API's routes do.
A refusal from the review backend (another reviewer holds the case, four eyes, a missing
judgement) is shown on the case page as a message, with the status code that goes with it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ethica.errors import InputError
from ethica.explain import retold
from ethica.governance import SystemSpec, parse_spec
from ethica.ledger import KeyRing
from ethica.service.db import utcnow
from ethica.service.decisions.service import get_decision
from ethica.service.deps import SessionDep, run_job
from ethica.service.errors import ConflictError, NotFoundError, PermissionDeniedError
from ethica.service.ledger.store import SqlKeyStore
from ethica.service.ledger.writer import Batch
from ethica.service.reviews import cases, judgements, service
from ethica.service.reviews.history import case_history
from ethica.service.reviews.schemas import ReviewCaseRead, ReviewDecisionCreate
from ethica.service.state import state_of
from ethica.service.systems.service import get_system
from ethica.service.users.service import display_names
from ethica.service.web.console.evidence import feature_words, heavy_proxies, input_rows
from ethica.service.web.console.words import (
    deadline_clock,
    outcome_label,
    outcomes_of,
    reason_codes,
    reason_label,
    score_words,
    status_label,
    step_reason,
)
from ethica.service.web.portal.views import explanation_of
from ethica.service.web.rendering import render
from ethica.service.web.session import Viewer, page_requires

router = APIRouter(prefix="/console", tags=["web"], include_in_schema=False)

CaseId = Annotated[str, Path(min_length=1, max_length=100)]
Reader = Annotated[Viewer, page_requires("reviews:read")]
Decider = Annotated[Viewer, page_requires("reviews:decide")]
Comment = Annotated[str, Form(max_length=2000)]

#: What the page says after each action (the redirect names the action, never free text).
DONE: dict[str, str] = {
    "claimed": "You hold this case now: no other reviewer can act on it until you release it.",
    "released": "You released this case: another reviewer may claim it.",
    "judged": "Your judgement is recorded. The model's recommendation is shown below.",
    "confirmed": "You confirmed the model's outcome. The decision is final.",
    "overridden": "Your override is recorded. The decision is final.",
    "proposed": "Your override is recorded. It takes effect once a second reviewer approves it.",
    "approved": "You approved the override. The decision is final.",
    "rejected": "You rejected the override: the case is back in the queue, with the proposal "
    "and your reason recorded. The decision keeps its outcome until a reviewer decides again.",
    "decided": "Your decision is recorded. The decision is final.",
}
#: The refusals a case page shows as a message (with their status code), not an error page.
Refusal = (ConflictError, InputError, PermissionDeniedError)


@router.get("/cases/{decision_id}")
def case_page(
    decision_id: CaseId,
    request: Request,
    session: SessionDep,
    viewer: Reader,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """A case as the reviewer sees it (blind-first withholds the model's view), or its end."""
    notice = DONE.get(done or "")
    return _case_response(request, session, viewer, decision_id, notice=notice)


@router.post("/cases/{decision_id}/claim")
def claim_case(
    decision_id: CaseId, request: Request, session: SessionDep, viewer: Decider
) -> Response:
    """Hold the case so no other reviewer acts on it."""
    try:
        service.claim(session, decision_id=decision_id, reviewer_id=viewer.principal.id)
    except (ConflictError, PermissionDeniedError) as error:
        return _case_response(
            request, session, viewer, decision_id, error=str(error), status=_status(error)
        )
    return _back(decision_id, "claimed")


@router.post("/cases/{decision_id}/release")
def release_case(
    decision_id: CaseId, request: Request, session: SessionDep, viewer: Decider
) -> Response:
    """Let go of a case you hold."""
    try:
        service.release(session, decision_id=decision_id, reviewer_id=viewer.principal.id)
    except ConflictError as error:
        return _case_response(request, session, viewer, decision_id, error=str(error), status=409)
    return _back(decision_id, "released")


@router.post("/cases/{decision_id}/judgement")
def record_judgement(
    decision_id: CaseId,
    request: Request,
    session: SessionDep,
    viewer: Decider,
    outcome: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Record your own outcome for a blind-first case, before the model's is shown."""
    if not outcome:
        return _case_response(
            request,
            session,
            viewer,
            decision_id,
            error="choose the outcome you would decide before the model's is shown",
            status=422,
        )
    try:
        judgements.record_judgement(
            session, decision_id=decision_id, reviewer_id=viewer.principal.id, outcome=outcome
        )
    except Refusal as error:
        return _case_response(
            request, session, viewer, decision_id, error=str(error), status=_status(error)
        )
    return _back(decision_id, "judged")


@router.post("/cases/{decision_id}/decision")
async def decide_case(
    decision_id: CaseId,
    request: Request,
    viewer: Decider,
    action: Annotated[str, Form(max_length=20)],
    outcome: Annotated[str, Form(max_length=200)] = "",
    reason_code: Annotated[str, Form(max_length=40)] = "",
    comment: Comment = "",
) -> Response:
    """Confirm the model's outcome, override it with a reason code and words, or decide a case
    no model decided."""
    try:
        body = ReviewDecisionCreate.model_validate(
            {
                "action": action,
                "outcome": outcome or None,
                "reason_code": reason_code or None,
                "comment": comment.strip() or None,
            }
        )
    except ValidationError as error:
        return await _refused(request, viewer, decision_id, _invalid(error), 422)

    def job(batch: Batch) -> str:
        row = service.decide(
            batch, decision_id=decision_id, reviewer_id=viewer.principal.id, body=body
        )
        if row.action in ("confirm", "decide"):
            return "confirmed" if row.action == "confirm" else "decided"
        return "overridden" if row.status_after == "overridden" else "proposed"

    try:
        done = await run_job(request, job)
    except Refusal as error:
        return await _refused(request, viewer, decision_id, str(error), _status(error))
    return _back(decision_id, done)


@router.post("/cases/{decision_id}/approval")
async def approve_case(
    decision_id: CaseId, request: Request, viewer: Decider, comment: Comment = ""
) -> Response:
    """Approve another reviewer's proposed override (four eyes): it becomes final."""

    def job(batch: Batch) -> None:
        service.approve(
            batch,
            decision_id=decision_id,
            reviewer_id=viewer.principal.id,
            comment=comment.strip() or None,
        )

    try:
        await run_job(request, job)
    except Refusal as error:
        return await _refused(request, viewer, decision_id, str(error), _status(error))
    return _back(decision_id, "approved")


@router.post("/cases/{decision_id}/rejection")
async def reject_case(
    decision_id: CaseId, request: Request, viewer: Decider, reason: Comment = ""
) -> Response:
    """Reject another reviewer's proposed override, with the reason: the case is open again."""
    if not reason.strip():
        return await _refused(
            request, viewer, decision_id, "say why the override should not take effect", 422
        )

    def job(batch: Batch) -> None:
        service.reject(
            batch, decision_id=decision_id, reviewer_id=viewer.principal.id, reason=reason.strip()
        )

    try:
        await run_job(request, job)
    except Refusal as error:
        return await _refused(request, viewer, decision_id, str(error), _status(error))
    return _back(decision_id, "rejected")


def _back(decision_id: str, done: str) -> Response:
    return RedirectResponse(f"/console/cases/{decision_id}?done={done}", status_code=303)


def _status(error: Exception) -> int:
    if isinstance(error, PermissionDeniedError):
        return 403
    return 409 if isinstance(error, ConflictError) else 422


def _invalid(error: ValidationError) -> str:
    return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())


async def _refused(
    request: Request, viewer: Viewer, decision_id: str, message: str, status: int
) -> Response:
    """The case page again with the backend's refusal (read in a session of its own)."""

    def show() -> Response:
        with state_of(request.app).sessions() as session:
            return _case_response(
                request, session, viewer, decision_id, error=message, status=status
            )

    return await run_in_threadpool(show)


def _evidence(spec: SystemSpec, case: ReviewCaseRead | None) -> dict[str, Any]:
    """The inputs in words, and (once the model's view is shown) contributions and proxies.

    The reasons are told about the customer (third person), not to them as the portal does.
    """
    if case is None:
        return {"input_rows": [], "explained": None, "proxy_warnings": []}
    shown = None if case.blind else case.explanation
    return {
        "input_rows": input_rows(spec, case.inputs),
        "explained": explanation_of(spec, shown and retold(shown, spec=spec)),
        "proxy_warnings": heavy_proxies(spec, shown),
    }


def _case_response(
    request: Request,
    session: Session,
    viewer: Viewer,
    decision_id: str,
    *,
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    """The case page: the open case, or how a case that left the queue ended."""
    key = state_of(request.app).settings.ledger.master_key_bytes
    keyring = KeyRing(key, store=SqlKeyStore(session))
    history = case_history(session, decision_id=decision_id, keyring=keyring)
    decision = get_decision(session, decision_id=decision_id)  # or: no such decision
    try:
        case: ReviewCaseRead | None = cases.review_case(
            session,
            decision_id=decision_id,
            reviewer_id=viewer.principal.id,
            master_key=key,
        )
    except NotFoundError:
        if not history:  # never held for review: not a case
            raise NotFoundError(
                f"Decision {decision_id[:8]} was never held for review: its outcome stood "
                "without a person, so there is no case to review."
            ) from None
        case = None
    system = get_system(session, system_id=decision.system_id)
    spec = parse_spec(system.spec)
    people = {e.actor for e in history if e.actor}
    if case is not None:
        people |= {p for p in (case.claimed_by, case.proposed_by) if p}
    me = viewer.principal.id
    context: dict[str, Any] = {
        "decision_id": decision_id,
        "case": case,
        "system_name": system.name,
        "ended": {
            "system_id": decision.system_id,
            "outcome": decision.outcome,
            "status": status_label(decision.review_status),
        },
        "history": history,
        "history_blind": case is not None and case.blind,
        "names": display_names(session, user_ids=people),
        "me": me,
        "can_decide": viewer.principal.can("reviews:decide"),
        "mine": case is not None and case.claimed_by == me,
        "decided_before": case is not None and me in case.earlier_reviewers,
        "clock": None if case is None else deadline_clock(case, now=utcnow()),
        "outcomes": outcomes_of(spec),
        "said": lambda outcome: outcome_label(spec, str(outcome)),
        "feature_words": lambda name: feature_words(spec, str(name)),
        **_evidence(spec, case),
        "reason_codes": reason_codes(),
        "reason_label": reason_label,
        "step_reason": step_reason,
        "score": score_words(spec, case.score if case is not None else None),
        "status_label": status_label,
        "error": error,
        "notice": notice,
    }
    return render(request, "console/case.html", context, viewer=viewer, status=status)
