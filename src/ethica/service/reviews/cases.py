"""What a reviewer sees: the queue of open cases and one case in full.

Deadlines, escalation and the statutory notice clock are computed on read (:mod:`.clocks`).
On a blind-first system the model's outcome, score, explanation and the reason the case was
held stay hidden from a reviewer until they have recorded their own judgement
(:mod:`.judgements`). Seeded cases are built and shown exactly like real ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ethica.governance import SystemSpec, parse_spec
from ethica.ledger import KeyRing, LedgerError
from ethica.service.db import utcnow
from ethica.service.decisions.explanations import Explanations, Opened, erased_on, is_sealed
from ethica.service.decisions.record import NO_MODEL
from ethica.service.decisions.tables import Decision
from ethica.service.errors import NotFoundError
from ethica.service.ledger.store import SqlKeyStore, row_entry
from ethica.service.ledger.tables import LedgerEntry
from ethica.service.reviews.clocks import PRIORITY_ORDER, notice_due, priority_of, review_deadline
from ethica.service.reviews.comments import review_comment
from ethica.service.reviews.schemas import (
    AppealView,
    ProposalView,
    ReviewCase,
    ReviewCaseRead,
)
from ethica.service.reviews.tables import Appeal, Review, ReviewClaim, ReviewJudgement
from ethica.service.systems.tables import System

PENDING_REVIEW = "pending_review"
AWAITING_SECOND_APPROVAL = "awaiting_second_approval"
OPEN_STATUSES = (PENDING_REVIEW, AWAITING_SECOND_APPROVAL)


def person_decides(decision: Decision) -> bool:
    """Whether no model decided this case, so a person decides it directly.

    The customer objected to automated decisions, or the system is suspended (its declared
    fallback, if any, is only a suggestion): there is no model outcome to confirm, override
    or agree with.
    """
    return decision.scored_by in NO_MODEL


def queue(
    session: Session,
    *,
    system_id: str | None = None,
    reviewer_id: str | None = None,
    now: datetime | None = None,
    explanations: Explanations | None = None,
) -> list[ReviewCase]:
    """Open cases, appeals first, then by priority, deadline and id; ``reviewer_id`` sees their
    judgements.

    Parameters
    ----------
    session
        The request's session.
    system_id
        Only this system's cases.
    reviewer_id
        Who is looking: blind-first cases they judged show the model's view.
    now
        The time deadlines are compared with (for ``escalated``); the current time by default.
    explanations
        Opens the cases' explanations (sealed with their customers' keys); without it the
        cases carry none (enough for counts).
    """
    query = select(Decision).where(Decision.review_status.in_(OPEN_STATUSES))
    if system_id is not None:
        query = query.where(Decision.system_id == system_id)
    decisions = list(session.scalars(query))
    context = _Context.load(session, decisions, reviewer_id=reviewer_id, explanations=explanations)
    moment = now or utcnow()
    cases = [context.case(d, now=moment) for d in decisions]
    # A customer's appeal goes first: they have already waited for one decision.
    cases.sort(
        key=lambda c: (not c.appealed, PRIORITY_ORDER[c.priority], c.sla_deadline, c.decision_id)
    )
    return cases


def review_case(
    session: Session,
    *,
    decision_id: str,
    reviewer_id: str,
    master_key: bytes,
    now: datetime | None = None,
) -> ReviewCaseRead:
    """One open case exactly as ``reviewer_id`` sees it, with the inputs and the appeal opened.

    ``master_key`` is the ledger's master key: the inputs and the customer's statement are
    sealed with the subject's key in the ledger and opened here. Raises NotFoundError for a
    decision that is not awaiting review.
    """
    decision = session.get(Decision, decision_id)
    if decision is None or decision.review_status not in OPEN_STATUSES:
        raise NotFoundError(f"no case {decision_id!r} awaits review")
    keyring = KeyRing(master_key, store=SqlKeyStore(session))
    explanations = Explanations(session, keyring)
    context = _Context.load(session, [decision], reviewer_id=reviewer_id, explanations=explanations)
    case = context.case(decision, now=now or utcnow())
    inputs, inputs_status = _opened(
        session, keyring, decision.ledger_chain, decision.ledger_sequence
    )
    appeal = context.appeals.get(decision.id)
    proposal = context.proposals.get(decision.id) if case.proposed_outcome is not None else None
    claim = context.claims.get(decision.id)
    judgement = context.judgements.get(decision.id)
    return ReviewCaseRead(
        **case.model_dump(),
        inputs=inputs.get("features") if inputs is not None else None,
        inputs_status=inputs_status,
        appeal=None if appeal is None else appeal_view(session, keyring, appeal),
        proposal=None
        if proposal is None
        else ProposalView(
            reviewer_id=proposal.reviewer_id,
            outcome=proposal.outcome,
            reason_code=proposal.reason_code,
            comment=review_comment(session, keyring, proposal, chain=decision.ledger_chain),
            created_at=proposal.created_at,
        ),
        claimed_at=None if claim is None else claim.claimed_at,
        your_judgement=None if judgement is None else judgement.outcome,
        earlier_reviewers=sorted(
            earlier_reviewers(session, decision_id=decision.id, appeal=appeal)
        ),
    )


def earlier_reviewers(session: Session, *, decision_id: str, appeal: Appeal | None) -> set[str]:
    """Who took a review step on the case before the customer appealed it (none without one).

    They may not decide the appeal: a different person looks again (GDPR Art. 22(3)).
    """
    if appeal is None:
        return set()
    return set(
        session.scalars(
            select(Review.reviewer_id).where(
                Review.decision_id == decision_id, Review.created_at < appeal.created_at
            )
        )
    )


def held_since(decision: Decision, appeal: Appeal | None) -> datetime:
    """When a case entered the queue: its latest appeal, or the decision itself."""
    return decision.created_at if appeal is None else appeal.created_at


def latest_appeals(session: Session, decision_ids: Sequence[str]) -> dict[str, Appeal]:
    """The latest appeal of each of these decisions that has one."""
    rows = session.scalars(
        select(Appeal).where(Appeal.decision_id.in_(decision_ids)).order_by(Appeal.created_at)
    )
    return {a.decision_id: a for a in rows}


def judgement_of(
    session: Session, *, decision: Decision, reviewer_id: str, since: datetime
) -> ReviewJudgement | None:
    """The reviewer's judgement of this case since it was last held, if they recorded one."""
    return session.scalars(
        select(ReviewJudgement)
        .where(
            ReviewJudgement.decision_id == decision.id,
            ReviewJudgement.reviewer_id == reviewer_id,
            ReviewJudgement.created_at >= since,
        )
        .order_by(ReviewJudgement.created_at.desc())
        .limit(1)
    ).first()


