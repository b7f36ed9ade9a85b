"""Attributes of a package imported from its modules on first use (PEP 562).

A package's ``__init__`` names where each public attribute lives; importing the package then
costs nothing until an attribute is asked for, so ``ethica --help`` never loads scipy or pandas.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, MutableMapping
from importlib import import_module
from typing import Any


def lazy_attributes(
    package: str,
    where: Mapping[str, str],
    namespace: MutableMapping[str, Any],
    public: Iterable[str],
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return a package's ``__getattr__`` and ``__dir__``.

    ``where`` maps each lazily loaded name to its module within ``package``; ``namespace`` is the
    package's ``globals()``, where each attribute is kept once loaded; ``public`` its ``__all__``.
    """
    names = tuple(public)

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{where[name]}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *names})

    return __getattr__, __dir__
