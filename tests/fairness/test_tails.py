"""The closed-form normal and chi-square tails agree with scipy's to rounding."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import special, stats

from ethica.fairness._intervals import z_value
from ethica.fairness._tails import chi_square_sf, normal_sf


@pytest.mark.parametrize("df", [1, 2, 3, 4, 7, 39, 40, 120])
def test_chi_square_tail_matches_scipy(df: int) -> None:
    x = np.array([0.0, 1e-9, 0.1, 1.0, 3.84, 10.0, 50.0, 200.0, 700.0, 1400.0])
    np.testing.assert_allclose(chi_square_sf(x, df), special.chdtrc(df, x), rtol=1e-11, atol=0)


def test_normal_tail_and_quantile_match_scipy() -> None:
    z = np.array([0.0, 0.5, 1.96, 5.0, 10.0, 30.0])
    np.testing.assert_allclose(normal_sf(z), stats.norm.sf(z), rtol=1e-11, atol=0)
    assert np.isnan(normal_sf(np.array([np.nan]))[0])
    for confidence in (0.8, 0.9, 0.95, 0.99, 0.999):
        assert z_value(confidence) == pytest.approx(stats.norm.ppf(0.5 + confidence / 2), 1e-14)


def test_importing_fairness_loads_neither_scipy_nor_pandas() -> None:
    code = "import sys, ethica.fairness; print('scipy' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_a_binary_audit_without_small_cells_loads_no_scipy() -> None:
    code = (
        "import sys, numpy as np, ethica.fairness as f\n"
        "r = np.random.default_rng(0); n = 4000\n"
        "f.audit(sensitive_features=r.choice(['a', 'b'], n), label=r.integers(0, 2, n),\n"
        "        prediction=r.integers(0, 2, n))\n"
        "print('scipy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
