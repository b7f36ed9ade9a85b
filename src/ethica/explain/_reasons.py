"""Reason codes: the declared features that pushed a decision toward the adverse outcome, ranked.

Protected attributes and features declared as their proxies are never given as reasons, even
when the model leaned on them: a customer cannot act on them, and naming them would launder
a disparity as a "reason".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ethica.errors import InputError
from ethica.explain._attribution import Attribution, group_columns
from ethica.governance import BinaryDecision, SystemSpec

#: Adverse-action notices usually give the four principal reasons.
DEFAULT_MAX_REASONS = 4


@dataclass(frozen=True)
class Reason:
    """One feature that pushed toward the adverse outcome, by how much (on the margin)."""

    feature: str
    contribution: float


def excluded_features(spec: SystemSpec) -> set[str]:
    """Names never given as reasons: protected attributes and their declared proxies."""
    protected = {p.name for p in spec.protected_attributes}
    return protected | {f.name for f in spec.features if f.proxy_for}


def adverse_sign(spec: SystemSpec) -> float:
    """+1 when a higher model output is adverse for the customer, else -1."""
    decision = spec.decision
    if isinstance(decision, BinaryDecision) and decision.adverse == "positive":
        return 1.0
    return -1.0


def reason_codes(
    attribution: Attribution | Mapping[str, float],
    *,
    spec: SystemSpec,
    max_reasons: int = DEFAULT_MAX_REASONS,
) -> list[Reason]:
    """Rank the features that pushed toward the adverse outcome, strongest first.

    Parameters
    ----------
    attribution
        An :class:`Attribution`, or per-column contributions (one-hot columns such as
        ``city_Paris`` are summed into their declared feature first).
    spec
        The system's spec: its decision says which direction is adverse; its protected
        attributes and proxies are excluded.
    max_reasons
        At most this many reasons.

    Returns
    -------
    list of Reason
        Contributions toward the adverse outcome, as positive amounts on the attribution's
        scale; features that pushed the other way are not reasons.
    """
    if max_reasons < 1:
        raise InputError(f"max_reasons must be at least 1; got {max_reasons}")
    contributions = (
        attribution.contributions if isinstance(attribution, Attribution) else attribution
    )
    names = [f.name for f in spec.features]
    grouped = group_columns(contributions, names + [p.name for p in spec.protected_attributes])
    excluded = excluded_features(spec)
    sign = adverse_sign(spec)
    adverse = [
        Reason(feature=name, contribution=sign * value)
        for name, value in grouped.items()
        if name not in excluded and sign * value > 0.0
    ]
    adverse.sort(key=lambda reason: (-reason.contribution, reason.feature))
    return adverse[:max_reasons]


def supporting_reasons(
    attribution: Attribution | Mapping[str, float],
    *,
    spec: SystemSpec,
    max_reasons: int = DEFAULT_MAX_REASONS,
) -> list[Reason]:
    """Rank the features that raised the model's output, strongest first.

    For a class contrast these favoured the chosen class over the runner-up; for a scored item
    they raised its score (the reasons it was recommended). Protected attributes and their
    proxies are excluded, as in :func:`reason_codes`.

    Returns
    -------
    list of Reason
        Positive contributions only, at most ``max_reasons``.
    """
    if max_reasons < 1:
        raise InputError(f"max_reasons must be at least 1; got {max_reasons}")
    contributions = (
        attribution.contributions if isinstance(attribution, Attribution) else attribution
    )
    names = [f.name for f in spec.features]
    grouped = group_columns(contributions, names + [p.name for p in spec.protected_attributes])
    excluded = excluded_features(spec)
    raising = [
        Reason(feature=name, contribution=value)
        for name, value in grouped.items()
        if name not in excluded and value > 0.0
    ]
    raising.sort(key=lambda reason: (-reason.contribution, reason.feature))
    return raising[:max_reasons]
