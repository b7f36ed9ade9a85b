"""Evidence that an obligation is met: any of the typed records the service gathers (or files hold).

The records live in :mod:`._evidence_base` (kinds, validity, references, attestations),
:mod:`._evidence_operation` (ledger, oversight, audits) and :mod:`._evidence_people` (explanations,
rights paths, disclosures, notices, documents, incidents); this module joins them into one union.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from ethica.governance._evidence_base import (
    EVIDENCE_KINDS,
    Assessment,
    Attestation,
    EvidenceKind,
    LedgerRef,
)
from ethica.governance._evidence_operation import (
    AuditEvidence,
    GroupMetric,
    LedgerVerification,
    OversightRecord,
)
from ethica.governance._evidence_people import (
    DisclosureRecord,
    DocumentRecord,
    ExplanationRecord,
    IncidentLog,
    NoticeRecord,
    PathTest,
)

__all__ = [
    "EVIDENCE_KINDS",
    "Assessment",
    "Attestation",
    "AuditEvidence",
    "DisclosureRecord",
    "DocumentRecord",
    "Evidence",
    "EvidenceKind",
    "ExplanationRecord",
    "GroupMetric",
    "IncidentLog",
    "LedgerRef",
    "LedgerVerification",
    "NoticeRecord",
    "OversightRecord",
    "PathTest",
    "parse_evidence",
]


Evidence = Annotated[
    LedgerVerification
    | OversightRecord
    | AuditEvidence
    | ExplanationRecord
    | PathTest
    | DocumentRecord
    | DisclosureRecord
    | NoticeRecord
    | IncidentLog,
    Field(discriminator="type"),
]
"""Any evidence record; its ``type`` field tells which."""

_EVIDENCE_LIST: TypeAdapter[list[Evidence]] = TypeAdapter(list[Evidence])


def parse_evidence(data: Any) -> list[Evidence]:
    """Validate a list of evidence records given as JSON data (each with its ``type``)."""
    return _EVIDENCE_LIST.validate_python(data)
