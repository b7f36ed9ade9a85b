"""Bootstrap by resampling the count table, never the rows.

Each finest group's cells are drawn again from a multinomial with the group's size and observed
cell shares, so no row is ever touched twice.

Group sizes stay fixed (a stratified bootstrap), and every coarser grouping is a sum of finest
groups, so one set of replicates serves every grouping of the audit.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ethica.fairness._binary import confusion, derived_values
from ethica.fairness._count_table import CountTable
from ethica.fairness._disparities import Settings
from ethica.fairness._group_metrics import FloatArray


def bootstrap_intervals(
    table: CountTable, groupings: list[tuple[str, ...]], settings: Settings
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Percentile intervals of each group's metrics, gaps to the overall value, and summary gaps.

    Returns two frames: per grouping, group and metric (``boot_value_low`` ...), and per grouping
    and metric (``boot_difference_low`` ...), to be joined onto the audit's tables.
    """
    with warnings.catch_warnings():
        # A metric undefined in every replicate of a small group (no negatives, say) is NaN.
        warnings.filterwarnings("ignore", "All-NaN slice encountered", RuntimeWarning)
        return _bootstrap_intervals(table, groupings, settings)


def _bootstrap_intervals(
    table: CountTable, groupings: list[tuple[str, ...]], settings: Settings
) -> tuple[pd.DataFrame, pd.DataFrame]:
    finest = table.sensitive_features
    fine_groups, fine_counts = confusion(table.grouped(finest), finest)
    rng = np.random.default_rng(settings.seed)
    replicates = _resample(fine_counts, settings.bootstrap, rng)  # (B, F, 4)
    has_label = "label" in table.keys
    overall = derived_values(replicates.sum(axis=1, keepdims=True), has_label=has_label)
    tail = (1.0 - settings.confidence) / 2.0
    quantiles = [tail, 1.0 - tail]
    per_group, per_metric = [], []
    for grouping in groupings:
        membership, groups = _membership(fine_groups, grouping)
        counts = np.einsum("bfc,fg->bgc", replicates, membership)
        values = derived_values(counts, has_label=has_label)
        large = groups["n"].to_numpy() >= settings.min_group_size
        labels = [
            " × ".join(map(str, row)) for row in groups[list(grouping)].itertuples(index=False)
        ]
        name = " × ".join(grouping)
        reference = _reference_column(groups, grouping, settings)
        for metric, v in values.items():
            # The same gap as the audit's "difference": to the reference group when there is one.
            difference = v - (overall[metric] if reference is None else v[:, [reference]])
            low, high = np.nanquantile(v, quantiles, axis=0)
            d_low, d_high = np.nanquantile(difference, quantiles, axis=0)
            per_group.append(
                pd.DataFrame(
                    {
                        "grouping": name,
                        "group": labels,
                        "metric": metric,
                        "boot_value_low": low,
                        "boot_value_high": high,
                        "boot_difference_low": d_low,
                        "boot_difference_high": d_high,
                    }
                )
            )
            kept = v[:, large]
            spread = np.nanmax(kept, axis=1) - np.nanmin(kept, axis=1) if kept.shape[1] else None
            if spread is not None:
                s_low, s_high = np.nanquantile(spread, quantiles)
                per_metric.append(
                    {
                        "grouping": name,
                        "metric": metric,
                        "boot_difference_low": s_low,
                        "boot_difference_high": s_high,
                    }
                )
    return pd.concat(per_group, ignore_index=True), pd.DataFrame(per_metric)


def _reference_column(
    groups: pd.DataFrame, grouping: tuple[str, ...], settings: Settings
) -> int | None:
    """Position of the reference group among ``groups`` (sorted like the audit's groups)."""
    if settings.reference is None:
        return None
    wanted = tuple(str(settings.reference[f]) for f in grouping)
    rows = list(groups[list(grouping)].itertuples(index=False, name=None))
    return rows.index(wanted)


def _resample(counts: FloatArray, replicates: int, rng: np.random.Generator) -> FloatArray:
    out = np.empty((replicates, *counts.shape))
    for g, cells in enumerate(counts):
        size = int(cells.sum())
        out[:, g, :] = rng.multinomial(size, cells / size, size=replicates) if size else 0.0
    return out


def _membership(
    fine_groups: pd.DataFrame, grouping: tuple[str, ...]
) -> tuple[FloatArray, pd.DataFrame]:
    """Return a (finest groups x groups) 0/1 matrix, and the groups of ``grouping``."""
    by = list(grouping)
    codes = fine_groups.groupby(by, sort=True).ngroup().to_numpy()
    groups = fine_groups.groupby(by, sort=True)["n"].sum().reset_index()
    membership = np.zeros((len(fine_groups), len(groups)))
    membership[np.arange(len(fine_groups)), codes] = 1.0
    return membership, groups
