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

from sqlalchemy.orm import Session

from ethica.ledger import Problem
from ethica.service.ledger.entries import LedgerIndex
from ethica.service.ledger.reading import read_rows
from ethica.service.reviews.cases import AWAITING_SECOND_APPROVAL, PENDING_REVIEW

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
_ROWS = f"SELECT id, seeded, data, {', '.join(_COMPARED)} FROM decisions"


def check_decision_rows(session: Session, index: LedgerIndex) -> list[Problem]:
    """Name every decision row that differs from its ledger entries, or lacks them."""
    recorded = _replayed(index)
    problems: list[Problem] = []
    for decision_id, seeded, data, *values in read_rows(session, _ROWS):
        row = dict(zip(_COMPARED, values, strict=True))
        expected = recorded.pop(decision_id, None)
        if seeded:
            continue  # a seeded review case, never served; its entry is a "seeded_case"
        if expected is None:
            problems.append(
                Problem(
                    "inserted",
                    row["ledger_chain"],
                    row["ledger_sequence"],
                    f"decision {decision_id} has no decision entry in the ledger: the row was "
                    "inserted or its entry removed",
                )
            )
            continue
        differing = [name for name in _COMPARED if row[name] != expected[name]]
        if (json.loads(data) if isinstance(data, str) else data) != expected["data"]:
            differing.append("data")
            row["data"] = data
        if differing:
            said = ", ".join(
                f"{name} {row[name]!r} (ledger: {expected[name]!r})" for name in differing
            )
            problems.append(
                Problem(
                    "edited",
                    expected["ledger_chain"],
                    expected["ledger_sequence"],
                    f"decision {decision_id}'s row differs from its ledger entries: {said}",
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


def _replayed(index: LedgerIndex) -> dict[str, dict[str, Any]]:
    """Each decision's row as its entries say it should be, in chain order."""
    recorded: dict[str, dict[str, Any]] = {}
    for entry in index.of("decision"):
        fields = entry.public
        decision_id = fields.get("decision_id")
        if not isinstance(decision_id, str):
            continue
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
            "ledger_chain": entry.chain,
            "ledger_sequence": entry.sequence,
            "ledger_hash": entry.hash,
        }
    # Later entries change the row: review steps, appeals, outcomes, each in chain order.
    for entry in sorted(
        index.of("review") + index.of("appeal") + index.of("outcome"),
        key=lambda e: (e.chain, e.sequence),
    ):
        fields = entry.public
        expected = recorded.get(str(fields.get("decision_id")))
        if expected is None:
            continue
        if entry.kind == "review":
            if fields.get("status") != AWAITING_SECOND_APPROVAL:
                expected["outcome"] = fields.get("outcome")
            expected["review_status"] = fields.get("status")
        elif entry.kind == "appeal":
            expected["review_status"] = PENDING_REVIEW
        elif entry.kind == "outcome":
            expected["true_outcome"] = fields.get("true_outcome")
    return recorded
