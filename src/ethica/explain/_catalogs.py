"""The sentences of explanations and notices, read from gettext catalogs at import time.

Each locale has ``locales/<locale>/LC_MESSAGES/ethica.po``; message ids are keys (``higher``,
``right_human``, ...) under a context (``explanation``, ``reviewer`` or ``notice``), and each
sentence is a :meth:`str.format` template. The ``.po`` files are read with Babel's pure-Python
reader, so nothing is compiled at install and a translator edits one text file per language.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from babel.messages.pofile import read_po

from ethica.errors import InputError

#: The catalog's message contexts.
EXPLANATION = "explanation"
#: The explanation's sentences about the customer in the third person, for a reviewer.
REVIEWER = "reviewer"
NOTICE = "notice"
DOMAIN = "ethica"


def available_locales() -> tuple[str, ...]:
    """Return the locales that ship a catalog, sorted."""
    root = resources.files("ethica.explain") / "locales"
    return tuple(
        sorted(
            entry.name
            for entry in root.iterdir()
            if (entry / "LC_MESSAGES" / f"{DOMAIN}.po").is_file()
        )
    )


@cache
def sentences(locale: str) -> dict[str, dict[str, str]]:
    """Return the translated sentences of ``locale``, by context and message id.

    A message left untranslated (empty or fuzzy) is absent, so that a test catches it instead
    of a customer reading a key.
    """
    if locale not in available_locales():
        raise InputError(f"unknown locale {locale!r}: use one of {list(available_locales())}")
    path = resources.files("ethica.explain") / "locales" / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain=DOMAIN)
    found: dict[str, dict[str, str]] = {EXPLANATION: {}, REVIEWER: {}, NOTICE: {}}
    for message in catalog:
        if not message.id or message.fuzzy or not isinstance(message.string, str):
            continue
        if not message.string:
            continue
        found.setdefault(message.context or "", {})[str(message.id)] = message.string
    return found


def by_locale(context: str) -> dict[str, dict[str, str]]:
    """Return one context's sentences of every locale: ``{locale: {key: sentence}}``."""
    return {locale: dict(sentences(locale).get(context, {})) for locale in available_locales()}
