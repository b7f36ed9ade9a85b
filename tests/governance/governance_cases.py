"""Specs and evidence shared by the governance tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from ethica.governance import (
    AuditEvidence,
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
    classify,
    load_spec,
    parse_spec,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "bank"
TODAY = date(2026, 3, 1)
OBSERVED = datetime(2026, 2, 20, 9, 30, tzinfo=UTC)


def bank(system: str) -> SystemSpec:
    """One of the demo bank's specs, from its YAML."""
    return load_spec(EXAMPLES / f"{system}.yaml")


def spec_with(base: str = "credit-limit", **facts: Any) -> SystemSpec:
    """A bank spec whose ``ai_act`` facts are replaced by ``facts`` (purpose kept)."""
    data = bank(base).model_dump(mode="json")
    data["ai_act"] = {
        "intended_purpose": "Decide about customers' requests from their data.",
        "affected": ["customers"],
        "roles": ["provider", "deployer"],
        **facts,
    }
    data.setdefault("risk_tier", "high")
    return parse_spec(data)


def ref(chain: str, sequence: int) -> LedgerRef:
    """A made-up ledger reference (hash = the sequence repeated)."""
    return LedgerRef(chain=chain, sequence=sequence, hash=f"{sequence % 16:x}" * 64)


def full_evidence(spec: SystemSpec, *, at: datetime = OBSERVED) -> list[Evidence]:
    """Evidence that meets every evidence-backed obligation of the credit-limit system."""
    digest = classify(spec).spec_digest
    return [
        LedgerVerification(
            observed_at=at, ok=True, entries_checked=1200, chains=4, checkpoints_checked=1,
            head=ref("root", 7), refs=[ref("root", 7)],
        ),
        OversightRecord(
            observed_at=at, oversight=spec.oversight, reviewers=2, decided=40, held=55,
            refs=[ref(spec.id, 11)],
        ),
        AuditEvidence(
            observed_at=at, scope="training-data", dataset="training set 2026-01", rows=5000,
            sensitive_features=["sex"], refs=[ref(spec.id, 3)],
        ),
        AuditEvidence(
            observed_at=at, scope="decisions", dataset="decisions Q1", rows=800,
            sensitive_features=["sex"], accuracy=0.81, refs=[ref(spec.id, 12)],
        ),
        AuditEvidence(  # monitoring's windows count for 7 days
            observed_at=at + timedelta(days=8), scope="monitoring", dataset="window 2026-02",
            rows=300, sensitive_features=["sex"], accuracy=0.8,
        ),
        ExplanationRecord(
            observed_at=at, period_start=date(2026, 2, 1), period_end=date(2026, 2, 19),
            decisions=900, explained=900, adverse=300, adverse_explained=300,
        ),
        PathTest(observed_at=at, path="human-review", passed=True),
        PathTest(observed_at=at, path="objection", passed=True),
        PathTest(observed_at=at, path="erasure", passed=True),
        PathTest(observed_at=at, path="access", passed=True),
        DocumentRecord(observed_at=at, document="annex-iv", digest="a" * 64, spec_digest=digest),
        DocumentRecord(observed_at=at, document="fria", digest="b" * 64, spec_digest=digest),
        DocumentRecord(
            observed_at=at, document="model-card", digest="c" * 64, spec_digest=digest
        ),
        DisclosureRecord(observed_at=at, answers=900, disclosed=900),
        NoticeRecord(observed_at=at, version="2026-01", covers_automated_decisions=True),
        IncidentLog(observed_at=at + timedelta(days=8), open=0),  # a log counts for 7 days
    ]  # fmt: skip
