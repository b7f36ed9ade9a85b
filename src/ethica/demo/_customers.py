"""Seeded synthetic bank customers in which two real-world mechanisms produce a disparity.

The data is synthetic and made to show how an audit finds gaps; nothing in it describes a real
population. The customers live in the fictional city of Northbridge (postcode districts
``NB1`` to ``NB24``). Their finances (income, debt-to-income ratio, credit history, employment,
housing, savings) are drawn the same way for every sex and origin group and in every district,
and whether they would truly repay (``repaid_latent``) follows one law for everyone, from those
finances alone. Two mechanisms, both documented in real lending, then make the *recorded*
outcome (``repaid``, what a bank would train on) unfair:

1. **A proxy through residential segregation.** Most members of origin group ``"Origin B"``
   live in districts ``NB17``-``NB24``, where few other customers live. Those districts were
   historically served on worse terms (dearer credit, earlier default notices), so their
   recorded repayment history is worse than their customers' finances warrant. A model never
   shown origin learns a postcode effect that falls mostly on Origin B.
2. **Unequal label quality.** For Origin B, repayments are more often mis-recorded as defaults
   (records that fail to match names transliterated in several ways, payments through channels
   the ledger does not reconcile). A model that cannot see origin puts these false defaults
   down to where the group lives, which deepens the postcode effect: it under-approves the
   group's creditworthy members (and everyone else in those districts).

Sex, age band and origin are collected for fairness monitoring only. Origin is missing for about
7% of customers (not disclosed), at random. Origin group names are abstract on purpose: the
disparity is planted, and must not be read as a claim about any real group. Everything is
deterministic for a seed; the city (districts and their segregation) is the same for every seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ethica.errors import InputError

FloatArray = npt.NDArray[np.float64]

#: The model's inputs: what the bank knows about a customer's finances and where they live.
FEATURES: tuple[str, ...] = (
    "income",
    "debt_to_income",
    "months_since_opened",
    "existing_credits",
    "late_payments_2y",
    "employment",
    "housing",
    "savings",
    "postcode_district",
)
#: Features that are categories rather than numbers.
CATEGORICAL_FEATURES: tuple[str, ...] = ("employment", "housing", "savings", "postcode_district")
#: Collected to audit the decisions, never given to the model.
PROTECTED_ATTRIBUTES: tuple[str, ...] = ("sex", "age_band", "origin")
#: The origin group both mechanisms work against.
AFFECTED_ORIGIN = "Origin B"
DISTRICTS: tuple[str, ...] = tuple(f"NB{i}" for i in range(1, 25))
#: Districts historically served on worse terms, where Origin B mostly lives.
SEGREGATED_DISTRICTS: tuple[str, ...] = DISTRICTS[16:]

SEXES = ("Female", "Male")
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
_AGE_BAND_SHARES = (0.11, 0.19, 0.19, 0.18, 0.16, 0.17)
_AGE_BAND_LIMITS = ((18, 25), (25, 35), (35, 45), (45, 55), (55, 65), (65, 86))
ORIGINS = ("Origin A", "Origin B", "Origin C", "Origin D")
_ORIGIN_SHARES = (0.68, 0.16, 0.10, 0.06)
#: Share of each origin group living in the segregated districts.
_SEGREGATED_SHARE = {"Origin A": 0.10, "Origin B": 0.75, "Origin C": 0.30, "Origin D": 0.15}
_ORIGIN_NOT_DISCLOSED = 0.07

EMPLOYMENTS = ("employed", "self-employed", "part-time", "student", "unemployed", "retired")
#: Employment shares per age band (rows follow AGE_BANDS, columns EMPLOYMENTS).
_EMPLOYMENT_BY_AGE = np.array(
    [
        [0.55, 0.03, 0.15, 0.22, 0.05, 0.00],
        [0.73, 0.10, 0.09, 0.03, 0.05, 0.00],
        [0.74, 0.13, 0.09, 0.00, 0.04, 0.00],
        [0.72, 0.14, 0.09, 0.00, 0.05, 0.00],
        [0.60, 0.13, 0.10, 0.00, 0.05, 0.12],
        [0.08, 0.05, 0.05, 0.00, 0.00, 0.82],
    ]
)
_MEDIAN_INCOME = {
    "employed": 34_000.0,
    "self-employed": 36_000.0,
    "part-time": 17_000.0,
    "student": 8_000.0,
    "unemployed": 9_000.0,
    "retired": 21_000.0,
}
_INCOME_BY_AGE = (0.70, 0.95, 1.10, 1.15, 1.05, 1.00)
HOUSINGS = ("own", "mortgage", "rent", "with family")
_HOUSING_BY_AGE = np.array(
    [
        [0.02, 0.08, 0.45, 0.45],
        [0.05, 0.33, 0.50, 0.12],
        [0.10, 0.55, 0.32, 0.03],
        [0.16, 0.55, 0.26, 0.03],
        [0.36, 0.40, 0.22, 0.02],
        [0.68, 0.10, 0.20, 0.02],
    ]
)
SAVINGS = ("none", "under 1k", "1k-10k", "over 10k")

# Log-odds of truly repaying; the same law for every customer.
_INTERCEPT = 1.75
_EMPLOYMENT_EFFECT = {
    "employed": 0.0,
    "self-employed": -0.15,
    "part-time": -0.1,
    "student": -0.3,
    "unemployed": -0.6,
    "retired": 0.0,
}
_HOUSING_EFFECT = {"own": 0.25, "mortgage": 0.1, "rent": -0.1, "with family": 0.0}
_SAVINGS_EFFECT = {"none": -0.5, "under 1k": -0.2, "1k-10k": 0.2, "over 10k": 0.5}

# How the recorded outcome departs from the true one.
_MISRECORDED_DEFAULT = 0.02  # anyone's repayment recorded as a default
_SEGREGATED_DISTRICT_DEFAULT = 0.10  # extra, in the districts historically served worse
_AFFECTED_ORIGIN_DEFAULT = 0.14  # extra, for Origin B wherever they live
_MISRECORDED_REPAYMENT = 0.02  # anyone's default recorded as repaid (written off as settled)


def generate_customers(n: int = 20_000, *, seed: int = 0) -> pd.DataFrame:
    """Synthetic bank customers with their finances, protected attributes and repayment.

    Parameters
    ----------
    n
        Number of customers.
    seed
        Seed of every random draw; the same seed gives the same frame.

    Returns
    -------
    pandas.DataFrame
        One row per customer: ``customer_id``; the features in :data:`FEATURES`; the protected
        attributes ``sex``, ``age_band`` and ``origin`` (missing when not disclosed); ``repaid``,
        the recorded outcome (1 = repaid) a bank would train and audit on; and
        ``repaid_latent``, whether the customer truly repaid, knowable only because the data
        is synthetic.
    """
    if n < 1:
        raise InputError(f"n must be at least 1; got {n}")
    rng = np.random.default_rng(seed)
    sex = rng.choice(np.array(SEXES), size=n)
    band = rng.choice(len(AGE_BANDS), size=n, p=_AGE_BAND_SHARES)
    low, high = np.array(_AGE_BAND_LIMITS).T
    age = rng.integers(low[band], high[band])
    origin = rng.choice(np.array(ORIGINS), size=n, p=_ORIGIN_SHARES)
    district = _districts(origin, rng)

    employment = _choose_rows(_EMPLOYMENT_BY_AGE[band], EMPLOYMENTS, rng)
    income = _income(employment, band, rng)
    debt_to_income = np.round(np.clip(rng.beta(2.0, 5.0, size=n) * 1.1, 0.0, 0.95), 3)
    housing = _choose_rows(_HOUSING_BY_AGE[band], HOUSINGS, rng)
    savings = _savings(income, age, rng)
    history_months = np.minimum((age - 18) * 12, 40 * 12) + 1
    months_since_opened = np.floor(rng.uniform(0.0, 1.0, size=n) * history_months).astype(np.int64)
    existing_credits = np.minimum(
        rng.poisson(0.8 + 1.4 * debt_to_income + 0.5 * (housing == "mortgage")), 10
    ).astype(np.int64)
    late_rate = np.exp(-1.2 + 2.5 * (debt_to_income - 0.3) - 0.4 * np.log(income / 30_000.0))
    late_payments = np.minimum(rng.poisson(late_rate), 12).astype(np.int64)

    log_odds = (
        _INTERCEPT
        + 0.9 * np.log(income / 30_000.0)
        - 4.0 * (debt_to_income - 0.3)
        - 0.55 * late_payments
        - 0.12 * (existing_credits - 1.5)
        + 0.25 * np.minimum(months_since_opened, 120) / 120
        + _effect(employment, _EMPLOYMENT_EFFECT)
        + _effect(housing, _HOUSING_EFFECT)
        + _effect(savings, _SAVINGS_EFFECT)
    )
    repaid_latent = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-log_odds))).astype(np.int64)
    repaid = _recorded(repaid_latent, origin, district, rng)

    disclosed = rng.uniform(size=n) >= _ORIGIN_NOT_DISCLOSED
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:06d}" for i in range(n)],
            "income": income.astype(np.int64),
            "debt_to_income": debt_to_income,
            "months_since_opened": months_since_opened,
            "existing_credits": existing_credits,
            "late_payments_2y": late_payments,
            "employment": employment,
            "housing": housing,
            "savings": savings,
            "postcode_district": district,
            "sex": sex,
            "age_band": np.array(AGE_BANDS)[band],
            "origin": pd.Series(origin).where(disclosed),
            "repaid": repaid,
            "repaid_latent": repaid_latent,
        }
    )
    return frame


def _districts(origin: npt.NDArray[Any], rng: np.random.Generator) -> npt.NDArray[Any]:
    """Postcode districts, segregated by origin; the city's layout is fixed, not seeded."""
    # Uneven district sizes, the same in every run.
    weights = 1.0 + 0.5 * (np.arange(len(DISTRICTS)) % 4)
    others = len(DISTRICTS) - len(SEGREGATED_DISTRICTS)
    district = np.empty(origin.size, dtype=object)
    for group, share in _SEGREGATED_SHARE.items():
        rows = np.flatnonzero(origin == group)
        p = np.concatenate(
            [
                (1.0 - share) * weights[:others] / weights[:others].sum(),
                share * weights[others:] / weights[others:].sum(),
            ]
        )
        district[rows] = rng.choice(np.array(DISTRICTS), size=rows.size, p=p)
    return district.astype(str)


