"""The pieces of a federated audit, in one process: layouts, the plan, SecAgg+'s arithmetic."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from federated_cases import assert_same_audit, site_logs, write_sites

from ethica.errors import InputError
from ethica.fairness import Settings, assess, audit, count_table
from ethica.federated import Plan, SecureSum, plan_from_dict, read_plan, site_counts


def _plan(tmp_path: Path, logs: list[pd.DataFrame] | None = None):  # type: ignore[no-untyped-def]
    return read_plan(write_sites(tmp_path, logs or site_logs(), port=9092))


def test_summed_site_counts_audit_exactly_as_the_pooled_rows(tmp_path: Path) -> None:
    logs = site_logs()
    plan = _plan(tmp_path, logs)
    total = sum(site_counts(plan, tmp_path / f"site{i}.parquet") for i in range(3))
    federated = plan.layout.table(total)
    pooled = pd.concat(logs, ignore_index=True)
    central = audit(
        pooled,
        sensitive_features=["sex", "age_band"],
        label="repaid",
        prediction="approved",
        min_group_size=20,
    )
    result = assess(federated, Settings(min_group_size=20))
    assert federated.rows == len(pooled)
    assert_same_audit(result, central)


def test_a_site_without_some_group_still_lays_out_every_cell(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    counts = site_counts(plan, tmp_path / "site0.parquet")
    cells = plan.layout.cells()
    young_women = (cells["sex"] == "Female") & (cells["age_band"] == "<25")
    assert len(counts) == 2 * 3 * 2 * 2
    assert counts[young_women.to_numpy()].sum() == 0
    assert counts.sum() == len(site_logs()[0])


def test_a_value_the_plan_does_not_declare_is_refused_with_the_fix(tmp_path: Path) -> None:
    logs = site_logs()
    logs[1].loc[0, "age_band"] = "65+"
    plan = _plan(tmp_path, logs)
    with pytest.raises(InputError, match=r"'age_band' has value\(s\) \['65\+'\].*\[groups\]"):
        site_counts(plan, tmp_path / "site1.parquet")


def test_a_site_without_the_label_column_is_refused(tmp_path: Path) -> None:
    logs = site_logs()
    logs[2] = logs[2].drop(columns="repaid")
    plan = _plan(tmp_path, logs)
    with pytest.raises(InputError, match="repaid"):
        site_counts(plan, tmp_path / "site2.parquet")


#: The arithmetic of secaggplus_mod (client) and SecAggPlusWorkflow (server), run with Flower's
#: own quantize / dequantize in Flower's Python, on the settings ethica chooses.
FLOWER_ARITHMETIC = """
import sys
import numpy as np
from flwr.common.secure_aggregation.quantization import dequantize, quantize
from ethica.federated import SecureSum

for sites in (3, 4, 9, 16):
    secure = SecureSum(sites)
    rng = np.random.default_rng(sites)
    vectors = [rng.integers(0, secure.largest_count + 1, 500) for _ in range(sites)]
    vectors[0][:3] = [0, 1, secure.largest_count]
    quantized = [
        quantize([v.astype(np.float64)], secure.clipping_range, secure.quantization_range)[0]
        for v in vectors
    ]
    # Every whole count maps to a whole number: no stochastic rounding happens.
    assert all(np.array_equal(q, v + secure.largest_count) for q, v in zip(quantized, vectors))
    # The weights (one per site) and every value sum below the modulus: nothing wraps.
    assert sites * secure.quantization_range < 2**32
    summed = np.sum([q.astype(np.int64) for q in quantized], axis=0)
    average = dequantize([summed], secure.clipping_range, secure.quantization_range)[0]
    average = (average - (sites - 1) * secure.clipping_range) / sites
    assert np.array_equal(secure.totals(average), np.sum(vectors, axis=0)), sites
