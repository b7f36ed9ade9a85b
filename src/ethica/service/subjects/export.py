"""The access export (GDPR Art. 15): everything held about one subject, as JSON or HTML.

Input values are not in the decision log: they are opened here from each decision's sealed
ledger entry with the subject's data key. After an erasure they cannot be opened, and the
export says so rather than leaving them out silently.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ethica._templates import environment
from ethica.ledger import KeyRing, LedgerError
from ethica.service.concerns.service import list_concerns
from ethica.service.db import Base, utcnow
from ethica.service.decisions.explanations import Explanations
from ethica.service.decisions.protected import ProtectedCipher, session_cipher
from ethica.service.decisions.record import decision_read
from ethica.service.decisions.schemas import AI_DISCLOSURE, RIGHTS
from ethica.service.decisions.tables import Decision, ProtectedValue
from ethica.service.ledger.store import SqlKeyStore, row_entry
from ethica.service.ledger.tables import LedgerEntry
from ethica.service.reviews.cases import appeal_view
from ethica.service.reviews.history import case_history
from ethica.service.reviews.tables import Appeal
from ethica.service.subjects.requests import RESPONSE_DAYS, list_requests, request_read
from ethica.service.systems.tables import System

_CONSENT_TABLE = "consent_records"
_OBJECTION_TABLE = "objections"


def subject_export(
    session: Session, *, subject_id: str, master_key: bytes, now: datetime | None = None
) -> dict[str, Any]:
    """Everything held about ``subject_id``, as JSON-ready values."""
    keyring = KeyRing(master_key, store=SqlKeyStore(session))
    rows = session.scalars(
        select(Decision)
        .where(Decision.subject_id == subject_id)
        .order_by(Decision.created_at, Decision.id)
    ).all()
    names: dict[str, str] = {r.id: r.name for r in session.execute(select(System.id, System.name))}
    protected = _protected_values(session, subject_id, session_cipher(session, master_key))
    decisions = [
        _decision(session, keyring, row, names.get(row.system_id), protected.get(row.id, {}))
        for row in rows
    ]
    requests, _ = list_requests(session, subject_id=subject_id, limit=1000)
    return {
        "subject_id": subject_id,
        "generated_at": (now or utcnow()).isoformat(),
        "about": {
            "disclosure": AI_DISCLOSURE,
            "rights": RIGHTS,
            "response_days": RESPONSE_DAYS,
            "protected_attributes": "Protected attributes are kept apart from the decisions, "
            "for fairness monitoring only: they never reach a model or an explanation.",
        },
        "decisions": decisions,
        "outcomes": [
            {
                "decision_id": d["id"],
                "true_outcome": d["true_outcome"],
                "recorded_at": d["outcome_recorded_at"],
            }
            for d in decisions
            if d["true_outcome"] is not None
        ],
        "consent": _consent_history(session, subject_id),
        "reviews": _reviews(session, keyring, [row.id for row in rows]),
        "concerns": [
            c.model_dump(mode="json")
            for c in list_concerns(session, master_key=master_key, subject_id=subject_id)[0]
        ],
        "requests": [request_read(r, now=now).model_dump(mode="json") for r in requests],
    }


def _reviews(session: Session, keyring: KeyRing, decision_ids: list[str]) -> list[dict[str, Any]]:
    """What people did with the subject's decisions: appeals (in their words) and review steps.

    Reviewers are not named: the customer is told what was decided and why, not by whom.
    """
    found: list[dict[str, Any]] = []
    for decision_id in decision_ids:
        appeals = session.scalars(select(Appeal).where(Appeal.decision_id == decision_id))
        statements = {a.created_at: appeal_view(session, keyring, a) for a in appeals}
        for event in case_history(session, decision_id=decision_id, keyring=keyring):
            step: dict[str, Any] = {
                "decision_id": decision_id,
                "at": event.at.isoformat(),
                "kind": event.kind,
                "outcome": event.outcome,
                "status": event.status,
                "reason_code": event.reason_code,
                "comment": event.comment,
            }
            if event.kind == "appeal" and event.at in statements:
                step["statement"] = statements[event.at].statement
                step["statement_status"] = statements[event.at].statement_status
            found.append(step)
    return found


def render_html(export: dict[str, Any]) -> str:
    """The export as a readable page (every value escaped)."""
    return environment.get_template("export.html").render(export=export)


def _decision(
    session: Session,
    keyring: KeyRing,
    row: Decision,
    system_name: str | None,
    protected: dict[str, str],
) -> dict[str, Any]:
    read = decision_read(row, Explanations(session, keyring)).model_dump(
        mode="json", exclude={"disclosure", "rights"}
    )
    inputs, status = _inputs(session, keyring, row)
    return {
        **read,
        "system_name": system_name,
        "inputs": inputs,
        "inputs_status": status,
        "protected_attributes": protected,
        "outcome_recorded_at": None
        if row.outcome_recorded_at is None
        else row.outcome_recorded_at.isoformat(),
    }


def _inputs(session: Session, keyring: KeyRing, row: Decision) -> tuple[dict[str, Any], str]:
    """The decision's input values opened from its ledger entry, and whether that worked."""
    stored = session.get(LedgerEntry, (row.ledger_chain, row.ledger_sequence))
    if stored is None:
        return {}, "missing from the ledger"
    try:
        personal = keyring.open(row_entry(stored))
    except LedgerError as error:  # erased, tampered, or a wrong master key: say which
        return {}, f"cannot be opened: {error}"
    features = personal.get("features", {})
    return (dict(features) if isinstance(features, dict) else {}), "opened from the ledger"


def _protected_values(
    session: Session, subject_id: str, cipher: ProtectedCipher
) -> dict[str, dict[str, str]]:
    """The subject's protected attributes per decision, opened (they are sealed at rest)."""
    found: dict[str, dict[str, str]] = {}
    for value in session.scalars(
        select(ProtectedValue).where(ProtectedValue.subject_id == subject_id)
    ):
        found.setdefault(value.decision_id, {})[value.name] = cipher.open(value.name, value.value)
    return found


def _consent_history(session: Session, subject_id: str) -> dict[str, Any]:
    """The subject's consent choices and objections, when the consent domain's tables exist."""
    import ethica.service.tables  # noqa: F401  (registers every domain's tables)

    history: dict[str, Any] = {"recorded": False, "records": [], "objections": []}
    for name, key in ((_CONSENT_TABLE, "records"), (_OBJECTION_TABLE, "objections")):
        table = Base.metadata.tables.get(name)
        if table is None or "subject_id" not in table.c:
            continue
        rows = session.execute(select(table).where(table.c.subject_id == subject_id)).mappings()
        history["recorded"] = True
        history[key] = [{k: _plain(v) for k, v in r.items()} for r in rows]
    return history


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool | list | dict):
        return value
    return str(value)
