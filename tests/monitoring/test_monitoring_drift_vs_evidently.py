"""Our drift scores, verdicts and default tests equal Evidently's, run in its own venv.

Evidently pins versions of pandas and pydantic that differ from ours, so it lives in a venv of
its own (``ETHICA_EVIDENTLY_PYTHON``, default ``.venv-peers/evidently``, made by ``make
peer-venvs``, which CI runs); the test is skipped, saying so, where that venv does not exist.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ethica.monitoring import TESTS, Distribution, FeatureType, drift

_DEFAULT_PEER = Path(__file__).resolve().parents[2] / ".venv-peers/evidently/bin/python"
PEER_PYTHON = Path(os.environ.get("ETHICA_EVIDENTLY_PYTHON", str(_DEFAULT_PEER)))
PEER_SCRIPT = Path(__file__).with_name("evidently_peer.py")

pytestmark = [
    pytest.mark.slow,  # Evidently alone takes ~15 s to import
    pytest.mark.skipif(not PEER_PYTHON.exists(), reason=f"no Evidently venv at {PEER_PYTHON}"),
]


def _cases() -> list[dict[str, Any]]:
    rng = np.random.default_rng(71)
    with_gaps = rng.normal(size=700)
    with_gaps[::9] = np.nan
    numeric = {
        "small": (rng.normal(size=400), rng.normal(0.4, size=300)),
        "large": (rng.normal(size=5000), rng.normal(0.05, 1.1, size=4000)),
        "ties": (rng.integers(0, 12, 3000) * 1.0, rng.integers(0, 14, 2000) * 1.0),
        "few values": (rng.integers(0, 4, 1500) * 1.0, rng.integers(0, 5, 900) * 1.0),
        "binary small": (rng.integers(0, 2, 500) * 1.0, rng.integers(0, 2, 400) * 1.0),
        "missing": (with_gaps, rng.normal(size=500)),
        "tiny shares": (rng.normal(size=30_000), np.r_[rng.normal(size=20), 40.0]),
    }
    letters = list("abcdef")
    categorical = {
        "small": (rng.choice(letters, 800), rng.choice(letters, 600)),
        "large unseen": (rng.choice(letters[:4], 3000), rng.choice(letters, 2000)),
        "binary": (rng.choice(["n", "y"], 900, p=[0.6, 0.4]), rng.choice(["n", "y"], 700)),
    }
    cases = []
    for name, (reference, current) in numeric.items():
        cases.append(
            {
                "name": f"numeric {name}",
                "type": "num",
                "reference": [None if math.isnan(v) else v for v in reference.tolist()],
                "current": current.tolist(),
                "tests": ["ks", "wasserstein", "jensenshannon", "psi"],
            }
        )
    for name, (reference, current) in categorical.items():
        tests = ["jensenshannon", "psi", "chisquare"] + (["z"] if name == "binary" else [])
        cases.append(
            {
                "name": f"categorical {name}",
                "type": "cat",
                "reference": reference.tolist(),
                "current": current.tolist(),
                "tests": tests,
            }
        )
    return cases


@pytest.fixture(scope="module")
def evidently_answers() -> list[dict[str, Any]]:
    cases = _cases()
    completed = subprocess.run(
        [str(PEER_PYTHON), str(PEER_SCRIPT)],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    answers: list[dict[str, Any]] = json.loads(completed.stdout)
    return answers


def test_scores_verdicts_and_defaults_equal_evidentlys(
    evidently_answers: list[dict[str, Any]],
) -> None:
    compared = 0
    for case, answer in zip(_cases(), evidently_answers, strict=True):
        feature_type: FeatureType = "numeric" if case["type"] == "num" else "categorical"
        reference = Distribution.of(
            np.array(case["reference"], dtype=float if feature_type == "numeric" else object),
            feature_type,
        )
        current = Distribution.of(np.array(case["current"]), feature_type)
        default = drift(case["name"], reference, current).test
        assert default == answer["default"], case["name"]
        for test in case["tests"]:
            ours = drift(case["name"], reference, current, test=test)
            theirs, drifted = answer[test]
            assert abs(ours.score - theirs) <= 1e-9 * max(1.0, abs(theirs)), (case["name"], test)
            assert ours.drifted == drifted, (case["name"], test)
            compared += 1
    assert compared == sum(len(case["tests"]) for case in _cases())
    assert set(TESTS) == {"ks", "wasserstein", "jensenshannon", "psi", "chisquare", "z"}
