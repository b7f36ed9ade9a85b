"""The dashboard's governance pages: each system's AI Act classification, its obligations with
the evidence behind each status, its documents, and attestations by named people.

Everything shown is computed now from the database and the ledger (through
:mod:`ethica.service.governance`); an attestation is a ledger entry, written on the ledger writer
and answered with 303 back to the system's page (POST/redirect/GET).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from ethica import governance as library
from ethica.errors import InputError
from ethica.governance import Classification, Document, SystemRecord
from ethica.service.db import utcnow
from ethica.service.deps import SessionDep, run_job
from ethica.service.errors import NotFoundError
from ethica.service.governance import incidents
from ethica.service.governance import service as governance
from ethica.service.state import state_of
from ethica.service.systems.service import get_system, list_systems
from ethica.service.web.rendering import render
from ethica.service.web.session import Viewer, page_requires

router = APIRouter(prefix="/dashboard/governance", tags=["web"], include_in_schema=False)

Officer = Annotated[Viewer, page_requires("audit:run")]
DocumentKey = Literal["annex-iv", "fria", "model-card", "annex-viii"]
Format = Literal["html", "json", "pdf"]


@dataclass(frozen=True)
class InventoryLine:
    """One system in the governance inventory: its classification, or why it has none."""

    id: str
    name: str
    declared_tier: str
    classification: Classification | None
    problem: str | None


def _inventory(session: Session) -> list[InventoryLine]:
    lines = []
    systems, _ = list_systems(session, limit=500)
    for system in systems:
        spec = library.parse_spec(system.spec)
        classification, problem = None, None
        try:
            classification = governance.classification_of(spec)
        except InputError as error:
            problem = str(error)
        if classification is None and problem is None:
            problem = "its spec declares no AI Act facts (ai_act), so it cannot be classified"
        lines.append(InventoryLine(system.id, system.name, spec.risk_tier, classification, problem))
    return lines


@router.get("")
def inventory_page(request: Request, session: SessionDep, viewer: Officer) -> Response:
    """Every system with its AI Act tier and the provisions that place it there."""
    context = {"lines": _inventory(session), "citations": library.cite_text}
    return render(request, "dashboard/governance.html", context, viewer=viewer)


def _documents(classification: Classification, *, has_model: bool) -> list[tuple[str, str]]:
    documents = [("annex-iv", "Technical documentation (Annex IV)")]
    documents.append(("fria", "Fundamental-rights impact assessment (Art. 27)"))
    if has_model:  # a model card describes a model version: none before one is stored
        documents.append(("model-card", "Model card"))
    if classification.high_risk or classification.exception is not None:
        documents.append(("annex-viii", "EU database registration (Annex VIII)"))
    return documents


@router.get("/{system_id}")
def system_governance_page(
    system_id: str,
    request: Request,
    session: SessionDep,
    viewer: Officer,
    attested: str | None = None,
    incident: str | None = None,
    signed: str | None = None,
) -> Response:
    """A system's classification, obligations register, documents, attestations, incidents."""
    return _system_page(
        request, session, viewer, system_id, attested=attested, opened=incident, signed=signed
    )


def _system_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    system_id: str,
    *,
    attested: str | None = None,
    opened: str | None = None,
    signed: str | None = None,
    entered: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    settings = state_of(request.app).settings
    system = get_system(session, system_id=system_id)
    spec = library.parse_spec(system.spec)
    classification = governance.classification_of(spec)
    has_model = system.model_version is not None
    register = None
    if classification is not None:
        register = governance.register_of(
            session, settings=settings, system_id=system_id, now=utcnow()
        )
    context: dict[str, Any] = {
        "spec": spec,
        "classification": classification,
        "citations": library.cite_text,
        "history": governance.classification_history(session, system_id=system_id),
        "register": register,
        "documents": (
            _documents(classification, has_model=has_model) if classification is not None else []
        ),
        "attested": attested,
        "entered": entered or {},
        "error": error,
        "today": utcnow().date().isoformat(),
        "incidents": incidents.incidents_of(session, system_id=system_id),
        "harms": library.HARMS,
        "steps": incidents.STEPS,
        "now": utcnow(),
        "opened": opened,
        "signed": signed,
        "fria_roles": library.FRIA_ROLES,
        "fria_signoffs": [
            a
            for a in governance.attestations_of(session, system_id=system_id)
            if a.obligation == governance.FRIA
        ],
        "needs_fria": register is not None
        and any(row.obligation.key == governance.FRIA for row in register.rows),
    }
    return render(
        request, "dashboard/governance_system.html", context, viewer=viewer, status=status
    )


