"""Data minimization: only the features a system declares (and may use) reach its model.

Undeclared inputs are dropped and reported, protected attributes are set apart for fairness
monitoring, and declared features without consent or legal basis are withheld with a reason
(the model then receives the feature's declared default). Free-text features are redacted
(:func:`ethica.privacy.redact`) before anything downstream sees them: the model, the
explanation and the ledger get ``<EMAIL>`` where the customer wrote their address.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ethica.errors import InputError
from ethica.governance import FeatureSpec, SystemSpec
from ethica.privacy._redact import redact

MAX_PROTECTED_LENGTH = 100
"""Longest protected attribute value, in characters: they are group labels, not free text."""


@dataclass(frozen=True)
class Withheld:
    """A declared feature that did not reach the model, and why."""

    feature: str
    reason: str


@dataclass(frozen=True)
class Minimized:
    """What the model receives, and what was kept from it."""

    features: dict[str, Any]
    used: list[str]
    withheld: list[Withheld] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    protected: dict[str, str] = field(default_factory=dict)
    redacted: dict[str, list[str]] = field(default_factory=dict)
    """Per free-text feature, the kinds of personal data redacted from it (never the values)."""


def minimize(
    spec: SystemSpec,
    inputs: Mapping[str, Any],
    *,
    protected: Mapping[str, Any] | None = None,
    withhold: Mapping[str, str] | None = None,
) -> Minimized:
    """Split a request's inputs into what the model may see and everything else.

    Parameters
    ----------
    spec
        The system's spec: its declared features and protected attributes.
    inputs
        The features the caller sent.
    protected
        Protected attributes sent for fairness monitoring only.
    withhold
        Declared features that may not be used for this subject, with the reason (consent).
    """
    withhold = dict(withhold or {})
    declared = {f.name: f for f in spec.features}
    protected_names = {p.name for p in spec.protected_attributes}
    leaked = sorted(set(inputs) & protected_names)
    if leaked:
        raise InputError(
            f"{leaked} are protected attributes: send them under 'protected', never as features"
        )
    dropped = sorted(set(inputs) - set(declared))
    features: dict[str, Any] = {}
    used: list[str] = []
    withheld: list[Withheld] = []
    redacted: dict[str, list[str]] = {}
    for name, feature in declared.items():
        if name in withhold:
            withheld.append(Withheld(name, withhold[name]))
            features[name] = feature.default
        elif name in inputs and inputs[name] is not None:
            value = _checked(feature, inputs[name])
            if feature.type == "text":
                result = redact(value)
                value = result.text
                if result.found:
                    redacted[name] = sorted({found.kind for found in result.found})
            features[name] = value
            used.append(name)
        else:
            withheld.append(Withheld(name, "not provided"))
            features[name] = feature.default
    monitoring = {}
    for name, value in (protected or {}).items():
        if name not in protected_names:
            raise InputError(
                f"protected attribute {name!r} is not declared by system {spec.id!r}; declared: "
                f"{sorted(protected_names)}"
            )
        if value is None:
            continue
        if len(str(value)) > MAX_PROTECTED_LENGTH:
            raise InputError(
                f"protected attribute {name!r} is a group label of at most "
                f"{MAX_PROTECTED_LENGTH} characters; got {len(str(value))}"
            )
        monitoring[name] = str(value)
    return Minimized(features, used, withheld, dropped, monitoring, redacted)


def _checked(feature: FeatureSpec, value: Any) -> Any:
    """Return the value in the feature's type, or raise a clear error."""
    kind = feature.type
    if kind in ("number", "integer"):
        return _number(feature, value)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise InputError(f"feature {feature.name!r} must be true or false; got {value!r}")
        return value
    if kind == "category":
        if feature.categories is not None and value not in feature.categories:
            raise InputError(
                f"feature {feature.name!r} must be one of {feature.categories}; got {value!r}"
            )
        return value
    if not isinstance(value, str):
        raise InputError(f"feature {feature.name!r} must be text; got {type(value).__name__}")
    return value


def _number(feature: FeatureSpec, value: Any) -> float:
    """Return the value as a finite float within the feature's declared range, or refuse it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"feature {feature.name!r} must be a number; got {value!r}")
    try:
        number = float(value)
    except OverflowError:
        raise InputError(
            f"feature {feature.name!r} is a number too large to use ({len(str(value))} digits)"
        ) from None
    if not math.isfinite(number):
        raise InputError(f"feature {feature.name!r} must be a finite number; got {value!r}")
    if feature.type == "integer" and not number.is_integer():
        raise InputError(f"feature {feature.name!r} must be a whole number; got {value!r}")
    low, high = feature.minimum, feature.maximum
    if (low is not None and number < low) or (high is not None and number > high):
        declared = " and ".join(
            f"{word} {bound:g}"
            for word, bound in (("at least", low), ("at most", high))
            if bound is not None
        )
        raise InputError(
            f"feature {feature.name!r} must be {declared} (the system's declared range); "
            f"got {number:g}"
        )
    return number
