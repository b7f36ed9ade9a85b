"""The result of an audit: tables of metrics and gaps, findings in words, JSON and HTML."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from ethica.errors import InputError
from ethica.fairness._count_table import CountTable, group_labels
from ethica.fairness._disparities import Settings
from ethica.fairness._findings import Finding
from ethica.fairness._group_metrics import GroupMetrics

Method = Literal["between_groups", "to_overall", "to_reference"]
#: Name and version of the JSON form of an audit (``docs/audit-json.md``).
JSON_SCHEMA = "ethica.audit/2"


@dataclass(frozen=True)
class Audit:
    """Everything an audit computed from its count table.

    Attributes
    ----------
    table
        The count table every figure derives from.
    settings
        Confidence, reference group, minimum group size, thresholds and correction used.
    overall
        Metrics of the whole population.
    metrics
        Per grouping (``"sex"``, ``"sex × race"``, ...): metrics of each group.
    comparisons
        One row per grouping, group and metric: value and interval, gap to the comparison
        (difference and ratio, each with an interval), test, corrected p-value, flags.
    summary
        One row per grouping and metric: the gap between groups (max - min, min / max) and to
        the overall value, with the test across all groups.
    criteria
        Demographic parity, equal opportunity, equalized odds and predictive parity per grouping.
    findings
        Material gaps in plain words, significant ones first.
    """

    table: CountTable
    settings: Settings
    overall: GroupMetrics
    metrics: dict[str, GroupMetrics]
    comparisons: pd.DataFrame
    summary: pd.DataFrame
    criteria: pd.DataFrame
    findings: list[Finding]

    def by_group(self, grouping: str | tuple[str, ...] | None = None) -> pd.DataFrame:
        """Return metrics per group of one grouping (default: every feature), like MetricFrame."""
        return self._grouping(grouping).frame()

    def difference(
        self,
        metric: str,
        *,
        method: Method = "between_groups",
        grouping: str | tuple[str, ...] | None = None,
    ) -> float:
        """Return the gap in ``metric``: max - min, or the largest gap to overall/reference."""
        return self._gap(metric, "difference", method, grouping)

    def ratio(
        self,
        metric: str,
        *,
        method: Method = "between_groups",
        grouping: str | tuple[str, ...] | None = None,
    ) -> float:
        """Return the ratio in ``metric``: min / max, or the smallest to overall/reference."""
        return self._gap(metric, "ratio", method, grouping)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary of the whole audit (schema ``ethica.audit/2``).

        Each grouping names its groups once; every per-group figure is a list in that order,
        so each number appears once. The schema is described in ``docs/audit-json.md``.
        """
        groupings: dict[str, Any] = {}
        labels = {
            name: group_labels(metrics.groups, metrics.grouping)
            for name, metrics in self.metrics.items()
        }
        comparisons = _per_metric(self.comparisons, labels)
        summary = _keyed(self.summary, "metric")
        criteria = _keyed(self.criteria, "criterion")
        for name, metrics in self.metrics.items():
            groupings[name] = {
                "features": list(metrics.grouping),
                "groups": labels[name],
                "metrics": _metric_lists(metrics),
                "comparisons": comparisons.get(name, {}),
                "summary": summary.get(name, {}),
                "criteria": criteria.get(name, {}),
            }
        overall = _metric_lists(self.overall)
        return {
            "schema": JSON_SCHEMA,
            "kind": self.table.kind,
            "rows": self.table.rows,
            "sensitive_features": list(self.table.sensitive_features),
            "settings": asdict(self.settings),
            "overall": {name: values[0] for name, values in overall.items()},
            "groupings": groupings,
            "findings": [
                {f.name: _default(getattr(finding, f.name)) for f in fields(finding)}
                for finding in self.findings
            ],
        }

    def to_json(self, path: str | Path | None = None) -> str:
        """Return the audit as JSON (NaN as null), also written to ``path`` when given."""
        text = json.dumps(self.to_dict(), separators=(",", ":"), default=_default, allow_nan=False)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_html(
        self,
        path: str | Path | None = None,
        *,
        title: str = "Fairness audit",
        attributions: pd.DataFrame | None = None,
    ) -> str:
        """Return a self-contained HTML report with charts, also written to ``path`` if given.

        ``attributions``, a summary from :func:`ethica.explain.attribution_summary`, adds a
        section on which features drive the decisions in each group.
        """
        from ethica.fairness._report import render_report

        html = render_report(self, title=title, attributions=attributions)
        if path is not None:
            Path(path).write_text(html, encoding="utf-8")
        return html

    def _repr_html_(self) -> str:
        from ethica.fairness._report import render_summary

        return render_summary(self)

    def _grouping(self, grouping: str | tuple[str, ...] | None) -> GroupMetrics:
        if grouping is None:
            name = " × ".join(self.table.sensitive_features)
        elif isinstance(grouping, str):
            name = grouping
        else:
            name = " × ".join(grouping)
        if name not in self.metrics:
            raise InputError(f"no grouping {name!r} in this audit; it has {list(self.metrics)}")
        return self.metrics[name]

    def _gap(
        self,
        metric: str,
        kind: Literal["difference", "ratio"],
        method: Method,
        grouping: str | tuple[str, ...] | None,
    ) -> float:
        name = " × ".join(self._grouping(grouping).grouping)
        rows = self.summary[(self.summary["grouping"] == name) & (self.summary["metric"] == metric)]
        if rows.empty:
            raise InputError(f"no metric {metric!r} in this audit")
        column = {"between_groups": kind, "to_overall": f"{kind}_to_overall"}.get(
            method, f"{kind}_to_reference"
        )
        if column not in rows:
            raise InputError("method='to_reference' needs an audit with a reference group")
        return float(rows[column].iloc[0])