@router.get("/{system_id}/documents/{document}.{format}")
def document_page(
    system_id: str,
    document: DocumentKey,
    format: Format,
    request: Request,
    session: SessionDep,
    viewer: Officer,
) -> Response:
    """A document built now from the database and the ledger, as HTML, JSON or PDF.

    The PDF is the HTML printed by headless Chromium (a sync route: it runs in the thread pool,
    not on the event loop); without Chromium the answer says how to get one.
    """
    now = utcnow().replace(microsecond=0)
    record = governance.system_record(
        session, settings=state_of(request.app).settings, system_id=system_id, now=now
    )
    built = _build(document, record, now)
    if format == "json":
        return Response(built.to_json(), media_type="application/json")
    if format == "pdf":
        name = f"{system_id}-{document}.pdf"
        return Response(
            built.to_pdf(),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{name}"'},
        )
    return HTMLResponse(built.to_html())


def _build(document: DocumentKey, record: SystemRecord, now: Any) -> Document:
    if record.spec.ai_act is None:
        raise InputError(f"{record.spec.id} declares no AI Act facts (ai_act): no documents")
    builders = {
        "annex-iv": library.annex_iv,
        "fria": library.fria,
        "model-card": library.model_card,
        "annex-viii": library.registration,
    }
    return builders[document](record, generated_at=now.astimezone(UTC))


@router.post("/{system_id}/attestations")
async def add_attestation(
    system_id: str,
    request: Request,
    viewer: Annotated[Viewer, page_requires("audit:run")],
    obligation: Annotated[str, Form(max_length=40)] = "",
    by: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=200)] = "",
    statement: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Record a named person's attestation of an obligation in the system's ledger chain."""
    entered = {"obligation": obligation, "by": by, "role": role, "statement": statement}
    today = utcnow().date()

    def job(batch: Any) -> library.Attestation:
        return governance.attest(
            batch, system_id=system_id, obligation=obligation, by=by.strip(),
            role=role.strip(), statement=statement.strip(), given_on=today,
        )  # fmt: skip

    return await _act(
        request, viewer, system_id, job, entered,
        lambda _: f"/dashboard/governance/{system_id}?attested={obligation}#obligations",
    )  # fmt: skip


@router.post("/{system_id}/fria-signoffs")
async def sign_off_fria(
    system_id: str,
    request: Request,
    viewer: Officer,
    role: Annotated[str, Form(max_length=200)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    statement: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Record a named person's sign-off of the impact assessment (an attestation of Art. 27)."""
    entered = {"fria_role": role, "fria_name": name, "fria_statement": statement}
    today = utcnow().date()

    def job(batch: Any) -> library.Attestation:
        return governance.sign_off_fria(
            batch, system_id=system_id, role=role, name=name.strip(),
            statement=statement.strip(), signed_on=today,
        )  # fmt: skip

    return await _act(
        request, viewer, system_id, job, entered,
        lambda done: f"/dashboard/governance/{system_id}?signed={quote(done.role)}#fria",
    )  # fmt: skip


@router.post("/{system_id}/incidents")
async def add_incident(
    system_id: str,
    request: Request,
    viewer: Officer,
    harm: Annotated[str, Form(max_length=40)] = "",
    source: Annotated[str, Form(max_length=20)] = "manual",
    source_ref: Annotated[str, Form(max_length=100)] = "",
    description: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Open a serious incident (Art. 73) and start its reporting clock, in the ledger."""
    entered = {"harm": harm, "source": source, "source_ref": source_ref}
    entered["description"] = description
    now = utcnow().replace(microsecond=0)

    def job(batch: Any) -> library.Incident:
        return incidents.open_system_incident(
            batch, system_id=system_id, harm=harm, source=source, source_ref=source_ref,
            description=description, opened_by=viewer.principal.actor, aware_at=now,
        )  # fmt: skip

    return await _act(request, viewer, system_id, job, entered, _incident_page(system_id))


@router.post("/{system_id}/incidents/{incident_id}/steps")
async def add_incident_step(
    system_id: str,
    incident_id: str,
    request: Request,
    viewer: Officer,
    step: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Record an incident's next step (its report, its closing) in the ledger."""
    now = utcnow().replace(microsecond=0)

    def job(batch: Any) -> library.Incident:
        return incidents.record_step(
            batch, system_id=system_id, incident_id=incident_id, step=step,
            by=viewer.principal.actor, at=now, note=note,
        )  # fmt: skip

    return await _act(request, viewer, system_id, job, {}, _incident_page(system_id))


def _incident_page(system_id: str) -> Callable[[Any], str]:
    return lambda done: f"/dashboard/governance/{system_id}?incident={done.id}#incidents"


async def _act(
    request: Request,
    viewer: Viewer,
    system_id: str,
    job: Any,
    entered: dict[str, str],
    then: Callable[[Any], str],
) -> Response:
    """Run a form's writer job; show the page again with the reason, or go on to ``then``."""
    try:
        done = await run_job(request, job)
    except (InputError, ValidationError, NotFoundError) as error:
        message = _first_error(error) if isinstance(error, ValidationError) else str(error)
        with state_of(request.app).sessions() as session:
            return _system_page(
                request, session, viewer, system_id, entered=entered, error=message, status=422
            )
    return RedirectResponse(then(done), status_code=303)


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    words = {
        "statement": "The statement",
        "by": "The name",
        "name": "The name",
        "role": "The role",
    }
    return f"{words.get(where, where)}: {first['msg'].lower()}."