def proposals(session: Session, decision_ids: Sequence[str]) -> Iterable[Review]:
    """The latest proposed override of each decision awaiting a second approval."""
    rows = session.scalars(
        select(Review)
        .where(
            Review.decision_id.in_(decision_ids), Review.status_after == AWAITING_SECOND_APPROVAL
        )
        .order_by(Review.created_at)
    )
    return {r.decision_id: r for r in rows}.values()


@dataclass(frozen=True)
class _Context:
    """What building the cases of some decisions needs, read in one query per table."""

    specs: dict[str, SystemSpec]
    claims: dict[str, ReviewClaim]
    proposals: dict[str, Review]
    appeals: dict[str, Appeal]
    judgements: dict[str, ReviewJudgement]  # the viewing reviewer's, current episode only
    explanations: Explanations | None

    @classmethod
    def load(
        cls,
        session: Session,
        decisions: Sequence[Decision],
        *,
        reviewer_id: str | None,
        explanations: Explanations | None,
    ) -> _Context:
        ids = [d.id for d in decisions]
        if explanations is not None:
            explanations.load(decisions)
        systems = session.scalars(
            select(System).where(System.id.in_({d.system_id for d in decisions}))
        )
        appeals = latest_appeals(session, ids)
        judgements: dict[str, ReviewJudgement] = {}
        if reviewer_id is not None:
            since = {d.id: held_since(d, appeals.get(d.id)) for d in decisions}
            for row in session.scalars(
                select(ReviewJudgement)
                .where(
                    ReviewJudgement.decision_id.in_(ids),
                    ReviewJudgement.reviewer_id == reviewer_id,
                )
                .order_by(ReviewJudgement.created_at)
            ):
                if row.created_at >= since[row.decision_id]:
                    judgements[row.decision_id] = row
        return cls(
            specs={s.id: parse_spec(s.spec) for s in systems},
            claims={
                c.decision_id: c
                for c in session.scalars(
                    select(ReviewClaim).where(ReviewClaim.decision_id.in_(ids))
                )
            },
            proposals={p.decision_id: p for p in proposals(session, ids)},
            appeals=appeals,
            judgements=judgements,
            explanations=explanations,
        )

    def _explanation(self, decision: Decision) -> Opened | None:
        """The explanation and what became of it; None when it was not opened here."""
        if self.explanations is not None:
            return self.explanations.of(decision)
        if not is_sealed(decision.explanation):
            return Opened.plain(decision.explanation)
        day = erased_on(decision.explanation)
        return None if day is None else Opened(None, "erased", day)

    def case(self, decision: Decision, *, now: datetime) -> ReviewCase:
        spec = self.specs[decision.system_id]
        appeal = self.appeals.get(decision.id)
        since = held_since(decision, appeal)
        deadline = review_deadline(spec, since)
        direct = person_decides(decision)
        blind = spec.oversight.blind_first and not direct and decision.id not in self.judgements
        proposal = (
            self.proposals.get(decision.id) if decision.review_status != PENDING_REVIEW else None
        )
        claim = self.claims.get(decision.id)
        return ReviewCase.model_validate(
            {
                "decision_id": decision.id,
                "system_id": decision.system_id,
                "risk_tier": spec.risk_tier,
                "priority": priority_of(spec),
                "created_at": decision.created_at,
                "held_since": since,
                "sla_deadline": deadline,
                "escalated": now > deadline,
                "notice_due_at": notice_due(
                    spec, outcome=decision.outcome, decided_at=decision.created_at
                ),
                "review_status": decision.review_status,
                "review_reason": None if blind else decision.review_reason,
                "appealed": appeal is not None,
                "blind": blind,
                "outcome": None if blind else decision.outcome,
                "score": None if blind else decision.score,
                "model_version": decision.model_version,
                "scored_by": decision.scored_by,
                "person_decides": direct,
                **_explained(None if blind else self._explanation(decision)),
                "data": decision.data,
                "claimed_by": None if claim is None else claim.reviewer_id,
                "proposed_outcome": None if proposal is None else proposal.outcome,
                "proposed_by": None if proposal is None else proposal.reviewer_id,
            }
        )


