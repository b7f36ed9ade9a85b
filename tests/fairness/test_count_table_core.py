"""The count table: one pass, sums over groupings, merging shards, missing groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ethica.errors import InputError
from ethica.fairness import MissingGroupWarning, ScoreBins, audit, count_table
from ethica.fairness._rollup import factorize_sorted


def decisions(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], n),
            "race": rng.choice(["A", "B", "C"], n),
            "y": rng.integers(0, 2, n),
            "s": np.round(rng.random(n), 2),
        }
    )
    frame["p"] = (frame["s"] > np.where(frame["sex"] == "F", 0.6, 0.5)).astype(int)
    return frame


def test_cells_count_every_row_once_and_match_a_plain_groupby() -> None:
    frame = decisions()
    table = count_table(frame, label="y", prediction="p", sensitive_features=["sex", "race"])
    assert table.rows == len(frame)
    expected = frame.groupby(["sex", "race", "y", "p"]).size().to_dict()
    got = {
        (sex, race, int(y), int(p)): int(n)
        for sex, race, y, p, n in table.cells[
            ["sex", "race", "label", "prediction", "n"]
        ].itertuples(index=False, name=None)
    }
    assert got == expected


def test_marginal_groupings_are_sums_of_the_intersection() -> None:
    frame = decisions()
    result = audit(frame, label="y", prediction="p", sensitive_features=["sex", "race"])
    assert set(result.metrics) == {"sex", "race", "sex × race"}
    by_sex = result.by_group("sex")
    for sex, part in frame.groupby("sex"):
        assert by_sex.loc[sex, "count"] == len(part)
        assert by_sex.loc[sex, "selection_rate"] == pytest.approx(part["p"].mean(), abs=1e-12)
        positives = part[part["y"] == 1]
        assert by_sex.loc[sex, "true_positive_rate"] == pytest.approx(
            positives["p"].mean(), abs=1e-12
        )


def test_merged_shards_give_the_audit_of_the_whole() -> None:
    frame = decisions(4000)
    bins = ScoreBins("exact")
    kwargs = {"label": "y", "prediction": "p", "score": "s", "sensitive_features": ["sex"]}
    whole = count_table(frame, score_bins=bins, **kwargs)
    merged = count_table(frame.iloc[:1500], score_bins=bins, **kwargs).merge(
        count_table(frame.iloc[1500:], score_bins=bins, **kwargs)
    )
    a = audit(whole, sensitive_features=["sex"]).by_group("sex")
    b = audit(merged, sensitive_features=["sex"]).by_group("sex")
    pd.testing.assert_frame_equal(a, b)


def test_shards_with_different_bins_refuse_to_merge() -> None:
    frame = decisions()
    kwargs = {"label": "y", "prediction": "p", "score": "s", "sensitive_features": ["sex"]}
    a = count_table(frame, score_bins=ScoreBins("exact"), **kwargs)
    b = count_table(frame, score_bins=ScoreBins("equal_width", 0.0, 1.0, 10), **kwargs)
    with pytest.raises(InputError, match="same score_bins"):
        a.merge(b)


def test_missing_sensitive_values_are_their_own_group_with_a_warning() -> None:
    frame = decisions()
    frame["race"] = frame["race"].astype(object)
    frame.loc[:99, "race"] = None
    with pytest.warns(MissingGroupWarning, match="missing on 100 rows"):
        result = audit(frame, label="y", prediction="p", sensitive_features=["race"])
    assert result.by_group("race").loc["missing", "count"] == 100


def test_arrays_in_the_fairlearn_manner_equal_the_table_call() -> None:
    frame = decisions()
    from_arrays = audit(
        label=frame["y"].to_numpy(),
        prediction=frame["p"].to_numpy(),
        sensitive_features=frame["sex"],
    )
    from_table = audit(frame, label="y", prediction="p", sensitive_features=["sex"])
    pd.testing.assert_frame_equal(from_arrays.by_group("sex"), from_table.by_group("sex"))


def test_string_labels_need_a_positive_label_and_then_work() -> None:
    frame = decisions()
    frame["y"] = np.where(frame["y"] == 1, ">50K", "<=50K")
    frame["p"] = np.where(frame["p"] == 1, ">50K", "<=50K")
    with pytest.raises(InputError, match="pos_label"):
        audit(frame, label="y", prediction="p", sensitive_features=["sex"])
    result = audit(frame, label="y", prediction="p", sensitive_features=["sex"], pos_label=">50K")
    assert result.overall.values["selection_rate"][0] == pytest.approx(
        (frame["p"] == ">50K").mean()
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.assign(y=f["y"] + f["p"]), "has 3 values"),
        (lambda f: f.assign(p=1), "only one value"),
        (lambda f: f.assign(y=f["y"].astype(float).where(f.index > 5)), "missing on 6 rows"),
        (lambda f: f.iloc[0:0], "no rows"),
    ],
)
def test_bad_decisions_get_a_clear_error(change: object, message: str) -> None:
    frame = change(decisions())  # type: ignore[operator]
    with pytest.raises(InputError, match=message):
        audit(frame, label="y", prediction="p", sensitive_features=["sex"])


def test_unknown_columns_name_what_is_there() -> None:
    with pytest.raises(InputError, match=r"\['gender'\] not found.*'sex'"):
        audit(decisions(), label="y", prediction="p", sensitive_features=["gender"])


def test_small_groups_are_reported_but_not_asserted() -> None:
    frame = decisions(400)
    frame.loc[:9, "race"] = "tiny"
    result = audit(frame, label="y", prediction="p", sensitive_features=["race"], min_group_size=30)
    tiny = result.comparisons[result.comparisons["group"] == "tiny"]
    assert not tiny.empty
    assert not tiny["asserted"].any()
    assert not tiny["material"].any()
    assert tiny["p_adjusted"].isna().all()
    assert any("not assessed" in f.severity and "tiny" in f.text for f in result.findings)


def test_reference_group_comparisons_use_the_reference_rate() -> None:
    frame = decisions()
    result = audit(
        frame, label="y", prediction="p", sensitive_features=["sex"], reference={"sex": "M"}
    )
    rows = result.comparisons[result.comparisons["metric"] == "selection_rate"].set_index("group")
    male_rate = frame.loc[frame["sex"] == "M", "p"].mean()
    female_rate = frame.loc[frame["sex"] == "F", "p"].mean()
    assert rows.loc["F", "difference"] == pytest.approx(female_rate - male_rate)
    assert rows.loc["F", "ratio"] == pytest.approx(female_rate / male_rate)
    assert not rows.loc["M", "asserted"]
    with pytest.raises(InputError, match="does not occur"):
        audit(frame, label="y", prediction="p", sensitive_features=["sex"], reference={"sex": "X"})


@pytest.mark.parametrize("engine", ["memory", "duckdb"])
def test_a_binary_table_knows_its_groups_codes_as_its_text_sorts(engine: str) -> None:
    rng = np.random.default_rng(3)
    rows = 400
    frame = pd.DataFrame(
        {
            "sex": rng.choice(np.array(["M", "F", None], dtype=object), rows),
            "band": rng.choice([70, 8, 25], rows),
            "label": rng.integers(0, 2, rows),
            "prediction": rng.integers(0, 2, rows),
        }
    )
    with pytest.warns(MissingGroupWarning):
        table = count_table(
            frame,
            sensitive_features="sex,band",
            label="label",
            prediction="prediction",
            engine=engine,
        )
    for feature in ("sex", "band"):
        kept = table.factorized(feature)
        from_text = factorize_sorted(table.cells[feature])
        assert kept is not None and from_text is not None
        assert kept.size == from_text.size
        assert kept.codes.tolist() == from_text.codes.tolist()
        assert list(kept.values) == list(from_text.values)
