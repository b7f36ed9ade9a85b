"""Use cases of the registry: apply a spec, store a model version, read systems."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ethica.governance import SystemSpec
from ethica.scoring import ModelFormat, load_model
from ethica.service.errors import ConflictError, NotFoundError
from ethica.service.systems.tables import ModelVersion, System


def apply_spec(session: Session, *, spec: SystemSpec) -> tuple[System, bool]:
    """Create or update a system from its spec; returns the system and whether it is new.

    Beyond the spec's own validation, its purpose and data categories must be known to the
    privacy taxonomy, so that consent can be enforced per data use and category.
    """
    from ethica.governance import SpecError
    from ethica.privacy import check_spec

    problems = check_spec(spec)
    if problems:
        raise SpecError(problems)
    system = session.get(System, spec.id)
    created = system is None
    if system is None:
        system = System(id=spec.id)
        session.add(system)
    system.name = spec.name
    system.purpose = spec.purpose
    system.risk_tier = spec.risk_tier
    system.kind = spec.decision.kind
    system.owner = spec.owner
    system.spec = spec.model_dump(mode="json")
    session.flush()
    return system, created


def add_model_version(
    session: Session,
    *,
    system_id: str,
    version: str,
    format: ModelFormat,
    content: bytes,
    training_summary: dict[str, Any] | None = None,
    serve: bool = True,
) -> ModelVersion:
    """Validate (by loading safely) and store a model version, and make it the system's model.

    ``serve=False`` stores it only: a candidate to try in shadow before it serves.
    """
    system = get_system(session, system_id=system_id)
    load_model(content, format)  # refuses unsafe or malformed files before anything is stored
    if training_summary is not None:
        from ethica.explain import TrainingSummary

        TrainingSummary.from_dict(training_summary)  # refuses a malformed summary
    digest = hashlib.sha256(content).hexdigest()
    existing = session.scalar(
        select(ModelVersion).where(
            ModelVersion.system_id == system_id, ModelVersion.version == version
        )
    )
    if existing is not None:
        if existing.sha256 != digest:
            raise ConflictError(
                f"model version {version!r} of {system_id!r} exists with other content; "
                "versions are immutable, use a new version"
            )
        model = existing
        if training_summary is not None:
            model.training_summary = training_summary
    else:
        model = ModelVersion(
            system_id=system_id,
            version=version,
            format=format,
            sha256=digest,
            content=content,
            training_summary=training_summary,
        )
        session.add(model)
    if serve:
        system.model_version = version
    session.flush()
    return model


def get_system(session: Session, *, system_id: str) -> System:
    """The system ``system_id``, or NotFoundError."""
    system = session.get(System, system_id)
    if system is None:
        raise NotFoundError(f"no AI system {system_id!r} is registered")
    return system


def list_systems(
    session: Session, *, limit: int = 100, offset: int = 0
) -> tuple[list[System], int]:
    """A page of systems by id, and the total."""
    total = session.scalar(select(func.count()).select_from(System)) or 0
    rows = session.scalars(select(System).order_by(System.id).limit(limit).offset(offset)).all()
    return list(rows), int(total)


def get_model(session: Session, *, system_id: str, version: str) -> tuple[ModelVersion, Any]:
    """A stored model version and the loaded model."""
    model = session.scalar(
        select(ModelVersion).where(
            ModelVersion.system_id == system_id, ModelVersion.version == version
        )
    )
    if model is None:
        raise NotFoundError(f"system {system_id!r} has no model version {version!r}")
    return model, load_model(model.content, model.format)  # type: ignore[arg-type]


def set_training_summary(
    session: Session, *, system_id: str, version: str, summary: dict[str, Any]
) -> ModelVersion:
    """Attach a training summary (validated) to a stored model version."""
    from ethica.explain import TrainingSummary

    TrainingSummary.from_dict(summary)
    model, _ = get_model(session, system_id=system_id, version=version)
    model.training_summary = summary
    session.flush()
    return model
