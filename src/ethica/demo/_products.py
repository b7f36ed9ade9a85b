"""Seeded product take-up of the demo bank's customers, with a built-in offer disparity.

Which product a customer takes up follows one law for everyone, from their finances and how
they bank. The recorded take-up, what a recommender learns from, also reflects what they were
offered: customers aged 55 and over were rarely offered the investment fund and pressed to buy
insurance instead. A recommender never shown age learns it through what goes with age
(retirement, long-held accounts, fewer app logins) and ranks the investment fund lower for
older customers with the same savings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The products the recommender ranks, in the model's class order.
PRODUCTS: tuple[str, ...] = (
    "savings-account",
    "credit-card",
    "personal-loan",
    "mortgage",
    "investment-fund",
    "insurance",
)
#: The customer's features the recommender receives.
PRODUCT_FEATURES: tuple[str, ...] = (
    "income",
    "savings",
    "housing",
    "employment",
    "months_since_opened",
    "existing_credits",
    "app_logins_month",
)
#: Age bands that were rarely offered the investment fund.
UNDER_OFFERED_AGE_BANDS: tuple[str, ...] = ("55-64", "65+")
_SAVINGS_LEVEL = {"none": 0.0, "under 1k": 1.0, "1k-10k": 2.0, "over 10k": 3.0}


def generate_products(customers: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    """Draw the product each customer took up, and how they bank.

    Parameters
    ----------
    customers
        A frame from :func:`~ethica.demo.generate_customers`.
    seed
        Seed of every random draw.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, the columns of :data:`PRODUCT_FEATURES`, the protected attributes
        ``sex``, ``age_band`` and ``origin``, and ``product``: the product taken up (one of
        :data:`PRODUCTS`).
    """
    rng = np.random.default_rng([seed, 2])
    band = customers["age_band"].to_numpy()
    older = np.isin(band, UNDER_OFFERED_AGE_BANDS)
    young = np.isin(band, ("18-24", "25-34"))
    logins = rng.poisson(np.where(older, 4.0, np.where(young, 14.0, 9.0)))
    income = np.log(customers["income"].to_numpy(dtype=np.float64) / 30_000.0)
    savings = customers["savings"].map(_SAVINGS_LEVEL).to_numpy(dtype=np.float64)
    housing = customers["housing"].to_numpy()
    credits = customers["existing_credits"].to_numpy(dtype=np.float64)
    utility = np.column_stack(
        [
            0.8 - 0.3 * savings,  # savings account: for those who have little put by
            0.2 + 0.6 * income + 0.03 * logins,  # credit card
            -0.4 + 0.3 * credits - 0.2 * savings,  # personal loan
            -0.8 + 1.2 * (housing == "rent") + 0.8 * income,  # mortgage
            -1.6 + 0.9 * savings + 0.3 * income,  # investment fund
            -0.2 + 0.6 * np.isin(housing, ("own", "mortgage")),  # insurance
        ]
    )
    # What they were offered: older customers rarely the fund, often insurance.
    offered = utility.copy()
    offered[:, PRODUCTS.index("investment-fund")] -= 1.8 * older
    offered[:, PRODUCTS.index("insurance")] += 0.7 * older
    taken = np.argmax(offered + rng.gumbel(size=offered.shape), axis=1)
    return pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy(),
            "income": customers["income"].to_numpy(),
            "savings": customers["savings"].to_numpy(),
            "housing": housing,
            "employment": customers["employment"].to_numpy(),
            "months_since_opened": customers["months_since_opened"].to_numpy(),
            "existing_credits": customers["existing_credits"].to_numpy(),
            "app_logins_month": logins.astype(np.int64),
            "sex": customers["sex"].to_numpy(),
            "age_band": band,
            "origin": customers["origin"].to_numpy(),
            "product": np.array(PRODUCTS)[taken],
        }
    )
