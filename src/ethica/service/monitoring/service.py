"""Building a system's daily windows from its decision log, and reading them back.

``run_monitor`` counts each whole day not yet counted (in the database on PostgreSQL, through
the live audit's one query) and rebuilds the ``outcomes`` part of a day only when outcomes of
its decisions were recorded after it was built. A binary system's days also keep a ``scores``
part (its scored decisions by score bin), from which performance is estimated while outcomes
are late. Reports read the stored windows only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ethica.fairness import CountTable, ScoreBins
from ethica.governance import BinaryDecision, parse_spec
from ethica.ledger import KeyRing
from ethica.monitoring._alerts import Alert, default_rules
from ethica.monitoring._distribution import Distribution
from ethica.monitoring._report import MonitoringReport, monitoring_report, span_alerts
from ethica.monitoring._training import distributions_of
from ethica.monitoring._windows import WindowCounts, table_from_dict, window_start
from ethica.service.db import new_id
from ethica.service.decisions.live_audit import live_count_table
from ethica.service.decisions.record import PENDING
from ethica.service.decisions.tables import Decision
from ethica.service.ledger.store import SqlKeyStore
from ethica.service.monitoring.features import day_features, feature_reference
from ethica.service.monitoring.tables import MonitoringWindow
from ethica.service.systems.service import get_system
from ethica.service.systems.tables import System

DAY = timedelta(days=1)
PARTS = ("decisions", "outcomes")
#: The part holding each input feature's counts (see :mod:`ethica.service.monitoring.features`).
FEATURES = "features"
#: How a binary system's scores are counted per day (fixed, so days merge).
SCORE_BINS = ScoreBins("equal_width", 0.0, 1.0, 20)


@dataclass(frozen=True)
class MonitorRun:
    """What one run did: the days it counted and the days whose outcomes it recounted."""

    system_id: str
    built: list[datetime] = field(default_factory=list)
    refreshed: list[datetime] = field(default_factory=list)


def run_monitor(
    session: Session,
    *,
    system_id: str,
    database_url: str,
    master_key: bytes,
    until: datetime,
    now: datetime,
) -> MonitorRun:
    """Count every whole day before ``until`` not counted yet; recount late outcomes' days."""
    run = MonitorRun(system_id)
    first = session.scalar(select(func.min(Decision.created_at)).where(*_counted(system_id)))
    if first is None:
        return run
    stored = _stored(session, system_id)
    last = window_start(until)
    day = window_start(first)
    counting = _Counting(session, system_id, database_url, master_key, now)
    while day < last:
        if (day, "decisions") not in stored:
            for part in counting.parts:
                counting.store(day, part, stored.get((day, part)))
            run.built.append(day)
        elif FEATURES in counting.parts and (day, FEATURES) not in stored:
            counting.store(day, FEATURES, None)  # a day counted before features were
        day += DAY
    for day in _late_outcome_days(session, system_id, stored):
        if day < last and day not in run.built:
            counting.store(day, "outcomes", stored.get((day, "outcomes")))
            run.refreshed.append(day)
    session.flush()
    return run


def load_windows(
    session: Session,
    *,
    system_id: str,
    since: datetime | None = None,
    until: datetime | None = None,
    parts: tuple[str, ...] = PARTS,
) -> dict[datetime, WindowCounts]:
    """The stored windows of a system between ``since`` and ``until``, as count tables.

    One query reads every window of the period; ``parts`` leaves out the part a reader does
    not need (the report reads the decisions only), so its counts are neither sent nor parsed.
    """
    query = select(MonitoringWindow).where(
        MonitoringWindow.system_id == system_id, MonitoringWindow.part.in_(parts)
    )
    if since is not None:
        query = query.where(MonitoringWindow.start >= since)
    if until is not None:
        query = query.where(MonitoringWindow.start < until)
    by_start: dict[datetime, dict[str, CountTable | None]] = defaultdict(dict)
    features: dict[datetime, dict[str, Distribution]] = {}
    for window in session.scalars(query.order_by(MonitoringWindow.start)):
        start = window.start.astimezone(UTC)
        if window.part == FEATURES:
            features[start] = {} if window.table is None else distributions_of(window.table)
            continue
        stored = None if window.table is None else table_from_dict(window.table)
        by_start[start][window.part] = stored
    return {
        start: WindowCounts(
            start,
            tables.get("decisions"),
            tables.get("outcomes"),
            features=features.get(start, {}),
            scores=tables.get("scores"),
        )
        for start, tables in by_start.items()
    }


