"""120 days of the bank's credit decisions with two planted problems, for monitoring to find.

- From week 9 (day 56) applications come from other postcode districts (input drift).
- From week 12 (day 77) young women are approved less often at the same score (a disparity
  that opens for one intersection only).
- Outcomes (repaid or not) arrive 60 days after the decision.

Scores are calibrated: an applicant with score ``p`` repays with probability ``p``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

START = datetime(2026, 8, 3, tzinfo=UTC)  # a Monday
DAYS = 120
DRIFT_DAY = 56  # the first day of week 9
DISPARITY_DAY = 77  # the first day of week 12
OUTCOME_LAG_DAYS = 60
DISTRICTS = ["N1", "N2", "E1", "E2", "S1", "S2", "W1", "W2"]
BEFORE = [0.2, 0.2, 0.15, 0.15, 0.1, 0.1, 0.05, 0.05]
AFTER = [0.05, 0.05, 0.1, 0.1, 0.15, 0.15, 0.2, 0.2]


def monitoring_history(*, per_day: int = 600, seed: int = 12) -> pd.DataFrame:
    """One row per decision: when, who (protected attributes apart), score, decision, outcome.

    ``repaid`` is the outcome that will be known; ``outcome_known_at`` says from when.
    """
    rng = np.random.default_rng(seed)
    n = DAYS * per_day
    day = np.repeat(np.arange(DAYS), per_day)
    seconds = day * 86_400 + rng.integers(0, 86_400, n)
    at = pd.to_datetime(START) + pd.to_timedelta(seconds, unit="s")
    sex = rng.choice(["female", "male"], n)
    age_band = rng.choice(["18-30", "31-50", "51+"], n, p=[0.3, 0.45, 0.25])
    shifted = day >= DRIFT_DAY
    district = np.where(
        shifted, rng.choice(DISTRICTS, n, p=AFTER), rng.choice(DISTRICTS, n, p=BEFORE)
    )
    income = np.round(rng.lognormal(10.4, 0.4, n), -2)
    score = np.clip(rng.beta(4, 3, n), 0.001, 0.999)
    young_women = (sex == "female") & (age_band == "18-30")
    threshold = np.where(young_women & (day >= DISPARITY_DAY), 0.65, 0.5)
    approved = (score >= threshold).astype(np.int8)
    repaid = (rng.uniform(size=n) < score).astype(np.int8)
    return pd.DataFrame(
        {
            "at": at,
            "sex": sex,
            "age_band": age_band,
            "postcode_district": district,
            "income": income,
            "score": score,
            "approved": approved,
            "repaid": repaid,
            "outcome_known_at": at + pd.Timedelta(days=OUTCOME_LAG_DAYS),
        }
    )


def as_of(history: pd.DataFrame, moment: datetime) -> pd.DataFrame:
    """Return the log as it stands at ``moment``: outcomes not yet known are missing."""
    known = history["outcome_known_at"] <= pd.Timestamp(moment)
    seen = history.loc[history["at"] < pd.Timestamp(moment)].copy()
    seen["repaid"] = history["repaid"].where(known).astype("Float64")
    return seen.drop(columns="outcome_known_at")
