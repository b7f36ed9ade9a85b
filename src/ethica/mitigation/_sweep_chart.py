"""The trade-off as a chart: each candidate's objective against its criterion gap, with intervals.

Inline SVG with a title and a description for screen readers, and the same numbers as a table
right after it (the chart's text alternative); every text placed in it is escaped.
"""

from __future__ import annotations

import html
import math
from typing import Any

from ethica.mitigation._sweep import CRITERION_RATES, TradeOff

WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 20, 50


def trade_off_figure(swept: TradeOff, *, ident: str = "trade-off") -> str:
    """Return a ``<figure>`` with the SVG chart and its table of the same numbers."""
    points = swept.points
    rate = max(CRITERION_RATES[swept.criterion], key=lambda r: float(points[f"{r}_gap"].max()))
    objective = swept.objective
    words = "Accuracy" if objective == "accuracy" else "Expected profit per decision"
    criterion = swept.criterion.replace("_", " ")
    records = [{str(k): v for k, v in row.items()} for row in points.to_dict("records")]
    gaps = [_bounds(row, f"{rate}_gap") for row in records]
    values = [_bounds(row, objective) for row in records]
    x_top = max(0.05, *(g[2] for g in gaps))
    y_low = min(v[1] for v in values)
    y_high = max(v[2] for v in values)
    if y_high - y_low < 1e-9:
        y_low, y_high = y_low - 0.5, y_high + 0.5

    def x(value: float) -> float:
        return LEFT + max(value, 0.0) / x_top * (WIDTH - LEFT - RIGHT)

    def y(value: float) -> float:
        return TOP + (y_high - value) / (y_high - y_low) * (HEIGHT - TOP - BOTTOM)

    marks = []
    for index, (row, gap, value) in enumerate(zip(records, gaps, values, strict=True)):
        chosen = row["candidate"] == swept.recommended
        cx, cy = x(gap[0]), y(value[0])
        shift = -8 if index % 2 == 0 else 18  # neighbours' names above and below, not on top
        marks.append(
            f"<g><line x1='{x(gap[1]):.1f}' x2='{x(gap[2]):.1f}' y1='{cy:.1f}' y2='{cy:.1f}' "
            f"stroke='#555'/><line x1='{cx:.1f}' x2='{cx:.1f}' y1='{y(value[1]):.1f}' "
            f"y2='{y(value[2]):.1f}' stroke='#555'/>"
            f"<circle cx='{cx:.1f}' cy='{cy:.1f}' r='6' stroke='#08519c' stroke-width='2' "
            f"fill='{'#08519c' if chosen else '#fff'}'/>"
            f"<text x='{cx + 9:.1f}' y='{cy + shift:.1f}' font-size='11'>"
            f"{html.escape(str(row['candidate']))}</text></g>"
        )
    title = f"{words} against the {criterion} gap of each candidate"
    desc = (
        f"{len(points)} candidates; lines through each point are {swept.confidence:.0%} "
        f"intervals. Recommended (filled): {swept.recommended}."
    )
    rows = "".join(_table_row(row, rate, objective, swept.recommended) for row in records)
    key = html.escape(ident, quote=True)
    return (
        f"<figure class='trade-off'><svg role='img' aria-labelledby='t-{key} d-{key}' "
        f"viewBox='0 0 {WIDTH} {HEIGHT}' width='100%' style='max-width:{WIDTH}px'>"
        f"<title id='t-{key}'>{html.escape(title)}</title>"
        f"<desc id='d-{key}'>{html.escape(desc)}</desc>"
        f"<line x1='{LEFT}' x2='{LEFT}' y1='{TOP}' y2='{HEIGHT - BOTTOM}' stroke='#888'/>"
        f"<line x1='{LEFT}' x2='{WIDTH - RIGHT}' y1='{HEIGHT - BOTTOM}' "
        f"y2='{HEIGHT - BOTTOM}' stroke='#888'/>"
        f"<text x='{LEFT}' y='{HEIGHT - BOTTOM + 16}' font-size='11'>0</text>"
        f"<text x='{WIDTH - RIGHT}' y='{HEIGHT - BOTTOM + 16}' font-size='11' "
        f"text-anchor='end'>{x_top:.2f}</text>"
        f"<text x='{(LEFT + WIDTH) / 2:.0f}' y='{HEIGHT - 12}' font-size='12' "
        f"text-anchor='middle'>{html.escape(criterion)} gap ({html.escape(rate.replace('_', ' '))},"
        f" highest minus lowest group)</text>"
        f"<text x='4' y='{TOP + 4}' font-size='11'>{_number(y_high, objective)}</text>"
        f"<text x='4' y='{HEIGHT - BOTTOM}' font-size='11'>{_number(y_low, objective)}</text>"
        f"{''.join(marks)}</svg>"
        f"<figcaption>{html.escape(title)}. {html.escape(desc)}</figcaption>"
        "<div class='table-scroll'><table class='usa-table usa-table--stacked'>"
        f"<caption>The numbers of the chart ({swept.confidence:.0%} intervals)</caption>"
        "<thead><tr><th scope='col'>Candidate</th>"
        f"<th scope='col' class='num'>{words}</th><th scope='col' class='num'>"
        f"{html.escape(criterion.capitalize())} gap</th><th scope='col'>Pareto</th>"
        f"<th scope='col'>Recommended</th></tr></thead><tbody>{rows}</tbody></table></div>"
        f"<p class='small'>Recommended by this rule: {html.escape(swept.rule)}.</p></figure>"
    )


def _bounds(row: dict[str, Any], name: str) -> tuple[float, float, float]:
    value = float(row[name])
    low, high = float(row.get(f"{name}_low", value)), float(row.get(f"{name}_high", value))
    if not (math.isfinite(low) and math.isfinite(high)):
        low = high = value
    return value, low, high


def _number(value: float, objective: str) -> str:
    return f"{value:.3f}" if objective == "accuracy" else f"{value:,.2f}"


def _table_row(row: dict[str, Any], rate: str, objective: str, recommended: str) -> str:
    value, low, high = _bounds(row, objective)
    gap, gap_low, gap_high = _bounds(row, f"{rate}_gap")
    name = html.escape(str(row["candidate"]))
    words = "Accuracy" if objective == "accuracy" else "Expected profit per decision"
    return (
        f"<tr><th scope='row'>{name}</th>"
        f"<td class='num' data-label='{words}'>{_number(value, objective)} "
        f"({_number(low, objective)} to {_number(high, objective)})</td>"
        f"<td class='num' data-label='Gap'>{gap:.3f} ({gap_low:.3f} to {gap_high:.3f})</td>"
        f"<td data-label='Pareto'>{'yes' if row['pareto'] else 'no'}</td>"
        f"<td data-label='Recommended'>{'yes' if row['candidate'] == recommended else ''}</td></tr>"
    )
