"""The dashboard's gap intervals are at the corrected level, so they agree with "significant"."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ethica.fairness import audit
from ethica.service.web.dashboard.fairness import snapshot


def test_each_gap_shows_the_interval_its_corrected_test_judges() -> None:
    rng = np.random.default_rng(7)
    n = 6_000
    group = rng.choice([f"g{i}" for i in range(8)], size=n)
    # Gaps of every size, so some are significant only before the correction.
    rate = 0.5 + 0.02 * (pd.Series(group).str[1].astype(int).to_numpy() - 4)
    frame = pd.DataFrame(
        {
            "region": group,
            "prediction": (rng.random(n) < rate).astype(int),
            "label": rng.integers(0, 2, n),
        }
    )
    result = audit(
        frame, sensitive_features=["region"], label="label", prediction="prediction", pos_label=1
    )
    comparisons = result.comparisons.set_index(["grouping", "metric", "group"])
    shown = snapshot(result, id_prefix="t")
    checked = 0
    for table in shown.tables:
        for gap in table.groups:
            row = comparisons.loc[(table.grouping, table.metric, gap.group)]
            if gap.status in ("comparison group", "not assessed (small group)"):
                continue
            assert gap.difference_low == row["corrected_difference_low"]
            assert gap.difference_high == row["corrected_difference_high"]
            assert row["corrected_confidence"] > 0.95  # wider than the uncorrected 95 %
            excludes_zero = gap.difference_low > 0 or gap.difference_high < 0
            if gap.status == "material and significant" and bool(row["interval_agrees"]):
                assert excludes_zero
            assert gap.difference_low != row["difference_low"]  # not the uncorrected interval
            checked += 1
    assert checked >= 8
