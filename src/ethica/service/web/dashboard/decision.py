"""One decision as an officer reads it: what was decided, by whom, its review and its concerns.

The page a concern links to: officers answer concerns but do not work the review queue, so the
reviewer console's case page is not theirs (it needs ``reviews:read``); this one needs only
``decisions:read``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from ethica.governance import SystemSpec, parse_spec
from ethica.ledger import KeyRing
from ethica.service.concerns import service as concerns
from ethica.service.decisions.explanations import erased_on
from ethica.service.decisions.record import awaits_a_person
from ethica.service.decisions.service import get_decision
from ethica.service.decisions.tables import Decision
from ethica.service.deps import SessionDep
from ethica.service.ledger.store import SqlKeyStore
from ethica.service.reviews.history import case_history
from ethica.service.state import state_of
from ethica.service.systems.service import get_system
from ethica.service.users.service import display_names
from ethica.service.web.console.words import outcome_label, status_label, step_reason
from ethica.service.web.rendering import render
from ethica.service.web.session import Viewer, page_requires

router = APIRouter(prefix="/dashboard", tags=["web"], include_in_schema=False)

#: What each step of a case's history is called on the officer's page.
EVENT_WORDS = {
    "appeal": "The customer appealed",
    "escalation": "Escalated: the review deadline passed",
    "confirm": "Confirmed by a reviewer",
    "override": "Overridden by a reviewer",
    "approve": "Override approved by a second reviewer",
    "reject": "Override rejected by a second reviewer: back in the queue",
    "decide": "Decided by a person",
}
PROPOSED = "Override proposed, for a second reviewer to approve or reject"
#: Who or what gave a decision its first outcome, in words.
SCORED_BY = {
    "model": "The AI system's model",
    "caller": "A score the business computed",
    "fallback": "The system's declared fallback (no model decided)",
}
#: The review statuses in which a person has given the decision its final outcome.
DECIDED = ("confirmed", "overridden", "decided")
#: The review statuses in which a person has yet to act.
UNDER_REVIEW = ("pending_review", "awaiting_second_approval")


@router.get("/decisions/{decision_id}")
def decision_page(
    decision_id: Annotated[str, Path(min_length=1, max_length=100)],
    request: Request,
    session: SessionDep,
    viewer: Annotated[Viewer, page_requires("decisions:read")],
) -> Response:
    """A decision, its review history and the concerns its customer reported about it."""
    row = get_decision(session, decision_id=decision_id)
    system = get_system(session, system_id=row.system_id)
    master_key = state_of(request.app).settings.ledger.master_key_bytes
    keyring = KeyRing(master_key, store=SqlKeyStore(session))  # comments are sealed
    history = case_history(session, decision_id=row.id, keyring=keyring)
    spec = parse_spec(system.spec)
    about = []
    if viewer.principal.can("concerns:read") and row.subject_id is not None:
        theirs, _ = concerns.list_concerns(
            session, master_key=master_key, subject_id=row.subject_id, limit=200
        )
        about = [c for c in theirs if c.decision_id == row.id]
    steps = [
        {
            "at": e.at,
            "what": PROPOSED
            if e.kind == "override" and e.status == "awaiting_second_approval"
            else EVENT_WORDS[e.kind],
            "who": e.actor,
            "outcome": outcome_label(spec, e.outcome) if e.outcome else None,
            "reason": step_reason(e.kind, e.reason_code),
            "comment": e.comment,
        }
        for e in history
    ]
    context = {
        "row": row,
        "system": system,
        "status": status_label(row.review_status),
        "outcome": _outcome_words(row, spec),
        "decided_by": _decided_by(row),
        "customer": _customer(row),
        "steps": steps,
        "names": display_names(session, user_ids={e.actor for e in history if e.actor}),
        "concerns": about,
    }
    return render(request, "dashboard/decision.html", context, viewer=viewer)


def _decided_by(row: Decision) -> str:
    """Who gave the decision its outcome: the model, a fallback or nobody yet, then a person."""
    person = status_label(row.review_status).lower() if row.review_status in DECIDED else None
    if row.scored_by == "none":
        return "A person (no model was used)" if person else "Nobody yet: a person will decide"
    first = SCORED_BY.get(row.scored_by, row.scored_by)
    if person:
        return f"{first}, then a person: {person}"
    return f"{first}; a person is reviewing it" if awaits_review(row) else first


def awaits_review(row: Decision) -> bool:
    """Whether a person has yet to act on the decision."""
    return row.review_status in UNDER_REVIEW


def _customer(row: Decision) -> str:
    """The customer's reference, or why there is none."""
    if row.subject_id is not None:
        return row.subject_id
    day = erased_on(row.explanation)
    if day is not None:
        return f"Erased at the customer's request on {day:%-d %B %Y}"
    return "None recorded"


def _outcome_words(row: Decision, spec: SystemSpec) -> str:
    """The outcome as the officer reads it: pending while a person must still decide."""
    if not awaits_a_person(row):
        return outcome_label(spec, row.outcome)
    if row.scored_by == "fallback":
        fallback = outcome_label(spec, row.outcome)
        return f"Pending — a person will decide (the system's fallback: {fallback})"
    return "Pending — a person will decide (no model was used)"
