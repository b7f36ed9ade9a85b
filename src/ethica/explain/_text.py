"""Plain-language sentences for reasons and counterfactuals, in English and German.

The templates are Python dictionaries, one per locale, rather than gettext catalogs: a catalog
needs a compile step (``.po`` → ``.mo``) that the wheel build does not run, and a dictionary is
checked by mypy and by a test that every locale has every key. A system may override the
sentence of any feature with its own template.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from ethica.errors import InputError
from ethica.governance import BinaryDecision, FeatureSpec, SystemSpec

Locale = Literal["en", "de"]

TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "higher": (
            "Your {description} is {value}; customers with a higher {description} were more "
            "often {favourable}."
        ),
        "lower": (
            "Your {description} is {value}; customers with a lower {description} were more "
            "often {favourable}."
        ),
        "other": "Your {description} is {value}; this weighed toward {adverse}.",
        "reference": " Typical of {favourable} customers: {reference}.",
        "summary": "The decision: {outcome}.",
        "summary_reasons": "The decision: {outcome}. The main reasons:",
        "change": "your {description} were {to} instead of {value}",
        "counterfactual": "You would have been {favourable} if {changes}.",
        "and": " and ",
        "no_counterfactual": (
            "No change to what you can act on ({features}), within the allowed ranges, would "
            "have changed the decision."
        ),
        "nothing_actionable": "None of the information used is something you can change.",
        "yes": "yes",
        "no": "no",
        "missing": "not given",
    },
    "de": {
        "higher": (
            "Ihr Wert für „{description}“ ist {value}; bei einem höheren Wert lautete die "
            "Entscheidung häufiger „{favourable}“."
        ),
        "lower": (
            "Ihr Wert für „{description}“ ist {value}; bei einem niedrigeren Wert lautete die "
            "Entscheidung häufiger „{favourable}“."
        ),
        "other": (
            "Ihr Wert für „{description}“ ist {value}; das sprach für die Entscheidung „{adverse}“."
        ),
        "reference": " Üblich bei der Entscheidung „{favourable}“: {reference}.",
        "summary": "Die Entscheidung: {outcome}.",
        "summary_reasons": "Die Entscheidung: {outcome}. Die wichtigsten Gründe:",
        "change": "Ihr Wert für „{description}“ {to} statt {value} betragen hätte",
        "counterfactual": "Die Entscheidung hätte „{favourable}“ gelautet, wenn {changes}.",
        "and": " und ",
        "no_counterfactual": (
            "Keine Änderung der Angaben, die Sie beeinflussen können ({features}), hätte "
            "innerhalb der zulässigen Bereiche die Entscheidung geändert."
        ),
        "nothing_actionable": "Keine der verwendeten Angaben können Sie selbst ändern.",
        "yes": "ja",
        "no": "nein",
        "missing": "nicht angegeben",
    },
}


def template(locale: str, key: str) -> str:
    """Return the ``key`` sentence of ``locale``."""
    if locale not in TEMPLATES:
        raise InputError(f"unknown locale {locale!r}: use one of {sorted(TEMPLATES)}")
    return TEMPLATES[locale][key]


def describe(feature: FeatureSpec) -> str:
    """Return the feature's description, or its name in words."""
    return feature.description.strip() or feature.name.replace("_", " ")


def favourable_outcome(spec: SystemSpec) -> str:
    """Return the outcome the customer hopes for."""
    decision = spec.decision
    if isinstance(decision, BinaryDecision):
        return decision.negative if decision.adverse == "positive" else decision.positive
    return "a better outcome"


def adverse_outcome(spec: SystemSpec) -> str:
    """Return the outcome adverse to the customer."""
    decision = spec.decision
    if isinstance(decision, BinaryDecision):
        return decision.adverse_outcome
    return "a worse outcome"


def format_value(value: Any, feature: FeatureSpec, *, locale: str = "en") -> str:
    """Write a value as a customer reads it: grouped thousands, two decimals at most, yes/no."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return template(locale, "missing")
    if isinstance(value, bool) or feature.type == "boolean":
        return template(locale, "yes" if bool(value) else "no")
    if feature.type in ("number", "integer") and isinstance(value, (int, float)):
        number = float(value)
        if feature.type == "integer" or number.is_integer():
            text = f"{round(number):,}"
        else:
            text = f"{number:,.2f}".rstrip("0").rstrip(".")
        if locale == "de":
            text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
        return text
    return str(value)


def reason_text(
    feature: FeatureSpec,
    value: Any,
    *,
    spec: SystemSpec,
    reference: Any = None,
    locale: str = "en",
    override: str | None = None,
) -> str:
    """Write the sentence that explains one reason to the customer.

    Parameters
    ----------
    feature
        The declared feature.
    value
        The customer's value.
    spec
        The system's spec (names of the outcomes).
    reference
        A typical value among customers with the favourable outcome, or None.
    locale
        ``"en"`` or ``"de"``.
    override
        A template of the system's own for this feature, with the fields ``{description}``,
        ``{value}``, ``{reference}``, ``{favourable}`` and ``{adverse}``.
    """
    fields = {
        "description": describe(feature),
        "value": format_value(value, feature, locale=locale),
        "reference": format_value(reference, feature, locale=locale),
        "favourable": favourable_outcome(spec),
        "adverse": adverse_outcome(spec),
    }
    if override is not None:
        try:
            return override.format(**fields)
        except (KeyError, IndexError, ValueError) as error:
            raise InputError(
                f"the template for {feature.name!r} is not valid ({error}); its fields are "
                f"{sorted(fields)}"
            ) from error
    key = {"increasing": "higher", "decreasing": "lower"}.get(feature.direction, "other")
    if feature.type in ("category", "boolean", "text"):
        key = "other"
    text = template(locale, key).format(**fields)
    if reference is not None and not _same(reference, value):
        text += template(locale, "reference").format(**fields)
    return text


def counterfactual_text(
    changes: Mapping[str, tuple[Any, Any]], *, spec: SystemSpec, locale: str = "en"
) -> str:
    """Write 'You would have been approved if your income were 3,000 instead of 1,200.'."""
    parts = []
    for name, (before, after) in changes.items():
        feature = spec.feature(name)
        parts.append(
            template(locale, "change").format(
                description=describe(feature),
                value=format_value(before, feature, locale=locale),
                to=format_value(after, feature, locale=locale),
            )
        )
    return template(locale, "counterfactual").format(
        favourable=favourable_outcome(spec), changes=template(locale, "and").join(parts)
    )


def _same(left: Any, right: Any) -> bool:
    try:
        return bool(left == right)
    except (TypeError, ValueError):
        return False
