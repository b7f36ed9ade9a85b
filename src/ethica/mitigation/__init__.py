"""Mitigate disparities found by an audit: post-processing thresholds and reweighing.

Everything here starts from the audit's count table, so it runs on any engine and at any size.
Nothing is applied silently: a policy that uses a protected attribute at decision time says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ethica._lazy import lazy_attributes

if TYPE_CHECKING:
    from ethica.mitigation._count_arrays import count_arrays
    from ethica.mitigation._methods import (
        DISPARATE_TREATMENT,
        METHODS,
        guard_rail,
        spec_guard_rail,
        spec_jurisdictions,
    )
    from ethica.mitigation._policy import GroupRule, ThresholdPolicy, rules_from_dicts
    from ethica.mitigation._reductions import reduced_model, reductions
    from ethica.mitigation._reweighing import ReweighingWeights, reweighing
    from ethica.mitigation._shadow import ShadowComparison, compare_decisions
    from ethica.mitigation._sweep import CostMatrix, TradeOff, trade_off
    from ethica.mitigation._sweep_chart import trade_off_figure
    from ethica.mitigation._thresholds import THRESHOLD_CRITERIA, group_thresholds

_WHERE = {
    "DISPARATE_TREATMENT": "_methods",
    "METHODS": "_methods",
    "guard_rail": "_methods",
    "spec_guard_rail": "_methods",
    "spec_jurisdictions": "_methods",
    "GroupRule": "_policy",
    "rules_from_dicts": "_policy",
    "ThresholdPolicy": "_policy",
    "reduced_model": "_reductions",
    "reductions": "_reductions",
    "ReweighingWeights": "_reweighing",
    "reweighing": "_reweighing",
    "count_arrays": "_count_arrays",
    "ShadowComparison": "_shadow",
    "compare_decisions": "_shadow",
    "CostMatrix": "_sweep",
    "TradeOff": "_sweep",
    "trade_off_figure": "_sweep_chart",
    "trade_off": "_sweep",
    "THRESHOLD_CRITERIA": "_thresholds",
    "group_thresholds": "_thresholds",
}

__all__ = [
    "CostMatrix",
    "DISPARATE_TREATMENT",
    "METHODS",
    "THRESHOLD_CRITERIA",
    "GroupRule",
    "ReweighingWeights",
    "ShadowComparison",
    "ThresholdPolicy",
    "TradeOff",
    "compare_decisions",
    "group_thresholds",
    "guard_rail",
    "reduced_model",
    "reductions",
    "reweighing",
    "rules_from_dicts",
    "count_arrays",
    "spec_guard_rail",
    "spec_jurisdictions",
    "trade_off",
    "trade_off_figure",
]


__getattr__, __dir__ = lazy_attributes("ethica.mitigation", _WHERE, globals(), __all__)
