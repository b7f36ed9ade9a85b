"""Request and response bodies of the governance routes: obligations registers and incidents."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ethica.governance import HARMS, Incident, LedgerRef, Register
from ethica.service.text import RequestSchema

IncidentStep = Literal["assessed", "initial-report", "report", "closed"]


class ObligationRead(BaseModel):
    """One obligation of a system, where it stands, why, and the ledger entries it rests on."""

    obligation: str = Field(description="The obligation's key, e.g. ai-act-12.")
    citation: str = Field(description="The provisions, e.g. 'AI Act Art. 12'.")
    title: str
    duty: str
    roles: list[str] = Field(description="Who bears it: provider, deployer.")
    status: Literal["met", "attested", "missing", "overdue"]
    reason: str = Field(description="Why it has that status, in words.")
    evidence: list[str] = Field(description="The kinds of evidence behind the status.")
    attested_by: str | None
    expires: date | None = Field(description="The last day the status counts, if it is done.")
    refs: list[LedgerRef] = Field(description="The ledger entries the status rests on.")


class RegisterRead(BaseModel):
    """A system's obligations register on a day, from evidence gathered now."""

    system: str
    today: date
    tier: str = Field(description="The AI Act tier of its classification.")
    counts: dict[str, int] = Field(description="How many obligations have each status.")
    obligations: list[ObligationRead]

    @classmethod
    def of(cls, register: Register) -> RegisterRead:
        """Read the library's register."""
        return cls.model_validate(register.to_dict())


class IncidentCreate(RequestSchema):
    """A serious incident (AI Act Art. 73) to open; its reporting clock starts at ``aware_at``."""

    model_config = ConfigDict(extra="forbid")  # a misspelt field is refused, not dropped

    harm: str = Field(max_length=40, description=f"The kind of harm, one of: {', '.join(HARMS)}.")
    source: Literal["alert", "concern", "manual"] = Field(
        "manual", description="Where it was found: an alert, a concern, or by hand."
    )
    source_ref: str | None = Field(
        None, max_length=100, description="The alert's or concern's id (needed unless manual)."
    )
    description: str = Field(min_length=1, max_length=4000, description="What happened.")
    aware_at: AwareDatetime | None = Field(
        None, description="When the provider became aware of it (not in the future); now if unset."
    )


class IncidentStepCreate(RequestSchema):
    """The next step of an incident: assessed, initial report, report, closed."""

    model_config = ConfigDict(extra="forbid")

    step: IncidentStep
    note: str = Field("", max_length=4000)


class IncidentEventRead(BaseModel):
    """One step of an incident's history, with its ledger entry."""

    step: str
    at: datetime
    by: str
    note: str
    ref: LedgerRef | None


class IncidentRead(BaseModel):
    """A serious incident, its reporting clock on the day it is read, and its history."""

    id: str
    system: str
    harm: str
    harm_label: str
    source: str
    source_ref: str | None
    aware_at: datetime
    deadline: datetime = Field(description="When the report is due at the latest.")
    reported_at: datetime | None
    overdue: bool = Field(description="The deadline passed without a report, or it came late.")
    closed: bool
    clock: str = Field(description="Where the reporting clock stands, in words.")
    description: str
    report_fields: dict[str, Any] = Field(
        description="The report's fields; null marks one still to be filled in."
    )
    events: list[IncidentEventRead]

    @classmethod
    def of(cls, incident: Incident, *, now: datetime) -> IncidentRead:
        """Read the library's incident as it stands at ``now``."""
        return cls(
            id=incident.id, system=incident.system, harm=incident.harm,
            harm_label=incident.kind.label, source=incident.source,
            source_ref=incident.source_ref, aware_at=incident.aware_at, deadline=incident.deadline,
            reported_at=incident.reported_at, overdue=incident.overdue(now),
            closed=incident.closed, clock=incident.clock(now), description=incident.description,
            report_fields=incident.report_fields(),
            events=[IncidentEventRead(**e.model_dump()) for e in incident.events],
        )  # fmt: skip


class IncidentPage(BaseModel):
    """A system's incidents, in the order they were opened."""

    items: list[IncidentRead]
    total: int
