"""The vocabulary of data uses (purposes), data categories and data subjects, and their hierarchy.

The default vocabulary is the Fides taxonomy (``fideslang`` 3.1.4, Copyright Ethyca, Inc., licensed
CC BY 4.0: https://creativecommons.org/licenses/by/4.0/), shipped as ``fides_taxonomy.json``
(converted from its Python source; keys, names, descriptions, parents and deprecations kept).
ethica does not depend on the ``fideslang`` package, which pins an older pydantic. Keys are dotted
and hierarchical: the use ``marketing`` covers ``marketing.communications.email``.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Literal

from ethica.errors import InputError

if TYPE_CHECKING:
    from ethica.governance import SystemSpec

Kind = Literal["data_use", "data_category", "data_subject"]

_DOTTED = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_LABELS: dict[Kind, str] = {
    "data_use": "data use",
    "data_category": "data category",
    "data_subject": "data subject",
}


@dataclass(frozen=True)
class TaxonomyEntry:
    """One key of the vocabulary, such as the data use ``essential.service``."""

    key: str
    name: str
    description: str = ""
    parent: str | None = None
    deprecated: str | None = None
    replaced_by: str | None = None


class UnknownKeyError(InputError, KeyError):
    """A key is not in the vocabulary; the message lists the closest known keys."""

    def __init__(self, kind: Kind, key: str, suggestions: list[str]) -> None:
        self.kind = kind
        self.key = key
        self.suggestions = suggestions
        hint = f"; did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        super().__init__(f"{key!r} is not a known {_LABELS[kind]}{hint}")

    def __str__(self) -> str:
        # KeyError would quote the message; keep it readable.
        return str(self.args[0])


class Taxonomy:
    """A vocabulary of data uses, data categories and data subjects.

    Parameters
    ----------
    data_uses, data_categories, data_subjects
        The entries of each kind. Every parent must itself be an entry of the same kind.
    """

    def __init__(
        self,
        *,
        data_uses: Iterable[TaxonomyEntry],
        data_categories: Iterable[TaxonomyEntry],
        data_subjects: Iterable[TaxonomyEntry] = (),
    ) -> None:
        self._entries: dict[Kind, dict[str, TaxonomyEntry]] = {
            "data_use": {e.key: e for e in data_uses},
            "data_category": {e.key: e for e in data_categories},
            "data_subject": {e.key: e for e in data_subjects},
        }
        for kind, entries in self._entries.items():
            for entry in entries.values():
                if not _DOTTED.match(entry.key):
                    raise InputError(f"{_LABELS[kind]} {entry.key!r} is not a dotted key")
                if entry.parent is not None and entry.parent not in entries:
                    raise InputError(
                        f"{_LABELS[kind]} {entry.key!r} has an unknown parent {entry.parent!r}"
                    )

    def keys(self, kind: Kind) -> list[str]:
        """Every key of one kind, sorted."""
        return sorted(self._entries[kind])

    def is_known(self, kind: Kind, key: str) -> bool:
        """Whether ``key`` is in the vocabulary."""
        return key in self._entries[kind]

    def entry(self, kind: Kind, key: str) -> TaxonomyEntry:
        """Look up ``key``; raise :class:`UnknownKeyError` naming close matches if unknown."""
        try:
            return self._entries[kind][key]
        except KeyError:
            raise UnknownKeyError(kind, key, self.close_matches(kind, key)) from None

    def close_matches(self, kind: Kind, key: str, *, n: int = 3) -> list[str]:
        """Known keys that look like ``key``: spelling, or the same last part elsewhere."""
        known = self._entries[kind]
        matches = difflib.get_close_matches(key, list(known), n=n, cutoff=0.6)
        if not matches:
            # 'user.income' should still find 'user.financial...'-like keys by their last part.
            leaf = key.rsplit(".", 1)[-1]
            by_leaf = {k.rsplit(".", 1)[-1]: k for k in sorted(known)}
            matches = [by_leaf[m] for m in difflib.get_close_matches(leaf, list(by_leaf), n=n)]
        if not matches:
            ancestor = _nearest_known_ancestor(key, known)
            if ancestor is not None:
                matches = [ancestor]
        return matches

    def extended(
        self,
        *,
        data_uses: Iterable[TaxonomyEntry] = (),
        data_categories: Iterable[TaxonomyEntry] = (),
        data_subjects: Iterable[TaxonomyEntry] = (),
    ) -> Taxonomy:
        """Return a copy with organization-specific keys added (each under a known parent)."""
        return Taxonomy(
            data_uses=[*self._entries["data_use"].values(), *data_uses],
            data_categories=[*self._entries["data_category"].values(), *data_categories],
            data_subjects=[*self._entries["data_subject"].values(), *data_subjects],
        )


def _nearest_known_ancestor(key: str, known: Mapping[str, TaxonomyEntry]) -> str | None:
    parts = key.split(".")
    for size in range(len(parts) - 1, 0, -1):
        candidate = ".".join(parts[:size])
        if candidate in known:
            return candidate
    return None


@cache
def default_taxonomy() -> Taxonomy:
    """Load the Fides default taxonomy shipped with ethica (once)."""
    text = resources.files("ethica.privacy").joinpath("fides_taxonomy.json").read_text("utf-8")
    data = json.loads(text)

    def entries(name: str) -> list[TaxonomyEntry]:
        return [
            TaxonomyEntry(
                key=item["key"],
                name=item["name"],
                description=item.get("description", ""),
                parent=item.get("parent"),
                deprecated=item.get("deprecated"),
                replaced_by=item.get("replaced_by"),
            )
            for item in data[name]
        ]

    return Taxonomy(
        data_uses=entries("data_uses"),
        data_categories=entries("data_categories"),
        data_subjects=entries("data_subjects"),
    )


def covers(parent: str, child: str) -> bool:
    """Whether the dotted key ``parent`` is ``child`` or one of its ancestors.

    Matching is on whole parts: ``user.financial`` covers ``user.financial.bank_account`` but
    not ``user.financial_history``.
    """
    for key in (parent, child):
        if not _DOTTED.match(key):
            raise InputError(f"{key!r} is not a dotted key such as 'essential.service'")
    return child == parent or child.startswith(parent + ".")


def use_covers(parent: str, child: str) -> bool:
    """Whether the data use ``parent`` covers ``child`` (``marketing`` covers ``marketing.x``)."""
    return covers(parent, child)


def category_covers(parent: str, child: str) -> bool:
    """Whether the data category ``parent`` covers ``child``."""
    return covers(parent, child)


def is_known_use(key: str, *, taxonomy: Taxonomy | None = None) -> bool:
    """Whether ``key`` is a data use of the taxonomy (the default one unless given)."""
    return (taxonomy or default_taxonomy()).is_known("data_use", key)


def is_known_category(key: str, *, taxonomy: Taxonomy | None = None) -> bool:
    """Whether ``key`` is a data category of the taxonomy (the default one unless given)."""
    return (taxonomy or default_taxonomy()).is_known("data_category", key)


def is_known_subject(key: str, *, taxonomy: Taxonomy | None = None) -> bool:
    """Whether ``key`` is a data subject of the taxonomy (the default one unless given)."""
    return (taxonomy or default_taxonomy()).is_known("data_subject", key)


def data_use(key: str, *, taxonomy: Taxonomy | None = None) -> TaxonomyEntry:
    """Look up the data use ``key``; raise :class:`UnknownKeyError` naming close matches."""
    return (taxonomy or default_taxonomy()).entry("data_use", key)


def data_category(key: str, *, taxonomy: Taxonomy | None = None) -> TaxonomyEntry:
    """Look up the data category ``key``; raise :class:`UnknownKeyError` naming close ones."""
    return (taxonomy or default_taxonomy()).entry("data_category", key)


def check_spec(spec: SystemSpec, *, taxonomy: Taxonomy | None = None) -> list[str]:
    """Problems with a spec's vocabulary: an unknown purpose, a feature's unknown data category.

    Each problem names its location as spec validation does (``features[2].data_category``).
    An empty list means the spec speaks the taxonomy.
    """
    taxonomy = taxonomy or default_taxonomy()
    problems: list[str] = []
    if not taxonomy.is_known("data_use", spec.purpose):
        problems.append(f"purpose: {_unknown('data_use', spec.purpose, taxonomy)}")
    elif (use := taxonomy.entry("data_use", spec.purpose)).deprecated:
        instead = f"; use {use.replaced_by!r}" if use.replaced_by else ""
        problems.append(
            f"purpose: {use.key!r} is deprecated since fideslang {use.deprecated}{instead}"
        )
    for index, feature in enumerate(spec.features):
        if not taxonomy.is_known("data_category", feature.data_category):
            message = _unknown("data_category", feature.data_category, taxonomy)
            problems.append(f"features[{index}].data_category: {message}")
    return problems


def _unknown(kind: Kind, key: str, taxonomy: Taxonomy) -> str:
    return str(UnknownKeyError(kind, key, taxonomy.close_matches(kind, key)))
