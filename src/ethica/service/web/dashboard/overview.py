"""What the dashboard's landing page gathers: systems and their volumes, reviews, concerns, rights.

Every figure comes from the same service functions as the JSON API; this module only arranges
them for the page. A section whose scope the viewer lacks is left out (``None``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ethica.service.concerns import service as concerns
from ethica.service.concerns.schemas import ConcernRead
from ethica.service.decisions.record import PENDING
from ethica.service.decisions.service import decision_counts
from ethica.service.reviews import cases, stats
from ethica.service.reviews.schemas import ReviewerStatsPage
from ethica.service.settings import Settings
from ethica.service.subjects import requests as subjects
from ethica.service.subjects.schemas import RightsRequestRead
from ethica.service.systems import service as systems
from ethica.service.systems.tables import System
from ethica.service.users.tables import User
from ethica.service.web.dashboard.words import kind_words, outcome_count, spec_or_none, tier_words
from ethica.service.web.portal.views import purpose_words
from ethica.service.web.session import Viewer

#: How far back the decision volumes look, in days.
VOLUME_DAYS = 30
#: How many open concerns and rights requests the landing page lists (the rest are counted).
LISTED = 10


@dataclass
class Volume:
    """A system's decisions in the volume window: by outcome, and how many a person took."""

    total: int = 0
    by_outcome: Counter[str] = field(default_factory=Counter)
    sent_to_person: int = 0
    awaiting_person: int = 0


@dataclass(frozen=True)
class SystemLine:
    """One row of the inventory, with its keys put into words."""

    system: System
    volume: Volume

    @property
    def purpose(self) -> str:
        """The system's data use by its name in the taxonomy."""
        return purpose_words(self.system.purpose)

    @property
    def kind(self) -> str:
        """What the system decides, in words."""
        return kind_words(self.system.kind)

    @property
    def tier(self) -> str:
        """The risk tier in words."""
        return tier_words(self.system.risk_tier)

    @property
    def outcomes(self) -> list[str]:
        """The decisions by outcome, most frequent first, each a count in words."""
        spec = spec_or_none(self.system.spec)
        return [
            outcome_count(spec, outcome, count)
            for outcome, count in self.volume.by_outcome.most_common()
        ]


@dataclass(frozen=True)
class ReviewSummary:
    """The review queue at a glance, and how each reviewer works."""

    open_cases: int
    overdue: int
    reviewers: ReviewerStatsPage
    names: dict[str, str]


@dataclass(frozen=True)
class Overview:
    """Everything on the landing page; ``None`` where the viewer may not see a section."""

    systems: list[SystemLine]
    volume_days: int
    reviews: ReviewSummary | None
    concerns: list[ConcernRead] | None
    concerns_total: int
    requests: list[RightsRequestRead] | None
    requests_total: int


def overview(session: Session, *, settings: Settings, viewer: Viewer, now: datetime) -> Overview:
    """Gather the landing page's sections for ``viewer``."""
    can = viewer.principal.can
    rows, _ = systems.list_systems(session, limit=500)
    rankings = {row.id for row in rows if row.spec.get("decision", {}).get("kind") == "ranking"}
    volumes = decision_volumes(session, since=now - timedelta(days=VOLUME_DAYS), rankings=rankings)
    concern_items: list[ConcernRead] | None = None
    concern_total = 0
    if can("concerns:read"):
        master_key = settings.ledger.master_key_bytes
        concern_items, concern_total = concerns.list_concerns(
            session, master_key=master_key, status="open", limit=LISTED
        )
    requests: list[RightsRequestRead] | None = None
    request_total = 0
    if can("subjects:manage"):
        due, request_total = subjects.list_requests(session, status="open", limit=LISTED)
        requests = [subjects.request_read(row, now=now) for row in due]
    return Overview(
        systems=[SystemLine(row, volumes.get(row.id, Volume())) for row in rows],
        volume_days=VOLUME_DAYS,
        reviews=review_summary(session, now=now) if can("reviews:oversee") else None,
        concerns=concern_items,
        concerns_total=concern_total,
        requests=requests,
        requests_total=request_total,
    )


def decision_volumes(
    session: Session, *, since: datetime, rankings: Collection[str] = ()
) -> dict[str, Volume]:
    """Per system: decisions since ``since`` by outcome, sent to a person, still awaiting one.

    A ranking's outcome is its whole ordered list; the systems in ``rankings`` are counted by
    the item ranked first (its id), so that a few lines say what was recommended most (a
    decision left to a person is ``pending``).
    """
    volumes: dict[str, Volume] = {}
    for system_id, outcome, review_status, count in decision_counts(session, since=since):
        volume = volumes.setdefault(system_id, Volume())
        volume.total += count
        ranked = system_id in rankings and outcome != PENDING
        volume.by_outcome[outcome.split(",")[0] if ranked else outcome] += count
        if review_status != "automatic":
            volume.sent_to_person += count
        if review_status in cases.OPEN_STATUSES:
            volume.awaiting_person += count
    return volumes


def review_summary(session: Session, *, now: datetime) -> ReviewSummary:
    """Open and overdue cases, and every reviewer's statistics with their names."""
    queue = cases.queue(session, now=now)
    reviewers = stats.reviewer_stats(session)
    return ReviewSummary(
        open_cases=len(queue),
        overdue=sum(case.escalated for case in queue),
        reviewers=reviewers,
        names=staff_names(session, (item.reviewer_id for item in reviewers.items)),
    )


def staff_names(session: Session, user_ids: Iterable[str]) -> dict[str, str]:
    """Names of staff users by id (an id stays as it is when the user is gone)."""
    names = {}
    for user_id in set(user_ids):
        user = session.get(User, user_id)
        names[user_id] = user.name if user is not None else user_id
    return names