print("exact")
"""


def test_flowers_quantization_carries_whole_counts_exactly(flower: Path) -> None:
    done = subprocess.run(
        [str(flower / "python"), "-c", FLOWER_ARITHMETIC],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "exact"


def test_a_count_secure_aggregation_cannot_carry_is_refused() -> None:
    secure = SecureSum(3)
    secure.check(np.array([0, secure.largest_count]))
    with pytest.raises(InputError, match="Split the site's log into two sites"):
        secure.check(np.array([0, secure.largest_count + 1]))


def test_the_masks_keys_need_a_majority_of_sites() -> None:
    assert [SecureSum(n).reconstruction_threshold for n in (3, 4, 5, 10)] == [2, 3, 3, 6]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sites": 2}, "at least 3.*each would learn the other's counts"),
        ({"superlink": "10.1.2.3:9092"}, "not on this machine.*TLS"),
        ({"superlink": "127.0.0.1"}, "host:port"),
        ({"groups": {"sex": ["F", "M"]}}, r"declare the values of \['age_band'\]"),
        ({"audit": {"sensitive": ["sex"]}}, "prediction must name the column"),
        ({"privacy": {"epsilon": -1}}, "epsilon must be a positive number"),
        ({"colour": "blue"}, r"unknown key\(s\) \['colour'\]"),
        ({"training": {"learner": "forest"}}, r"learner must be one of \['logistic', 'xgboost'\]"),
        ({"training": {"clip": 0}}, "clip must be a positive number"),
        ({"training": {"max_site_rows": 0}}, "max_site_rows must be a whole number"),
    ],
)
def test_a_wrong_plan_says_what_to_fix(change: dict[str, object], message: str) -> None:
    raw: dict[str, object] = {
        "sites": 3,
        "superlink": "127.0.0.1:9092",
        "audit": {"sensitive": ["sex", "age_band"], "prediction": "approved"},
        "groups": {"sex": ["F", "M"], "age_band": ["<25", "25+"]},
    }
    raw.update(change)
    with pytest.raises(InputError, match=message):
        plan_from_dict(raw)


def test_a_plan_travels_to_the_flower_apps_unchanged(tmp_path: Path) -> None:
    from ethica.federated import Plan

    plan = _plan(tmp_path)
    assert Plan.from_json(plan.to_json()) == plan


def test_the_released_sum_under_dp_spends_the_planned_epsilon() -> None:
    pytest.importorskip("opendp", reason="the dp extra (OpenDP) is not installed")
    from ethica.federated import noisy_counts

    counts = np.array([0, 5, 500, 5000] * 50, dtype=np.int64)
    noisy = noisy_counts(counts, 1.0)
    assert noisy.dtype == np.int64 and (noisy >= 0).all()
    assert not np.array_equal(noisy, counts)
    # Discrete Laplace with scale 1: errors of a few counts, never hundreds.
    assert np.abs(noisy - counts)[counts > 100].max() < 50


def test_central_count_table_of_a_file_matches_the_site_counts(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    table = count_table(
        tmp_path / "site2.parquet",
        sensitive_features=["sex", "age_band"],
        label="repaid",
        prediction="approved",
    )
    assert np.array_equal(plan.layout.vector(table), site_counts(plan, tmp_path / "site2.parquet"))


def test_a_linear_model_decides_at_the_site_in_place_of_the_prediction_column(
    tmp_path: Path,
) -> None:
    from dataclasses import replace

    logs = site_logs()
    logs[0]["income"] = np.linspace(-1, 1, len(logs[0]))
    plan = replace(_plan(tmp_path, logs), features=("income",), model=((2.0,), -0.5))
    counts = site_counts(plan, tmp_path / "site0.parquet")
    decided = logs[0].assign(approved=(2.0 * logs[0]["income"] - 0.5 > 0).astype(int))
    table = count_table(
        decided, sensitive_features=["sex", "age_band"], label="repaid", prediction="approved"
    )
    assert np.array_equal(counts, plan.layout.vector(table))
    assert Plan.from_json(plan.to_json()) == plan


def test_a_trained_model_is_stored_as_skops_and_loads_without_pickle() -> None:
    pytest.importorskip("skops", reason="the models extra is not installed")
    from ethica.federated import FederatedModel
    from ethica.scoring import load_model

    model = FederatedModel(
        features=("income", "debt"),
        coefficients=np.array([1.5, -0.75]),
        intercept=0.25,
        accuracy=0.8,
        rounds=5,
        sites=3,
    )
    stored = load_model(model.to_skops(), "skops")
    inputs = np.array([[1.0, 0.0], [-1.0, 1.0], [0.0, 0.0]])
    assert stored.predict(inputs).tolist() == [1, 0, 1]
    assert stored.coef_.tolist() == [[1.5, -0.75]]


def _scored(logs: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """Each log with a score that leans towards repayment, the range's ends included."""
    rng = np.random.default_rng(11)
    scored = []
    for log in logs:
        score = np.clip(0.3 + 0.3 * log["repaid"] + rng.normal(0, 0.2, len(log)), 0.0, 1.0)
        scored.append(log.assign(score=score))
    return scored


