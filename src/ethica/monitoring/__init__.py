"""Watch a system over time: drift of inputs and scores, fairness per window, alerts.

Monitoring is a windowed audit: every figure is computed from counts stored per window, so a
window is aggregated once and reports read only the stored counts. Drift tests follow
Evidently's registry and default rule; their values equal scipy's on the same data.
"""

from ethica.monitoring._distribution import Distribution, FeatureType
from ethica.monitoring._drift import (
    TESTS,
    DriftResult,
    DriftRule,
    DriftTest,
    default_test,
    drift,
    drift_all,
)
from ethica.monitoring._statistics import Statistic

__all__ = [
    "TESTS",
    "Distribution",
    "DriftResult",
    "DriftRule",
    "DriftTest",
    "FeatureType",
    "Statistic",
    "default_test",
    "drift",
    "drift_all",
]
