"""Auditing the live decision log where it lives: binary, multiclass and ranking systems.

On PostgreSQL the count table is aggregated in the database by the audit's PostgreSQL engine,
over a query that joins decisions with their protected attributes: no export. On SQLite (the
embedded default) the same query's rows are read into memory and aggregated there.

Protected values are stored sealed with deterministic encryption
(:mod:`ethica.service.decisions.protected`): the aggregation groups by ciphertext, and only the
few distinct group labels of the count table are opened, after aggregation, before any metric
is computed or reported.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from ethica.engines import SqlQuery
from ethica.errors import InputError
from ethica.fairness import Audit, CountTable, MissingGroupWarning, audit, count_table
from ethica.governance import (
    BinaryDecision,
    MulticlassDecision,
    RankingDecision,
    SystemSpec,
    parse_spec,
)
from ethica.service.decisions.protected import ProtectedCipher, session_cipher
from ethica.service.decisions.record import PENDING
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
    until: datetime | None = None,
    sensitive_features: list[str] | None = None,
    with_outcomes: bool = False,
    item: str | None = None,
    **options: Any,
) -> Audit:
    """Audit a system's recorded decisions over a period by its protected attributes.

    Parameters
    ----------
    session
        A session on the service's database.
    database_url
        Its URL: on PostgreSQL the count table is aggregated in the database.
    system_id
        The system whose decisions to audit: binary, multiclass, or a ranking over declared
        ``items``.
    master_key
        The ledger's master key: the protected values' key derives from it.
    since, until
        The period: decisions made at or after ``since`` and before ``until`` (either open).
    sensitive_features
        Protected attributes to audit by; every attribute the system declares by default.
    with_outcomes
        Only decisions with a recorded true outcome, used as the label (binary: the
        ``favourable_truth`` outcome is favourable; multiclass: the true class).
    item
        For a ranking: the item whose placement to audit. Each decision is one row at the
        item's position in the recommended list (1 = top); a decision whose top ``top_k`` left
        the item out counts at position ``top_k + 1``, just below the list.
    **options
        Passed on to :func:`ethica.fairness.audit` (``reference``, ``min_group_size``, ...).

    Decisions still waiting for a person to decide (outcome ``pending``) and seeded review
    cases are left out: neither is a decision the system made about a customer.
    """
    table = live_count_table(
        session,
        database_url=database_url,
        system_id=system_id,
        master_key=master_key,
        since=since,
        until=until,
        sensitive_features=sensitive_features,
        with_outcomes=with_outcomes,
        item=item,
        table_options={k: options.pop(k) for k in _COUNT_TABLE_OPTIONS if k in options},
    )
    return audit(table, sensitive_features=list(table.sensitive_features), **options)


def audit_live_decisions_noted(session: Session, **kwargs: Any) -> tuple[Audit, list[str]]:
    """:func:`audit_live_decisions`, with what it warns about undisclosed groups as notes.

    Customers who did not disclose an attribute are audited as the group ``"missing"``; the
    warning says so, and callers show it with the audit rather than lose it in a log.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MissingGroupWarning)
        result = audit_live_decisions(session, **kwargs)
    return result, MissingGroupWarning.notes(caught)


def live_count_table(
    session: Session,
    *,
    database_url: str,
    system_id: str,
    master_key: bytes,
    since: datetime | None = None,
    until: datetime | None = None,
    sensitive_features: list[str] | None = None,
    with_outcomes: bool = False,
    item: str | None = None,
    table_options: dict[str, Any] | None = None,
    with_scores: bool = False,
) -> CountTable:
    """The count table of a system's recorded decisions over a period, group labels opened.

    The one aggregation :func:`audit_live_decisions` runs (see there for the parameters);
    monitoring stores one per window. ``with_scores``: binned by the recorded score too (only
    decisions with a score), as group thresholds need.
    """
    spec = parse_spec(get_system(session, system_id=system_id).spec)
    declared = [p.name for p in spec.protected_attributes]
    features = sensitive_features or declared
    unknown = sorted(set(features) - set(declared))
    if unknown or not features:
        raise InputError(
            f"audit by protected attributes the system declares: {declared}; got {features}"
        )
    postgresql = database_url.startswith(("postgresql", "postgres"))
    plan = _plan(spec, item=item, with_outcomes=with_outcomes, postgresql=postgresql)
    sql = _log_query(
        system_id=system_id,
        features=features,
        plan=plan,
        period=(since, until),
        postgresql=postgresql,
        with_scores=with_scores,
    )
    table_options = dict(table_options or {})
    kwargs: dict[str, Any] = {
        "sensitive_features": features,
        "label": None if plan.label is None else "label",
        "prediction": "prediction",
        "kind": plan.kind,
        "score": "score" if with_scores else None,
        "options": {**plan.options, **table_options.pop("options", {})},
        **table_options,
    }
    if postgresql:
        url = re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql://", database_url)
        sealed = count_table(SqlQuery(sql), engine=url, **kwargs)
    else:
        rows = pd.read_sql_query(text(sql), session.connection())
        if rows.empty:
            raise InputError(f"system {system_id!r} has no decisions in this period to audit")
        sealed = count_table(rows, engine="memory", **kwargs)
    return opened_labels(sealed, session_cipher(session, master_key))


