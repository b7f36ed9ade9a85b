"""What ``ethica audit`` does beyond parsing its arguments: the query ahead, the live audit.

DuckDB's aggregation of a file starts before pandas and the assessment are loaded (a thread
loads them meanwhile); the cyclic collector rests while the audit's objects live; the
library's argument names are said as the command's options in its messages.
"""

from __future__ import annotations

import gc
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console

from ethica.errors import EthicaError

errors = Console(stderr=True)


def query_ahead(
    source: str | None,
    engine: str,
    kind: str,
    sensitive: str | None,
    label: str | None,
    prediction: str | None,
    score: str | None,
) -> dict[str, Any]:
    """Run DuckDB's aggregation of a binary audit while a thread loads pandas and the assessment.

    DuckDB lets go of the GIL while it aggregates on every core, and the imports (half a second
    of one core) need no result of it. Returns the audit's engine and score bins, which make it
    take that result: the same query it would have run. With another kind or engine, or wrong
    arguments (which the audit then reports as usual), the audit runs as it would have.
    """
    if source is None or kind != "binary" or engine != "duckdb":
        return {"engine": engine}
    from ethica.engines import DuckDBEngine
    from ethica.fairness._plan import SCORE_BINS, binary_aggregation, named_roles, plan_scores

    loading = threading.Thread(target=_load_assessment, name="ethica-imports", daemon=True)
    loading.start()
    try:
        ahead = DuckDBEngine()
        roles = named_roles(
            sensitive_features=sensitive, label=label, prediction=prediction, score=score
        )
        scores = plan_scores(ahead, source, roles.score, SCORE_BINS)
        bins = scores.bins
        # The audit, given these bins, asks for the sum of the scores without their range:
        # the same aggregation (see Aggregation.unit_sums), so it takes this result.
        ahead.prefetch(source, binary_aggregation(roles, bins, unit=scores.unit))
    except EthicaError:
        return {"engine": engine}
    finally:
        loading.join()
    return {"engine": ahead, "score_bins": bins or SCORE_BINS}


def _load_assessment() -> None:
    """Import what an audit needs beyond its query (pandas first)."""
    try:
        import ethica.fairness._audit
        import ethica.fairness._scores  # noqa: F401
    except Exception:  # noqa: BLE001 - imported again by the audit, which reports the error
        return


def live_audit(
    system: str,
    since: str | None,
    outcomes: bool,
    database: str | None,
    sensitive: str | None,
    options: dict[str, Any],
) -> Any:
    """Audit a registered system's live decision log in the service's database."""
    from datetime import UTC, datetime

    from ethica.cli_service import _sessions, database_shown
    from ethica.service.decisions.live_audit import audit_live_decisions, parse_since

    window = parse_since(since, now=datetime.now(UTC)) if since else None
    features = [f.strip() for f in sensitive.split(",")] if sensitive else None
    with _sessions(database) as (settings, sessions), sessions() as session:
        shown = database_shown(settings.database.url)
        errors.print(f"Auditing the decisions in {shown}", highlight=False)
        return audit_live_decisions(
            session,
            database_url=settings.database.url,
            master_key=settings.ledger.master_key_bytes,
            system_id=system,
            since=window,
            sensitive_features=features,
            with_outcomes=outcomes,
            **options,
        )


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (reference counting still frees memory)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


#: The library's argument names, as this command's options (for its error messages).
OPTIONS = {
    "pos_label": "--pos-label",
    "sensitive_features": "--sensitive",
    "min_group_size": "--min-group-size",
}


def as_options(message: str) -> str:
    """Say ``--pos-label '>50K'`` where the library says ``pos_label='>50K'``."""
    names = r"\b(" + "|".join(OPTIONS) + r")= ?"
    return re.sub(names, lambda m: f"{OPTIONS[m.group(1)]} ", message)
