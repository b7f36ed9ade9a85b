"""Typer commands whose plain options (text, numbers, flags, paths) are read without pydantic.

Typer 0.2x reads every option, even one left out, through a pydantic ``TypeAdapter``, and
importing pydantic costs about a tenth of a second on every run: as much as ``ethica --help``
itself. Text, numbers, flags and paths without checks are read as well by ``str``, ``int``,
``float``, a yes/no reader and ``Path``. Any other option (a choice, a range, a checked path)
is still read by Typer; with a Typer that predates its runtime coercion, nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

try:  # a Typer with runtime coercion (0.2x): through pydantic unless a parameter has its own
    from typer._coercion import RuntimeParam
except ImportError:  # pragma: no cover - older Typer coerces with click's types
    RuntimeParam = None  # type: ignore[assignment, misc]

_YES = {"1", "true", "t", "yes", "y", "on"}
_NO = {"0", "false", "f", "no", "n", "off"}


def _yes_or_no(value: str) -> bool:
    text = str(value).strip().lower()
    if text in _YES or text in _NO:
        return text in _YES
    raise ValueError(value)


_READERS: dict[type, tuple[Callable[[str], Any], str]] = {
    str: (str, "text"),
    int: (int, "integer"),
    float: (float, "number"),
    bool: (_yes_or_no, "yes or no"),
    Path: (Path, "path"),
}


class PlainOptionsCommand(TyperCommand):
    """A Typer command that reads its plain options without pydantic."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Give each plain option its reader, then parse as Typer does."""
        read_plainly(self.get_params(ctx))
        parsed: list[str] = super().parse_args(ctx, args)
        return parsed


class PlainOptionsGroup(TyperGroup):
    """A Typer group that reads its own options (``--help``) without pydantic."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Give each plain option its reader, then parse as Typer does."""
        read_plainly(self.get_params(ctx))
        parsed: list[str] = super().parse_args(ctx, args)
        return parsed


def read_plainly(params: Iterable[Any]) -> None:
    """Give each plain Typer parameter a reader that needs no pydantic."""
    if RuntimeParam is None:
        return  # pragma: no cover - an older Typer uses click's types
    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is None or getattr(param, "_runtime_param", "absent") is not None:
            continue  # not a Typer parameter of this version, or its reader is already built
        reader = _READERS.get(descriptor.annotation)
        if reader is not None and _unchecked(descriptor):
            param._runtime_param = _PlainValue(
                descriptor.parameter_info, descriptor.annotation, *reader
            )


def _unchecked(descriptor: Any) -> bool:
    """Whether Typer would do no more than convert the value (no choices, ranges, checks)."""
    info = descriptor.parameter_info
    special = (
        descriptor.is_list
        or descriptor.is_tuple
        or descriptor.is_choice
        or descriptor.is_ranged
        or descriptor.file_annotation is not None
        or info.parser is not None
    )
    checked_path = descriptor.annotation is Path and (
        info.exists
        or info.resolve_path
        or info.writable
        or not info.file_okay
        or not info.dir_okay
        or info.path_type is not None
    )
    return not (special or checked_path)


if RuntimeParam is not None:

    @dataclass(frozen=True)
    class _PlainValue(RuntimeParam):
        """Read one value with ``str``, ``int`` or ``float``; a bad value is a usage error."""

        read: Callable[[str], Any]
        what: str

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            if isinstance(value, self.annotation):
                return value
            try:
                return self.read(value)
            except (TypeError, ValueError):
                message = f"{value!r} is not a valid {self.what}."
                raise typer.BadParameter(message, ctx=ctx, param=param) from None