def _explained(opened: Opened | None) -> dict[str, Any]:
    """A case's explanation fields: the explanation, what became of it, and when erased."""
    if opened is None:
        return {"explanation": None, "explanation_status": None, "explanation_erased_on": None}
    return {
        "explanation": opened.explanation,
        "explanation_status": opened.status,
        "explanation_erased_on": opened.erased_on,
    }


def _opened(
    session: Session, keyring: KeyRing, chain: str, sequence: int
) -> tuple[dict[str, Any] | None, str]:
    """The personal fields of a ledger entry, and whether opening them worked."""
    stored = session.get(LedgerEntry, (chain, sequence))
    if stored is None:
        return None, "missing from the ledger"
    if stored.subject is None:
        return None, "not recorded: the decision names no customer"
    try:
        return keyring.open(row_entry(stored)), "opened"
    except LedgerError as error:  # erased, tampered, or a wrong master key: say which
        return None, f"cannot be opened: {error}"


def appeal_view(session: Session, keyring: KeyRing, appeal: Appeal) -> AppealView:
    """An appeal with the customer's statement opened (or why it cannot be)."""
    personal, status = _opened(session, keyring, appeal.ledger_chain, appeal.ledger_sequence)
    statement = None if personal is None else personal.get("statement")
    return AppealView(
        appealed_at=appeal.created_at,
        outcome_appealed=appeal.outcome_appealed,
        statement=statement if isinstance(statement, str) else None,
        statement_status=status,
    )
