"""Per-reviewer statistics, and the automation-bias warning (EU AI Act Art. 14(4)(b)).

A reviewer who confirms almost every case, very fast, may be rubber-stamping the model. The
warning is a prompt for a supervisor to look, not a verdict: it fires when, over at least
:data:`WARNING_MIN_CASES` decided cases, the reviewer agreed with the model in at least
:data:`WARNING_MIN_AGREEMENT` of them and spent a median under
:data:`WARNING_MAX_MEDIAN_SECONDS` from claim to decision.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ethica.service.decisions.record import NO_MODEL
from ethica.service.decisions.tables import Decision
from ethica.service.reviews.schemas import ReviewerStats, ReviewerStatsPage
from ethica.service.reviews.tables import Review, ReviewJudgement

WARNING_MIN_CASES = 20
"""Cases a reviewer must have decided before the warning can fire (fewer say too little)."""
WARNING_MIN_AGREEMENT = 0.95
"""Share of decided cases confirmed as the model said, at or above which agreement is suspect."""
WARNING_MAX_MEDIAN_SECONDS = 20.0
"""Median seconds from claim to decision below which a review is too fast to be a real look."""


def reviewer_stats(session: Session, *, reviewer_id: str | None = None) -> ReviewerStatsPage:
    """Statistics of every reviewer who took a review step, or only of ``reviewer_id``."""
    # Cases no model decided (objections, a suspended system) say nothing about agreeing with
    # a model: they are counted apart, never in the agreement and override rates.
    steps = select(Review, Decision.scored_by.in_(NO_MODEL)).join(
        Decision, Decision.id == Review.decision_id
    )
    judged = select(ReviewJudgement)
    if reviewer_id is not None:
        steps = steps.where(Review.reviewer_id == reviewer_id)
        judged = judged.where(ReviewJudgement.reviewer_id == reviewer_id)
    by_reviewer: dict[str, list[Review]] = defaultdict(list)
    direct: dict[str, int] = defaultdict(int)
    for step, no_model in session.execute(steps):
        if no_model:
            direct[step.reviewer_id] += step.action in ("decide", "confirm", "override")
            continue
        by_reviewer[step.reviewer_id].append(step)
    judgements: dict[str, list[ReviewJudgement]] = defaultdict(list)
    for row in session.scalars(judged):
        judgements[row.reviewer_id].append(row)
    names = sorted(set(by_reviewer) | set(judgements) | set(direct))
    if reviewer_id is not None and not names:
        names = [reviewer_id]
    return ReviewerStatsPage(
        items=[_stats(n, by_reviewer[n], judgements[n], direct[n]) for n in names],
        warning_min_cases=WARNING_MIN_CASES,
        warning_min_agreement=WARNING_MIN_AGREEMENT,
        warning_max_median_seconds=WARNING_MAX_MEDIAN_SECONDS,
    )


def automation_bias(*, decided: int, agreement: float | None, median_seconds: float | None) -> bool:
    """Whether these figures call for the automation-bias warning (thresholds above)."""
    return (
        decided >= WARNING_MIN_CASES
        and agreement is not None
        and agreement >= WARNING_MIN_AGREEMENT
        and median_seconds is not None
        and median_seconds < WARNING_MAX_MEDIAN_SECONDS
    )


def _stats(
    reviewer_id: str,
    steps: Sequence[Review],
    judgements: Sequence[ReviewJudgement],
    decided_directly: int,
) -> ReviewerStats:
    decided = [s for s in steps if s.action in ("confirm", "override")]
    confirmed = sum(s.action == "confirm" for s in decided)
    seconds = [
        (s.created_at - s.claimed_at).total_seconds() for s in decided if s.claimed_at is not None
    ]
    seeded = [s.matched_known for s in steps if s.matched_known is not None]
    agreement = _share(confirmed, len(decided))
    median = statistics.median(seconds) if seconds else None
    return ReviewerStats(
        reviewer_id=reviewer_id,
        cases_decided=len(decided),
        approvals=sum(s.action == "approve" for s in steps),
        rejections=sum(s.action == "reject" for s in steps),
        decided_directly=decided_directly,
        agreement_rate=agreement,
        override_rate=_share(len(decided) - confirmed, len(decided)),
        median_seconds_per_case=median,
        seeded_cases=len(seeded),
        seeded_accuracy=_share(sum(seeded), len(seeded)),
        blind_judgements=len(judgements),
        blind_agreement_rate=_share(
            sum(j.outcome == j.model_outcome for j in judgements), len(judgements)
        ),
        automation_bias_warning=automation_bias(
            decided=len(decided), agreement=agreement, median_seconds=median
        ),
    )


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None
