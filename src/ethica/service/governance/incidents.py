"""Serious incidents (AI Act Art. 73) on the service: each step of each incident a ledger entry.

An ``incident`` entry on the system's chain holds the incident as it stands after the step it
records (opened, assessed, initial report, report, closed); the latest entry of an incident is
its state, and the entries in order are its history, each event citing its own entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.governance import Incident, LedgerRef, open_incident
from ethica.service.errors import NotFoundError
from ethica.service.ledger.store import row_entry
from ethica.service.ledger.tables import LedgerEntry
from ethica.service.ledger.writer import Batch
from ethica.service.systems.service import get_system

INCIDENT = "incident"
"""The kind of the ledger entry recording one step of a serious incident."""
STEPS = ("assessed", "initial-report", "report", "closed")
"""The steps after opening, in the order an officer records them."""


def incidents_of(session: Session, *, system_id: str) -> list[Incident]:
    """Every incident of a system as its ledger chain records it, each event with its entry."""
    rows = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.chain == system_id, LedgerEntry.kind == INCIDENT)
        .order_by(LedgerEntry.sequence)
    )
    refs: dict[str, list[LedgerRef]] = {}
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = row_entry(row)
        state = dict(entry.public["incident"])
        refs.setdefault(state["id"], []).append(LedgerRef.of(entry))
        latest[state["id"]] = state
    incidents = []
    for incident_id, state in latest.items():
        events = [
            {**event, "ref": ref.model_dump()}
            for event, ref in zip(state["events"], refs[incident_id], strict=True)
        ]
        incidents.append(Incident.model_validate({**state, "events": events}))
    return incidents


def _append(batch: Batch, incident: Incident) -> Incident:
    public = incident.model_dump(mode="json")
    for event in public["events"]:
        event.pop("ref", None)  # an event's entry is known only once it is written
    entry = batch.ledger.append(INCIDENT, chain=incident.system, public={"incident": public})
    events = [
        *incident.events[:-1],
        incident.events[-1].model_copy(update={"ref": LedgerRef.of(entry)}),
    ]
    return incident.model_copy(update={"events": events})


def open_system_incident(
    batch: Batch,
    *,
    system_id: str,
    harm: str,
    source: str,
    source_ref: str | None,
    description: str,
    opened_by: str,
    aware_at: datetime,
) -> Incident:
    """Open a serious incident of a registered system and start its clock; a writer job."""
    get_system(batch.session, system_id=system_id)
    if source not in ("alert", "concern", "manual"):
        raise InputError(f"an incident comes from an alert, a concern or by hand, not {source!r}")
    if not description.strip():
        raise InputError("say what happened: an incident needs a description")
    known = {i.id for i in incidents_of(batch.session, system_id=system_id)}
    number = len(known) + 1
    incident = open_incident(
        id=f"{system_id}-{aware_at:%Y%m%d}-{number}", system=system_id, harm=harm,
        source=source,  # type: ignore[arg-type]
        source_ref=source_ref or None, aware_at=aware_at, description=description.strip(),
        opened_by=opened_by,
    )  # fmt: skip
    return _append(batch, incident)


def record_step(
    batch: Batch, *, system_id: str, incident_id: str, step: str, by: str, at: datetime, note: str
) -> Incident:
    """Record the next step of an incident (a report, its closing...); a writer job."""
    if step not in STEPS:
        raise InputError(f"the step is one of {', '.join(STEPS)}, not {step!r}")
    found = {i.id: i for i in incidents_of(batch.session, system_id=system_id)}
    if incident_id not in found:
        raise NotFoundError(f"{system_id} has no incident {incident_id!r}")
    stepped = found[incident_id].record(step, at=at, by=by, note=note)  # type: ignore[arg-type]
    return _append(batch, stepped)
