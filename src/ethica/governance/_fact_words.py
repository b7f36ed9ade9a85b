"""The facts a classification rests on, said in words for the people who read its grounds.

A ground keeps its facts as :func:`~ethica.governance._classification.fact` writes them
(``domain = creditworthiness``): exact, and what the JSON export carries. Pages and documents
read them as sentences (``Used for creditworthiness or credit score of natural persons``).
"""

from __future__ import annotations

from collections.abc import Callable

from ethica.governance._classification import CONDITIONS
from ethica.governance._use_cases import USE_CASES

#: A yes-or-no fact: what it says when true, and when false.
_FLAGS: dict[str, tuple[str, str]] = {
    "interacts_with_persons": (
        "It interacts directly with people",
        "It does not interact directly with people",
    ),
    "profiling": ("It profiles people from their personal data", "It does not profile people"),
    "gpai_model": ("It is a general-purpose AI model", "It is not a general-purpose AI model"),
    "generates_content": (
        "It generates synthetic audio, images, video or text",
        "It generates no synthetic content",
    ),
    "deep_fakes": ("It makes deep fakes shown to people", "It makes no deep fakes"),
    "manipulative_techniques": (
        "It uses subliminal, manipulative or deceptive techniques",
        "It uses no subliminal, manipulative or deceptive technique",
    ),
    "exploits_vulnerabilities": (
        "It exploits vulnerabilities of age, disability or situation",
        "It exploits no vulnerability of age, disability or situation",
    ),
    "safety_component.third_party_assessment": (
        "The product needs a third-party conformity assessment",
        "The product needs no third-party conformity assessment",
    ),
}

_BIOMETRICS = {
    "none": "no biometric processing",
    "verification": "biometric verification",
    "remote_identification": "remote biometric identification",
    "categorisation": "biometric categorisation",
    "categorisation_special": "biometric categorisation by sensitive characteristics",
    "emotion_recognition": "emotion recognition",
}


def _listed(value: str) -> str:
    items = [v.strip() for v in value.split(",") if v.strip()]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _domain(value: str) -> str:
    known = USE_CASES.get(value)
    return f"Used for {known.label if known else value.replace('-', ' ')}"


def _condition(value: str) -> str:
    claimed = CONDITIONS.get(value)
    return f"Claimed: it {claimed[1]}" if claimed else f"Claimed: {value.replace('_', ' ')}"


#: A fact with a value: its sentence.
_VALUED: dict[str, Callable[[str], str]] = {
    "domain": _domain,
    "affected": lambda value: f"Its outputs concern {_listed(value)}",
    "roles": lambda value: f"The organisation is its {_listed(value)}",
    "biometrics": lambda value: f"It does {_BIOMETRICS.get(value, value.replace('_', ' '))}",
    "exception.condition": _condition,
    "exception.assessed_by": lambda value: f"The exception was assessed by {value}",
    "safety_component.legislation": lambda value: f"A safety component under {value}",
}


def fact_words(fact: str) -> str:
    """Say one fact of a ground (``name = value``) in words, as a sentence without its stop."""
    name, _, value = fact.partition(" = ")
    if name in _FLAGS and value in ("true", "false"):
        return _FLAGS[name][0 if value == "true" else 1]
    if name in _VALUED:
        return _VALUED[name](value)
    said = name.replace(".", ": ").replace("_", " ")
    return f"{said[:1].upper()}{said[1:]}: {value}" if value else said
