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
