"""The small words of issue 16, item 9: age bands in order, cut-off metrics and times in words."""

from __future__ import annotations

import pytest

from ethica._templates import time_taken
from ethica.fairness._count_table import group_order
from ethica.fairness._glossary import metric_words, short_name


def test_age_bands_sort_as_they_read_not_as_text() -> None:
    bands = ["65+", "25-44", "<25", "45-64"]
    assert sorted(bands) == ["25-44", "45-64", "65+", "<25"]  # text order: "<25" last
    assert sorted(bands, key=group_order) == ["<25", "25-44", "45-64", "65+"]
    crossed = ["F × 65+", "M × <25", "F × <25", "M × 25-44"]
    assert sorted(crossed, key=group_order) == ["F × <25", "F × 65+", "M × <25", "M × 25-44"]


@pytest.mark.parametrize(
    ("metric", "words"),
    [
        ("in_top_k[1]", "share shown in the top 1"),
        ("share_of_top_k[3]", "share of the top-3 places"),
    ],
)
def test_a_cut_off_metric_reads_with_its_cut_off_not_brackets(metric: str, words: str) -> None:
    assert metric_words(metric) == words
    assert short_name(metric) == words
    assert "[" not in metric_words(metric) and "_" not in metric_words(metric)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0.0, "under 1 s"), (0.4, "under 1 s"), (12.4, "12 s"), (125.0, "2 min 5 s"), (None, "—")],
)
def test_a_time_per_case_never_reads_0_s(seconds: float | None, words: str) -> None:
    assert time_taken(seconds) == words


def test_a_missing_group_note_reads_in_words_on_a_page() -> None:
    import warnings

    from ethica.fairness import MissingGroupWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn(MissingGroupWarning("country_of_origin", 1099), stacklevel=1)
        warnings.warn("something else", UserWarning, stacklevel=1)
    assert MissingGroupWarning.notes(caught) == [
        "Country of origin was not given for 1,099 decisions: they are audited as their own "
        "group, “missing”."
    ]
    # The library's own warning keeps naming the column as the data has it.
    assert "'country_of_origin' is missing on 1099 rows" in str(caught[0].message)
