"""The public transparency report on the service: a period's events read from the database,
released with differential privacy through OpenDP, each system's spend a ledger entry.

A system's privacy budget is its total ε; what it has spent is the sum of its ``privacy-spend``
entries, so the ledger is the account and a release past the budget is refused before anything
is measured or written (:class:`~ethica.governance.PrivacyBudgetExceeded`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.governance import (
    MEASURES,
    LedgerRef,
    PrivacyBudget,
    RankingDecision,
    Spend,
    SystemSpec,
    TransparencyRelease,
    release_transparency,
)
from ethica.service.concerns.tables import Concern
from ethica.service.decisions.protected import ProtectedCipher
from ethica.service.decisions.record import FINAL_REVIEW_STATUSES
from ethica.service.decisions.tables import Decision, ProtectedValue
from ethica.service.ledger.store import row_entry
from ethica.service.ledger.tables import LedgerEntry
from ethica.service.ledger.writer import Batch
from ethica.service.reviews.cases import OPEN_STATUSES
from ethica.service.reviews.tables import Appeal, Review

SPEND = "privacy-spend"
"""The kind of the ledger entry recording the ε a release spent of a system's budget."""
NOT_GIVEN = "not given"
REVIEW_CATEGORIES = {"confirm": "confirmed", "override": "overridden", "decide": "decided"}


def spends_of(session: Session, *, system_id: str) -> list[Spend]:
    """Every privacy spend of a system, read from its ledger chain, with its entry's reference."""
    rows = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.chain == system_id, LedgerEntry.kind == SPEND)
        .order_by(LedgerEntry.sequence)
    )
    spends = []
    for row in rows:
        entry = row_entry(row)
        p = entry.public
        spends.append(
            Spend(
                system=str(p["system"]),
                release=str(p["release"]),
                epsilon=float(p["epsilon"]),
                at=datetime.fromisoformat(str(p["at"])),
                what=str(p["what"]),
                budget=None if p.get("budget") is None else float(p["budget"]),
                ref=LedgerRef.of(entry),
            )
        )
    return spends


def budget_of(session: Session, *, system_id: str, epsilon: float) -> PrivacyBudget:
    """A system's budget of ``epsilon`` with what its ledger says was spent."""
    return PrivacyBudget(system_id, epsilon, spends_of(session, system_id=system_id))


def period_events(
    session: Session,
    *,
    specs: Sequence[SystemSpec],
    start: datetime,
    end: datetime,
    cipher: ProtectedCipher,
) -> pd.DataFrame:
    """One row per event of ``[start, end)``: decisions, reviews, appeals and concerns.

    Columns ``system``, ``subject``, ``measure``, ``category`` and one per protected attribute.
    Seeded review cases are not decisions about anyone and are left out; decisions still held
    for a person have no outcome yet and count only once decided. A protected value outside the
    categories its spec declares counts as "not given": a report's categories are fixed before
    the data is seen, as differential privacy requires. Protected values stay sealed: each
    declared category is sealed with ``cipher`` (equal values seal equally) and compared.
    """
    rows = [row for spec in specs for row in _system_events(session, spec, start, end, cipher)]
    columns = ["system", "subject", "measure", "category"]
    return pd.DataFrame(rows, columns=columns) if not rows else pd.DataFrame(rows)


def _system_events(
    session: Session, spec: SystemSpec, start: datetime, end: datetime, cipher: ProtectedCipher
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    outcomes = set(MEASURES["decisions"].categories(spec))
    decisions = {
        d.id: d
        for d in session.scalars(
            select(Decision).where(
                Decision.system_id == spec.id,
                Decision.seeded.is_(False),
                Decision.subject_id.is_not(None),
                Decision.created_at >= start,
                Decision.created_at < end,
            )
        )
    }
    groups = _groups(session, spec, list(decisions), cipher)

    def event(decision: Decision, measure: str, category: str) -> dict[str, Any]:
        return {
            "system": spec.id,
            "subject": decision.subject_id,
            "measure": measure,
            "category": category,
            **groups.get(decision.id, {}),
        }

    ranking = isinstance(spec.decision, RankingDecision)
    for decision in decisions.values():
        if decision.review_status not in FINAL_REVIEW_STATUSES:
            continue  # held for a person: its outcome is provisional until decided
        # A ranking's report counts its top recommendation (the ranking's first item).
        outcome = decision.outcome.split(",")[0] if ranking else decision.outcome
        if outcome in outcomes:
            rows.append(event(decision, "decisions", outcome))
    ids = list(decisions)
    for review in _in(session, Review, Review.decision_id, ids):
        if review.action in REVIEW_CATEGORIES:
            decision = decisions[review.decision_id]
            rows.append(event(decision, "reviews", REVIEW_CATEGORIES[review.action]))
    for appeal in _in(session, Appeal, Appeal.decision_id, ids):
        decision = decisions[appeal.decision_id]
        rows.append(event(decision, "appeals", _appeal_result(decision, appeal)))
    for concern in _in(session, Concern, Concern.decision_id, ids):
        category = "answered" if concern.status == "resolved" else "open"
        rows.append(event(decisions[concern.decision_id], "concerns", category))
    return rows


def _in(session: Session, table: Any, column: Any, ids: list[str]) -> list[Any]:
    found: list[Any] = []
    for start in range(0, len(ids), 500):  # well under every database's bound-parameter limit
        found += session.scalars(select(table).where(column.in_(ids[start : start + 500])))
    return found


def _appeal_result(decision: Decision, appeal: Appeal) -> str:
    if decision.review_status in OPEN_STATUSES:
        return "pending"
    return "upheld" if decision.outcome == appeal.outcome_appealed else "changed"


def _groups(
    session: Session, spec: SystemSpec, ids: list[str], cipher: ProtectedCipher
) -> dict[str, dict[str, str]]:
    sealed = {
        a.name: {cipher.seal(a.name, c): c for c in a.categories or ()}
        for a in spec.protected_attributes
    }
    groups: dict[str, dict[str, str]] = {i: dict.fromkeys(sealed, NOT_GIVEN) for i in ids}
    for value in _in(session, ProtectedValue, ProtectedValue.decision_id, ids):
        category = sealed.get(value.name, {}).get(value.value)
        if category is not None:
            groups[value.decision_id][value.name] = category
    return groups


def release_report(
    batch: Batch,
    *,
    specs: Sequence[SystemSpec],
    period: str,
    start: datetime,
    end: datetime,
    epsilon: float,
    now: datetime,
    cipher: ProtectedCipher,
    budget: float,
) -> TransparencyRelease:
    """Release a period's report and append each system's spend to its chain; a writer job.

    ``budget`` is each system's total ε (``settings.privacy.transparency_budget``); each spend's
    entry records it beside the ε spent, so the account reads the same after it is changed.

    Raises :class:`~ethica.governance.PrivacyBudgetExceeded` (nothing released, nothing written)
    when any system's remaining budget cannot pay ``epsilon``.
    """
    if not start < end:
        raise InputError(f"the period must start before it ends ({start} to {end})")
    events = period_events(batch.session, specs=specs, start=start, end=end, cipher=cipher)
    budgets = {s.id: budget_of(batch.session, system_id=s.id, epsilon=budget) for s in specs}
    release = release_transparency(
        events, specs=specs, budgets=budgets, period=period, epsilon=epsilon, released_at=now
    )
    recorded = []
    for spend in release.spends:
        entry = batch.ledger.append(SPEND, chain=spend.system, public=spend.to_dict())
        recorded.append(replace(spend, ref=LedgerRef.of(entry)))
    return replace(release, spends=tuple(recorded))
