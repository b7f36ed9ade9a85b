"""Rankings (recommendations, search results): exposure, top-k presence and NDCG per group.

Each row is an item shown at a position (``prediction``, 1 = top) with, optionally, its graded
relevance (``label``) and the list it belongs to (``list_id``). One aggregation groups the rows by
the sensitive features and the position capped at ``max_position + 1`` and sums, per cell:

- ``discount_sum``: the position discount ``1 / log2(position + 1)`` (the exposure of DCG),
  from the true position, so exposure is exact even beyond the cap, and ``discount_squared_sum``
  (for the intervals of exposure per item);
- with relevance: ``relevance_sum`` and ``gain_discount_sum`` (``(2 ** relevance - 1)`` times the
  discount);
- with relevance and lists: ``ideal_gain_discount_sum``, the gain times the discount of the row's
  *ideal* position, its rank within its list ordered by relevance (highest first, ties by
  position).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ethica.engines import Aggregation, Apply, Col, Engine, Expr
from ethica.errors import InputError
from ethica.fairness._count_table import CountTable, ScoreBins, normalize_groups
from ethica.fairness._group_metrics import FloatArray, GroupMetrics, ratio
from ethica.fairness._opening import check_options, check_roles, numeric_profile, require_rows
from ethica.fairness._regression import group_sums
from ethica.fairness._roles import Roles

POSITION = "position"
DEFAULT_MAX_POSITION = 100
DEFAULT_TOP_K = (1, 5, 10)


def ranking_table(
    engine: Engine,
    source: Any,
    roles: Roles,
    *,
    pos_label: Any = None,
    score_bins: int | ScoreBins = 1000,
    options: dict[str, Any] | None = None,
) -> CountTable:
    """Aggregate ranked items: counts and exposure sums per group and (capped) position.

    Parameters
    ----------
    engine, source, roles
        Where the rows are and which column plays which part: ``prediction`` is the position
        (1 = top), ``label`` the relevance grade (optional, non-negative), ``list_id`` the list
        (query, session, customer) each row belongs to (optional; needed for NDCG).
    score_bins
        Not used by this kind.
    options
        ``max_position`` (default 100): positions beyond it are counted as ``max_position + 1``;
        ``top_k`` (default ``(1, 5, 10)``): the cut-offs of the top-k metrics, each at most
        ``max_position``.
    """
    settings = ranking_options(options or {})
    position = check_roles(
        "ranking",
        roles,
        pos_label=pos_label,
        prediction="each item's position",
        unused=("score",),
        instead="pass the position as prediction=",
    )
    numeric_profile(engine, source, position, "prediction (position)", minimum=1.0)
    if roles.label is not None:
        numeric_profile(engine, source, roles.label, "label (relevance)", minimum=0.0)
    aggregation = ranking_aggregation(roles, int(settings["max_position"]))
    cells = engine.aggregate(source, aggregation)
    require_rows(cells)
    for name, _ in aggregation.sums:
        cells[name] = cells[name].astype(np.float64)
    cells[POSITION] = cells[POSITION].astype(np.float64)
    fractional = cells[POSITION] != np.floor(cells[POSITION])
    if fractional.any():
        shown = sorted(cells.loc[fractional, POSITION].unique().tolist())[:5]
        raise InputError(
            f"prediction column {roles.prediction!r} must hold whole positions (1 = top); "
            f"got {shown}"
        )
    cells = normalize_groups(cells, roles.sensitive)
    return CountTable(
        kind="ranking",
        sensitive_features=roles.sensitive,
        cells=cells,
        keys=(POSITION,),
        options=settings,
    )


def ranking_options(options: dict[str, Any]) -> dict[str, Any]:
    """``max_position`` and ``top_k`` with their defaults, checked."""
    check_options("ranking", options, ("max_position", "top_k"))
    max_position = options.get("max_position", DEFAULT_MAX_POSITION)
    if isinstance(max_position, bool) or not isinstance(max_position, int) or max_position < 1:
        raise InputError(f"max_position must be a positive whole number; got {max_position!r}")
    raw = options.get("top_k", DEFAULT_TOP_K)
    top_k = (raw,) if isinstance(raw, int) else tuple(raw) if isinstance(raw, Sequence) else ()
    if not top_k or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in top_k):
        raise InputError(f"top_k must be positive whole numbers, e.g. (1, 5, 10); got {raw!r}")
    beyond = [k for k in top_k if k > max_position]
    if beyond:
        raise InputError(
            f"top_k {beyond} exceed max_position={max_position}; raise max_position to at "
            f"least {max(beyond)}"
        )
    return {"max_position": max_position, "top_k": tuple(sorted(set(top_k)))}


def ranking_aggregation(roles: Roles, max_position: int) -> Aggregation:
    """Group by the sensitive features and capped position; sum discounts, gains and ideals."""
    assert roles.prediction is not None
    position = Col(roles.prediction)
    discount = Apply("discount", (position,))
    keys: list[tuple[str, Expr]] = [(f, Col(f)) for f in roles.sensitive]
    keys.append((POSITION, Apply("cap", (position,), (float(max_position + 1),))))
    sums: list[tuple[str, Expr]] = [
        ("discount_sum", discount),
        ("discount_squared_sum", Apply("square", (discount,))),
    ]
    if roles.label is not None:
        relevance = Col(roles.label)
        gain = Apply("gain", (relevance,))
        sums += [
            ("relevance_sum", relevance),
            ("gain_discount_sum", Apply("mul", (gain, discount))),
        ]
        if roles.list_id is not None:
            ideal = Apply("ideal_rank", (Col(roles.list_id), relevance, position))
            ideal_discount = Apply("discount", (ideal,))
            sums.append(("ideal_gain_discount_sum", Apply("mul", (gain, ideal_discount))))
    return Aggregation(keys=tuple(keys), sums=tuple(sums))


def ranking_metrics(table: CountTable, grouping: tuple[str, ...]) -> GroupMetrics:
    """Exposure, top-k presence, relevance and NDCG per group of ``grouping``.

    - ``share_of_exposure``: the group's sum of position discounts over everyone's (1 overall);
      compared with the group's share of the rows ranked (exposure parity).
    - ``exposure_per_item``: the group's mean position discount; a mean, with normal intervals
      and tests from the sums of the discount and of its square.
    - ``in_top_k[k]``: share of the group's rows shown at a position of at most ``k``; a
      proportion (numerator: the group's rows in the top ``k``; denominator: its rows), so it has
      intervals and tests.
    - ``share_of_top_k[k]``: the group's rows in the top ``k`` over everyone's rows there;
      compared with the group's share of the rows ranked.
    - With relevance: ``mean_relevance``; with lists too, ``ndcg``: the group's sum of gain times
      discount over its sum of gain times ideal discount. For one list and one group this is the
      list's NDCG with gain ``2 ** relevance - 1`` and no cut-off.
    """
    rollup = table.rollup(grouping)
    grouped = rollup.cells
    groups, codes, sums = group_sums(rollup, table.sums)
    n = groups["n"].to_numpy(dtype=np.float64)
    total_discount = float(table.cells["discount_sum"].sum())
    values: dict[str, FloatArray] = {
        "share_of_exposure": ratio(sums["discount_sum"], np.full_like(n, total_discount)),
        "exposure_per_item": ratio(sums["discount_sum"], n),
    }
    rates: dict[str, tuple[FloatArray, FloatArray]] = {}
    means = {"exposure_per_item": (sums["discount_sum"], sums["discount_squared_sum"])}
    shares = {"share_of_exposure": "exposure_per_item"}
    positions = grouped[POSITION].to_numpy(dtype=np.float64)
    counts = grouped["n"].to_numpy(dtype=np.float64)
    all_positions = table.cells[POSITION].to_numpy(dtype=np.float64)
    all_counts = table.cells["n"].to_numpy(dtype=np.float64)
    for k in table.options.get("top_k", DEFAULT_TOP_K):
        inside = np.asarray(
            np.bincount(codes, weights=counts * (positions <= k), minlength=len(groups)),
            dtype=np.float64,
        )
        rates[f"in_top_k[{k}]"] = (inside, n)
        values[f"in_top_k[{k}]"] = ratio(inside, n)
        everyone = float(all_counts[all_positions <= k].sum())
        values[f"share_of_top_k[{k}]"] = ratio(inside, np.full_like(n, everyone))
        shares[f"share_of_top_k[{k}]"] = f"in_top_k[{k}]"
    if "relevance_sum" in sums:
        values["mean_relevance"] = ratio(sums["relevance_sum"], n)
    if "ideal_gain_discount_sum" in sums:
        values["ndcg"] = ratio(sums["gain_discount_sum"], sums["ideal_gain_discount_sum"])
    return GroupMetrics(
        grouping=grouping, groups=groups, values=values, rates=rates, means=means, shares=shares
    )
