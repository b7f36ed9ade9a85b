"""Loaders of the public reference data sets (UCI Adult, Statlog German credit) from a local path.

Nothing is downloaded: each loader reads files the caller already has, and
:func:`default_datasets_dir` only says where a development checkout keeps them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from ethica.errors import InputError

__all__ = ["ADULT_COLUMNS", "GERMAN_COLUMNS", "default_datasets_dir", "load_adult", "load_german"]

#: Columns of adult.data / adult.test, in file order (hyphens of adult.names as underscores).
ADULT_COLUMNS = (
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education_num",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "native_country",
    "income",
)
_ADULT_NUMERIC = (
    "age",
    "fnlwgt",
    "education_num",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
)
_ADULT_INCOMES = ("<=50K", ">50K")

#: Columns of german.data, in file order.
GERMAN_COLUMNS = (
    "status",
    "duration",
    "credit_history",
    "purpose",
    "credit_amount",
    "savings",
    "present_employment",
    "installment_rate",
    "personal_status_sex",
    "other_debtors",
    "present_residence_since",
    "property",
    "age",
    "other_installment_plans",
    "housing",
    "number_existing_credits",
    "job",
    "people_liable",
    "telephone",
    "foreign_worker",
    "credit",
)
_GERMAN_NUMERIC = (
    "duration",
    "credit_amount",
    "installment_rate",
    "present_residence_since",
    "age",
    "number_existing_credits",
    "people_liable",
    "credit",
)
#: personal_status_sex codes A91-A95 and the sex each one records.
_GERMAN_SEX = {"A91": "Male", "A92": "Female", "A93": "Male", "A94": "Male", "A95": "Female"}
#: The usual age split of German credit audits: under 25 against everyone else.
GERMAN_AGE_CUTOFF = 25

AdultSplit = Literal["train", "test", "all"]


def default_datasets_dir() -> Path | None:
    """Where the reference data sets are, or None when they are absent.

    The environment variable ``ETHICA_DATASETS`` wins; otherwise ``../shared/datasets`` next to
    the project root of a development checkout.
    """
    configured = os.environ.get("ETHICA_DATASETS")
    if configured:
        path = Path(configured).expanduser()
        return path if path.is_dir() else None
    candidate = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets"
    return candidate.resolve() if candidate.is_dir() else None


def load_adult(path: str | Path, *, split: AdultSplit = "train") -> pd.DataFrame:
    """UCI Adult (census income) as a table, one row per person.

    Parameters
    ----------
    path
        The folder holding ``adult.data`` and ``adult.test`` (or the data sets folder that
        holds ``adult/``), or one of the two files.
    split
        ``"train"`` (adult.data, 32,561 rows), ``"test"`` (adult.test, 16,281 rows) or
        ``"all"`` (both, with a ``split`` column). Ignored when ``path`` is a file.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`ADULT_COLUMNS`; ``?`` read as missing; ``income`` is
        ``"<=50K"`` or ``">50K"`` in both files (the test file's trailing period removed).
    """
    location = Path(path)
    if location.is_file():
        return _read_adult_file(location)
    folder = location / "adult" if (location / "adult").is_dir() else location
    if split == "all":
        parts = [
            _read_adult_file(folder / name).assign(split=part)
            for part, name in (("train", "adult.data"), ("test", "adult.test"))
        ]
        return pd.concat(parts, ignore_index=True)
    if split not in ("train", "test"):
        raise InputError(f"split must be 'train', 'test' or 'all'; got {split!r}")
    return _read_adult_file(folder / ("adult.data" if split == "train" else "adult.test"))


def load_german(path: str | Path) -> pd.DataFrame:
    """Statlog German credit as a table, one row per applicant.

    Parameters
    ----------
    path
        The file ``german.data``, the folder holding it, or the data sets folder that holds
        ``german/``.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`GERMAN_COLUMNS` (attribute codes such as ``A11`` kept as text;
        ``credit`` is 1 for good, 2 for bad), plus ``sex`` (``"Male"``/``"Female"``, from
        ``personal_status_sex``), ``age_band`` (``"<25"``/``"25+"``) and ``good_credit``
        (1 when ``credit`` is 1, else 0).
    """
    location = Path(path)
    if location.is_dir():
        folder = location / "german" if (location / "german").is_dir() else location
        location = folder / "german.data"
    frame = _read_table(location, sep=None, columns=GERMAN_COLUMNS, skip_first=False)
    _to_numbers(frame, _GERMAN_NUMERIC, location)
    unknown = sorted(set(frame["personal_status_sex"]) - set(_GERMAN_SEX))
    if unknown:
        raise InputError(
            f"{location}: personal_status_sex has codes {unknown[:5]}; expected A91-A95"
        )
    credits = sorted(set(frame["credit"].tolist()) - {1, 2})
    if credits:
        raise InputError(
            f"{location}: credit has values {credits[:5]}; expected 1 (good) or 2 (bad)"
        )
    frame["sex"] = frame["personal_status_sex"].map(_GERMAN_SEX)
    frame["age_band"] = np.where(frame["age"] < GERMAN_AGE_CUTOFF, "<25", "25+")
    frame["good_credit"] = (frame["credit"] == 1).astype(np.int64)
    return frame


def _read_adult_file(location: Path) -> pd.DataFrame:
    # adult.test opens with a "|1x3 Cross validator" line that is not a record.
    frame = _read_table(location, sep=",", columns=ADULT_COLUMNS, skip_first=True)
    for column in frame.columns:
        frame[column] = frame[column].str.strip()
    frame = frame.replace("?", pd.NA)
    _to_numbers(frame, _ADULT_NUMERIC, location)
    frame["income"] = frame["income"].str.rstrip(".")
    unknown = sorted(set(frame["income"].dropna()) - set(_ADULT_INCOMES))
    if unknown or frame["income"].isna().any():
        raise InputError(
            f"{location}: income has values {unknown[:5] or ['<missing>']}; expected '<=50K' or "
            "'>50K' (with a trailing period in adult.test)"
        )
    return frame


def _read_table(
    location: Path, *, sep: str | None, columns: tuple[str, ...], skip_first: bool
) -> pd.DataFrame:
    # sep=None splits on any run of whitespace.
    if not location.is_file():
        raise InputError(f"no file at {location}; pass the folder or file of the data set")
    try:
        lines = location.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise InputError(f"{location} is not a text file of the data set: {error}") from error
    records = [line for line in lines if line.strip()]
    if skip_first and records and records[0].startswith("|"):
        records = records[1:]
    if not records:
        raise InputError(f"{location} has no records")
    rows = [line.split(sep) for line in records]
    for number, row in enumerate(rows, start=1):
        if len(row) != len(columns):
            raise InputError(
                f"{location}: record {number} has {len(row)} fields, expected {len(columns)} "
                f"({', '.join(columns[:3])}, ...); is this the right file?"
            )
    return pd.DataFrame(rows, columns=list(columns))


def _to_numbers(frame: pd.DataFrame, columns: tuple[str, ...], location: Path) -> None:
    for column in columns:
        numbers = pd.to_numeric(frame[column], errors="coerce")
        bad = numbers.isna() & frame[column].notna()
        if bad.any():
            first = frame.loc[bad, column].iloc[0]
            raise InputError(
                f"{location}: column {column!r} should hold whole numbers; record "
                f"{int(np.flatnonzero(bad.to_numpy())[0]) + 1} has {first!r}"
            )
        if numbers.isna().any():
            frame[column] = numbers.astype("Int64")
        else:
            frame[column] = numbers.astype(np.int64)
