"""Governance on the service: classifications and attestations in the ledger, and evidence
gathered from the database that changes an obligation's status when the thing itself breaks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from service_testing import Service
from sqlalchemy import select, update

from ethica.errors import InputError
from ethica.service.app import state_of
from ethica.service.db import unit_of_work, utcnow
from ethica.service.decisions.tables import Decision
from ethica.service.governance import service as governance
from ethica.service.ledger.tables import LedgerEntry

CREDIT_FACTS = {
    "intended_purpose": "Evaluate the creditworthiness of retail customers who ask for a higher "
    "credit limit, and approve or decline the request.",
    "domain": "creditworthiness",
    "affected": ["customers"],
    "roles": ["provider", "deployer"],
    "significant_effects": True,
}
CREDIT = {"ai_act": CREDIT_FACTS, "retention_months": 12, "oversight": {"review_adverse": True}}
RECOMMENDATION_FACTS = {
    **CREDIT_FACTS,
    "intended_purpose": "Suggest products a customer may like on the bank's website.",
    "domain": "recommendation",
    "significant_effects": False,
}
APPLICANT = {"subject_id": "s-1", "features": {"income": 20.0, "housing": "rent"}, "score": 0.1}


def _classifications(running: Service, chain: str = "credit") -> list[dict[str, Any]]:
    with state_of(running.app).sessions() as session:
        return [e.public for e in governance.classification_history(session, system_id=chain)]


def _register(running: Service, system_id: str = "credit", days: int = 0) -> Any:
    state = state_of(running.app)
    with state.sessions() as session:
        register = governance.register_of(
            session,
            settings=state.settings,
            system_id=system_id,
            now=utcnow() + timedelta(days=days),
        )
    assert register is not None
    return register


def test_a_spec_with_facts_is_classified_in_the_ledger_and_only_a_change_reclassifies(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", **CREDIT)
    running.register("credit", **CREDIT)  # the same spec again: no new entry
    (first,) = _classifications(running)
    assert first["classification"]["tier"] == "high"
    assert "Annex III point 5(b)" in first["provisions"]
    assert first["change"]["previous_tier"] == "unclassified"
    assert first["by"].startswith("user:")

    running.register("credit", ai_act=RECOMMENDATION_FACTS, risk_tier="minimal")
    first_again, second = _classifications(running)
    assert first_again == first
    assert second["change"]["previous_tier"] == "high"
    assert second["classification"]["tier"] == "minimal"
    assert second["change"]["summary"] == (
        "credit is now minimal (was high) after its spec changed."
    )
    assert second["change"]["previous_digest"] == first["classification"]["spec_digest"]
    assert second["change"]["removed"]  # the Annex III ground is gone, and said so

    state = state_of(running.app)
    with state.sessions() as session:
        record = governance.system_record(
            session, settings=state.settings, system_id="credit", now=utcnow()
        )
    # The change log the documents print cites both ledger entries.
    assert [c.ref.sequence for c in record.changes if c.ref] == [0, 1]
    assert record.changes[1].what == second["change"]["summary"]


def test_a_spec_without_facts_writes_no_classification(service: Callable[..., Service]) -> None:
    running = service()
    running.register("credit")
    assert _classifications(running) == []


def test_the_ledger_evidence_turns_missing_once_an_entry_is_tampered_with(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", **CREDIT)
    assert running.decide("credit", APPLICANT).status_code == 201
    before = _register(running)
    assert before.status("ai-act-12").status.key == "met"
    assert "the ledger verifies: 2 entries in 1 chains" in before.status("ai-act-12").reason

    with unit_of_work(state_of(running.app).sessions) as session:
        session.execute(
            update(LedgerEntry)
            .where(LedgerEntry.chain == "credit", LedgerEntry.kind == "decision")
            .values(public=LedgerEntry.public + " ")
        )
    after = _register(running)
    for key in ("ai-act-12", "ai-act-19"):
        assert after.status(key).status.key == "missing"
        assert after.status(key).reason.startswith("the ledger does not verify")


def test_oversight_needs_review_of_adverse_decisions_and_a_reviewer_at_work(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", **CREDIT)
    decided = running.decide("credit", APPLICANT)
    assert decided.json()["review"]["status"] == "pending_review"
    idle = _register(running).status("ai-act-14")
    assert (idle.status.key, idle.reason) == ("missing", "no reviewer decided a case in the period")

    decision = decided.json()["id"]
    headers = running.headers["reviewer"]
    assert running.client.post(f"/v1/reviews/{decision}/claim", headers=headers).is_success
    confirmed = running.client.post(
        f"/v1/reviews/{decision}/decision",
        json={"action": "confirm", "comment": "income too low for the limit asked"},
        headers=headers,
    )
    assert confirmed.is_success, confirmed.text
    working = _register(running).status("ai-act-14")
    assert (working.status.key, working.reason) == ("met", "1 reviewers decided 1 cases")

    running.register("credit", **{**CREDIT, "oversight": {"review_adverse": False}})
    off = _register(running).status("ai-act-14")
    assert off.status.key == "missing"
    assert "oversight.review_adverse is off" in off.reason


def test_explanations_served_are_counted_and_adverse_ones_without_reasons_fail(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", **CREDIT)
    for n in range(3):
        assert running.decide("credit", {**APPLICANT, "subject_id": f"s-{n}"}).is_success
    row = _register(running).status("ai-act-86")
    (served,) = row.evidence
    assert (served.decisions, served.adverse) == (3, 3)
    assert served.adverse_explained == served.explained

    with unit_of_work(state_of(running.app).sessions) as session:
        session.execute(update(Decision).values(explanation=None))
    stripped = _register(running).status("ai-act-86")
    assert (stripped.status.key, stripped.reason) == (
        "missing",
        "3 of 3 adverse decisions had no reasons",
    )


def test_an_attestation_is_kept_in_the_ledger_and_lapses_after_a_year(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", **CREDIT)
    writer = state_of(running.app).writer
    given_on = utcnow().date()
    attested = writer.submit(
        lambda batch: governance.attest(
            batch, system_id="credit", obligation="ai-act-9", by="Rita Risk",
            role="head of risk", statement="The risk management system is documented in RM-7.",
            given_on=given_on,
        )
    ).result()  # fmt: skip
    assert attested.ref is not None and attested.ref.chain == "credit"
    row = _register(running).status("ai-act-9")
    assert row.status.key == "attested"
    assert row.to_dict()["refs"] == [attested.ref.model_dump()]
    lapsed = _register(running, days=366).status("ai-act-9")
    assert lapsed.status.key == "overdue"
    assert lapsed.reason == f"the attestation by Rita Risk lapsed on {given_on + timedelta(365)}"

    with pytest.raises(InputError, match="'gdpr-99' is not an obligation of credit"):
        writer.submit(
            lambda batch: governance.attest(
                batch, system_id="credit", obligation="gdpr-99", by="Rita Risk",
                role="head of risk", statement="A statement long enough to be read.",
                given_on=date(2026, 1, 1),
            )
        ).result()  # fmt: skip
    with state_of(running.app).sessions() as session:
        kinds = session.scalars(select(LedgerEntry.kind).where(LedgerEntry.chain == "credit"))
        assert sorted(kinds) == ["attestation", "classification"]


def test_documents_regenerate_byte_identically_from_the_same_ledger_state(
    service: Callable[..., Service],
) -> None:
    from ethica.governance import annex_iv, fria

    running = service()
    running.register("credit", **CREDIT)
    assert running.decide("credit", APPLICANT).status_code == 201
    state = state_of(running.app)
    clock = utcnow().replace(microsecond=0)

    def build() -> list[str]:
        with state.sessions() as session:
            record = governance.system_record(
                session, settings=state.settings, system_id="credit", now=clock
            )
        documents = [annex_iv(record, generated_at=clock), fria(record, generated_at=clock)]
        return [text for d in documents for text in (d.to_json(), d.to_html())]

    first = build()
    assert build() == first
    assert running.decide("credit", {**APPLICANT, "subject_id": "s-2"}).status_code == 201
    assert build()[0] != first[0]  # a new entry moves the ledger head the document cites


def test_an_incident_past_its_deadline_makes_art_73_overdue_and_a_late_report_stays_late(
    service: Callable[..., Service],
) -> None:
    from ethica.service.governance import incidents

    running = service()
    running.register("credit", **CREDIT)
    writer = state_of(running.app).writer
    aware = utcnow().replace(microsecond=0) - timedelta(days=3)
    assert _register(running).status("ai-act-73").status.key == "met"  # none open

    opened = writer.submit(
        lambda batch: incidents.open_system_incident(
            batch, system_id="credit", harm="critical-infrastructure", source="manual",
            source_ref=None, description="Declines for a whole region after a data outage.",
            opened_by="user:officer", aware_at=aware,
        )
    ).result()  # fmt: skip
    late = _register(running).status("ai-act-73")
    assert (late.status.key, late.reason) == (
        "overdue",
        f"incidents past their reporting deadline: {opened.id}",
    )
    writer.submit(
        lambda batch: incidents.record_step(
            batch, system_id="credit", incident_id=opened.id, step="report",
            by="user:officer", at=utcnow(), note="sent to the authority",
        )
    ).result()  # fmt: skip
    with state_of(running.app).sessions() as session:
        (stored,) = incidents.incidents_of(session, system_id="credit")
    assert [e.step for e in stored.events] == ["opened", "report"]
    assert [e.ref.sequence for e in stored.events if e.ref] == [1, 2]  # after the classification
    assert "(late)" in stored.clock(utcnow())
    # Reported, but late: the breach of the 2-day deadline stays on the register.
    assert _register(running).status("ai-act-73").status.key == "overdue"
