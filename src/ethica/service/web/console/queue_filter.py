"""What a reviewer narrows the queue to: a search box and three filters (system, reason, status).

Each reason and status is a small record with its label and test, so the form, the filter and
the tests name the same choices. A blind-first case hides why it was held (the reason can give
the model's outcome away), so only the appeal filter, which the queue shows anyway, matches it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from ethica.service.decisions.tables import Decision
from ethica.service.reviews.schemas import ReviewCase


@dataclass(frozen=True)
class Choice:
    """One option of a queue filter: its value in the URL, its label, and which cases it keeps."""

    value: str
    label: str
    keeps: Callable[[ReviewCase, str], bool]  # (case, the reviewer looking) -> kept?


def _reason(*words: str) -> Callable[[ReviewCase, str], bool]:
    def keeps(case: ReviewCase, _me: str) -> bool:
        reason = (case.review_reason or "").lower()
        return not case.blind and any(word in reason for word in words)

    return keeps


REASONS: tuple[Choice, ...] = (
    Choice("appeal", "Customer appeal", lambda case, _me: case.appealed),
    Choice("sample", "Random quality sample", _reason("quality sample")),
    Choice("adverse", "Adverse outcome", _reason("adverse outcome")),
    Choice("objection", "Customer objected to automated decisions", _reason("objected")),
)
STATUSES: tuple[Choice, ...] = (
    Choice("unclaimed", "Not claimed", lambda case, _me: case.claimed_by is None),
    Choice("mine", "Claimed by me", lambda case, me: case.claimed_by == me),
    Choice("others", "Claimed by someone else", lambda case, me: case.claimed_by not in (None, me)),
    Choice(
        "second_approval",
        "Awaiting a second approval",
        lambda case, _me: case.review_status == "awaiting_second_approval",
    ),
)


@dataclass(frozen=True)
class QueueFilter:
    """The reviewer's search and filters, as read from the page's URL."""

    search: str = ""
    system: str = ""
    reason: str = ""
    status: str = ""

    @property
    def active(self) -> bool:
        return bool(self.search or self.system or self.reason or self.status)

    def url(self, page: int = 1) -> str:
        """The queue page with these filters (and ``page``): the refresh keeps asking for it."""
        pairs = (
            ("q", self.search),
            ("system", self.system),
            ("reason", self.reason),
            ("status", self.status),
        )
        query = {name: value for name, value in pairs if value}
        if page != 1:
            query["page"] = str(page)
        return f"/console?{urlencode(query)}" if query else "/console"

    def apply(self, session: Session, cases: Sequence[ReviewCase], *, me: str) -> list[ReviewCase]:
        """The cases that pass every filter, in the queue's order."""
        kept = list(cases)
        if self.reason:
            kept = [c for c in kept if _choice(REASONS, self.reason).keeps(c, me)]
        if self.status:
            kept = [c for c in kept if _choice(STATUSES, self.status).keeps(c, me)]
        if self.search:
            wanted = self.search.strip().lower()
            customers = _decisions_of_customer(session, self.search.strip())
            kept = [
                c for c in kept if c.decision_id.startswith(wanted) or c.decision_id in customers
            ]
        return kept


def _choice(choices: Sequence[Choice], value: str) -> Choice:
    for choice in choices:
        if choice.value == value:
            return choice
    known = ", ".join(c.value for c in choices)
    raise ValueError(f"unknown queue filter {value!r}; one of {known}")


def _decisions_of_customer(session: Session, customer: str) -> set[str]:
    """The ids of the decisions about the customer with this id."""
    return set(session.scalars(select(Decision.id).where(Decision.subject_id == customer)))


def pattern(choices: Sequence[Choice]) -> str:
    """The values a filter's query parameter may take (or nothing)."""
    return "^(" + "|".join(c.value for c in choices) + ")?$"
