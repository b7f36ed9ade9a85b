"""Auditing the live decision log where it lives.

On PostgreSQL the count table is aggregated in the database by the audit's PostgreSQL engine,
over a query that joins decisions with their protected attributes: no export. On SQLite (the
embedded default) the same query's rows are read into memory and aggregated there.

Protected values are stored sealed with deterministic encryption (:mod:`ethica.service.protected`):
the aggregation groups by ciphertext, and only the few distinct group labels of the count table
are opened, after aggregation, before any metric is computed or reported.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from ethica.engines import SqlQuery
from ethica.errors import InputError
from ethica.fairness import Audit, CountTable, audit, count_table
from ethica.governance import BinaryDecision, parse_spec
from ethica.service.protected import ProtectedCipher, protected_cipher
from ethica.service.systems.service import get_system

_DURATION = re.compile(r"^(\d+)([dhm])$")


def parse_since(value: str, *, now: datetime) -> datetime:
    """``30d``, ``12h``, ``90m`` before ``now``, or an ISO 8601 timestamp."""
    from datetime import timedelta

    match = _DURATION.match(value.strip())
    if match:
        amount, unit = int(match[1]), match[2]
        delta = {
            "d": timedelta(days=amount),
            "h": timedelta(hours=amount),
            "m": timedelta(minutes=amount),
        }
        return now - delta[unit]
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"--since takes 30d, 12h, 90m or an ISO date; got {value!r}") from None
    if moment.tzinfo is None:
        raise InputError("give --since with a timezone, e.g. 2026-11-01T00:00:00+00:00")
    return moment


def audit_live_decisions(
    session: Session,
    *,
    database_url: str,
    system_id: str,
    master_key: bytes,
    since: datetime | None = None,
    sensitive_features: list[str] | None = None,
    with_outcomes: bool = False,
    **options: Any,
) -> Audit:
    """Audit a system's recorded decisions (since a time) by its protected attributes.

    ``master_key`` is the ledger's master key: the protected values' key derives from it.
    """
    spec = parse_spec(get_system(session, system_id=system_id).spec)
    decision = spec.decision
    if not isinstance(decision, BinaryDecision):
        raise InputError(
            f"live audits of {decision.kind} systems are not supported yet; binary only"
        )
    declared = [p.name for p in spec.protected_attributes]
    features = sensitive_features or declared
    unknown = sorted(set(features) - set(declared))
    if unknown or not features:
        raise InputError(
            f"audit by protected attributes the system declares: {declared}; got {features}"
        )
    if with_outcomes and decision.favourable_truth is None:
        raise InputError(
            f"system {system_id!r} does not declare decision.favourable_truth, so recorded "
            "outcomes cannot be read as favourable or not"
        )
    sql = _log_query(
        system_id=system_id,
        features=features,
        positive=decision.positive,
        truth=decision.favourable_truth if with_outcomes else None,
        since=since,
        postgresql=database_url.startswith(("postgresql", "postgres")),
    )
    label = "label" if with_outcomes else None
    table_options = {k: options.pop(k) for k in _COUNT_TABLE_OPTIONS if k in options}
    kwargs: dict[str, Any] = {
        "sensitive_features": features,
        "label": label,
        "prediction": "prediction",
        **table_options,
    }
    if database_url.startswith(("postgresql", "postgres")):
        url = re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql://", database_url)
        sealed = count_table(SqlQuery(sql), engine=url, **kwargs)
    else:
        rows = pd.read_sql_query(text(sql), session.connection())
        if rows.empty:
            raise InputError(f"system {system_id!r} has no decisions in this window to audit")
        sealed = count_table(rows, engine="memory", **kwargs)
    table = opened_labels(sealed, protected_cipher(master_key))
    return audit(table, sensitive_features=features, **options)


_COUNT_TABLE_OPTIONS = ("score_bins", "options", "pos_label")


def opened_labels(table: CountTable, cipher: ProtectedCipher) -> CountTable:
    """The count table with each sealed group label opened (``"missing"`` stays as it is)."""
    cells = table.cells.copy()
    for name in table.sensitive_features:
        labels = cells[name].astype(str)
        opened = {
            label: label if label == _MISSING else cipher.open(name, label)
            for label in labels.unique()
        }
        cells[name] = labels.map(opened)
    # Sealed labels sort in ciphertext order; the report lists groups in their own order.
    order = list(table.sensitive_features) + list(table.keys)
    cells = cells.sort_values(order, kind="stable").reset_index(drop=True)
    return dataclasses.replace(table, cells=cells)


_MISSING = "missing"


def _log_query(
    *,
    system_id: str,
    features: list[str],
    positive: str,
    truth: str | None,
    since: datetime | None,
    postgresql: bool,
) -> str:
    """The decision log as one row per decision, with a column per protected attribute.

    Built from the system's validated spec (slugs and declared names only); outcome names are
    quoted as SQL string literals.
    """
    columns = [f'MAX(CASE WHEN p.name = {_literal(f)} THEN p.value END) AS "{f}"' for f in features]
    select = [f"CASE WHEN d.outcome = {_literal(positive)} THEN 1 ELSE 0 END AS prediction"]
    where = [f"d.system_id = {_literal(system_id)}"]
    if truth is not None:
        select.append(f"CASE WHEN d.true_outcome = {_literal(truth)} THEN 1 ELSE 0 END AS label")
        where.append("d.true_outcome IS NOT NULL")
    if since is not None:
        utc = since.astimezone(UTC)
        stamp = utc.isoformat() if postgresql else utc.strftime("%Y-%m-%d %H:%M:%S.%f")
        where.append(f"d.created_at >= {_literal(stamp)}")
    group = ["d.id", "d.outcome"] + (["d.true_outcome"] if truth is not None else [])
    return (
        f"SELECT {', '.join(select + columns)} FROM decisions d "
        "LEFT JOIN protected_values p ON p.decision_id = d.id "
        f"WHERE {' AND '.join(where)} GROUP BY {', '.join(group)}"
    )


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
