"""A training summary counts every training row in the bins its windows are counted in.

Drift is tested against these counts: a window counted from the same rows equals them, value
for value, and they survive the summary's JSON form (what a model version stores).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ethica.explain import TrainingSummary
from ethica.governance import parse_spec
from ethica.monitoring._drift import input_drift
from ethica.monitoring._feature_counts import FeatureBins, feature_counts
from ethica.monitoring._training import NUMERIC_BINS, counted, reference_of
from ethica.monitoring._windows import WINDOW

SPEC = {
    "id": "credit",
    "name": "Credit",
    "purpose": "finance",
    "legal_basis": "contract",
    "risk_tier": "high",
    "owner": "risk@bank.example",
    "decision": {"kind": "binary", "threshold": 0.5},
    "features": [
        {"name": "income", "type": "number", "data_category": "user.financial"},
        {"name": "credits", "type": "integer", "data_category": "user.financial"},
        {
            "name": "district",
            "type": "category",
            "categories": ["a", "b", "c"],
            "data_category": "user.contact.address.postal_code",
        },
        {"name": "owner", "type": "boolean", "data_category": "user.financial"},
    ],
}


def _frame(n: int = 5000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10, 0.5, n)
    income[rng.uniform(size=n) < 0.02] = np.nan  # not always known
    return pd.DataFrame(
        {
            "income": income,
            "credits": rng.integers(0, 6, n),
            "district": pd.Categorical(
                rng.choice(["a", "b", "c", None], n), categories=list("abc")
            ),
            "owner": rng.uniform(size=n) < 0.4,
        }
    )


def test_every_training_row_is_counted_in_the_bins_its_windows_use() -> None:
    frame = _frame()
    spec = parse_spec(SPEC)
    summary = TrainingSummary.from_training(frame, frame["credits"] > 2, spec=spec)
    stored = json.loads(json.dumps(summary.to_dict()))  # as a model version keeps it
    reference = reference_of(
        TrainingSummary.from_dict(stored).feature_counts, [f.name for f in spec.features]
    )
    assert reference is not None and not reference.sampled
    assert set(reference.bins) == {"income", "credits", "district", "owner"}
    low, high = summary.ranges["income"]
    assert reference.bins["income"] == FeatureBins("numeric", low, high, NUMERIC_BINS)
    assert reference.reference["income"].missing == int(frame["income"].isna().sum()) > 0
    assert reference.reference["district"].missing == int(frame["district"].isna().sum()) > 0
    # Every row, not the summary's sample of 200.
    for name, distribution in reference.reference.items():
        assert distribution.total + distribution.missing == len(frame), name
    assert dict(
        zip(reference.reference["owner"].values, reference.reference["owner"].counts, strict=True)
    ) == {"false": int((~frame["owner"]).sum()), "true": int(frame["owner"].sum())}
    # The same rows counted as one window of the log give the same cells, bit for bit ...
    log = frame.assign(**{WINDOW: 0, "owner": frame["owner"].map({True: "true", False: "false"})})
    log["district"] = log["district"].astype(object)
    from ethica.engines import get_engine

    windows = feature_counts(log, reference.bins, get_engine("memory"))
    for name, trained in reference.reference.items():
        counted_again = windows[name][0]
        np.testing.assert_array_equal(counted_again.values, trained.values)
        np.testing.assert_array_equal(counted_again.counts, trained.counts)
        assert counted_again.missing == trained.missing
        # ... so a window of the training rows has not drifted at all.
        result = input_drift(name, trained, counted_again)
        assert result is not None and result.score == 0.0 and not result.drifted


def test_the_gateways_values_are_counted_as_the_training_frame_is() -> None:
    """Booleans as ``true``/``false``, categories as their labels, None as missing."""
    frame = _frame(300)
    spec = parse_spec(SPEC)
    summary = TrainingSummary.from_training(frame, frame["credits"] > 2, spec=spec)
    reference = reference_of(summary.feature_counts, ["owner", "district"])
    assert reference is not None
    sent = {
        "owner": [bool(v) for v in frame["owner"]],
        "district": [None if pd.isna(v) else str(v) for v in frame["district"]],
    }
    for name, values in sent.items():
        again = counted(values, reference.bins[name])
        np.testing.assert_array_equal(again.values, reference.reference[name].values)
        np.testing.assert_array_equal(again.counts, reference.reference[name].counts)
        assert again.missing == reference.reference[name].missing
