"""The credit-limit system's last 120 days, replayed through the gateway, for monitoring to watch.

Before the demo's present, :func:`replay_history` sends 120 days of credit-limit requests
through the real decision path (consent, minimization, the LightGBM model, explanation,
oversight, ledger), dated by a replay clock, one day after the other; a monitoring pass runs
after each week, as the service's schedule would have. Two changes are planted:

- **Week 9 (day 56): input drift.** A branch opens in districts NB17-NB24: from then on a
  share of the applicants live there, and the model's postcode effect lowers their scores.
  The input-drift rule reads two weeks against the training data: the pass after week 9 (half
  its span moved) raises the alert for the postcode district, and no pass before it raises one.
- **Week 12 (day 77): a disparity that opens for one intersection.** A buy-now-pay-later plan
  popular with women under 45 starts to count as debt: their debt-to-income ratio rises while
  whether they repay does not change, so the model declines more of them.

A demo reviewer confirms each day's held decisions (declined requests of this high-risk system
go to a person) right after the day, so the queue holds only the present's cases. Outcomes
(repaid or defaulted) arrive 60 days after the decision: those known by now are
recorded after the replay (as late outcomes, which recount only their days' windows). The
decisions are dated in the past; their ledger entries, reviews and outcomes are written now.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from ethica.demo._bank_people import plain, protected_text
from ethica.demo._customers import SEGREGATED_DISTRICTS, generate_customers
from ethica.demo._systems import CREDIT_LIMIT, bank_specs

HISTORY_DAYS = 120
#: Credit-limit requests per replayed day: the input-drift rule's two weeks then hold over a
#: thousand decisions, enough for its distances to rise above chance (see DRIFT_MIN_COUNT).
PER_DAY = 80
DRIFT_DAY = 56  # the first day of week 9
DISPARITY_DAY = 77  # the first day of week 12
OUTCOME_LAG_DAYS = 60
#: Share of the applicants who live in the new branch's districts from the drift day on.
NEW_BRANCH_SHARE = 0.4
#: How much the plan adds to the debt-to-income ratio of women under 45 from the disparity day on.
ADDED_DEBT_TO_INCOME = 0.5
PLAN_AGE_BANDS = ("18-24", "25-34", "35-44")
_PROTECTED = ("sex", "age_band", "origin")


@dataclass(frozen=True)
class History:
    """What :func:`replay_history` did."""

    first_day: datetime
    decisions: int
    outcomes: int
    alerts: int


class ReplayClock:
    """Dates the decisions of one replayed day, evenly spread over the day."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = datetime.now(UTC)
        self._step = timedelta(0)

    def start_day(self, day: datetime, decisions: int) -> None:
        """Date the next ``decisions`` decisions within ``day``."""
        with self._lock:
            self._step = timedelta(seconds=86_400 / max(decisions, 1))
            self._next = day + self._step / 2

    def __call__(self) -> datetime:
        with self._lock:
            now, self._next = self._next, self._next + self._step
            return now


def history_applicants(
    *, days: int = HISTORY_DAYS, per_day: int = PER_DAY, seed: int = 0
) -> pd.DataFrame:
    """Return the replayed applicants, ``per_day`` a day, with the planted drift and disparity.

    Columns: those of :func:`~ethica.demo.generate_customers` (ids start with ``H``) and
    ``day``, the replayed day (0 = the first).
    """
    people = generate_customers(days * per_day, seed=seed + 1)
    rng = np.random.default_rng(seed + 1)
    people["customer_id"] = [f"H{i:06d}" for i in range(len(people))]
    people["day"] = np.repeat(np.arange(days), per_day)
    moved = (people["day"] >= DRIFT_DAY).to_numpy() & (
        rng.uniform(size=len(people)) < NEW_BRANCH_SHARE
    )
    people.loc[moved, "postcode_district"] = rng.choice(SEGREGATED_DISTRICTS, int(moved.sum()))
    planned = (
        (people["day"] >= DISPARITY_DAY)
        & (people["sex"] == "Female")
        & people["age_band"].isin(PLAN_AGE_BANDS)
    )
    people.loc[planned, "debt_to_income"] = np.minimum(
        people.loc[planned, "debt_to_income"] + ADDED_DEBT_TO_INCOME, 0.95
    )
    return people


