"""Governance of AI systems: their specs, AI Act classification, obligations and documents.

:func:`classify` places a system under the EU AI Act from its spec and declared facts, citing
the provisions and facts each conclusion rests on; :func:`obligation_register` lists every
obligation its tier and roles bring, each met by current evidence, attested, missing or overdue.
"""

from ethica.governance._annex_iv import annex_iv
from ethica.governance._budget import PrivacyBudget, PrivacyBudgetExceeded, Spend
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
from ethica.governance._documents import (
    DOCUMENT_TYPES,
    Document,
    DocumentCheck,
    verify_document,
)
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
from ethica.governance._fact_words import fact_words
from ethica.governance._facts import AIActFacts, AnnexIProduct, ExceptionClaim, Organisation
from ethica.governance._fria import FRIA_ROLES, fria
from ethica.governance._incidents import HARMS, Incident, incident_log, open_incident
from ethica.governance._law import INSTRUMENTS, Citation, cite_text
from ethica.governance._model_card import model_card
from ethica.governance._obligations import OBLIGATIONS, Obligation, applicable_obligations
from ethica.governance._oversight import (
    AUTOMATIC,
    UNEXPLAINED,
    Routing,
    TrainingData,
    explanation_required,
    outcome_is_adverse,
    route,
    unlike_training,
)
from ethica.governance._record import (
    Change,
    FeatureInfluence,
    ModelVersion,
    SignOffGiven,
    SystemRecord,
    Volumes,
    load_record,
)
from ethica.governance._register import STATUSES, ObligationStatus, Register, obligation_register
from ethica.governance._registration import registration
from ethica.governance._spec import (
    BinaryDecision,
    DriftRuleSpec,
    FallbackSpec,
    FeatureSpec,
    ModelSpec,
    MonitoringSpec,
    MulticlassDecision,
    OversightSpec,
    ProtectedAttributeSpec,
    RankingDecision,
    ScoreDecision,
    SystemSpec,
)
from ethica.governance._spec_parsing import SpecError, load_spec, parse_spec
from ethica.governance._transparency import (
    MEASURES,
    ReleasedCount,
    TransparencyRelease,
    release_transparency,
    transparency_document,
)
from ethica.governance._use_cases import ANNEX_III, PROHIBITED, USE_CASES

__all__ = [
    "ANNEX_III",
    "AUTOMATIC",
    "DOCUMENT_TYPES",
    "EVIDENCE_KINDS",
    "FRIA_ROLES",
    "HARMS",
    "INSTRUMENTS",
    "MEASURES",
    "OBLIGATIONS",
    "PROHIBITED",
    "STATUSES",
    "TIERS",
    "TRANSPARENCY_DUTIES",
    "UNEXPLAINED",
    "USE_CASES",
    "AIActFacts",
    "AnnexIProduct",
    "Attestation",
    "AuditEvidence",
    "BinaryDecision",
    "Change",
    "Citation",
    "Classification",
    "ClassificationChange",
    "DisclosureRecord",
    "Document",
    "DocumentCheck",
    "DocumentRecord",
    "Evidence",
    "ExceptionClaim",
    "ExplanationRecord",
    "DriftRuleSpec",
    "FallbackSpec",
    "FeatureInfluence",
    "FeatureSpec",
    "Ground",
    "Incident",
    "IncidentLog",
    "LedgerRef",
    "LedgerVerification",
    "ModelSpec",
    "MonitoringSpec",
    "ModelVersion",
    "MulticlassDecision",
    "NoticeRecord",
    "Obligation",
    "ObligationStatus",
    "Organisation",
    "OversightRecord",
    "OversightSpec",
    "PathTest",
    "PrivacyBudget",
    "PrivacyBudgetExceeded",
    "ProtectedAttributeSpec",
    "RankingDecision",
    "Register",
    "ReleasedCount",
    "Routing",
    "ScoreDecision",
    "SignOffGiven",
    "SpecError",
    "Spend",
    "SystemRecord",
    "SystemSpec",
    "Tier",
    "TrainingData",
    "TransparencyRelease",
    "Volumes",
    "annex_iv",
    "applicable_obligations",
    "cite_text",
    "classification_change",
    "classify",
    "fact_words",
    "explanation_required",
    "outcome_is_adverse",
    "fria",
    "incident_log",
    "load_record",
    "load_spec",
    "model_card",
    "obligation_register",
    "open_incident",
    "parse_evidence",
    "parse_spec",
    "registration",
    "release_transparency",
    "route",
    "spec_digest",
    "transparency_document",
    "unlike_training",
    "verify_document",
]
