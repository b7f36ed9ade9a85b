"""The "Add a seeded case" form of a system page: its fields, made from the system's spec.

One labelled input per declared feature (a number input for numbers, a list of the declared
categories for a category) and the known correct outcome. What an officer sends is read back
into the same :class:`~ethica.service.reviews.schemas.SeededCaseCreate` the API takes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ethica.errors import InputError
from ethica.explain._text import describe
from ethica.governance import BinaryDecision, FeatureSpec, MulticlassDecision, SystemSpec
from ethica.service.reviews.schemas import SeededCaseCreate

#: Form field names: one per feature, prefixed so that no feature can clash with another field.
FEATURE_PREFIX = "feature."
KNOWN_OUTCOME = "known_outcome"
_YES_NO = ("true", "false")
_YES_NO_WORDS = {"true": "yes", "false": "no"}


@dataclass(frozen=True)
class SeededField:
    """One input of the form."""

    name: str
    label: str
    kind: str  # "number", "select" or "text"
    choices: tuple[str, ...] = ()
    #: How each choice reads (the spec's labels); a choice without one reads as itself.
    words: Mapping[str, str] = field(default_factory=dict)
    step: str = "any"
    minimum: float | None = None
    maximum: float | None = None
    value: str = ""


@dataclass(frozen=True)
class SeededForm:
    """The form of one system: feature inputs, the known outcome, what was entered last."""

    features: tuple[SeededField, ...]
    outcome: SeededField


def seeded_form(spec: SystemSpec, entered: Mapping[str, str] | None = None) -> SeededForm:
    """The form for ``spec``'s seeded cases, filled with ``entered`` (after a refusal)."""
    entered = entered or {}
    fields = tuple(_field(f, entered.get(FEATURE_PREFIX + f.name, "")) for f in spec.features)
    outcomes = outcome_choices(spec)
    known = entered.get(KNOWN_OUTCOME, "")
    outcome = SeededField(
        name=KNOWN_OUTCOME,
        label="Known correct outcome",
        kind="select" if outcomes else "text",
        choices=outcomes,
        words={o: _outcome_words(spec, o) for o in outcomes},
        value=known,
    )
    return SeededForm(features=fields, outcome=outcome)


def outcome_choices(spec: SystemSpec) -> tuple[str, ...]:
    """The outcomes a reviewer can give (none listed for rankings and scores: typed instead)."""
    decision = spec.decision
    if isinstance(decision, BinaryDecision):
        return (decision.positive, decision.negative)
    if isinstance(decision, MulticlassDecision):
        return tuple(decision.classes)
    return ()


def seeded_request(spec: SystemSpec, form: Mapping[str, str]) -> SeededCaseCreate:
    """The API's request body from the form; InputError naming the first field that is wrong."""
    features: dict[str, Any] = {}
    for feature in spec.features:
        raw = form.get(FEATURE_PREFIX + feature.name, "").strip()
        if not raw:
            raise InputError(f"enter a value for {_label(feature)}")
        features[feature.name] = _value(feature, raw)
    known = form.get(KNOWN_OUTCOME, "").strip()
    if not known:
        raise InputError("choose the known correct outcome")
    return SeededCaseCreate(system_id=spec.id, features=features, known_outcome=known)


def _outcome_words(spec: SystemSpec, outcome: str) -> str:
    decision = spec.decision
    words = decision.label(outcome) if isinstance(decision, MulticlassDecision) else outcome
    return words[:1].upper() + words[1:]


def _field(feature: FeatureSpec, value: str) -> SeededField:
    label = _heading(feature)
    name = FEATURE_PREFIX + feature.name
    if feature.type in ("number", "integer"):
        step = "1" if feature.type == "integer" else "any"
        low, high = feature.minimum, feature.maximum
        return SeededField(name, label, "number", step=step, minimum=low, maximum=high, value=value)
    if feature.type == "category":
        choices = tuple(feature.categories or ())
        words = {c: feature.labels.get(c) or c.replace("_", " ") for c in choices}
        return SeededField(name, label, "select", choices=choices, words=words, value=value)
    if feature.type == "boolean":
        return SeededField(name, label, "select", choices=_YES_NO, words=_YES_NO_WORDS, value=value)
    return SeededField(name, label, "text", value=value)


def _label(feature: FeatureSpec) -> str:
    """The feature in words, as a sentence names it (``yearly income``)."""
    return describe(feature)


def _heading(feature: FeatureSpec) -> str:
    """The field's label: the feature in words, with the unit its value is entered in."""
    words = describe(feature)
    unit = feature.unit
    if unit == "percent":
        unit = "a share: 0.25 for 25%"
    words = words[:1].upper() + words[1:]
    return f"{words} ({unit})" if unit else words


def _value(feature: FeatureSpec, raw: str) -> Any:
    """The form's text as the API would receive it in JSON; the backend checks the rest."""
    if feature.type in ("number", "integer"):
        try:
            return float(raw)
        except ValueError:
            raise InputError(f"{_label(feature)} must be a number, not {raw!r}") from None
    if feature.type == "boolean":
        if raw not in _YES_NO:
            raise InputError(f"{_label(feature)} must be true or false, not {raw!r}")
        return raw == "true"
    return raw
