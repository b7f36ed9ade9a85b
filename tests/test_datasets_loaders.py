"""The data set loaders: shapes and values documented in ../shared/datasets, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ethica.datasets import (
    ADULT_COLUMNS,
    GERMAN_COLUMNS,
    default_datasets_dir,
    load_adult,
    load_german,
)
from ethica.errors import InputError

DATASETS = default_datasets_dir()
needs_datasets = pytest.mark.skipif(
    DATASETS is None, reason="reference data sets not found (../shared/datasets or ETHICA_DATASETS)"
)

ADULT_ROW = (
    "39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, "
    "Male, 2174, 0, 40, United-States, <=50K"
)
GERMAN_ROW = "A11 6 A34 A43 1169 A65 A75 4 A93 A101 4 A121 67 A143 A152 2 A173 1 A192 A201 1"


@pytest.mark.datasets
@needs_datasets
def test_adult_train_and_test_have_documented_rows_and_labels() -> None:
    assert DATASETS is not None
    train = load_adult(DATASETS, split="train")
    test = load_adult(DATASETS / "adult", split="test")
    assert train.shape == (32_561, len(ADULT_COLUMNS))
    assert test.shape == (16_281, len(ADULT_COLUMNS))
    assert set(train["income"]) == set(test["income"]) == {"<=50K", ">50K"}
    assert set(train["sex"]) == {"Male", "Female"}
    assert train["age"].dtype.kind == "i"
    # "?" marks missing values; the raw file has them in workclass, occupation, native-country.
    raw = (DATASETS / "adult" / "adult.data").read_text().splitlines()
    raw_missing = sum(line.count("?") for line in raw)
    assert int(train.isna().sum().sum()) == raw_missing
    both = load_adult(DATASETS, split="all")
    assert len(both) == len(train) + len(test)
    assert both["split"].value_counts().to_dict() == {"train": 32_561, "test": 16_281}


@pytest.mark.datasets
@needs_datasets
def test_german_has_readable_columns_sex_and_age_band() -> None:
    assert DATASETS is not None
    german = load_german(DATASETS)
    assert german.shape[0] == 1_000
    assert list(german.columns[: len(GERMAN_COLUMNS)]) == list(GERMAN_COLUMNS)
    codes = german["personal_status_sex"]
    assert (german["sex"] == "Female").sum() == codes.isin(["A92", "A95"]).sum()
    assert (german["sex"] == "Male").sum() == codes.isin(["A91", "A93", "A94"]).sum()
    assert ((german["age_band"] == "<25") == (german["age"] < 25)).all()
    assert german["good_credit"].sum() == 700  # the documented 700 good / 300 bad split
    assert german["credit_amount"].dtype.kind == "i"


def test_adult_reads_a_small_file_and_strips_test_periods(tmp_path: Path) -> None:
    folder = tmp_path / "adult"
    folder.mkdir()
    (folder / "adult.data").write_text(ADULT_ROW + "\n" + ADULT_ROW + "\n")
    test_row = ADULT_ROW.replace("State-gov", "?").replace("<=50K", ">50K.")
    (folder / "adult.test").write_text("|1x3 Cross validator\n" + test_row + "\n\n")
    train = load_adult(tmp_path)
    test = load_adult(folder, split="test")
    assert len(train) == 2
    assert test["income"].tolist() == [">50K"]
    assert pd.isna(test["workclass"].iloc[0])
    assert test["capital_gain"].iloc[0] == 2174


def test_german_reads_a_small_file(tmp_path: Path) -> None:
    (tmp_path / "german.data").write_text(
        GERMAN_ROW + "\n" + GERMAN_ROW.replace("A93", "A92") + "\n"
    )
    german = load_german(tmp_path / "german.data")
    assert german["sex"].tolist() == ["Male", "Female"]
    assert german["age_band"].tolist() == ["25+", "25+"]
    assert german["good_credit"].tolist() == [1, 1]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("1, 2, 3\n", "has 3 fields, expected 15"),
        (ADULT_ROW.replace("39,", "old,") + "\n", "'age' should hold whole numbers"),
        (ADULT_ROW.replace("<=50K", "rich") + "\n", "income has values ['rich']"),
        ("", "has no records"),
    ],
)
def test_malformed_adult_file_raises_input_error(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "adult.data"
    path.write_text(content)
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_adult(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (GERMAN_ROW.replace("A93", "A99") + "\n", "personal_status_sex has codes"),
        (GERMAN_ROW[:-2] + " 3\n", "credit has values"),
        ("A11 6 A34\n", "has 3 fields, expected 21"),
    ],
)
def test_malformed_german_file_raises_input_error(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "german.data"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        load_german(path)


def test_missing_and_binary_files_raise_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no file at"):
        load_german(tmp_path)
    (tmp_path / "german.data").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(InputError, match="not a text file"):
        load_german(tmp_path)


def test_default_datasets_dir_honours_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ETHICA_DATASETS", str(tmp_path))
    assert default_datasets_dir() == tmp_path
    monkeypatch.setenv("ETHICA_DATASETS", str(tmp_path / "absent"))
    assert default_datasets_dir() is None
