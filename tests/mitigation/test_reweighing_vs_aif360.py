"""Reweighing weights from the count table equal AIF360's Reweighing to 1e-12."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from peer_decisions import adult_decisions, german_decisions

from ethica.datasets import default_datasets_dir
from ethica.errors import InputError
from ethica.fairness import count_table
from ethica.mitigation import reweighing

with warnings.catch_warnings():
    # AIF360's modules carry docstrings with invalid escape sequences; nothing else is silenced.
    for category in (DeprecationWarning, SyntaxWarning):
        warnings.filterwarnings("ignore", message="invalid escape sequence", category=category)
    from aif360.algorithms.preprocessing import Reweighing
    from aif360.datasets import BinaryLabelDataset

DATASETS = default_datasets_dir()
needs_datasets = pytest.mark.skipif(
    DATASETS is None, reason="reference data sets not found (../shared/datasets or ETHICA_DATASETS)"
)


def aif360_weights(frame: pd.DataFrame, group: str, privileged: str) -> npt.NDArray[np.float64]:
    """AIF360's Reweighing on a privileged/unprivileged split of one feature."""
    coded = pd.DataFrame(
        {group: (frame[group] == privileged).astype(float), "y": frame["y"].astype(float)}
    )
    dataset = BinaryLabelDataset(
        df=coded,
        label_names=["y"],
        protected_attribute_names=[group],
        favorable_label=1.0,
        unfavorable_label=0.0,
    )
    weighed = Reweighing(
        unprivileged_groups=[{group: 0.0}], privileged_groups=[{group: 1.0}]
    ).fit_transform(dataset)
    return np.asarray(weighed.instance_weights, dtype=np.float64)


def ethica_weights(frame: pd.DataFrame, group: str) -> npt.NDArray[np.float64]:
    table = count_table(frame, sensitive_features=group, label="y", prediction="pred")
    return reweighing(table).for_rows(frame[[group]], frame["y"].to_numpy() == 1)


def generated(rows: int = 50_000, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M"], rows, p=[0.4, 0.6])
    label = rng.random(rows) < np.where(sex == "F", 0.25, 0.4)
    return pd.DataFrame({"sex": sex, "y": label.astype(int), "pred": rng.integers(0, 2, rows)})


def test_generated_weights_equal_aif360() -> None:
    frame = generated()
    np.testing.assert_allclose(
        ethica_weights(frame, "sex"), aif360_weights(frame, "sex", "M"), rtol=0, atol=1e-12
    )


def test_weighted_base_rate_is_the_same_in_every_group() -> None:
    frame = generated().assign(band=lambda f: np.where(f.index % 3 == 0, "<25", "25+"))
    table = count_table(frame, sensitive_features=["sex", "band"], label="y", prediction="pred")
    weights = reweighing(table).for_rows(frame[["sex", "band"]], frame["y"] == 1)
    weighted = frame.assign(w=weights, wy=weights * frame["y"])
    sums = weighted.groupby(["sex", "band"])[["w", "wy"]].sum()
    rates = (sums["wy"] / sums["w"]).to_numpy()
    np.testing.assert_allclose(rates, frame["y"].mean(), rtol=0, atol=1e-12)
    assert weights.sum() == pytest.approx(len(frame), abs=1e-6)


def test_rows_outside_the_table_are_refused() -> None:
    frame = generated(1_000)
    table = count_table(frame, sensitive_features="sex", label="y", prediction="pred")
    with pytest.raises(InputError, match="weights were not built from"):
        reweighing(table).for_rows(pd.DataFrame({"sex": ["X"]}), [True])
    with pytest.raises(InputError, match="pass label="):
        reweighing(count_table(frame, sensitive_features="sex", prediction="pred"))


@pytest.mark.datasets
@needs_datasets
@pytest.mark.parametrize(
    ("load", "privileged"),
    [(adult_decisions, "Male"), (german_decisions, "Male")],
    ids=["adult", "german"],
)
def test_adult_and_german_weights_equal_aif360(
    load: Callable[[Path], pd.DataFrame], privileged: str
) -> None:
    assert DATASETS is not None
    frame = load(DATASETS).rename(columns={"y_pred": "pred"})
    assert privileged in set(frame["sex"])
    np.testing.assert_allclose(
        ethica_weights(frame, "sex"),
        aif360_weights(frame, "sex", privileged),
        rtol=0,
        atol=1e-12,
    )
