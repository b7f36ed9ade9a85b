"""Reading a system spec from a mapping or a YAML file.

A spec that is not valid is refused with every problem listed by its location
(``features[2].data_category``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ethica.errors import InputError
from ethica.governance._spec import SystemSpec


class SpecError(InputError):
    """A system spec is not valid; ``problems`` lists each one with its location."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("the system spec is not valid:\n" + "\n".join(f"- {p}" for p in problems))


def parse_spec(data: Any) -> SystemSpec:
    """Validate a spec given as a mapping; raises :class:`SpecError` listing every problem."""
    if not isinstance(data, dict):
        raise SpecError([f"a spec is a mapping of fields; got {type(data).__name__}"])
    try:
        return SystemSpec.model_validate(data)
    except ValidationError as error:
        raise SpecError([_problem(e) for e in error.errors()]) from None


def load_spec(path: str | Path) -> SystemSpec:
    """Read and validate a YAML spec file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SpecError([f"cannot read {path}: {error.strerror}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise SpecError([f"{path} is not valid YAML: {error}"]) from None
    return parse_spec(data)


def _problem(error: Any) -> str:
    location = ""
    for part in error["loc"]:
        if isinstance(part, int):
            location += f"[{part}]"
        elif part in (
            "binary",
            "multiclass",
            "score",
            "ranking",
            "function-after[_consistent(), FeatureSpec]",
        ):
            continue
        else:
            location += f".{part}" if location else str(part)
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "is required"
    elif error["type"] == "extra_forbidden":
        message = "is not a known field (check its spelling)"
    return f"{location or 'spec'}: {message}"
