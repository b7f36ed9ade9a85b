"""DP synthetic decision logs: the budget ceiling, marginal errors, and OpenDP's MST on Adult."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ethica.cli import app
from ethica.datasets import default_datasets_dir, load_adult
from ethica.errors import InputError
from ethica.privacy import (
    EpsilonCeilingError,
    check_budget,
    marginal_errors,
    synthesize,
    utility_report,
)
from ethica.privacy._synthetic_utility import binned

pytest.importorskip("mbi", reason="the dp extra (opendp[mbi]) is not installed")

DATASETS = default_datasets_dir()
AGE_CUTS = {"age": [25.0, 35.0, 45.0, 55.0, 65.0]}

#: Stated bounds (total variation distance) of a seeded MST release of Adult's age, race, sex and
#: income: the 1-way marginals and the sex x income marginal that the audit reads.
BOUNDS = {
    1.0: {"oneway": 0.02, "sex_income": 0.02, "selection_rate": 0.02},
    10.0: {"oneway": 0.01, "sex_income": 0.01, "selection_rate": 0.01},
}


def test_epsilon_above_the_ceiling_is_refused_before_the_data_is_read() -> None:
    with pytest.raises(EpsilonCeilingError, match="above the configured ceiling of 10"):
        synthesize(pd.DataFrame({"a": ["x"]}), epsilon=11.0)
    with pytest.raises(EpsilonCeilingError, match="ceiling of 2"):
        check_budget(3.0, 0.0, 2.0)
    with pytest.raises(InputError, match="epsilon must be positive"):
        check_budget(0.0, 0.0, 10.0)
    with pytest.raises(InputError, match="delta must be in"):
        check_budget(1.0, 1.0, 10.0)


def test_cli_refuses_epsilon_above_the_configured_ceiling(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    pd.DataFrame({"sex": ["F", "M"], "approved": [1, 0]}).to_csv(log, index=False)
    out = tmp_path / "synthetic.parquet"
    # A low ceiling is a stricter policy; the ceiling is the service's setting, read by the same
    # rules (above 0 and finite).
    for epsilon, ceiling, said in [
        ("3", "2", "above the configured ceiling of 2"),
        ("1", "0", "ETHICA__PRIVACY__MAX_EPSILON: Input should be greater than 0"),
    ]:
        result = CliRunner().invoke(
            app,
            ["synthesize", str(log), "--epsilon", epsilon, "--out", str(out)],
            env={"ETHICA__PRIVACY__MAX_EPSILON": ceiling},
        )
        assert result.exit_code == 2
        assert said in result.output
        assert not out.exists()


def test_marginal_errors_are_total_variation_distances() -> None:
    real = pd.DataFrame({"a": ["x", "x", "y", "y"], "b": ["u", "v", "u", "v"]})
    same = marginal_errors(real, real)
    assert same["error"].max() == 0.0
    assert list(same["way"]) == [1, 1, 2]
    shifted = pd.DataFrame({"a": ["x", "x", "x", "y"], "b": ["u", "u", "v", "v"]})
    errors = marginal_errors(real, shifted).set_index("columns")["error"]
    assert errors["a"] == pytest.approx(0.25)
    assert errors["b"] == pytest.approx(0.0)
    # real: xu xv yu yv a quarter each; shifted: xu 1/2, xv 1/4, yv 1/4.
    assert errors["a × b"] == pytest.approx(0.25)


def test_binned_uses_left_open_bins_as_opendp() -> None:
    frame = pd.DataFrame({"age": [25.0, 25.5, 70.0]})
    assert list(binned(frame, AGE_CUTS)["age"]) == ["0", "1", "5"]


@pytest.mark.slow
@pytest.mark.datasets
@pytest.mark.skipif(
    DATASETS is None, reason="reference data sets not found (../shared/datasets or ETHICA_DATASETS)"
)
@pytest.mark.parametrize("epsilon", [1.0, 10.0])
def test_mst_release_of_adult_meets_the_stated_marginal_bounds(epsilon: float) -> None:
    assert DATASETS is not None
    real = load_adult(DATASETS)[["age", "race", "sex", "income"]]
    np.random.seed(
        20
    )  # Private-PGM rounds with numpy's global generator; OpenDP's noise is not seedable.
    release = synthesize(real, epsilon=epsilon, method="mst", cuts=AGE_CUTS)
    assert release.epsilon == epsilon and release.delta == 0.0
    assert list(release.data.columns) == list(real.columns)
    assert abs(len(release.data) - len(real)) < 0.02 * len(real)
    report = utility_report(
        real,
        release.data,
        cuts=release.cuts,
        sensitive_features=["sex"],
        prediction="income",
        pos_label=">50K",
    )
    bounds = BOUNDS[epsilon]
    assert report.max_error(1) <= bounds["oneway"]
    errors = report.marginals.set_index("columns")["error"]
    assert errors["sex × income"] <= bounds["sex_income"]
    assert len(report.marginals) == 4 + 6 + 4
    rates = report.fairness[report.fairness["metric"] == "selection_rate"]
    assert set(rates["group"]) == {"Female", "Male"}
    gaps = (rates["real_value"] - rates["synthetic_value"]).abs()
    assert gaps.max() <= bounds["selection_rate"]


@pytest.mark.slow
def test_cli_writes_the_synthetic_log_and_its_utility_report(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    sex = rng.choice(["F", "M"], size=600)
    log = tmp_path / "log.csv"
    pd.DataFrame(
        {"sex": sex, "age": rng.integers(18, 80, size=600), "approved": (sex == "M").astype(int)}
    ).to_csv(log, index=False)
    out = tmp_path / "synthetic.parquet"
    args = ["synthesize", str(log), "--epsilon", "2", "--out", str(out)]
    args += ["-s", "sex", "--prediction", "approved", "--pos-label", "1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    synthetic = pd.read_parquet(out)
    assert list(synthetic.columns) == ["sex", "age", "approved"]
    report = json.loads(out.with_suffix(".utility.json").read_text())
    assert {m["way"] for m in report["marginals"]} == {1, 2, 3}
    assert {row["group"] for row in report["fairness"]} == {"F", "M"}


@pytest.mark.slow
def test_aim_with_delta_discovers_the_categories_privately() -> None:
    rng = np.random.default_rng(7)
    sex = rng.choice(["F", "M"], size=600)
    frame = pd.DataFrame(
        {"sex": sex, "age": rng.integers(18, 80, size=600), "approved": (sex == "M").astype(int)}
    )
    release = synthesize(frame, epsilon=2.0, delta=1e-6, method="aim", categorical=["approved"])
    assert (release.method, release.delta) == ("aim", 1e-6)
    assert release.public_assumptions == ["bin edges of 'age' were computed from the data"]
    assert set(release.data["sex"].dropna()) <= {"F", "M"}
    assert set(release.data["approved"].dropna()) <= {"0", "1"}
    assert release.data["sex"].notna().mean() > 0.8
