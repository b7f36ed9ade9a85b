"""What the consent API reads and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ethica.service.decisions.schemas import LedgerRef
from ethica.service.text import RequestSchema

NoticeKindField = Literal["opt_in", "opt_out", "notice_only"]
Status = Literal["granted", "withdrawn"]
ObjectionKindField = Literal["automated_decision", "profiling"]
Source = Literal["api", "portal", "agent", "import", "gpc"]


class NoticeUpdate(RequestSchema):
    """The wording customers are shown for a data use; a changed wording is a new version."""

    model_config = ConfigDict(extra="forbid")

    kind: NoticeKindField = Field(
        description="opt_in (nothing until the customer agrees), opt_out (allowed until they "
        "object) or notice_only (informs, offers no choice)."
    )
    text: str = Field(min_length=1, max_length=20_000, description="What the customer reads.")
    fresh_consent: bool = Field(
        False,
        description="The change is material: grants given under older versions no longer count.",
    )


class NoticeRead(BaseModel):
    """One version of a notice."""

    data_use: str
    kind: str
    version: int
    min_consent_version: int
    text: str
    created_at: datetime
    ledger: LedgerRef


class NoticePage(BaseModel):
    """Notices, by data use (the current version of each unless every version was asked)."""

    items: list[NoticeRead]
    total: int


class ConsentChoice(RequestSchema):
    """A customer's own choice from the portal, and/or their browser's Global Privacy Control."""

    model_config = ConfigDict(extra="forbid")

    data_use: str | None = Field(
        None, max_length=200, description="The data use, e.g. 'marketing.communications.email'."
    )
    status: Status | None = None
    data_category: str | None = Field(
        None, max_length=200, description="Only this data category (e.g. 'user.financial')."
    )
    notice_version: int | None = Field(
        None, ge=1, description="The notice version the customer saw; the current one if omitted."
    )
    gpc: bool = Field(
        False,
        description="The Global Privacy Control signal: withdraws marketing, personalization and "
        "third-party sharing (the header 'Sec-GPC: 1' does the same).",
    )


class ConsentCreate(ConsentChoice):
    """A customer's choice as an application records it."""

    source: Literal["api", "portal", "agent", "import"] = Field(
        "api", description="Where the customer made the choice."
    )


class ConsentRead(BaseModel):
    """One recorded choice."""

    id: str
    subject_id: str
    data_use: str
    data_category: str | None
    status: str
    notice_version: int | None
    source: str
    recorded_at: datetime
    ledger: LedgerRef


class ConsentPage(BaseModel):
    """The choices recorded by one request."""

    items: list[ConsentRead]


class ObjectionCreate(RequestSchema):
    """An objection to automated decisions (GDPR Art. 22) or profiling (Art. 21), or its lifting."""

    model_config = ConfigDict(extra="forbid")

    kind: ObjectionKindField
    active: bool = Field(True, description="False lifts an earlier objection.")
    data_use: str | None = Field(
        None, max_length=200, description="Only this data use; every use if omitted."
    )


class ObjectionRead(BaseModel):
    """One recorded objection (or lifting)."""

    id: str
    subject_id: str
    kind: str
    active: bool
    data_use: str | None
    source: str
    recorded_at: datetime
    ledger: LedgerRef


class SubjectConsentRead(BaseModel):
    """A subject's whole history of choices and objections, newest first."""

    subject_id: str
    records: list[ConsentRead]
    objections: list[ObjectionRead]
