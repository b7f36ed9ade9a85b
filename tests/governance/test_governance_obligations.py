"""The obligations register: evidence meets obligations, and breaking any evidence shows."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from governance_cases import OBSERVED, TODAY, bank, full_evidence, ref, spec_with

from ethica.governance import (
    Attestation,
    DisclosureRecord,
    DocumentRecord,
    Evidence,
    ExplanationRecord,
    IncidentLog,
    LedgerRef,
    LedgerVerification,
    NoticeRecord,
    OversightRecord,
    PathTest,
    SystemSpec,
    obligation_register,
    parse_evidence,
    parse_spec,
)
from ethica.ledger import Ledger, verify

ATTESTED_ONLY = ["ai-act-9", "ai-act-17", "ai-act-49", "gdpr-35"]


def attest(key: str, *, on: date = date(2026, 1, 10), **more: Any) -> Attestation:
    return Attestation(
        obligation=key,
        by="Dana Ortiz",
        role="compliance officer",
        statement=f"I confirm that {key} is in place and documented.",
        given_on=on,
        **more,
    )


def test_full_evidence_meets_every_evidence_backed_obligation_of_the_credit_system() -> None:
    spec = bank("credit-limit")
    register = obligation_register(spec, today=TODAY, evidence=full_evidence(spec))
    statuses = {row.obligation.key: row.status.key for row in register.rows}
    assert {k for k, s in statuses.items() if s != "met"} == set(ATTESTED_ONLY)
    assert register.counts() == {"met": 17, "attested": 0, "missing": 4, "overdue": 0}
    twelve = register.status("ai-act-12")
    assert twelve.reason == (
        "the ledger verifies: 1200 entries in 4 chains, 1 signed checkpoints; "
        "head root#7 777777777777…"
    )
    assert twelve.expires == date(2026, 3, 22)  # 30 days after the verification
    assert register.to_dict()["obligations"][3]["refs"] == [ref("root", 7).model_dump()]


def test_attestations_by_named_people_cover_what_evidence_cannot() -> None:
    spec = bank("credit-limit")
    register = obligation_register(
        spec,
        today=TODAY,
        evidence=full_evidence(spec),
        attestations=[attest(k) for k in ATTESTED_ONLY],
    )
    assert register.counts() == {"met": 17, "attested": 4, "missing": 0, "overdue": 0}
    row = register.status("ai-act-17")
    assert row.reason.startswith("attested by Dana Ortiz (compliance officer) on 2026-01-10:")
    assert row.expires == date(2027, 1, 10)


def test_the_ledger_evidence_fails_once_an_entry_is_tampered_with() -> None:
    ledger = Ledger()
    for n in range(5):
        ledger.append("decision", chain="credit-limit", public={"n": n})
    entries = list(ledger.entries("credit-limit"))
    head = LedgerRef.of(entries[-1])
    honest = LedgerVerification.from_report(verify(entries), observed_at=OBSERVED, head=head)
    entries[2] = dataclasses.replace(entries[2], public={"n": 99})
    tampered = LedgerVerification.from_report(verify(entries), observed_at=OBSERVED, head=head)

    spec = bank("credit-limit")
    others = [e for e in full_evidence(spec) if e.kind != "ledger-verification"]
    good = obligation_register(spec, today=TODAY, evidence=[*others, honest])
    bad = obligation_register(spec, today=TODAY, evidence=[*others, tampered])
    assert good.status("ai-act-12").status.key == "met"
    assert good.status("ai-act-12").reason.startswith("the ledger verifies: 5 entries in 1 chains")
    for key in ("ai-act-12", "ai-act-19", "ai-act-26"):
        row = bad.status(key)
        assert row.status.key == "missing"
        assert row.reason.startswith("the ledger does not verify: credit-limit#2 edited")


def replace(kind: str, record: Evidence) -> Callable[[list[Evidence]], list[Evidence]]:
    return lambda evidence: [e for e in evidence if e.kind != kind] + [record]


def oversight_without_adverse_review(spec: SystemSpec) -> Evidence:
    return OversightRecord(
        observed_at=OBSERVED,
        oversight=spec.oversight.model_copy(update={"review_adverse": False}),
        reviewers=2,
        decided=40,
    )


BROKEN: list[tuple[str, Callable[[SystemSpec], Evidence], list[str], str, str]] = [
    (
        "review of adverse decisions disabled",
        oversight_without_adverse_review,
        ["ai-act-14", "ai-act-26"],
        "missing",
        "adverse decisions of this high-risk system are not held for a person "
        "(oversight.review_adverse is off)",
    ),
    (
        "no reviewer at work",
        lambda s: OversightRecord(
            observed_at=OBSERVED, oversight=s.oversight, reviewers=0, decided=0
        ),
        ["ai-act-14", "ai-act-26"],
        "missing",
        "no reviewer decided a case in the period",
    ),
    (
        "review path test failed",
        lambda s: PathTest(observed_at=OBSERVED, path="human-review", passed=False, detail="503"),
        ["gdpr-22"],
        "missing",
        "the human-review path failed its test: 503",
    ),
    (
        "adverse decisions without reasons",
        lambda s: ExplanationRecord(
            observed_at=OBSERVED, period_start=date(2026, 2, 1), period_end=date(2026, 2, 19),
            decisions=900, explained=880, adverse=300, adverse_explained=280,
        ),
        ["ai-act-86"],
        "missing",
        "20 of 300 adverse decisions had no reasons",
    ),
    (
        "documentation of an older spec",
        lambda s: DocumentRecord(
            observed_at=OBSERVED, document="annex-iv", digest="d" * 64, spec_digest="old"
        ),
        ["ai-act-11"],
        "missing",
        "the annex-iv document predates the current spec",
    ),
    (
        "impact assessment not signed off",
        lambda s: DocumentRecord(
            observed_at=OBSERVED, document="fria", digest="e" * 64,
            spec_digest=obligation_register(s, today=TODAY).classification.spec_digest,
            signed_off=False,
        ),
        ["ai-act-27"],
        "missing",
        "the fria document awaits its sign-offs",
    ),
    (
        "an incident past its deadline",
        lambda s: IncidentLog(observed_at=OBSERVED, open=1, overdue=["INC-3"]),
        ["ai-act-73"],
        "overdue",
        "incidents past their reporting deadline: INC-3",
    ),
    (
        "a notice silent on automated decisions",
        lambda s: NoticeRecord(
            observed_at=OBSERVED, version="v1", covers_automated_decisions=False
        ),
        ["gdpr-13"],
        "missing",
        "notice v1 does not explain the automated decisions and their logic",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("what", "record", "keys", "status", "reason"), BROKEN, ids=[b[0] for b in BROKEN]
)
def test_breaking_one_piece_of_evidence_changes_the_obligations_it_meets(
    what: str,
    record: Callable[[SystemSpec], Evidence],
    keys: list[str],
    status: str,
    reason: str,
) -> None:
    spec = bank("credit-limit")
    evidence = full_evidence(spec)
    broken = record(spec)
    before = obligation_register(spec, today=TODAY, evidence=evidence)
    after = obligation_register(spec, today=TODAY, evidence=replace(broken.kind, broken)(evidence))
    for key in keys:
        assert before.status(key).status.key == "met"
        assert after.status(key).status.key == status
        assert after.status(key).reason == reason
    changed = {
        r.obligation.key for r in after.rows if r.status != before.status(r.obligation.key).status
    }
    assert changed == set(keys)


@pytest.mark.parametrize(
    ("key", "days", "lapsed"),
    [("ai-act-10", 90, "audit of the training data"), ("ai-act-12", 30, "ledger verification")],
)
def test_evidence_older_than_its_validity_turns_the_status_back(
    key: str, days: int, lapsed: str
) -> None:
    spec = bank("credit-limit")
    evidence = full_evidence(spec)
    last_day = OBSERVED.date() + timedelta(days=days)
    assert (
        obligation_register(spec, today=last_day, evidence=evidence).status(key).status.key == "met"
    )
    row = obligation_register(spec, today=last_day + timedelta(days=1), evidence=evidence).status(
        key
    )
    assert row.status.key == "overdue"
    assert row.reason == f"the {lapsed} of 2026-02-20 lapsed on {last_day}"


def test_a_newer_record_replaces_an_older_one_and_records_from_the_future_do_not_count() -> None:
    spec = bank("credit-limit")
    old_failure = PathTest(
        observed_at=OBSERVED - timedelta(days=5), path="human-review", passed=False
    )
    future = PathTest(observed_at=datetime(2026, 4, 1, tzinfo=UTC), path="erasure", passed=False)
    evidence = [old_failure, *full_evidence(spec), future]
    register = obligation_register(spec, today=TODAY, evidence=evidence)
    assert register.status("gdpr-22").status.key == "met"
    assert register.status("gdpr-17").status.key == "met"


def test_failing_evidence_outweighs_an_attestation_and_a_lapsed_attestation_is_overdue() -> None:
    spec = bank("credit-limit")
    evidence = replace("oversight", oversight_without_adverse_review(spec))(full_evidence(spec))
    register = obligation_register(
        spec, today=TODAY, evidence=evidence, attestations=[attest("ai-act-14")]
    )
    assert register.status("ai-act-14").status.key == "missing"

    old = attest("ai-act-17", on=date(2024, 12, 1))
    row = obligation_register(spec, today=TODAY, attestations=[old]).status("ai-act-17")
    assert row.status.key == "overdue"
    assert row.reason == "the attestation by Dana Ortiz lapsed on 2025-12-01"
    short = attest("ai-act-17", valid_until=date(2026, 2, 1))
    assert (
        obligation_register(spec, today=TODAY, attestations=[short]).status("ai-act-17").status.key
        == "overdue"
    )


def test_obligations_due_before_service_are_overdue_once_the_system_is_in_service() -> None:
    data = bank("credit-limit").model_dump(mode="json")
    data["ai_act"]["in_service_since"] = "2026-02-01"
    spec = parse_spec(data)
    register = obligation_register(spec, today=TODAY)
    row = register.status("ai-act-27")
    assert row.status.key == "overdue"
    assert row.reason == (
        "due before the system was put into service on 2026-02-01: no fundamental-rights impact "
        "assessment, and no attestation"
    )
    assert register.status("ai-act-12").status.key == "missing"  # ongoing: missing, not overdue
    before = obligation_register(spec, today=date(2026, 1, 31)).status("ai-act-27")
    assert before.status.key == "missing"


def test_a_short_retention_period_fails_the_log_keeping_obligation_whatever_the_evidence() -> None:
    data = bank("credit-limit").model_dump(mode="json")
    data["retention_months"] = 3
    spec = parse_spec(data)
    row = obligation_register(spec, today=TODAY, evidence=full_evidence(spec)).status("ai-act-19")
    assert row.status.key == "missing"
    assert "the spec declares 3 months for decision records" in row.reason


def test_the_routing_system_owes_the_art_50_disclosure_and_gdpr_rights_only() -> None:
    spec = bank("support-routing")
    register = obligation_register(spec, today=TODAY, evidence=full_evidence(spec))
    assert [r.obligation.key for r in register.rows] == [
        "ai-act-50-1", "gdpr-13", "gdpr-15", "gdpr-17", "gdpr-21",
    ]  # fmt: skip
    assert register.status("ai-act-50-1").reason == "all 900 answers disclosed the AI system"
    partial = DisclosureRecord(observed_at=OBSERVED, answers=900, disclosed=850)
    after = obligation_register(spec, today=TODAY, evidence=[partial])
    assert after.status("ai-act-50-1").reason == "50 of 900 answers had no AI disclosure"


def test_us_credit_brings_regulation_b_and_fcra_notices() -> None:
    spec = spec_with(
        domain="creditworthiness", jurisdictions=["eu", "us"], consumer_report=True,
        significant_effects=True,
    )  # fmt: skip
    register = obligation_register(spec, today=TODAY, evidence=full_evidence(spec))
    for key in ("reg-b-1002-9", "fcra-615a"):
        assert register.status(key).status.key == "met"
    assert register.status("reg-b-1002-9").to_dict()["citation"] == "Reg. B § 1002.9"
    eu_only = obligation_register(spec_with(domain="creditworthiness"), today=TODAY)
    with pytest.raises(KeyError, match="does not apply"):
        eu_only.status("reg-b-1002-9")


def test_evidence_reads_from_json_files_as_the_cli_and_service_supply_it() -> None:
    spec = bank("credit-limit")
    text = json.dumps([e.model_dump(mode="json") for e in full_evidence(spec)])
    parsed = parse_evidence(json.loads(text))
    assert parsed == full_evidence(spec)
    with pytest.raises(ValueError, match="does not match any of the expected tags"):
        parse_evidence([{"type": "rumour", "observed_at": "2026-01-01T00:00:00Z"}])