def replay_history(
    state: Any,
    *,
    now: datetime,
    reviewer_id: str,
    days: int = HISTORY_DAYS,
    per_day: int = PER_DAY,
    seed: int = 0,
) -> History:
    """Replay ``days`` days of credit-limit requests ending yesterday; monitor after each week.

    ``reviewer_id`` (a reviewer's user id) confirms the decisions held for a person.
    """
    from ethica.service.consent.hook import SqlConsentHook
    from ethica.service.decisions.gateway import Gateway
    from ethica.service.decisions.schemas import DecisionCreate

    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    first = today - timedelta(days=days)
    people = history_applicants(days=days, per_day=per_day, seed=seed)
    features = [f.name for f in bank_specs()[CREDIT_LIMIT].features]
    clock = ReplayClock()
    gateway = Gateway(
        state.sessions,
        state.settings,
        seed=seed,
        consent=SqlConsentHook(state.sessions),
        writer=state.writer,
        clock=clock,
    )
    made: list[Any] = []
    alerts = 0
    try:
        for day, applicants in people.groupby("day", sort=True):
            start = first + timedelta(days=int(str(day)))
            clock.start_day(start, len(applicants))
            futures = [
                gateway.submit(
                    CREDIT_LIMIT,
                    DecisionCreate(
                        subject_id=row["customer_id"],
                        features={name: plain(row[name]) for name in features},
                        protected={name: protected_text(row[name]) for name in _PROTECTED},
                    ),
                )
                for row in applicants.to_dict("records")
            ]
            decided = [future.result() for future in futures]
            _confirm_held(state, decided, reviewer_id=reviewer_id)
            made += decided
            if (int(str(day)) + 1) % 7 == 0:
                alerts += _monitor(state, until=start + timedelta(days=1), now=start)
    finally:
        gateway.close()
    outcomes = _late_outcomes(
        state, made, people, known_before=today - timedelta(days=OUTCOME_LAG_DAYS)
    )
    alerts += _monitor(state, until=today, now=now)
    return History(first, len(made), outcomes, alerts)


def _monitor(state: Any, *, until: datetime, now: datetime) -> int:
    """One monitoring pass over the credit system, as the schedule runs it; alerts raised."""
    from ethica.fairness import MissingGroupWarning
    from ethica.service.monitoring.job import monitor_system

    with warnings.catch_warnings():
        # Origin is not always disclosed: the windows count those customers as "missing".
        warnings.simplefilter("ignore", MissingGroupWarning)
        done = state.writer.run(
            partial(
                monitor_system,
                system_id=CREDIT_LIMIT,
                database_url=state.settings.database.url,
                master_key=state.settings.ledger.master_key_bytes,
                until=until,
                now=now,
            )
        )
    return len(done.raised)


def _confirm_held(state: Any, made: list[Any], *, reviewer_id: str) -> None:
    """Have the reviewer confirm each decision of the day that waits for a person."""
    from ethica.service.reviews.schemas import ReviewDecisionCreate
    from ethica.service.reviews.service import claim, decide

    held = [d for d in made if not d.final and d.scored_by == "model"]
    confirm = ReviewDecisionCreate(action="confirm")

    def job(batch: Any) -> None:
        for decision in held:
            claim(batch.session, decision_id=decision.id, reviewer_id=reviewer_id)
            decide(batch, decision_id=decision.id, reviewer_id=reviewer_id, body=confirm)

    if held:
        state.writer.run(job)


def _late_outcomes(
    state: Any, made: list[Any], people: pd.DataFrame, *, known_before: datetime
) -> int:
    """Record whether each applicant repaid, for the decisions at least 60 days old."""
    from ethica.service.decisions.service import record_outcome

    repaid = people.set_index("customer_id")["repaid"]
    due = [d for d in made if d.scored_by == "model" and d.created_at < known_before]

    def job(batch: Any) -> None:
        for decision in due:
            outcome = "repaid" if repaid.at[decision.subject_id] == 1 else "defaulted"
            record_outcome(batch, decision_id=decision.id, outcome=outcome)

    state.writer.run(job)
    return len(due)
