"""Serious incidents (AI Act Art. 73): opened from an alert, a concern or by hand, with clocks.

The deadline runs from when the provider became aware of the incident: 2 days for a
widespread infringement or a serious and irreversible disruption of critical infrastructure
(Art. 73(3)), 10 days for a death (Art. 73(4)), 15 days otherwise (Art. 73(2)). An initial,
incomplete report may come first (Art. 73(5)); each step is an event (a ledger entry in the
service).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ethica.errors import InputError
from ethica.governance._evidence import IncidentLog, LedgerRef

__all__ = ["HARMS", "Harm", "Incident", "IncidentEvent", "incident_log", "open_incident"]


@dataclass(frozen=True)
class Harm:
    """A kind of serious incident (Art. 3(49), 3(61)) and its reporting deadline."""

    key: str
    label: str
    days: int
    provision: str


HARMS = {
    h.key: h
    for h in (
        Harm("death", "the death of a person", 10, "Art. 73(4)"),
        Harm("health", "serious harm to a person's health", 15, "Art. 73(2)"),
        Harm(
            "critical-infrastructure",
            "a serious and irreversible disruption of critical infrastructure",
            2,
            "Art. 73(3)",
        ),
        Harm(
            "widespread-infringement",
            "a widespread infringement of Union law protecting fundamental rights",
            2,
            "Art. 73(3)",
        ),
        Harm(
            "fundamental-rights",
            "an infringement of obligations under Union law protecting fundamental rights",
            15,
            "Art. 73(2)",
        ),
        Harm("property", "serious harm to property or the environment", 15, "Art. 73(2)"),
    )
}
"""The kinds of serious incident, by key, with their deadlines in days."""

Source = Literal["alert", "concern", "manual"]
Step = Literal["opened", "assessed", "initial-report", "report", "closed"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IncidentEvent(_Model):
    """One step in an incident's history."""

    step: Step
    at: AwareDatetime
    by: Annotated[str, Field(min_length=1)]
    note: str = ""
    ref: LedgerRef | None = None


class Incident(_Model):
    """A serious incident of one system and what the report to the authority needs.

    The report's fields follow Art. 73 and the Commission's reporting template: who reports,
    which system, what happened and when, whom it harmed, the causal link to the system, what
    was done, and where.
    """

    id: Annotated[str, Field(min_length=1)]
    system: Annotated[str, Field(min_length=1)]
    harm: str = Field(description="A key of HARMS.")
    source: Source
    source_ref: str | None = Field(None, description="The alert's or concern's id.")
    occurred_at: AwareDatetime | None = None
    aware_at: AwareDatetime = Field(description="When the provider became aware of it.")
    description: Annotated[str, Field(min_length=1)]
    persons_affected: int | None = None
    causal_link: str = Field("", description="Established or likely link to the AI system.")
    corrective_measures: str = ""
    member_states: list[str] = Field(default_factory=list)
    authority: str = Field("", description="The market surveillance authority notified.")
    events: list[IncidentEvent] = Field(default_factory=list)

    @property
    def kind(self) -> Harm:
        """The kind of harm, with its deadline."""
        if self.harm not in HARMS:
            raise InputError(f"unknown harm {self.harm!r}; known: {', '.join(HARMS)}")
        return HARMS[self.harm]

    @property
    def deadline(self) -> datetime:
        """When the report is due at the latest."""
        return self.aware_at + timedelta(days=self.kind.days)

    @property
    def reported_at(self) -> datetime | None:
        """When the first report (initial or complete) was made, if it was."""
        times = [e.at for e in self.events if e.step in ("initial-report", "report")]
        return min(times) if times else None

    @property
    def closed(self) -> bool:
        """Whether the incident is closed."""
        return any(e.step == "closed" for e in self.events)

    def time_left(self, now: datetime) -> timedelta:
        """How long until the deadline (negative once it has passed)."""
        return self.deadline - now

    def overdue(self, now: datetime) -> bool:
        """Whether the deadline passed without a report (or the report came late)."""
        reported = self.reported_at
        return (reported or now) > self.deadline

    def record(self, step: Step, *, at: datetime, by: str, note: str = "") -> Incident:
        """Return the incident with one more event (a report, an assessment, its closing)."""
        if self.closed:
            raise InputError(f"incident {self.id} is closed; open a new one")
        if at < self.aware_at:
            raise InputError(f"an event at {at.isoformat()} comes before awareness")
        event = IncidentEvent(step=step, at=at, by=by, note=note)
        return self.model_copy(update={"events": [*self.events, event]})

    def clock(self, now: datetime) -> str:
        """Say where the reporting clock stands, as an officer reads it."""
        kind = self.kind
        if self.reported_at is not None:
            late = " (late)" if self.reported_at > self.deadline else ""
            return f"reported {self.reported_at:%Y-%m-%d %H:%M} UTC{late}"
        left = self.time_left(now)
        if left < timedelta(0):
            return (
                f"overdue by {_span(-left)}: {kind.label} is reported within {kind.days} days "
                f"of awareness ({kind.provision})"
            )
        return f"{_span(left)} left to report ({kind.days} days, {kind.provision})"

    def report_fields(self) -> dict[str, Any]:
        """Return the report's fields; ``None`` marks one still to be filled in."""
        kind = self.kind
        return {
            "incident": self.id,
            "system": self.system,
            "type of incident": f"{kind.label} ({kind.provision})",
            "occurred at": self.occurred_at.isoformat() if self.occurred_at else None,
            "provider aware at": self.aware_at.isoformat(),
            "deadline": self.deadline.isoformat(),
            "description": self.description,
            "persons affected": self.persons_affected,
            "causal link to the AI system": self.causal_link or None,
            "corrective measures": self.corrective_measures or None,
            "Member States": ", ".join(self.member_states) or None,
            "authority notified": self.authority or None,
            "detected through": self.source + (f" {self.source_ref}" if self.source_ref else ""),
        }


def open_incident(
    *,
    id: str,
    system: str,
    harm: str,
    source: Source,
    aware_at: datetime,
    description: str,
    opened_by: str,
    source_ref: str | None = None,
    **details: Any,
) -> Incident:
    """Open an incident; ``source`` is where it came from (an alert, a concern, by hand)."""
    if harm not in HARMS:
        raise InputError(f"unknown harm {harm!r}; use one of: {', '.join(HARMS)}")
    if source != "manual" and not source_ref:
        raise InputError(f"an incident opened from a {source} names it: give source_ref")
    opened = IncidentEvent(step="opened", at=aware_at, by=opened_by)
    return Incident(
        id=id, system=system, harm=harm, source=source, source_ref=source_ref, aware_at=aware_at,
        description=description, events=[opened], **details,
    )  # fmt: skip


def incident_log(incidents: list[Incident], *, now: datetime) -> IncidentLog:
    """Return the evidence for Art. 73: open incidents and those past their deadline."""
    return IncidentLog(
        observed_at=now,
        open=sum(not i.closed for i in incidents),
        overdue=[i.id for i in incidents if not i.closed and i.overdue(now)],
        refs=[e.ref for i in incidents for e in i.events if e.ref is not None],
    )


def _span(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} hours" if days else f"{hours} hours"
