"""A case's evidence as a reviewer reads it: inputs by name and unit, contributions, proxies.

The reviewer sees what the customer sees in words (the spec's descriptions and units), plus
what the customer is not given: every input's contribution to the score, and a warning when
a declared proxy of a protected attribute weighed heavily (a proxy is never a reason shown to
the customer, so without the warning its weight would go unseen).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ethica.explain._text import describe, format_value
from ethica.governance import FeatureSpec, SystemSpec

#: A declared proxy among this many largest contributions is flagged to the reviewer.
HEAVY_RANK = 3
_ORDINALS = ("largest", "second largest", "third largest")


@dataclass(frozen=True)
class InputRow:
    """One input of the case: its name in words, its value as people write it."""

    label: str
    value: str
    name: str


def _feature(spec: SystemSpec, name: str) -> FeatureSpec | None:
    return next((f for f in spec.features if f.name == name), None)


def feature_words(spec: SystemSpec, name: str) -> str:
    """A feature by its description (its name with spaces when the spec does not declare it)."""
    feature = _feature(spec, name)
    return name.replace("_", " ") if feature is None else describe(feature)


def input_rows(spec: SystemSpec, inputs: dict[str, Any] | None) -> list[InputRow]:
    """The inputs in the spec's order, each by its description and formatted with its unit."""
    if not inputs:
        return []
    rows = []
    order = {f.name: i for i, f in enumerate(spec.features)}
    for name in sorted(inputs, key=lambda n: (order.get(n, len(order)), n)):
        feature = _feature(spec, name)
        value = inputs[name]
        if feature is None:
            rows.append(InputRow(name.replace("_", " "), str(value), name))
        else:
            rows.append(InputRow(describe(feature), format_value(value, feature), name))
    return rows


def heavy_proxies(spec: SystemSpec, explanation: dict[str, Any] | None) -> list[str]:
    """Sentences for the reviewer about declared proxies among the largest contributions."""
    contributions = (explanation or {}).get("contributions") or {}
    ranked = sorted(
        (
            (name, float(value))
            for name, value in contributions.items()
            if isinstance(value, int | float)
        ),
        key=lambda item: -abs(item[1]),
    )
    warnings = []
    for rank, (name, value) in enumerate(ranked[:HEAVY_RANK]):
        feature = _feature(spec, name)
        if feature is None or not feature.proxy_for or value == 0:
            continue
        attributes = " and ".join(a.replace("_", " ") for a in feature.proxy_for)
        warnings.append(
            f"“{describe(feature).capitalize()}” is a declared proxy for {attributes}, and it "
            f"made the {_ORDINALS[rank]} contribution to this decision ({value:+.3f} to the "
            "score). It is never shown to the customer as a reason: check that it did not "
            "decide the case."
        )
    return warnings
