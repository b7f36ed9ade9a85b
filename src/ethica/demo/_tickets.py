"""Seeded support tickets of the demo bank's customers, with a built-in routing disparity.

Each customer raises one ticket. How urgently it needs a person (``need``) follows one law for
everyone, from the ticket (its issue, how many tickets are open, whether the customer called)
and the customer's relationship with the bank (balance, products held). The recorded tier,
what agents routed the ticket to and a model would learn from, departs from that need in the
districts historically served worse (``NB17``-``NB24``, where most of origin group
``"Origin B"`` lives): their tickets were more often sent to self-service. A routing model that
sees the postcode learns the habit and routes Origin B to self-service more often.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ethica.demo._customers import SEGREGATED_DISTRICTS

#: The service tiers, least to most attention; self-service is adverse for the customer.
TIERS: tuple[str, ...] = ("self-service", "standard", "priority")
ISSUES: tuple[str, ...] = ("card", "payments", "account", "loan", "fraud")
_ISSUE_SHARES = (0.28, 0.27, 0.25, 0.12, 0.08)
_ISSUE_URGENCY = {"card": 0.0, "payments": 0.3, "account": -0.4, "loan": 0.5, "fraud": 2.5}
CHANNELS: tuple[str, ...] = ("app", "email", "phone", "branch")
_CHANNEL_SHARES = (0.45, 0.25, 0.22, 0.08)
#: The ticket's features the routing model receives (with the customer's postcode).
TICKET_FEATURES: tuple[str, ...] = (
    "issue",
    "channel",
    "open_tickets",
    "products_held",
    "balance",
    "postcode_district",
)
#: Extra log-odds of self-service over the other tiers, in the districts served worse.
_SEGREGATED_SELF_SERVICE = 1.3


def generate_tickets(customers: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    """One support ticket per customer, with the tier agents routed it to.

    Parameters
    ----------
    customers
        A frame from :func:`~ethica.demo.generate_customers`.
    seed
        Seed of every random draw.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, the columns of :data:`TICKET_FEATURES`, the protected attributes
        ``sex``, ``age_band`` and ``origin`` (copied from the customer), and ``tier``: the
        recorded routing (one of :data:`TIERS`).
    """
    rng = np.random.default_rng([seed, 1])
    n = len(customers)
    issue = rng.choice(np.array(ISSUES), size=n, p=_ISSUE_SHARES)
    channel = rng.choice(np.array(CHANNELS), size=n, p=_CHANNEL_SHARES)
    open_tickets = np.minimum(rng.poisson(0.6, size=n), 6).astype(np.int64)
    products_held = (1 + np.minimum(rng.poisson(1.2, size=n), 5)).astype(np.int64)
    income = customers["income"].to_numpy(dtype=np.float64)
    balance = np.round(income * rng.lognormal(-1.2, 0.9, size=n), -1).astype(np.int64)
    urgency = np.array([_ISSUE_URGENCY[i] for i in issue])
    need = (
        urgency
        + 0.45 * open_tickets
        + 0.6 * (channel == "phone")
        + 0.25 * (products_held - 2)
        + 0.5 * np.log1p(balance / 5_000.0)
        + rng.logistic(size=n) * 0.8
    )
    segregated = np.isin(customers["postcode_district"].to_numpy(), SEGREGATED_DISTRICTS)
    # Agents' habit: tickets from the districts served worse were sent to self-service.
    recorded = need - _SEGREGATED_SELF_SERVICE * segregated
    tier = np.array(TIERS)[np.digitize(recorded, [0.4, 1.9])]
    return pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy(),
            "issue": issue,
            "channel": channel,
            "open_tickets": open_tickets,
            "products_held": products_held,
            "balance": balance,
            "postcode_district": customers["postcode_district"].to_numpy(),
            "sex": customers["sex"].to_numpy(),
            "age_band": customers["age_band"].to_numpy(),
            "origin": customers["origin"].to_numpy(),
            "tier": tier,
        }
    )
