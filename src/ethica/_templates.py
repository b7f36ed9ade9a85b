"""The one Jinja2 environment of ethica: the service's pages, the subject export, audit reports.

Strict (an undefined name is an error, not an empty string) and autoescaped everywhere. Each
template folder stays beside the code that fills it; the environment searches them in order
(their names do not overlap). Governance documents keep their own environment: their output
must stay byte-identical to what was signed (no trimming of blocks, the trailing newline kept).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

_ROOT = Path(__file__).parent

TEMPLATE_FOLDERS = (
    _ROOT / "service" / "web" / "templates",
    _ROOT / "service" / "subjects" / "templates",
    _ROOT / "fairness" / "templates",
)


def when(value: datetime | None, style: str = "datetime") -> str:
    """Format a timestamp as people read it (UTC, minutes), or an em dash."""
    if value is None:
        return "—"
    return value.strftime("%d %b %Y" if style == "date" else "%d %b %Y, %H:%M UTC")


def percent(value: float | None, digits: int = 0) -> str:
    """Format a share as a percentage with ``digits`` decimals, or an em dash when unknown."""
    if value is None or value != value:  # NaN
        return "—"
    return f"{100 * value:.{digits}f}%"


def time_taken(seconds: float | None) -> str:
    """Format a time taken: ``under 1 s``, ``40 s``, ``2 min 5 s``, or an em dash."""
    if seconds is None or seconds != seconds:  # NaN
        return "—"
    if seconds < 0.5:
        return "under 1 s"  # "0 s" would read as "not measured"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    return f"{whole // 60} min {whole % 60} s"


environment = Environment(
    loader=FileSystemLoader([str(folder) for folder in TEMPLATE_FOLDERS]),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def capitalize_first(text: str) -> str:
    """Capitalize a sentence's first letter only ("adverse outcome of a high-risk system")."""
    return text[:1].upper() + text[1:]


environment.filters["when"] = when
environment.filters["capitalize_first"] = capitalize_first
environment.filters["percent"] = percent
environment.filters["time_taken"] = time_taken