def _choose_rows(
    probabilities: FloatArray, options: tuple[str, ...], rng: np.random.Generator
) -> npt.NDArray[Any]:
    """One option per row, drawn with that row's probabilities."""
    cumulative = np.cumsum(probabilities / probabilities.sum(axis=1, keepdims=True), axis=1)
    draws = rng.uniform(size=(probabilities.shape[0], 1))
    index = np.minimum((draws > cumulative).sum(axis=1), len(options) - 1)
    chosen: npt.NDArray[Any] = np.array(options)[index]
    return chosen


def _income(
    employment: npt.NDArray[Any], band: npt.NDArray[np.int64], rng: np.random.Generator
) -> FloatArray:
    median = _effect(employment, _MEDIAN_INCOME) * np.array(_INCOME_BY_AGE)[band]
    spread = np.where(employment == "self-employed", 0.65, 0.45)
    income = median * np.exp(spread * rng.standard_normal(employment.size))
    rounded: FloatArray = np.round(np.maximum(income, 3_000.0), -2)
    return rounded


def _savings(
    income: FloatArray, age: npt.NDArray[np.int64], rng: np.random.Generator
) -> npt.NDArray[Any]:
    wealth = np.log(income / 30_000.0) + 0.02 * (age - 40) + 0.8 * rng.standard_normal(income.size)
    bands: npt.NDArray[Any] = np.array(SAVINGS)[np.searchsorted([-0.8, 0.0, 1.0], wealth)]
    return bands


def _effect(values: npt.NDArray[Any], effects: dict[str, float]) -> FloatArray:
    return np.array([effects[v] for v in values], dtype=np.float64)


def _recorded(
    repaid_latent: npt.NDArray[np.int64],
    origin: npt.NDArray[Any],
    district: npt.NDArray[Any],
    rng: np.random.Generator,
) -> npt.NDArray[np.int64]:
    """Record the outcome as the bank's books would: the truth, mis-recorded unequally."""
    as_default = (
        _MISRECORDED_DEFAULT
        + _SEGREGATED_DISTRICT_DEFAULT * np.isin(district, SEGREGATED_DISTRICTS)
        + _AFFECTED_ORIGIN_DEFAULT * (origin == AFFECTED_ORIGIN)
    )
    flip = rng.uniform(size=repaid_latent.size)
    recorded = np.where(
        repaid_latent == 1,
        flip >= as_default,
        flip < _MISRECORDED_REPAYMENT,
    )
    return recorded.astype(np.int64)
