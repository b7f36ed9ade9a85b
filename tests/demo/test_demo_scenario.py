import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.stats.contingency import association

from ethica.demo import (
    AFFECTED_ORIGIN,
    FEATURES,
    PROTECTED_ATTRIBUTES,
    SEGREGATED_DISTRICTS,
    generate_customers,
    run_demo,
    train_credit_model,
)
from ethica.fairness import MissingGroupWarning, audit

N = 5000


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    return generate_customers(N, seed=0)


@pytest.fixture(scope="module")
def trained(customers: pd.DataFrame) -> tuple[Any, pd.DataFrame]:
    return train_credit_model(customers, seed=0)


@pytest.fixture(scope="module")
def decisions(trained: tuple[Any, pd.DataFrame]) -> pd.DataFrame:
    return trained[1]


def cramers_v(frame: pd.DataFrame, column: str, other: str) -> float:
    return float(association(pd.crosstab(frame[column], frame[other]).to_numpy(), method="cramer"))


def test_same_seed_gives_identical_customers() -> None:
    pd.testing.assert_frame_equal(generate_customers(N, seed=7), generate_customers(N, seed=7))


def test_different_seeds_give_different_customers() -> None:
    first, second = generate_customers(N, seed=1), generate_customers(N, seed=2)
    assert not first.equals(second)
    assert (first["income"] != second["income"]).mean() > 0.9
    assert (first["origin"].fillna("") != second["origin"].fillna("")).mean() > 0.2


def test_same_seed_gives_identical_decisions(
    customers: pd.DataFrame, decisions: pd.DataFrame
) -> None:
    _, again = train_credit_model(customers, seed=0)
    pd.testing.assert_frame_equal(decisions, again)


def test_customers_look_like_a_bank_book(customers: pd.DataFrame) -> None:
    assert set(FEATURES) | set(PROTECTED_ATTRIBUTES) | {"repaid", "repaid_latent"} <= set(customers)
    assert customers["income"].gt(0).all()
    assert customers["debt_to_income"].between(0, 1).all()
    assert customers["late_payments_2y"].ge(0).all()
    assert 0.6 < customers["repaid"].mean() < 0.9
    # Real monitoring data has gaps: origin is sometimes not disclosed, the others always are.
    assert 0.03 < customers["origin"].isna().mean() < 0.12
    assert customers[["sex", "age_band"]].notna().all().all()


def test_postcode_is_a_proxy_for_origin(customers: pd.DataFrame) -> None:
    disclosed = customers.dropna(subset=["origin"])
    assert cramers_v(disclosed, "postcode_district", "origin") > 0.25
    # Finances are drawn alike for every group: only the postcode carries origin.
    for feature in ("savings", "employment", "housing"):
        assert cramers_v(disclosed, feature, "origin") < 0.1
    segregated = disclosed["postcode_district"].isin(SEGREGATED_DISTRICTS)
    share = segregated.groupby(disclosed["origin"]).mean()
    assert share[AFFECTED_ORIGIN] > 0.6
    assert share.drop(AFFECTED_ORIGIN).max() < 0.4


def test_recorded_outcome_is_noisier_for_the_affected_group(customers: pd.DataFrame) -> None:
    disclosed = customers.dropna(subset=["origin"])
    affected = disclosed["origin"] == AFFECTED_ORIGIN
    wrong = disclosed["repaid"] != disclosed["repaid_latent"]
    assert wrong[affected].mean() > 3 * wrong[~affected].mean()
    # The group truly repays as often as the others; its records say it does not.
    latent = disclosed.groupby(affected)["repaid_latent"].mean()
    recorded = disclosed.groupby(affected)["repaid"].mean()
    assert abs(latent[True] - latent[False]) < 0.05
    assert recorded[False] - recorded[True] > 0.1


def test_model_never_receives_protected_attributes(trained: tuple[Any, pd.DataFrame]) -> None:
    model = trained[0]
    names = list(model.feature_names_in_)
    assert names == list(FEATURES)
    assert not set(names) & {*PROTECTED_ATTRIBUTES, "repaid", "repaid_latent", "customer_id"}


def test_decisions_approve_about_sixty_percent(decisions: pd.DataFrame) -> None:
    assert len(decisions) == N // 2
    assert 0.57 < decisions["approved"].mean() < 0.63
    assert np.array_equal(decisions["score"], decisions["score"].round(3))
    approved = decisions["approved"] == 1
    assert decisions.loc[approved, "score"].min() >= decisions.loc[~approved, "score"].max()


def test_model_learns_the_postcode_and_under_approves_creditworthy_members(
    decisions: pd.DataFrame,
) -> None:
    creditworthy = decisions[decisions["repaid_latent"] == 1]
    affected = creditworthy["origin"] == AFFECTED_ORIGIN
    assert (
        creditworthy.loc[~affected, "approved"].mean()
        - creditworthy.loc[affected, "approved"].mean()
        > 0.1
    )
    # The postcode effect also falls on the majority group's customers in those districts.
    majority = decisions[decisions["origin"] == "Origin A"]
    segregated = majority["postcode_district"].isin(SEGREGATED_DISTRICTS)
    assert (
        majority.loc[~segregated, "approved"].mean() - majority.loc[segregated, "approved"].mean()
        > 0.1
    )


def test_audit_finds_a_material_significant_gap_for_the_affected_group(
    decisions: pd.DataFrame,
) -> None:
    with pytest.warns(MissingGroupWarning, match="origin"):
        result = audit(
            decisions,
            label="repaid",
            prediction="approved",
            score="score",
            sensitive_features=list(PROTECTED_ATTRIBUTES),
            bootstrap=500,
        )
    rows = result.comparisons.set_index(["grouping", "group", "metric"])
    gap = rows.loc[("origin", AFFECTED_ORIGIN, "selection_rate")]
    assert bool(gap["material"]) and bool(gap["significant"])
    assert gap["difference"] < -0.1
    assert not bool(gap["four_fifths_pass"])
    expected = decisions.loc[decisions["origin"] == AFFECTED_ORIGIN, "approved"].mean()
    assert gap["value"] == pytest.approx(expected)
    # No mechanism works on sex, and the audit finds no material gap there.
    by_sex = result.comparisons[
        (result.comparisons["grouping"] == "sex")
        & (result.comparisons["metric"] == "selection_rate")
    ]
    assert not by_sex["material"].any()
    assert any(
        f.group == AFFECTED_ORIGIN and f.severity == "material and significant"
        for f in result.findings
    )


def test_run_demo_writes_the_reports(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    with pytest.warns(MissingGroupWarning):
        result = run_demo(out, n=N, seed=0)
    assert result.audit_json == out / "audit.json"
    assert result.report_html == out / "report.html"
    written = json.loads(result.audit_json.read_text(encoding="utf-8"))
    assert written["rows"] == N // 2
    assert written["sensitive_features"] == list(PROTECTED_ATTRIBUTES)
    assert any(f["group"] == AFFECTED_ORIGIN for f in written["findings"])
    html = result.report_html.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert AFFECTED_ORIGIN in html


def test_import_needs_no_modelling_library() -> None:
    code = (
        "import sys; sys.modules['sklearn'] = None; sys.modules['lightgbm'] = None; "
        "import ethica.demo; print(len(ethica.demo.generate_customers(10)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "10"
