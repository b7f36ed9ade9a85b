"""Governance of AI systems: their specs, AI Act classification, obligations and documents.

:func:`classify` places a system under the EU AI Act from its spec and declared facts, citing
the provisions and facts each conclusion rests on; :func:`obligation_register` lists every
obligation its tier and roles bring, each met by current evidence, attested, missing or overdue.
"""

from ethica.governance._classification import (
    TIERS,
    TRANSPARENCY_DUTIES,
    Classification,
    ClassificationChange,
    Ground,
    Tier,
    classification_change,
    spec_digest,
)
from ethica.governance._classify import classify
from ethica.governance._evidence import (
    EVIDENCE_KINDS,
    Attestation,
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
    parse_evidence,
)
from ethica.governance._facts import AIActFacts, AnnexIProduct, ExceptionClaim, Organisation
from ethica.governance._law import INSTRUMENTS, Citation, cite_text
from ethica.governance._obligations import OBLIGATIONS, Obligation, applicable_obligations
from ethica.governance._oversight import AUTOMATIC, Routing, TrainingData, route, unlike_training
from ethica.governance._register import STATUSES, ObligationStatus, Register, obligation_register
from ethica.governance._spec import (
    BinaryDecision,
    FallbackSpec,
    FeatureSpec,
    ModelSpec,
    MulticlassDecision,
    OversightSpec,
    ProtectedAttributeSpec,
    RankingDecision,
    ScoreDecision,
    SpecError,
    SystemSpec,
    load_spec,
    parse_spec,
)
from ethica.governance._use_cases import ANNEX_III, PROHIBITED, USE_CASES

__all__ = [
    "ANNEX_III",
    "AUTOMATIC",
    "EVIDENCE_KINDS",
    "INSTRUMENTS",
    "OBLIGATIONS",
    "PROHIBITED",
    "STATUSES",
    "TIERS",
    "TRANSPARENCY_DUTIES",
    "USE_CASES",
    "AIActFacts",
    "AnnexIProduct",
    "Attestation",
    "AuditEvidence",
    "BinaryDecision",
    "Citation",
    "Classification",
    "ClassificationChange",
    "DisclosureRecord",
    "DocumentRecord",
    "Evidence",
    "ExceptionClaim",
    "ExplanationRecord",
    "FallbackSpec",
    "FeatureSpec",
    "Ground",
    "IncidentLog",
    "LedgerRef",
    "LedgerVerification",
    "ModelSpec",
    "MulticlassDecision",
    "NoticeRecord",
    "Obligation",
    "ObligationStatus",
    "Organisation",
    "OversightRecord",
    "OversightSpec",
    "PathTest",
    "ProtectedAttributeSpec",
    "RankingDecision",
    "Register",
    "Routing",
    "ScoreDecision",
    "SpecError",
    "SystemSpec",
    "Tier",
    "TrainingData",
    "applicable_obligations",
    "cite_text",
    "classification_change",
    "classify",
    "load_spec",
    "obligation_register",
    "parse_evidence",
    "parse_spec",
    "route",
    "spec_digest",
    "unlike_training",
]
