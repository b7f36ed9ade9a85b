"""Charts rendered to inline SVG, labelled for assistive technology.

SVG rendered here by vl-convert (which bundles its own Vega) needs no JavaScript, no network and
no fonts beyond the reader's, so a report stays one self-contained file.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import TypeAlias

import altair as alt
import vl_convert

#: What the chart builders return: Altair chart objects, rendered by :func:`to_svg`.
ChartSpec: TypeAlias = alt.LayerChart | alt.FacetChart | alt.HConcatChart
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


@dataclass(frozen=True)
class Figure:
    """One chart of a report: a title, a caption in plain words, and the SVG markup."""

    title: str
    caption: str
    svg: str
    figure_id: str
    wide: bool = False


def figure(
    title: str, caption: str, chart: ChartSpec, *, figure_id: str, wide: bool = False
) -> Figure:
    """Render a chart to SVG and label it for assistive technology."""
    svg = to_svg(chart, title=title, description=caption, id_prefix=figure_id)
    return Figure(title, caption, svg, figure_id, wide)


def to_svg(chart: ChartSpec, *, title: str, description: str, id_prefix: str) -> str:
    """Inline SVG of a chart, announced as one image with its title and description.

    The marks inside are drawing, not content (the tables beside the chart hold the data), so
    the roles Vega gives them are removed: a screen reader meets one image, named and described.
    """
    # vl-convert measures labels with its own fonts; the left padding leaves room for a reader's
    # wider fonts so that long group names are not cut off.
    spec = (
        chart.properties(padding={"left": 28, "right": 10, "top": 6, "bottom": 6})
        .configure(font=FONT, background="white", aria=False)
        .configure_view(stroke="#d0d7de")
    )
    svg = str(vl_convert.vegalite_to_svg(spec.to_dict(validate=False)))
    svg = _unique_ids(svg, id_prefix)
    svg = re.sub(r'\s(?:role|aria-roledescription|aria-label|aria-hidden)="[^"]*"', "", svg)
    opening = re.match(r"<svg[^>]*>", svg)
    if opening is None:  # pragma: no cover - vl-convert always answers with an <svg> element
        raise ValueError("the chart did not render to SVG")
    head = opening.group(0)[:-1].rstrip("/")
    labelled = (
        f'{head} role="img" aria-labelledby="{id_prefix}-title {id_prefix}-desc">'
        f'<title id="{id_prefix}-title">{html.escape(title)}</title>'
        f'<desc id="{id_prefix}-desc">{html.escape(description)}</desc>'
    )
    return labelled + svg[opening.end() :]


def _unique_ids(svg: str, prefix: str) -> str:
    """Prefix SVG ids so that several charts can share one HTML page without clashes."""
    prefix = f"{prefix}-"
    ids = set(re.findall(r'\sid="([^"]+)"', svg))
    for name in ids:
        svg = svg.replace(f'id="{name}"', f'id="{prefix}{name}"')
        svg = svg.replace(f"url(#{name})", f"url(#{prefix}{name})")
        svg = svg.replace(f'href="#{name}"', f'href="#{prefix}{name}"')
    return svg
