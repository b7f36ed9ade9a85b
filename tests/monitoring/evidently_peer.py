"""Run in Evidently's own venv: read cases as JSON on stdin, print Evidently's drift scores.

Each case is ``{"reference": [...], "current": [...], "type": "num" | "cat"}`` (null for a
missing value); the answer per case is ``{"default": name, "<test>": [score, drifted], ...}``.
"""

import json
import sys

import numpy as np
import pandas as pd
from evidently.legacy.calculations import stattests  # type: ignore[import-not-found]
from evidently.legacy.calculations.stattests.registry import (  # type: ignore[import-not-found]
    _get_default_stattest,
)
from evidently.legacy.core import ColumnType  # type: ignore[import-not-found]

TESTS = {
    "ks": stattests.ks_stat_test,
    "wasserstein": stattests.wasserstein_stat_test,
    "jensenshannon": stattests.jensenshannon_stat_test,
    "psi": stattests.psi_stat_test,
    "chisquare": stattests.chi_stat_test,
    "z": stattests.z_stat_test,
}


def main() -> None:
    answers = []
    for case in json.load(sys.stdin):
        column_type = ColumnType.Numerical if case["type"] == "num" else ColumnType.Categorical
        dtype = float if case["type"] == "num" else object
        # As Evidently's data drift does before it tests: infinities are missing, missing dropped.
        reference, current = (
            pd.Series(case[side], dtype=dtype).replace([-np.inf, np.inf], np.nan).dropna()
            for side in ("reference", "current")
        )
        answer = {"default": _get_default_stattest(reference, current, column_type).name}
        for name in case["tests"]:
            result = TESTS[name](reference, current, column_type, None)
            answer[name] = [float(result.drift_score), bool(result.drifted)]
        answers.append(answer)
    json.dump(answers, sys.stdout)


main()