def test_score_bins_and_sums_add_up_to_the_pooled_score_audit(tmp_path: Path) -> None:
    from dataclasses import replace

    from ethica.fairness import ScoreBins

    logs = _scored(site_logs())
    plan = replace(_plan(tmp_path, logs), score="score", score_bins=25)
    total = sum(site_counts(plan, tmp_path / f"site{i}.parquet") for i in range(3))
    assert Plan.from_json(plan.to_json()) == plan
    assert len(total) == 2 * 3 * 2 * 2 * 25 * 5  # a count and four limbs per cell
    federated = plan.layout.table(total)
    central = count_table(
        pd.concat(logs, ignore_index=True),
        sensitive_features=["sex", "age_band"],
        label="repaid",
        prediction="approved",
        score="score",
        score_bins=ScoreBins("equal_width", 0.0, 1.0, 25),
    )
    columns = ["sex", "age_band", "label", "prediction", "score_bin"]
    ours = federated.cells.sort_values(columns).reset_index(drop=True)
    theirs = central.cells.sort_values(columns).reset_index(drop=True)
    pd.testing.assert_frame_equal(ours[[*columns, "n"]], theirs[[*columns, "n"]])
    # Sums travel in units of 2**-32 of the range: at most half a unit off per site and cell.
    assert np.abs(ours["score_sum"] - theirs["score_sum"]).max() <= 3 * 2.0**-33
    ours_audit = assess(federated, Settings(min_group_size=20)).comparisons
    theirs_audit = assess(central, Settings(min_group_size=20)).comparisons
    auc = ours_audit["metric"] == "roc_auc"
    assert auc.sum() > 0
    pd.testing.assert_frame_equal(ours_audit[auc], theirs_audit[auc])  # counts only: exact
    mean = ours_audit["metric"] == "mean_score"
    np.testing.assert_allclose(
        ours_audit.loc[mean, "value"], theirs_audit.loc[mean, "value"], rtol=0, atol=1e-9
    )


def test_scores_below_the_declared_range_are_refused(tmp_path: Path) -> None:
    from dataclasses import replace

    logs = _scored(site_logs())
    logs[1]["score"] -= 2.0
    plan = replace(_plan(tmp_path, logs), score="score", score_range=(0.0, 1.0))
    with pytest.raises(InputError, match=r"below the plan's score_range \[0, 1\]"):
        site_counts(plan, tmp_path / "site1.parquet")


@pytest.mark.parametrize(
    ("audit", "message"),
    [
        ({"score_bins": 10}, "need a score column"),
        ({"score": "score", "score_bins": 1}, "score_bins must be a whole number from 2"),
        ({"score": "score", "score_range": [1, 0]}, r"score_range must be \[lowest, highest\]"),
    ],
)
def test_a_wrong_score_plan_says_what_to_fix(audit: dict[str, object], message: str) -> None:
    raw: dict[str, object] = {
        "sites": 3,
        "audit": {"sensitive": ["sex"], "prediction": "approved", **audit},
        "groups": {"sex": ["F", "M"]},
    }
    with pytest.raises(InputError, match=message):
        plan_from_dict(raw)


@pytest.mark.postgresql
def test_a_site_counts_and_reads_its_table_in_postgresql(
    tmp_path: Path, postgresql_url: str
) -> None:
    from dataclasses import replace

    from federated_cases import write_table

    from ethica.federated._site_counts import SiteLog, model_columns

    logs = _scored(site_logs())
    logs[0]["income"] = np.linspace(-1, 1, len(logs[0]))
    plan = replace(_plan(tmp_path, logs), score="score")
    write_table(postgresql_url, "site_log", logs[0])
    log = SiteLog.of(postgresql_url, "site_log")
    # The count table is aggregated in PostgreSQL: the same vector as the file's.
    assert np.array_equal(site_counts(plan, log), site_counts(plan, tmp_path / "site0.parquet"))
    decided = replace(plan, features=("income",), model=((2.0,), -0.5))
    assert np.array_equal(
        site_counts(decided, log), site_counts(decided, tmp_path / "site0.parquet")
    )
    rows = log.frame(model_columns(decided))
    assert list(rows.columns) == ["sex", "age_band", "repaid", "income"]
    assert len(rows) == len(logs[0])
    with pytest.raises(InputError, match="pass --table"):
        SiteLog.of(postgresql_url)
    with pytest.raises(InputError, match="no such table"):
        site_counts(plan, SiteLog.of(postgresql_url, "nope"))
    with pytest.raises(InputError, match="a file has none"):
        SiteLog.of(tmp_path / "site0.parquet", "site_log")
