"""The audit report's detail tables keep every interval on one line (issue 16).

An interval such as "-13.4 pt to -5.2 pt" is one value: broken over two lines at a laptop's
width it read as two ("-13.4 pt to -5.2" and "pt"). The test measures the rendered text:
each interval cell's text boxes must all sit on one line, at a laptop's width (a table) and
a phone's (a stack of labelled cards), with the bootstrap column that makes the table widest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from page_checks import sideways
from scenes import write_audit_report

from conftest import ARTIFACTS

#: For each interval cell: its text, and the number of lines its text boxes take.
_LINES = """() => [...document.querySelectorAll("td.interval")].map(cell => {
  const range = document.createRange();
  range.selectNodeContents(cell);
  const boxes = [...range.getClientRects()].filter(r => r.width > 0);
  const tops = new Set(boxes.map(r => Math.round(r.top)));
  return [cell.innerText, tops.size];
})"""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_audit_report(tmp_path_factory.mktemp("report") / "report.html", bootstrap=200)


@pytest.mark.parametrize("width", [390, 1280, 1920])
def test_every_interval_of_the_detail_tables_stays_on_one_line(
    browser: Any, report: Path, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(report.as_uri())
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        cells = page.evaluate(_LINES)
        assert len(cells) > 40  # value, difference, ratio and bootstrap intervals of every row
        assert any(" pt to " in text for text, _ in cells)
        broken = [text for text, lines in cells if lines != 1]
        assert broken == [], f"intervals broken over lines at {width} px: {broken[:5]}"
        folder = ARTIFACTS / "screenshots" / "report-intervals"
        folder.mkdir(parents=True, exist_ok=True)
        page.locator("table.gaps").first.screenshot(path=str(folder / f"gaps-{width}.png"))
        assert sideways(page) == [], f"the report scrolls sideways at {width} px"
    finally:
        context.close()
