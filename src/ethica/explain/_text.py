"""Plain-language sentences for reasons and counterfactuals, in English and German.

A sentence speaks to the customer (second person: "Your yearly income: 39,200 EUR.") or about
them to a reviewer (third person: "The customer's yearly income: ..."); a value reads by the
spec's label for it, its unit, or as a percentage.

The sentences live in gettext catalogs (``locales/<locale>/LC_MESSAGES/ethica.po``) read with
Babel at import, so a translator edits text files and nothing is compiled at install; numbers
follow the locale's conventions (Babel's CLDR data). A system may override the sentence of any
feature with its own template.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any, Literal

import babel
from babel.numbers import NumberPattern, format_percent, parse_pattern

from ethica.errors import InputError
from ethica.explain._catalogs import EXPLANATION, REVIEWER, by_locale
from ethica.governance import (
    BinaryDecision,
    FeatureSpec,
    MulticlassDecision,
    RankingDecision,
    SystemSpec,
)

Locale = Literal["en", "de"]
#: Who reads a sentence: the customer it is about (second person) or a reviewer (third person).
Reader = Literal["customer", "reviewer"]

#: The sentences per locale and key, read from ``locales/<locale>/LC_MESSAGES/ethica.po``.
TEMPLATES: dict[str, dict[str, str]] = by_locale(EXPLANATION)
#: The sentences that differ for a reviewer (third person), per locale and key.
REVIEWER_TEMPLATES: dict[str, dict[str, str]] = by_locale(REVIEWER)
#: Numbers as customers read them: grouped thousands, at most two decimals.
_DECIMALS = "#,##0.##"
_WHOLE = "#,##0"


#: Plain numbers below this size are written without Babel (:func:`_plain_written`).
_PLAIN_LIMIT = 1e15


@cache
def _number_format(locale: str, pattern: str) -> tuple[NumberPattern, babel.Locale]:
    # Parsed once: Babel's format_decimal parses the pattern again on every call.
    return parse_pattern(pattern), babel.Locale.parse(locale)


@cache
def _plain_symbols(locale: str, pattern: str) -> tuple[str, str] | None:
    """Return the group and decimal symbols when :func:`_plain_written` writes ``pattern``.

    That is a plain grouped pattern (``#,##0``, ``#,##0.##``): groups of three, no prefix or
    suffix but the minus sign, no scale, exponent or significant digits, no minimum of
    fraction digits. Other patterns (``None``) are left to Babel.
    """
    parsed, conventions = _number_format(locale, pattern)
    plain = (
        parsed.prefix == ("", "-")
        and parsed.suffix == ("", "")
        and parsed.grouping == (3, 3)
        and parsed.int_prec[0] <= 1
        and parsed.frac_prec[0] == 0
        and parsed.scale == 0
        and not parsed.exp_prec
        and "@" not in parsed.pattern
        and parsed.number_pattern != ""
    )
    if not plain:
        return None
    symbols = conventions.number_symbols["latn"]
    return str(symbols["group"]), str(symbols["decimal"])


@lru_cache(maxsize=4096)
def _formatted(number: float, locale: str, pattern: str) -> str:
    # Typical (reference) values recur in every explanation of a system: format them once.
    symbols = _plain_symbols(locale, pattern)
    if symbols is not None and abs(number) < _PLAIN_LIMIT:
        return _plain_written(number, symbols, _number_format(locale, pattern)[0].frac_prec[1])
    parsed, conventions = _number_format(locale, pattern)
    return str(parsed.apply(number, conventions))


def _plain_written(number: float, symbols: tuple[str, str], digits: int) -> str:
    """Write ``number`` as Babel's ``NumberPattern.apply`` does for a plain grouped pattern.

    The same steps on the same ``Decimal`` (of ``str(number)``, rounded in the thread's decimal
    context, half to even by default), without Babel's lookups of the locale's symbols on every
    call: explanations write several numbers per decision. The sign is the value's before
    rounding, as in Babel (``-0.001`` reads ``-0``).
    """
    group, point = symbols
    value = Decimal(str(number))
    rounded = abs(value).normalize().quantize(Decimal(1).scaleb(-digits))
    whole, _, fraction = f"{rounded:f}".partition(".")
    written = f"{int(whole):,}".replace(",", group)
    fraction = fraction.rstrip("0")
    if fraction:
        written += point + fraction
    return "-" + written if value.is_signed() else written


def template(locale: str, key: str, reader: Reader = "customer") -> str:
    """Return the ``key`` sentence of ``locale``, as ``reader`` reads it."""
    if locale not in TEMPLATES:
        raise InputError(f"unknown locale {locale!r}: use one of {sorted(TEMPLATES)}")
    if reader == "reviewer" and key in REVIEWER_TEMPLATES.get(locale, {}):
        return REVIEWER_TEMPLATES[locale][key]
    return TEMPLATES[locale][key]


def describe(feature: FeatureSpec) -> str:
    """Return the feature's description, or its name in words."""
    return feature.description.strip() or feature.name.replace("_", " ")


def favourable_outcome(spec: SystemSpec) -> str:
    """Return the outcome the customer hopes for."""
    decision = spec.decision
    if isinstance(decision, BinaryDecision):
        return decision.negative if decision.adverse == "positive" else decision.positive
    return "given a better outcome"


def adverse_outcome(spec: SystemSpec) -> str:
    """Return the outcome adverse to the customer."""
    decision = spec.decision
    if isinstance(decision, BinaryDecision):
        return decision.adverse_outcome
    return "a worse outcome"


def format_value(value: Any, feature: FeatureSpec, *, locale: str = "en") -> str:
    """Write a value as a customer reads it: grouped thousands, two decimals at most, yes/no.

    Numbers follow the locale's conventions (CLDR, through Babel): ``1,234.5`` in English,
    ``1.234,5`` in German.
    """
    template(locale, "missing")  # an unknown locale is refused before Babel sees it
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return template(locale, "missing")
    if isinstance(value, bool) or feature.type == "boolean":
        return template(locale, "yes" if bool(value) else "no")
    if feature.type in ("number", "integer") and isinstance(value, (int, float)):
        number = float(value) + 0.0  # -0.0 reads as 0
        if not math.isfinite(number):
            return str(value)
        if feature.unit == "percent":
            return str(format_percent(number, "#,##0.#%", locale=locale))
        whole = feature.type == "integer" or number.is_integer()
        written = _formatted(number, locale, _WHOLE if whole else _DECIMALS)
        return f"{written}\u00a0{feature.unit}" if feature.unit else written
    written = str(value)
    return feature.labels.get(written) or written.replace("_", " ")


def reason_text(
    feature: FeatureSpec,
    value: Any,
    *,
    spec: SystemSpec,
    reference: Any = None,
    locale: str = "en",
    override: str | None = None,
    reader: Reader = "customer",
) -> str:
    """Write the sentence that explains one reason to the customer (or about them, to a reviewer).

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
    text = template(locale, key, reader).format(**fields)
    if reference is not None and not _same(reference, value):
        text += template(locale, "reference", reader).format(**fields)
    return text


def counterfactual_text(
    changes: Mapping[str, tuple[Any, Any]],
    *,
    spec: SystemSpec,
    locale: str = "en",
    reader: Reader = "customer",
) -> str:
    """Write 'You would have been approved if your income were 3,000 instead of 1,200.'."""
    parts = []
    for name, (before, after) in changes.items():
        feature = spec.feature(name)
        parts.append(
            template(locale, "change", reader).format(
                description=describe(feature),
                value=format_value(before, feature, locale=locale),
                to=format_value(after, feature, locale=locale),
            )
        )
    return template(locale, "counterfactual", reader).format(
        favourable=favourable_outcome(spec), changes=template(locale, "and").join(parts)
    )


def because_text(
    values: Sequence[tuple[FeatureSpec, Any]], *, locale: str = "en", reader: Reader = "customer"
) -> str:
    """Write 'your priority (high), your age (3) and your plan (basic)'."""
    parts = [
        template(locale, "because_value", reader).format(
            description=describe(feature), value=format_value(value, feature, locale=locale)
        )
        for feature, value in values
    ]
    if len(parts) < 2:
        return "".join(parts)
    return template(locale, "list_separator").join(parts[:-1]) + template(locale, "and") + parts[-1]


def routing_text(
    values: Sequence[tuple[FeatureSpec, Any]],
    *,
    chosen: str,
    runner_up: str,
    locale: str = "en",
) -> str:
    """Write 'Routed to tier 2 rather than tier 1, mainly because of your priority (high).'."""
    if not values:
        return template(locale, "routed_no_reasons").format(chosen=chosen, runner_up=runner_up)
    return template(locale, "routed").format(
        chosen=chosen, runner_up=runner_up, reasons=because_text(values, locale=locale)
    )


def routed_reason_text(
    feature: FeatureSpec,
    value: Any,
    *,
    chosen: str,
    runner_up: str,
    locale: str = "en",
    reader: Reader = "customer",
) -> str:
    """Write the sentence of one feature that favoured the chosen class over the runner-up."""
    return template(locale, "routed_reason", reader).format(
        description=describe(feature),
        value=format_value(value, feature, locale=locale),
        chosen=chosen,
        runner_up=runner_up,
    )


def recommendation_text(values: Sequence[tuple[FeatureSpec, Any]], *, locale: str = "en") -> str:
    """Write 'Recommended mainly because of your category (books) and your rating (4.5).'."""
    if not values:
        return template(locale, "recommended_no_reasons")
    return template(locale, "recommended").format(reasons=because_text(values, locale=locale))


def recommended_reason_text(
    feature: FeatureSpec, value: Any, *, locale: str = "en", reader: Reader = "customer"
) -> str:
    """Write the sentence of one feature that raised an item's score."""
    return template(locale, "recommended_reason", reader).format(
        description=describe(feature), value=format_value(value, feature, locale=locale)
    )


def no_change_text(spec: SystemSpec, *, locale: str = "en", reader: Reader = "customer") -> str:
    """Write that no change within the allowed ranges would have changed the decision."""
    actionable = [describe(f) for f in spec.features if f.actionable]
    if not actionable:
        return template(locale, "nothing_actionable", reader)
    return template(locale, "no_counterfactual", reader).format(features=", ".join(actionable))


def retold(
    explanation: Mapping[str, Any], *, spec: SystemSpec, reader: Reader = "reviewer"
) -> dict[str, Any]:
    """Return a stored explanation with its reasons and options rewritten for ``reader``.

    The explanation's ``reasons`` keep their feature, value and contribution; only their
    ``text`` (and each counterfactual's) is written again, in the explanation's locale, the way
    the gateway wrote it for the customer. A typical value is not stored with a reason, so the
    rewritten sentences name none. A reason about a feature the spec no longer declares keeps
    its text.
    """
    locale = str(explanation.get("locale") or "en")
    decision = spec.decision
    names = {feature.name for feature in spec.features}

    def sentence(reason: Mapping[str, Any]) -> str:
        feature, value = spec.feature(str(reason["feature"])), reason.get("value")
        chosen, runner_up = explanation.get("chosen"), explanation.get("runner_up")
        if isinstance(decision, MulticlassDecision) and chosen and runner_up:
            return routed_reason_text(
                feature,
                value,
                chosen=decision.label(str(chosen)),
                runner_up=decision.label(str(runner_up)),
                locale=locale,
                reader=reader,
            )
        if isinstance(decision, RankingDecision):
            return recommended_reason_text(feature, value, locale=locale, reader=reader)
        return reason_text(feature, value, spec=spec, locale=locale, reader=reader)

    reasons = [
        {**reason, "text": sentence(reason)} if reason.get("feature") in names else dict(reason)
        for reason in explanation.get("reasons") or []
    ]
    options = []
    for option in explanation.get("counterfactuals") or []:
        changes = option.get("changes") or {}
        if changes and set(changes) <= names:
            pairs = {name: (change["from"], change["to"]) for name, change in changes.items()}
            option = {
                **option,
                "text": counterfactual_text(pairs, spec=spec, locale=locale, reader=reader),
            }
        options.append(dict(option))
    statement = explanation.get("counterfactual_text")
    if statement:
        statement = no_change_text(spec, locale=locale, reader=reader)
    return {
        **explanation,
        "reasons": reasons,
        "counterfactuals": options,
        "counterfactual_text": statement,
    }


def _same(left: Any, right: Any) -> bool:
    try:
        return bool(left == right)
    except (TypeError, ValueError):
        return False