class _Counting:
    def __init__(
        self, session: Session, system_id: str, database_url: str, master_key: bytes, now: datetime
    ) -> None:
        self.session = session
        self.system_id = system_id
        self.database_url = database_url
        self.master_key = master_key
        self.now = now
        decision = parse_spec(get_system(session, system_id=system_id).spec).decision
        # Outcomes are read as favourable or not only where the system says which is which.
        self.outcomes_known = not isinstance(decision, BinaryDecision) or (
            decision.favourable_truth is not None
        )
        # A day may see one outcome only (every decision approved, every outcome repaid).
        binary = isinstance(decision, BinaryDecision)
        self.table_options: dict[str, Any] = {"options": {"window": True}} if binary else {}
        self.parts = (*PARTS, "scores") if binary else PARTS
        system = get_system(session, system_id=system_id)
        self.reference = feature_reference(session, system)
        if self.reference is not None:
            self.parts = (*self.parts, FEATURES)
            self.keyring = KeyRing(master_key, store=SqlKeyStore(session))

    def store(self, day: datetime, part: str, existing: MonitoringWindow | None) -> None:
        window = existing or MonitoringWindow(
            id=new_id(), system_id=self.system_id, start=day, part=part
        )
        if part == FEATURES:
            window.table, window.rows = self._features(day)
        else:
            table = self._count(day, part)
            window.rows = 0 if table is None else table.rows
            window.table = None if table is None else {**table.to_dict(), "options": table.options}
        window.built_at = self.now
        if existing is None:
            self.session.add(window)

    def _features(self, day: datetime) -> tuple[dict[str, Any] | None, int]:
        assert self.reference is not None
        conditions = [*_counted(self.system_id), Decision.created_at >= day]
        conditions += [Decision.created_at < day + DAY, Decision.subject_id.is_not(None)]
        query = select(Decision.ledger_chain, Decision.ledger_sequence).where(*conditions)
        places = [(chain, sequence) for chain, sequence in self.session.execute(query)]
        return day_features(self.session, self.keyring, places, self.reference)

    def _count(self, day: datetime, part: str) -> CountTable | None:
        with_outcomes = part == "outcomes"
        if with_outcomes and not self.outcomes_known:
            return None
        conditions = [*_counted(self.system_id), Decision.created_at >= day]
        conditions.append(Decision.created_at < day + DAY)
        if with_outcomes:
            conditions.append(Decision.true_outcome.is_not(None))
        if part == "scores":
            conditions.append(Decision.score.is_not(None))
        if not self.session.scalar(select(func.count()).select_from(Decision).where(*conditions)):
            return None
        return live_count_table(
            self.session,
            database_url=self.database_url,
            system_id=self.system_id,
            master_key=self.master_key,
            since=day,
            until=day + DAY,
            with_outcomes=with_outcomes,
            table_options={**self.table_options, "score_bins": SCORE_BINS}
            if part == "scores"
            else self.table_options,
            with_scores=part == "scores",
        )


def _counted(system_id: str) -> list[Any]:
    """Decisions a live audit counts: the system's own, neither seeded nor still pending."""
    return [
        Decision.system_id == system_id,
        Decision.seeded.is_(False),
        Decision.outcome != PENDING,
    ]


def _stored(session: Session, system_id: str) -> dict[tuple[datetime, str], MonitoringWindow]:
    windows = session.scalars(
        select(MonitoringWindow).where(MonitoringWindow.system_id == system_id)
    )
    return {(w.start.astimezone(UTC), w.part): w for w in windows}


def _late_outcome_days(
    session: Session, system_id: str, stored: dict[tuple[datetime, str], MonitoringWindow]
) -> list[datetime]:
    """Days holding a decision whose outcome was recorded after the day was counted."""
    built = {start: w.built_at for (start, part), w in stored.items() if part == "outcomes"}
    if not built:
        return []
    rows = session.execute(
        select(Decision.created_at, Decision.outcome_recorded_at).where(
            *_counted(system_id),
            Decision.outcome_recorded_at.is_not(None),
            Decision.outcome_recorded_at > min(built.values()),
        )
    )
    late = set()
    for created_at, recorded_at in rows:
        day = window_start(created_at)
        if day in built and recorded_at is not None and recorded_at > built[day]:
            late.add(day)
    return sorted(late)


def system_report(
    session: Session, *, system_id: str, since: datetime | None, until: datetime | None = None
) -> MonitoringReport:
    """The monitoring report of a system from its stored windows, with its default rules."""
    system, features, windows, reference = _report_inputs(session, system_id, since, until)
    return monitoring_report(
        system_id,
        windows,
        sensitive_features=features,
        rules=default_rules(system.risk_tier, features),
        reference=reference,
    )


def system_alerts(
    session: Session, *, system_id: str, since: datetime | None, until: datetime | None = None
) -> list[Alert]:
    """The alerts of :func:`system_report`, without its daily trends (a pass needs these only)."""
    system, features, windows, reference = _report_inputs(session, system_id, since, until)
    return span_alerts(
        windows,
        sensitive_features=features,
        rules=default_rules(system.risk_tier, features),
        reference=reference,
    )


def _report_inputs(
    session: Session, system_id: str, since: datetime | None, until: datetime | None
) -> tuple[System, list[str], dict[datetime, WindowCounts], dict[str, Distribution]]:
    """The system, its groupings, its stored windows and the reference drift is tested against.

    Input drift is tested against the counts of every training row only: a summary that kept
    only its background sample (a few hundred rows) would call its own sampling noise drift.
    """
    system = get_system(session, system_id=system_id)
    features = [p.name for p in parse_spec(system.spec).protected_attributes]
    trained = feature_reference(session, system)
    reference = {} if trained is None or trained.sampled else trained.reference
    parts = ("decisions", FEATURES) if reference else ("decisions",)
    windows = load_windows(session, system_id=system_id, since=since, until=until, parts=parts)
    return system, features, windows, reference
