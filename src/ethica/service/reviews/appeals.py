"""A customer's appeal: their decision goes back to a human reviewer, with their statement.

The statement is personal data: it is sealed in the appeal's ledger entry with the key of the
decision's subject, system and month, like the decision's inputs, so erasure and retention
shred it with them. The ``appeals`` table keeps only the fact, the time and the ledger reference.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from ethica.service.db import new_id, utcnow
from ethica.service.decisions.service import get_decision
from ethica.service.errors import ConflictError
from ethica.service.ledger.naming import sealing_subject
from ethica.service.ledger.writer import Batch
from ethica.service.reviews.cases import OPEN_STATUSES, PENDING_REVIEW
from ethica.service.reviews.tables import Appeal, ReviewClaim

APPEAL_REASON = "customer appeal"
"""The ``review_reason`` of a decision a customer appealed."""


def appeal(batch: Batch, *, decision_id: str, subject_id: str, statement: str) -> Appeal:
    """Send a customer's own decision back to review with their statement (a writer job).

    Raises NotFoundError unless the decision is about ``subject_id``; ConflictError while the
    decision is already awaiting review, and once a person has decided an appeal of it: the
    review by a person the customer asked for (GDPR Art. 22(3)) has been given.
    """
    session = batch.session
    decision = get_decision(session, decision_id=decision_id, subject_id=subject_id)
    if decision.review_status in OPEN_STATUSES:
        raise ConflictError(
            f"decision {decision_id!r} is already with a reviewer (status "
            f"{decision.review_status!r}); you will be told the outcome"
        )
    if session.scalar(select(Appeal.id).where(Appeal.decision_id == decision.id).limit(1)):
        raise ConflictError(
            f"decision {decision_id!r} was already reviewed by a person on your appeal, so it "
            "cannot be appealed again; if you still disagree, report a concern about it"
        )
    now = utcnow()
    entry = batch.ledger.append(
        "appeal",
        chain=decision.ledger_chain,
        subject=sealing_subject(
            batch.ledger.keyring, subject_id, decision.system_id, decision.created_at
        ),
        public={
            "decision_id": decision.id,
            "decision_sequence": decision.ledger_sequence,
            "status_before": decision.review_status,
            "outcome_appealed": decision.outcome,
        },
        personal={"statement": statement},
    )
    row = Appeal(
        id=new_id(),
        decision_id=decision.id,
        subject_id=subject_id,
        outcome_appealed=decision.outcome,
        created_at=now,
        ledger_chain=entry.chain,
        ledger_sequence=entry.sequence,
        ledger_hash=entry.hash,
    )
    decision.review_status = PENDING_REVIEW
    decision.review_reason = APPEAL_REASON
    session.add(row)
    session.execute(delete(ReviewClaim).where(ReviewClaim.decision_id == decision.id))
    session.flush()
    return row
