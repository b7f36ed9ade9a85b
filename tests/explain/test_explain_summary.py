"""Global attribution views: mean |attribution| per feature and group, and the audit section."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from explain_cases import (
    NUMERIC,
    credit_frame,
    credit_spec,
    lightgbm_booster,
    xgboost_booster,
)

from ethica.errors import InputError
from ethica.explain import attribute, attribution_summary
from ethica.fairness import audit
from ethica.scoring import Scorer


def _groups(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    return {
        "sex": rng.choice(["F", "M"], len(frame)),
        "band": np.where(frame["postcode_risk"].to_numpy() > 0.6, "high", "low"),
    }


def _expected(contributions: np.ndarray, groups: dict[str, np.ndarray]) -> dict[tuple, np.ndarray]:
    magnitude = np.abs(contributions)
    out = {("overall", "all"): magnitude.mean(axis=0)}
    for name, labels in groups.items():
        for group in np.unique(labels):
            out[(name, str(group))] = magnitude[labels == group].mean(axis=0)
    return out


def test_lightgbm_summary_is_the_mean_absolute_pred_contrib_of_each_group() -> None:
    frame = credit_frame(rows=400, seed=3)
    booster = lightgbm_booster()
    columns = [*NUMERIC, "housing"]
    # LightGBM's own pandas path, independent of the scorer's encoding.
    contributions = booster.predict(frame[columns], pred_contrib=True)[:, :-1]
    groups = _groups(frame)
    summary = attribution_summary(
        Scorer(booster, credit_spec(), version="1"), frame, sensitive=pd.DataFrame(groups)
    )
    expected = _expected(contributions, groups)
    assert list(summary.columns) == list(expected)
    for key, values in expected.items():
        by_feature = dict(zip(columns, values, strict=True))
        assert summary[key].to_dict() == pytest.approx(by_feature, rel=1e-12, abs=1e-12)
    overall = summary[("overall", "all")].to_numpy()
    assert list(overall) == sorted(overall, reverse=True)
    assert summary.attrs["counts"][("band", "high")] == int((groups["band"] == "high").sum())


def test_xgboost_summary_is_the_mean_absolute_pred_contribs() -> None:
    import xgboost

    frame = credit_frame(rows=300, seed=4)
    booster = xgboost_booster()
    matrix = xgboost.DMatrix(frame[NUMERIC].astype("float64").to_numpy(), feature_names=NUMERIC)
    contributions = booster.predict(matrix, pred_contribs=True)[:, :-1]
    groups = {"sex": _groups(frame)["sex"]}
    spec = credit_spec(with_housing=False)
    summary = attribution_summary(Scorer(booster, spec, version="1"), frame, sensitive=groups)
    for key, values in _expected(contributions, groups).items():
        by_feature = dict(zip(NUMERIC, values, strict=True))
        assert summary[key].to_dict() == pytest.approx(by_feature, rel=1e-6, abs=1e-9)


def test_batch_rows_are_encoded_as_the_scorer_encodes_one_row() -> None:
    frame = credit_frame(rows=40, seed=5)
    frame.loc[3, "housing"] = np.nan  # a missing category stays missing
    scorer = Scorer(lightgbm_booster(), credit_spec(), version="1")
    summary = attribution_summary(scorer, frame, sensitive={"all": ["x"] * len(frame)})
    names = [f.name for f in scorer.spec.features]
    rows = []
    for record in frame[names].astype(object).to_dict(orient="records"):
        record = {k: (None if pd.isna(v) else v) for k, v in record.items()}
        rows.append([abs(attribute(scorer, record).contributions[n]) for n in names])
    direct = dict(zip(names, np.mean(rows, axis=0), strict=True))
    assert summary[("all", "x")].to_dict() == pytest.approx(direct, rel=1e-9)


def test_missing_sensitive_values_form_their_own_group_and_lengths_must_match() -> None:
    frame = credit_frame(rows=50, seed=6)
    scorer = Scorer(lightgbm_booster(), credit_spec(), version="1")
    labels = ["a"] * 25 + [None] * 25
    summary = attribution_summary(scorer, frame, sensitive={"g": labels})
    assert ("g", "missing") in summary.columns
    with pytest.raises(InputError, match="rows"):
        attribution_summary(scorer, frame, sensitive={"g": labels[:10]})
    with pytest.raises(InputError, match="lacks"):
        attribution_summary(scorer, frame.drop(columns="debt"), sensitive={"g": labels})


def test_the_fast_single_row_path_equals_lightgbm_pred_contrib() -> None:
    frame = credit_frame(rows=30, seed=8)
    booster = lightgbm_booster()
    scorer = Scorer(booster, credit_spec(), version="1")
    columns = [*NUMERIC, "housing"]
    expected = booster.predict(frame[columns], pred_contrib=True)
    margins = booster.predict(frame[columns], raw_score=True)
    for index, record in enumerate(frame[columns].astype(object).to_dict(orient="records")):
        attribution = attribute(scorer, record)
        got = [attribution.contributions[c] for c in columns]
        assert got == pytest.approx(list(expected[index, :-1]), rel=1e-12, abs=1e-12)
        assert attribution.baseline == pytest.approx(expected[index, -1], rel=1e-12)
        assert attribution.output == pytest.approx(margins[index], rel=1e-12)


def _audited(frame: pd.DataFrame, groups: dict[str, np.ndarray]) -> object:
    booster = lightgbm_booster()
    score = booster.predict(frame[[*NUMERIC, "housing"]])
    data = pd.DataFrame(
        {
            "sex": groups["sex"],
            "label": frame["repaid"].to_numpy(),
            "prediction": (score >= 0.5).astype(int),
        }
    )
    return audit(data, sensitive_features=["sex"], label="label", prediction="prediction")


def test_the_audit_report_has_the_drivers_section_only_when_given(tmp_path: Path) -> None:
    frame = credit_frame(rows=400, seed=9)
    groups = _groups(frame)
    result = _audited(frame, groups)
    summary = attribution_summary(
        Scorer(lightgbm_booster(), credit_spec(), version="1"), frame, sensitive=groups
    )
    plain = result.to_html()  # type: ignore[attr-defined]
    assert "What drives the decisions" not in plain
    path = tmp_path / "report.html"
    html = result.to_html(path, attributions=summary)  # type: ignore[attr-defined]
    assert path.read_text(encoding="utf-8") == html
    assert "What drives the decisions, by group" in html
    assert 'id="drivers"' in html and "<svg" in html.split('id="drivers"')[1]
    # the table names every feature and every group of each sensitive feature
    section = html.split('id="drivers"')[1].split('id="methods"')[0]
    for name in [*NUMERIC, "housing", "band", "high", "low", "F", "M"]:
        assert name in section
    for key in [("sex", "F"), ("band", "high"), ("overall", "all")]:
        assert f">{summary.loc['debt', key]:.3f}<" in section
    assert "What drives the decisions" in result.to_html(attributions=summary.iloc[:2])  # type: ignore[attr-defined]


def test_the_fast_path_cache_does_not_keep_a_booster_alive() -> None:
    import gc
    import weakref

    import lightgbm

    frame = credit_frame(rows=200, seed=10)
    data = lightgbm.Dataset(frame[NUMERIC], label=frame["repaid"])
    params = {"objective": "binary", "verbose": -1, "num_threads": 1, "num_leaves": 4}
    booster = lightgbm.train(params, data, num_boost_round=3)
    spec = credit_spec(with_housing=False)
    record = {name: float(frame.loc[0, name]) for name in NUMERIC}
    expected = booster.predict(frame[NUMERIC].iloc[:1], pred_contrib=True)[0]
    attribution = attribute(Scorer(booster, spec, version="1"), record)
    assert attribution.baseline == pytest.approx(expected[-1], rel=1e-12)
    alive = weakref.ref(booster)
    del booster
    gc.collect()
    assert alive() is None
