"""What documents are built from: one system's spec and everything recorded about it.

The service fills a :class:`SystemRecord` from its database and ledger; the command line reads
one from a YAML or JSON file. Documents never look anywhere else.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from ethica.errors import InputError
from ethica.governance._evidence import (
    Attestation,
    AuditEvidence,
    DocumentRecord,
    Evidence,
    LedgerRef,
)
from ethica.governance._spec import SystemSpec
from ethica.governance._spec_parsing import load_spec, parse_spec

__all__ = [
    "Change",
    "FeatureInfluence",
    "ModelVersion",
    "SignOffGiven",
    "SystemRecord",
    "Volumes",
    "load_record",
]

E = TypeVar("E")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelVersion(_Model):
    """One version of the system's model and what its training saw."""

    version: Annotated[str, Field(min_length=1)]
    format: str = Field(description="skops, lightgbm or xgboost.")
    algorithm: str = Field("", description="E.g. 'gradient-boosted trees (LightGBM)'.")
    trained_at: AwareDatetime | None = None
    training_rows: int | None = None
    training_data: str = Field("", description="What the training data was, in words.")
    training_summary: dict[str, Any] | None = Field(
        None, description="ethica.explain.TrainingSummary.to_dict() of the training data."
    )
    refs: list[LedgerRef] = Field(default_factory=list)


class Change(_Model):
    """One change to the system through its lifecycle (Annex IV point 6)."""

    at: AwareDatetime
    what: Annotated[str, Field(min_length=1)]
    ref: LedgerRef | None = None
    mitigation: bool = Field(
        False, description="A mitigation put in shadow, served, rolled back or withdrawn."
    )


class Volumes(_Model):
    """How many decisions the system made, when, and about whom (by protected group)."""

    period_start: date
    period_end: date
    decisions: Annotated[int, Field(ge=0)]
    by_month: dict[str, int] = Field(default_factory=dict, description="'YYYY-MM' to count.")
    by_group: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="Per protected attribute, decisions per group."
    )
    adverse_by_group: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="Per protected attribute, adverse decisions per group."
    )


class FeatureInfluence(_Model):
    """A feature's share of the explanations' total attribution (a global summary)."""

    feature: str
    share: Annotated[float, Field(ge=0.0, le=1.0)]


class SignOffGiven(_Model):
    """A sign-off given by a named person in a role."""

    role: Annotated[str, Field(min_length=1)]
    name: Annotated[str, Field(min_length=1)]
    signed_on: date
    statement: str = ""


class SystemRecord(_Model):
    """One system's spec and everything recorded about it, for its documents."""

    spec: SystemSpec
    evidence: list[Evidence] = Field(default_factory=list)
    attestations: list[Attestation] = Field(default_factory=list)
    models: list[ModelVersion] = Field(default_factory=list)
    volumes: Volumes | None = None
    changes: list[Change] = Field(default_factory=list)
    influences: list[FeatureInfluence] = Field(default_factory=list)
    signoffs: list[SignOffGiven] = Field(default_factory=list)
    ledger: list[LedgerRef] = Field(
        default_factory=list, description="The ledger's chain heads the documents reflect."
    )
    registration_id: str | None = Field(None, description="The EU database registration number.")
    standards: list[str] = Field(
        default_factory=list, description="Harmonised standards applied (Annex IV point 7)."
    )

    def latest(self, kind: type[E], **where: Any) -> E | None:
        """Return the latest evidence of a type whose fields equal ``where``, or ``None``."""
        matching: Sequence[Any] = [
            e
            for e in self.evidence
            if isinstance(e, kind) and all(getattr(e, k) == v for k, v in where.items())
        ]
        return max(matching, key=lambda e: e.observed_at) if matching else None

    def audit(self, scope: str) -> AuditEvidence | None:
        """Return the latest audit of ``scope`` (training-data, decisions, monitoring)."""
        return self.latest(AuditEvidence, scope=scope)

    def latest_document(self, document: str) -> DocumentRecord | None:
        """Return the record of the latest generated document of a type, or ``None``."""
        return self.latest(DocumentRecord, document=document)

    @property
    def model(self) -> ModelVersion | None:
        """The latest model version (by training time, then order)."""
        if not self.models:
            return None
        dated = [m for m in self.models if m.trained_at is not None]
        return max(dated, key=lambda m: m.trained_at or datetime.min) if dated else self.models[-1]


def load_record(path: str | Path, *, spec: str | Path | None = None) -> SystemRecord:
    """Read a record file (YAML or JSON).

    Its ``spec`` field is the spec itself or the path of a spec file, relative to the record;
    ``spec`` replaces it. An ``audit`` evidence item may name the JSON of ``ethica audit --json``
    in ``audit_file`` instead of listing its figures.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise InputError(f"{path} is not valid YAML or JSON: {error}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path} holds a mapping with a 'spec' and its records")
    base = path.parent
    given = spec if spec is not None else data.get("spec")
    if isinstance(given, str | Path):
        data["spec"] = load_spec(base / given if spec is None else given)
    elif isinstance(given, dict):
        data["spec"] = parse_spec(given)
    else:
        raise InputError(f"{path} names no spec: give 'spec: path/to/spec.yaml'")
    data["evidence"] = [_read_audit(item, base) for item in data.get("evidence", [])]
    try:
        return SystemRecord.model_validate(data)
    except ValidationError as error:
        problems = "\n".join(
            f"- {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise InputError(f"{path} is not a valid system record:\n{problems}") from None


def _read_audit(item: Any, base: Path) -> Any:
    if not (isinstance(item, dict) and item.get("type") == "audit" and "audit_file" in item):
        return item
    fields = dict(item)
    audit_path = base / str(fields.pop("audit_file"))
    try:
        audit = json.loads(audit_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read the audit {audit_path}: {error}") from None
    fields.pop("type")
    observed = fields.pop("observed_at")
    moment = observed if isinstance(observed, datetime) else datetime.fromisoformat(str(observed))
    return AuditEvidence.from_audit(audit, observed_at=moment, **fields)
