"""What a binary audit asks its engine, decided without pandas: the roles, bins and group-by.

The command line starts DuckDB's aggregation from these while another thread loads pandas and
the assessment (DuckDB lets go of the GIL while it aggregates); the audit builds the very same
query from them, so the result it takes is the one it would have asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ethica.engines import Aggregation, Col, Engine, binned
from ethica.errors import InputError

if TYPE_CHECKING:
    import numpy as np

#: At most this many distinct scores are kept exactly; more are binned in this many bins.
SCORE_BINS = 1000


@dataclass(frozen=True)
class Roles:
    """Which column of the source plays which part in the audit."""

    sensitive: tuple[str, ...]
    label: str | None
    prediction: str | None
    score: str | None = None
    list_id: str | None = None

    def required(self) -> list[str]:
        """Every column the audit reads."""
        named = [self.label, self.prediction, self.score, self.list_id]
        return [*self.sensitive, *(c for c in named if c is not None)]


def named_roles(
    *,
    sensitive_features: Any,
    label: Any,
    prediction: Any,
    score: Any = None,
    list_id: Any = None,
) -> Roles:
    """Return the roles of a data table's columns, each given by its name."""
    return Roles(
        sensitive=feature_names(sensitive_features),
        label=_name(label, "label"),
        prediction=_name(prediction, "prediction"),
        score=_name(score, "score"),
        list_id=_name(list_id, "list_id"),
    )


def feature_names(features: Any) -> tuple[str, ...]:
    """Return the sensitive features' names, from a list of columns or ``"sex,race"``."""
    if isinstance(features, str):
        names = tuple(f.strip() for f in features.split(",") if f.strip())
    elif isinstance(features, Sequence) and all(isinstance(f, str) for f in features):
        names = tuple(features)
    else:
        raise InputError(
            "with a data table, sensitive_features must be column names (a list, or 'sex,race')"
        )
    if not names:
        raise InputError("name at least one sensitive feature, e.g. sensitive_features=['sex']")
    if len(set(names)) != len(names):
        raise InputError(f"sensitive features are named twice: {list(names)}")
    return names


def _name(value: Any, role: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise InputError(
        f"with a data table, {role} must be a column name; got a {type(value).__name__}"
    )


@dataclass(frozen=True)
class ScoreBins:
    """How scores (or predicted values) were binned: by exact value, or in equal-width bins."""

    method: Literal["exact", "equal_width"]
    low: float = 0.0
    high: float = 1.0
    bins: int = 0

    def centers(self, keys: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Return a representative value for each bin key."""
        import numpy as np

        keys = np.asarray(keys, dtype=np.float64)
        if self.method == "exact":
            return keys
        return self.low + (keys + 0.5) * (self.high - self.low) / self.bins

    def edges(
        self, keys: np.ndarray[Any, Any]
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """Lower and upper value of each bin key."""
        import numpy as np

        keys = np.asarray(keys, dtype=np.float64)
        if self.method == "exact":
            return keys, keys
        width = (self.high - self.low) / self.bins
        return self.low + keys * width, self.low + (keys + 1) * width


@dataclass(frozen=True)
class ScorePlan:
    """How an audit's scores are binned, and whether a profile found them all in ``[0, 1)``."""

    bins: ScoreBins | None
    unit: bool = False


def choose_score_bins(
    engine: Engine, source: Any, score: str | None, score_bins: int | ScoreBins
) -> ScoreBins | None:
    """Exact scores when at most ``score_bins`` are distinct, else equal-width bins."""
    return plan_scores(engine, source, score, score_bins).bins


def plan_scores(
    engine: Engine, source: Any, score: str | None, score_bins: int | ScoreBins
) -> ScorePlan:
    """Choose the score bins (as :func:`choose_score_bins`); tell if every score is in [0, 1).

    Distinct scores are counted only up to one past the limit: on continuous scores the
    engine stops within the first rows, and the aggregation pass then needs no per-cell range.
    Bins given as a :class:`ScoreBins` are kept, unprofiled (no range is known then).
    """
    if score is None:
        return ScorePlan(None)
    if isinstance(score_bins, ScoreBins):
        return ScorePlan(score_bins)
    profile = engine.profile(source, score, distinct_limit=score_bins)
    if profile.non_null == 0:
        raise InputError(f"score column {score!r} has no values")
    assert profile.minimum is not None and profile.maximum is not None
    # NaN is the greatest value for DuckDB and PostgreSQL; it fails ``< 1`` here.
    unit = float(profile.minimum) >= 0.0 and float(profile.maximum) < 1.0
    few = profile.distinct is not None and profile.distinct <= score_bins
    if profile.minimum == profile.maximum or few:
        return ScorePlan(ScoreBins("exact"), unit)
    low, high = float(profile.minimum), float(profile.maximum)
    return ScorePlan(ScoreBins("equal_width", low, high, score_bins), unit)


def binary_aggregation(roles: Roles, bins: ScoreBins | None, *, unit: bool = False) -> Aggregation:
    """Group by the sensitive features, label, prediction and score bin; sum the score.

    The score's sum is exact (the same on every run of a parallel engine), so that an audit
    of the same data writes the same JSON every time; ``unit``: every score lies in ``[0, 1)``,
    which makes that sum cheaper on SQL engines (the same number).
    """
    keys: list[tuple[str, Any]] = [(f, Col(f)) for f in roles.sensitive]
    if roles.label is not None:
        keys.append(("label", Col(roles.label)))
    if roles.prediction is None:
        raise InputError("a binary audit needs the decisions: pass prediction=")
    keys.append(("prediction", Col(roles.prediction)))
    sums: list[tuple[str, Any]] = []
    if roles.score is not None and bins is not None:
        score = Col(roles.score)
        if bins.method == "exact":
            keys.append(("score_bin", score))
        else:
            keys.append(("score_bin", binned(roles.score, bins.low, bins.high, bins.bins)))
        sums.append(("score_sum", score))
    unit_sums = frozenset(name for name, _ in sums) if unit else frozenset()
    return Aggregation(keys=tuple(keys), exact_sums=tuple(sums), unit_sums=unit_sums)
