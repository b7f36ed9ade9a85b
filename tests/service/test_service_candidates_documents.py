"""The governance documents cite each mitigation moved on a system, with its ledger entry.

Annex IV point 6 lists every lifecycle change; the impact assessment's measures (Art. 27(1)(f))
list the mitigations tried, served, rolled back or withdrawn. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from service_testing import Service
from sqlalchemy import select
from test_service_candidates import DECISION, RULES, _act, _add, _applicants, _compare, _decide_all
from test_service_governance import CREDIT
from web_testing import token_of, viewing_as

from ethica.governance import verify_document
from ethica.ledger import Entry
from ethica.service.app import state_of
from ethica.service.ledger.store import SqlEntryStore, row_entry
from ethica.service.ledger.tables import LedgerEntry


def _entries(running: Service, *kinds: str) -> list[Entry]:
    with state_of(running.app).sessions() as session:
        rows = session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.chain == "credit", LedgerEntry.kind.in_(kinds))
            .order_by(LedgerEntry.sequence)
        )
        return [row_entry(row) for row in rows]


def _table(document: dict[str, Any], section: str, caption: str) -> list[list[str]]:
    (part,) = [s for s in document["sections"] if s["key"] == section]
    (table,) = [t for t in part["tables"] if t["caption"] == caption]
    rows: list[list[str]] = table["rows"]
    return rows


def test_promotions_rollbacks_and_withdrawals_are_cited_with_their_ledger_entries(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", decision=DECISION, **CREDIT)
    served = _add(running, {"name": "F 0.3, M 0.6", "method": "thresholds", "rules": RULES}).json()
    dropped = _add(running, {"name": "F 0.4, M 0.5", "method": "thresholds", "rules": RULES})
    _decide_all(running, _applicants(40, seed=9))
    shown = _compare(running, served["id"]).json()
    body = {
        "reason": "closes the approval gap by sex",
        "evidence_sha256": shown["evidence_sha256"],
        "as_of": shown["as_of"],
    }
    assert _act(running, served["id"], "promotion", body, "officer").status_code == 201
    back = {"reason": "complaints about randomised decisions"}
    assert _act(running, served["id"], "rollback", back, "officer").status_code == 201
    gone = {"reason": "superseded"}
    assert _act(running, dropped.json()["id"], "withdrawal", gone, "officer").status_code == 201

    officer = token_of(running.headers["officer"])
    with viewing_as(running.client, officer) as client:
        annex = client.get("/dashboard/governance/credit/documents/annex-iv.json")
        fria = client.get("/dashboard/governance/credit/documents/fria.json")
    assert annex.status_code == 200 and fria.status_code == 200, (annex.text, fria.text)
    moves = _entries(running, "candidate", "promotion", "rollback", "withdrawal")
    assert [m.kind for m in moves] == [
        "candidate",
        "candidate",
        "promotion",
        "rollback",
        "withdrawal",
    ]
    cited = {f"{m.chain}#{m.sequence} {m.hash[:12]}…": m for m in moves}

    changes = _table(json.loads(annex.text), "6", "Recorded changes")
    mitigations = _table(json.loads(fria.text), "f", "Mitigations tried and served")
    for rows in (changes, mitigations):
        by_ref = {row[2]: row[1] for row in rows}
        assert set(cited) <= set(by_ref)
        for ref, entry in cited.items():
            assert f"'{entry.public['name']}'" in by_ref[ref]
    words = {m.kind: next(r[1] for r in mitigations if r[2] == ref) for ref, m in cited.items()}
    assert words["promotion"].startswith(
        "Mitigation 'F 0.3, M 0.6' (group thresholds) promoted to decide for customers by "
        "Officer: closes the approval gap by sex"
    )
    assert shown["evidence_sha256"][:16] in words["promotion"]
    assert "rolled back" in words["rollback"] and "complaints" in words["rollback"]
    assert words["withdrawal"] == (
        "Mitigation 'F 0.4, M 0.5' (group thresholds) withdrawn from shadow without being served "
        "by Officer: superseded."
    )
    # A classification is a change too, but not a mitigation: Annex IV lists it, the FRIA not.
    assert len(changes) == len(mitigations) + 1

    # Anyone holding the ledger checks the documents' citations against it.
    with state_of(running.app).sessions() as session:
        entries = list(SqlEntryStore(session).entries("credit"))
    for document in (annex, fria):
        check = verify_document(document.text, entries)
        assert check.ok, str(check)
        sources = {f"{s['chain']}#{s['sequence']}" for s in json.loads(document.text)["sources"]}
        assert {f"{m.chain}#{m.sequence}" for m in moves} <= sources