#: Comparison columns written once per metric when every group shares their value.
_SHARED = frozenset({"compared_to", "reference_value", "corrected_confidence"})


def _metric_lists(metrics: GroupMetrics) -> dict[str, list[Any]]:
    """Each metric as a list over the groups (``count`` first), NaN as None."""
    lists = {"count": _plain_values(metrics.groups["n"]).tolist()}
    lists.update({str(k): _plain_values(v).tolist() for k, v in metrics.values.items()})
    return lists


def _per_metric(
    frame: pd.DataFrame, labels: dict[str, list[str]]
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per grouping and metric, each comparison column as a list over the grouping's groups.

    Null where a group is not compared. Each column is turned into Python values once for the
    whole table; each grouping then takes its rows by position.
    """
    if frame.empty or "grouping" not in frame:
        return {}
    # count and value are the grouping's metrics already; the rest is per group, except what
    # every group is compared with.
    skip = {"grouping", "group", "metric", "count", "value"}
    columns = {str(c): _plain_values(frame[c]) for c in frame.columns if c not in skip}
    grouping_codes, names = pd.factorize(frame["grouping"])
    all_metric_codes, all_metrics = pd.factorize(frame["metric"])
    group_names = frame["group"].tolist()
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for code, name in enumerate(names):
        rows = np.flatnonzero(grouping_codes == code)
        groups = labels[str(name)]
        position = {group: i for i, group in enumerate(groups)}
        group_codes = np.array([position[group_names[r]] for r in rows], dtype=np.int64)
        metric_codes, present = pd.factorize(all_metric_codes[rows])
        metrics = [str(all_metrics[int(m)]) for m in present]
        per_metric: dict[str, dict[str, Any]] = {m: {} for m in metrics}
        for column, values in columns.items():
            grid = np.full((len(metrics), len(groups)), None, dtype=object)
            grid[metric_codes, group_codes] = values[rows]
            for metric, row in zip(metrics, grid.tolist(), strict=True):
                per_metric[metric][column] = _shared(row) if column in _SHARED else row
        out[str(name)] = per_metric
    return out


def _shared(row: list[Any]) -> Any:
    """Give the one value every compared group has, or the list when they differ."""
    present = [v for v in row if v is not None]
    return present[0] if len({repr(v) for v in present}) == 1 else row


def _plain_values(column: pd.Series[Any] | npt.NDArray[Any]) -> npt.NDArray[np.object_]:
    """Python values of a column, with NaN and infinities as None (JSON null)."""
    values = np.asarray(column)
    if values.dtype.kind == "f":
        plain = values.astype(object)
        plain[~np.isfinite(values)] = None
        return plain
    if values.dtype.kind in "biu":
        return values.astype(object)
    plain = np.empty(len(values), dtype=object)
    for i, value in enumerate(values.tolist()):  # a list stays one value (not a new axis)
        plain[i] = _default(value)
    return plain


def _keyed(frame: pd.DataFrame, key: str) -> dict[str, dict[str, dict[str, Any]]]:
    """Per grouping, one record per ``key`` (a metric, a criterion) with the other columns."""
    if frame.empty or "grouping" not in frame:
        return {}
    columns = {str(c): _plain_values(frame[c]).tolist() for c in frame.columns}
    groupings, keys = columns.pop("grouping"), columns.pop(key)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for row, (grouping, name) in enumerate(zip(groupings, keys, strict=True)):
        record = {column: values[row] for column, values in columns.items()}
        out.setdefault(str(grouping), {})[str(name)] = record
    return out


def _default(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (tuple, np.ndarray)):
        return [_default(v) for v in value]
    return value
