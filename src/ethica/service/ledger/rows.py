"""Served decision rows against what the ledger recorded about them.

The API and the portal show ``decisions`` rows, not ledger entries. Each row's fields are
replayed from its entries (the decision, then its reviews, appeals and outcome, in chain
order) and compared: a row that differs, a row without its entry, and a decision entry whose
row is gone (no erasure deletes decision rows; it unlinks them) are each named. Fields an
erasure may clear (subject, explanation) are not compared.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ethica.ledger import Problem
from ethica.service.decisions.tables import Decision
from ethica.service.ledger.tables import LedgerEntry
from ethica.service.reviews.cases import AWAITING_SECOND_APPROVAL, PENDING_REVIEW

_KINDS = ("decision", "review", "appeal", "outcome")
_COMPARED = (
    "system_id",
    "outcome",
    "score",
    "model_version",
    "scored_by",
    "review_status",
    "consent_version",
    "true_outcome",
    "ledger_chain",
    "ledger_sequence",
    "ledger_hash",
)


def check_decision_rows(session: Session) -> list[Problem]:
    """Name every decision row that differs from its ledger entries, or lacks them."""
    recorded = _replayed(session)
    problems: list[Problem] = []
    rows = session.execute(select(Decision).execution_options(yield_per=5_000)).scalars()
    for row in rows:
        expected = recorded.pop(row.id, None)
        if row.seeded:
            continue  # a seeded review case, never served; its entry is a "seeded_case"
        if expected is None:
            problems.append(
                Problem(
                    "inserted",
                    row.ledger_chain,
                    row.ledger_sequence,
                    f"decision {row.id} has no decision entry in the ledger: the row was "
                    "inserted or its entry removed",
                )
            )
            continue
        differing = [name for name in _COMPARED if getattr(row, name) != expected[name]]
        if row.data != expected["data"]:
            differing.append("data")
        if differing:
            said = ", ".join(
                f"{name} {getattr(row, name)!r} (ledger: {expected[name]!r})" for name in differing
            )
            problems.append(
                Problem(
                    "edited",
                    expected["ledger_chain"],
                    expected["ledger_sequence"],
                    f"decision {row.id}'s row differs from its ledger entries: {said}",
                )
            )
    for decision_id, expected in recorded.items():
        problems.append(
            Problem(
                "deleted",
                expected["ledger_chain"],
                expected["ledger_sequence"],
                f"the row of decision {decision_id} is gone, but its ledger entry remains (an "
                "erasure unlinks decision rows, never deletes them)",
            )
        )
    return problems


def _replayed(session: Session) -> dict[str, dict[str, Any]]:
    """Each decision's row as its entries say it should be, in chain order."""
    query = (
        select(
            LedgerEntry.chain,
            LedgerEntry.sequence,
            LedgerEntry.kind,
            LedgerEntry.public,
            LedgerEntry.hash,
        )
        .where(LedgerEntry.kind.in_(_KINDS))
        .order_by(LedgerEntry.chain, LedgerEntry.sequence)
        .execution_options(yield_per=10_000)
    )
    recorded: dict[str, dict[str, Any]] = {}
    for chain, sequence, kind, public, entry_hash in session.execute(query):
        try:
            fields = json.loads(public)
        except ValueError:
            continue  # not JSON: verification of the chain names the entry
        decision_id = fields.get("decision_id") if isinstance(fields, dict) else None
        if not isinstance(decision_id, str):
            continue
        if kind == "decision":
            review = fields.get("review") or {}
            recorded[decision_id] = {
                "system_id": fields.get("system_id"),
                "outcome": fields.get("outcome"),
                "score": fields.get("score"),
                "model_version": fields.get("model_version"),
                "scored_by": fields.get("scored_by"),
                "review_status": review.get("status"),
                "consent_version": fields.get("consent_version"),
                "data": fields.get("data"),
                "true_outcome": None,
                "ledger_chain": chain,
                "ledger_sequence": sequence,
                "ledger_hash": entry_hash,
            }
            continue
        expected = recorded.get(decision_id)
        if expected is None:
            continue
        if kind == "review":
            if fields.get("status") != AWAITING_SECOND_APPROVAL:
                expected["outcome"] = fields.get("outcome")
            expected["review_status"] = fields.get("status")
        elif kind == "appeal":
            expected["review_status"] = PENDING_REVIEW
        elif kind == "outcome":
            expected["true_outcome"] = fields.get("true_outcome")
    return recorded