@dataclass(frozen=True)
class _Plan:
    """How a kind of decision becomes audit rows: SQL for the prediction and the label."""

    kind: Literal["binary", "multiclass", "ranking"]
    prediction: str
    label: str | None
    options: dict[str, Any]


def _plan(spec: SystemSpec, *, item: str | None, with_outcomes: bool, postgresql: bool) -> _Plan:
    decision = spec.decision
    if item is not None and not isinstance(decision, RankingDecision):
        raise InputError(f"item= is for ranking systems; {spec.id!r} is {decision.kind}")
    if isinstance(decision, BinaryDecision):
        if with_outcomes and decision.favourable_truth is None:
            raise InputError(
                f"system {spec.id!r} does not declare decision.favourable_truth, so recorded "
                "outcomes cannot be read as favourable or not"
            )
        truth = decision.favourable_truth if with_outcomes else None
        return _Plan(
            "binary",
            f"CASE WHEN d.outcome = {_literal(decision.positive)} THEN 1 ELSE 0 END",
            None
            if truth is None
            else f"CASE WHEN d.true_outcome = {_literal(truth)} THEN 1 ELSE 0 END",
            {},
        )
    if isinstance(decision, MulticlassDecision):
        label = "d.true_outcome" if with_outcomes else None
        return _Plan("multiclass", "d.outcome", label, {"classes": list(decision.classes)})
    if isinstance(decision, RankingDecision) and decision.items is not None:
        if with_outcomes:
            raise InputError("a live audit of a ranking uses no recorded outcomes")
        if item not in decision.items:
            raise InputError(
                f"a ranking is audited one item at a time: pass item= one of {decision.items}"
                + ("" if item is None else f", not {item!r}")
            )
        return _Plan(
            "ranking",
            _position_sql(item, below=decision.top_k + 1, postgresql=postgresql),
            None,
            {
                "max_position": decision.top_k,
                "top_k": sorted({1, min(3, decision.top_k), decision.top_k}),
            },
        )
    raise InputError(
        f"live audits cover binary, multiclass and ranking systems with declared items; "
        f"{spec.id!r} is a {decision.kind} system"
        + (" without items" if decision.kind == "ranking" else "")
    )


def _position_sql(item: str, *, below: int, postgresql: bool) -> str:
    """SQL for the 1-based position of ``item`` in the comma-joined outcome, else ``below``.

    Item ids hold no comma, so the item's position is the number of commas up to its match
    in ``,a,b,c,``: portable string functions only (``instr`` is ``strpos`` on PostgreSQL).
    """
    find = "strpos" if postgresql else "instr"
    at = f"{find}(',' || d.outcome || ',', {_literal(',' + item + ',')})"
    head = f"substr(',' || d.outcome || ',', 1, {at})"
    return (
        f"CASE WHEN {at} = 0 THEN {below} "
        f"ELSE length({head}) - length(replace({head}, ',', '')) END"
    )


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
    plan: _Plan,
    period: tuple[datetime | None, datetime | None],
    postgresql: bool,
    with_scores: bool = False,
) -> str:
    """The decision log as one row per decision, with a column per protected attribute.

    Built from the system's validated spec (slugs and declared names only); outcome and item
    names are quoted as SQL string literals.
    """
    columns = [f'MAX(CASE WHEN p.name = {_literal(f)} THEN p.value END) AS "{f}"' for f in features]
    select = [f"{plan.prediction} AS prediction"]
    where = [
        f"d.system_id = {_literal(system_id)}",
        "NOT d.seeded",  # seeded review cases test reviewers; they are not decisions
        f"d.outcome <> {_literal(PENDING)}",
    ]
    group = ["d.id", "d.outcome"]
    if plan.label is not None:
        select.append(f"{plan.label} AS label")
        where.append("d.true_outcome IS NOT NULL")
        group.append("d.true_outcome")
    if with_scores:
        select.append("d.score AS score")
        where.append("d.score IS NOT NULL")
        group.append("d.score")
    for bound, operator in zip(period, (">=", "<"), strict=True):
        if bound is not None:
            utc = bound.astimezone(UTC)
            stamp = utc.isoformat() if postgresql else utc.strftime("%Y-%m-%d %H:%M:%S.%f")
            where.append(f"d.created_at {operator} {_literal(stamp)}")
    return (
        f"SELECT {', '.join(select + columns)} FROM decisions d "
        "LEFT JOIN protected_values p ON p.decision_id = d.id "
        f"WHERE {' AND '.join(where)} GROUP BY {', '.join(group)}"
    )


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
