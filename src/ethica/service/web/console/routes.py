"""The reviewer console: the queue, a case, decide / override / approve, a reviewer's own stats.

The queue and the stats are here; a case and the actions on it are in :mod:`.console_case`
(mounted next to this module's router).
Every page reads through the review backend's own functions (:mod:`ethica.service.reviews`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ethica.service.db import utcnow
from ethica.service.decisions.explanations import Explanations
from ethica.service.deps import SessionDep
from ethica.service.reviews import cases, stats
from ethica.service.state import state_of
from ethica.service.systems.service import list_systems
from ethica.service.users.service import display_names
from ethica.service.web.console.queue_filter import REASONS, STATUSES, QueueFilter, pattern
from ethica.service.web.console.words import (
    deadline_clock,
    duration,
    outcome_label,
    seconds_words,
)
from ethica.service.web.dashboard.words import spec_or_none
from ethica.service.web.rendering import is_htmx, render
from ethica.service.web.session import Viewer, page_requires

router = APIRouter(prefix="/console", tags=["web"], include_in_schema=False)

#: How often the queue page asks for a fresh queue (htmx polling), in seconds.
QUEUE_REFRESH_SECONDS = 30
#: Cases shown on one page of the queue.
QUEUE_PAGE_SIZE = 50


@router.get("")
def queue_page(
    request: Request,
    session: SessionDep,
    viewer: Annotated[Viewer, page_requires("reviews:read")],
    q: Annotated[str, Query(max_length=100)] = "",
    system: Annotated[str, Query(max_length=100)] = "",
    reason: Annotated[str, Query(pattern=pattern(REASONS))] = "",
    status: Annotated[str, Query(pattern=pattern(STATUSES))] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """The queue: open cases by priority and deadline, searched and filtered, page by page."""
    wanted = QueueFilter(search=q.strip(), system=system, reason=reason, status=status)
    me = viewer.principal.id
    explanations = Explanations.of_session(
        session, state_of(request.app).settings.ledger.master_key_bytes
    )
    everything = cases.queue(
        session, system_id=system or None, reviewer_id=me, explanations=explanations
    )
    queued = wanted.apply(session, everything, me=me)
    pages = max(1, -(-len(queued) // QUEUE_PAGE_SIZE))
    page = min(page, pages)
    items = queued[(page - 1) * QUEUE_PAGE_SIZE : page * QUEUE_PAGE_SIZE]
    now = utcnow()
    people = {c.claimed_by for c in items if c.claimed_by} | {
        c.proposed_by for c in items if c.proposed_by
    }
    systems, _ = list_systems(session, limit=500)
    context = {
        "items": items,
        "total": len(queued),
        "all_total": len(everything),
        "page": page,
        "pages": pages,
        "links": {
            "here": wanted.url(page),
            "previous": wanted.url(page - 1) if page > 1 else None,
            "next": wanted.url(page + 1) if page < pages else None,
        },
        "clocks": {c.decision_id: deadline_clock(c, now=now) for c in items},
        "ages": {c.decision_id: duration(now - c.held_since) for c in items},
        "names": display_names(session, user_ids=people),
        "systems": [(s.id, s.name) for s in systems],
        "system_names": {s.id: s.name for s in systems},
        "said": _outcome_words({s.id: s.spec for s in systems}),
        "system": system,
        "wanted": wanted,
        "reasons": REASONS,
        "statuses": STATUSES,
        "refresh_seconds": QUEUE_REFRESH_SECONDS,
        "me": me,
    }
    # A history restore after the filter pushed its URL wants the whole page, not the table.
    fragment = is_htmx(request) and request.headers.get("hx-history-restore-request") != "true"
    template = "console/_queue.html" if fragment else "console/queue.html"
    return render(request, template, context, viewer=viewer)


@router.get("/stats")
def stats_page(
    request: Request,
    session: SessionDep,
    viewer: Annotated[Viewer, page_requires("reviews:stats")],
) -> Response:
    """The signed-in reviewer's own statistics, with the automation-bias warning if it applies."""
    page = stats.reviewer_stats(session, reviewer_id=viewer.principal.id)
    (mine,) = page.items
    context = {
        "mine": mine,
        "thresholds": page,
        "time_per_case": seconds_words(mine.median_seconds_per_case),
        "max_seconds": seconds_words(page.warning_max_median_seconds),
    }
    return render(request, "console/stats.html", context, viewer=viewer)


def _outcome_words(specs: dict[str, dict[str, Any]]) -> Callable[[str, str], str]:
    """``said(system_id, outcome)``: an outcome by the words its system's spec gives it."""
    parsed = {system_id: spec_or_none(spec) for system_id, spec in specs.items()}

    def said(system_id: str, outcome: str) -> str:
        spec = parsed.get(system_id)
        return outcome if spec is None else outcome_label(spec, outcome)

    return said
