"""How every chart of an audit looks.

Colours with shapes (never colour alone), axes, legends and sizes.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from ethica.fairness._count_table import group_order

#: Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)
SHAPES = ("circle", "square", "triangle-up", "diamond", "cross", "triangle-down", "wedge", "stroke")
#: How each group's gap was judged, with a colour and a shape (never colour alone).
STATUS_STYLE: dict[str, tuple[str, str]] = {
    "material and significant": ("#D55E00", "diamond"),
    "material, not significant": ("#E69F00", "triangle-up"),
    "no material gap": ("#0072B2", "circle"),
    "comparison group": ("#000000", "square"),
    "not assessed (small group)": ("#8C8C8C", "cross"),
}
WIDTH = 360
#: Axis settings that keep tick labels apart.
AXIS: dict[str, Any] = {"tickCount": 6, "labelOverlap": True, "labelFlush": True}
ROW_HEIGHT = 20


def inline_data(frame: pd.DataFrame) -> dict[str, Any]:
    """Inline values, with NaN as null (Altair's own DataFrame conversion is slower)."""
    records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    return {"values": records}


def gap_status(row: Any) -> str:
    """How a comparison row's gap was judged: a key of :data:`STATUS_STYLE`."""
    if row["compared_to"] != "overall" and row["group"] == row["compared_to"]:
        return "comparison group"
    if not bool(row["asserted"]):
        return "not assessed (small group)"
    if bool(row["material"]) and bool(row["significant"]):
        return "material and significant"
    if bool(row["material"]):
        return "material, not significant"
    return "no material gap"


def status_of(rows: pd.DataFrame) -> pd.Series:
    """:func:`gap_status` of each comparison row."""
    if rows.empty:
        return pd.Series([], dtype=object)
    return rows.apply(gap_status, axis=1)


def status_marks(rows: pd.DataFrame) -> dict[str, Any]:
    # Only the statuses present, each keeping its own colour and shape in every chart.
    present = set(rows["status"])
    styles = {name: style for name, style in STATUS_STYLE.items() if name in present}
    domain = list(styles)
    legend = bottom_legend()
    return {
        "color": alt.Color(
            "status:N",
            scale=alt.Scale(domain=domain, range=[c for c, _ in styles.values()]),
            legend=legend,
        ),
        "shape": alt.Shape(
            "status:N",
            scale=alt.Scale(domain=domain, range=[s for _, s in styles.values()]),
            legend=legend,
        ),
    }


def bottom_legend() -> alt.Legend:
    return alt.Legend(
        orient="bottom", direction="horizontal", title=None, labelLimit=260, columnPadding=18
    )


def group_axis(data: pd.DataFrame, *, show: bool = True) -> alt.Y:
    order = sorted(dict.fromkeys(data["group"]), key=group_order)
    axis = alt.Axis(labelLimit=180, title=None) if show else None
    return alt.Y("group:N", sort=order, axis=axis, title=None)


def chart_height(data: pd.DataFrame) -> int:
    return max(60, ROW_HEIGHT * int(data["group"].nunique()))
