"""The registry of drift tests, Evidently's default choice among them, and one feature's verdict.

Each test is a small record (name, what it returns, its default threshold, the feature types
it reads), as Evidently's ``StatTest``. The default rule is Evidently's: a numeric feature with
at most five distinct values is treated as categorical; with a reference of at most 1,000 rows,
Kolmogorov-Smirnov (numeric), chi-square (categorical, more than two values) or the
two-proportion z-test (binary), drifted at p < 0.05; above, normalised Wasserstein (numeric)
or Jensen-Shannon distance (categorical), drifted at >= 0.1.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ethica.errors import InputError
from ethica.monitoring._distribution import Distribution, FeatureType, aligned
from ethica.monitoring._statistics import (
    Statistic,
    chi_square,
    jensen_shannon,
    ks_two_sample,
    psi,
    wasserstein_normalised,
    z_proportions,
)

#: Evidently: numeric features with at most this many distinct values are tested as categories.
CATEGORICAL_MAX_DISTINCT = 5
#: Evidently: references up to this many rows get a p-value test, larger ones a distance.
SMALL_REFERENCE_ROWS = 1000
#: Evidently bins a numeric feature for PSI and Jensen-Shannon when the reference has more
#: distinct values than this (Sturges' rule over both samples); below, each value is a bin.
BINNED_ABOVE_DISTINCT = 20


@dataclass(frozen=True)
class DriftTest:
    """A named drift test: the score it returns and when that score means drift."""

    name: str
    title: str
    score: Literal["p_value", "distance"]
    default_threshold: float
    feature_types: tuple[FeatureType, ...]
    compute: Callable[[Distribution, Distribution], Statistic]

    def drifted(self, score: float, threshold: float) -> bool:
        """Whether ``score`` means drift: a p-value below, or a distance at or above, threshold."""
        if math.isnan(score):
            return False
        return score < threshold if self.score == "p_value" else score >= threshold


def _ks(reference: Distribution, current: Distribution) -> Statistic:
    support, r, c = aligned(reference, current)
    return ks_two_sample(support, r, c)


def _wasserstein(reference: Distribution, current: Distribution) -> Statistic:
    support, r, c = aligned(reference, current)
    return wasserstein_normalised(support, r, c)


def _chi_square(reference: Distribution, current: Distribution) -> Statistic:
    _, r, c = aligned(reference, current)
    return chi_square(r, c)


def _z(reference: Distribution, current: Distribution) -> Statistic:
    _, r, c = aligned(reference, current)
    return z_proportions(r, c)


def _binned(
    statistic: Callable[[Any, Any], Statistic],
) -> Callable[[Distribution, Distribution], Statistic]:
    def compute(reference: Distribution, current: Distribution) -> Statistic:
        return statistic(*shares_in_bins(reference, current))

    return compute


def shares_in_bins(reference: Distribution, current: Distribution) -> tuple[Any, Any]:
    """Count per bin (numeric: Sturges' bins over both samples) or per value, as Evidently."""
    support, r, c = aligned(reference, current)
    if reference.feature_type == "categorical" or reference.distinct() <= BINNED_ABOVE_DISTINCT:
        return r, c
    edges = sturges_edges(float(support[0]), float(support[-1]), reference.total + current.total)
    return (
        np.histogram(support, bins=edges, weights=r)[0],
        np.histogram(support, bins=edges, weights=c)[0],
    )


def sturges_edges(low: float, high: float, rows: int) -> Any:
    """Bin edges ``numpy.histogram_bin_edges(rows, "sturges")`` gives, from the range and size."""
    if low == high:
        low, high = low - 0.5, high + 0.5
    width = (high - low) / (np.log2(rows) + 1.0)
    bins = int(np.ceil((high - low) / width)) if width else 1
    return np.linspace(low, high, bins + 1, endpoint=True)


TESTS: dict[str, DriftTest] = {
    test.name: test
    for test in (
        DriftTest("ks", "Kolmogorov-Smirnov p-value", "p_value", 0.05, ("numeric",), _ks),
        DriftTest(
            "chisquare", "chi-square p-value", "p_value", 0.05, ("categorical",), _chi_square
        ),
        DriftTest("z", "two-proportion z-test p-value", "p_value", 0.05, ("categorical",), _z),
        DriftTest(
            "wasserstein",
            "Wasserstein distance (normed)",
            "distance",
            0.1,
            ("numeric",),
            _wasserstein,
        ),
        DriftTest(
            "jensenshannon",
            "Jensen-Shannon distance",
            "distance",
            0.1,
            ("numeric", "categorical"),
            _binned(jensen_shannon),
        ),
        DriftTest(
            "psi",
            "population stability index",
            "distance",
            0.1,
            ("numeric", "categorical"),
            _binned(psi),
        ),
    )
}


@dataclass(frozen=True)
class DriftResult:
    """One feature's drift between a reference and a current window."""

    feature: str
    test: str
    feature_type: FeatureType
    score: float
    statistic: float
    threshold: float
    drifted: bool
    reference_rows: int
    current_rows: int


def input_drift(
    name: str, reference: Distribution, current: Distribution | None
) -> DriftResult | None:
    """Test an input feature against its training distribution; ``None`` with nothing to test.

    Against training data (thousands of rows), the distance tests of Evidently's default
    rule: normalised Wasserstein for numbers, Jensen-Shannon for categories.
    """
    if current is None or current.total == 0 or reference.total == 0:
        return None
    test = "wasserstein" if reference.feature_type == "numeric" else "jensenshannon"
    return drift(name, reference, current, test=test)


def tested_as(reference: Distribution, current: Distribution) -> FeatureType:
    """The type Evidently tests a feature as: few-valued numeric features count as categories."""
    if reference.feature_type == "numeric":
        distinct = len(
            np.union1d(reference.values[reference.counts > 0], current.values[current.counts > 0])
        )
        if distinct <= CATEGORICAL_MAX_DISTINCT:
            return "categorical"
    return reference.feature_type


def default_test(reference: Distribution, current: Distribution) -> DriftTest:
    """Evidently's default test for this pair of distributions."""
    feature_type = tested_as(reference, current)
    if reference.total <= SMALL_REFERENCE_ROWS:
        if feature_type == "numeric":
            return TESTS["ks"]
        distinct = len(
            np.union1d(reference.values[reference.counts > 0], current.values[current.counts > 0])
        )
        return TESTS["chisquare"] if distinct > 2 else TESTS["z"]
    return TESTS["wasserstein"] if feature_type == "numeric" else TESTS["jensenshannon"]


def drift(
    feature: str,
    reference: Distribution,
    current: Distribution,
    *,
    test: str | None = None,
    threshold: float | None = None,
) -> DriftResult:
    """Test one feature for drift: Evidently's default test and threshold unless overridden."""
    chosen = default_test(reference, current) if test is None else _named(test)
    if not {reference.feature_type, tested_as(reference, current)} & set(chosen.feature_types):
        raise InputError(
            f"the {chosen.name} test does not apply to the {reference.feature_type} feature "
            f"{feature!r}; use one of {_tests_for(reference.feature_type)}"
        )
    statistic = chosen.compute(reference, current)
    score = statistic.p_value if chosen.score == "p_value" else statistic.value
    assert score is not None
    limit = chosen.default_threshold if threshold is None else threshold
    return DriftResult(
        feature=feature,
        test=chosen.name,
        feature_type=tested_as(reference, current),
        score=score,
        statistic=statistic.value,
        threshold=limit,
        drifted=chosen.drifted(score, limit),
        reference_rows=reference.total,
        current_rows=current.total,
    )


@dataclass(frozen=True)
class DriftRule:
    """How one feature's drift is judged where Evidently's default rule does not fit.

    ``test`` names a test of :data:`TESTS` (None: the default rule's choice); ``threshold``
    replaces that test's default threshold (None: keep it).
    """

    test: str | None = None
    threshold: float | None = None

    def __post_init__(self) -> None:
        if self.test is not None:
            _named(self.test)
        if self.threshold is not None and not (
            math.isfinite(self.threshold) and self.threshold >= 0
        ):
            raise InputError(f"a drift threshold is a non-negative number; got {self.threshold}")


def drift_all(
    reference: Mapping[str, Distribution],
    current: Mapping[str, Distribution],
    *,
    rules: Mapping[str, DriftRule] | None = None,
) -> list[DriftResult]:
    """Test every feature of ``reference`` for drift, by the rule given for it or the default.

    ``rules`` are a system's overrides (its spec's ``monitoring.drift``), keyed by feature; a
    rule for a feature that is not compared is an error, so a misspelt name is not ignored.
    """
    chosen = dict(rules or {})
    missing = sorted(set(reference) - set(current))
    if missing:
        raise InputError(f"the current data has no column {missing}; compare the same features")
    unknown = sorted(set(chosen) - set(reference))
    if unknown:
        raise InputError(f"drift rules name features that are not compared: {unknown}")
    return [
        drift(
            name,
            reference[name],
            current[name],
            test=chosen.get(name, DriftRule()).test,
            threshold=chosen.get(name, DriftRule()).threshold,
        )
        for name in reference
    ]


def _named(test: str) -> DriftTest:
    if test not in TESTS:
        raise InputError(f"unknown drift test {test!r}: use one of {sorted(TESTS)}")
    return TESTS[test]


def _tests_for(feature_type: FeatureType) -> list[str]:
    return sorted(name for name, test in TESTS.items() if feature_type in test.feature_types)
