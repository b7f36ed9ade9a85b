"""What every page must pass in the browser: axe-core, no sideways scroll, nothing from elsewhere.

axe-core is the copy vendored from the npm registry (scripts/vendor_frontend.sh). It is evaluated
in the page as the browser's developer tools would evaluate it, so the page's own
Content-Security-Policy (which, rightly, allows no script but the service's own) holds while the
page is checked: no context needs to bypass it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
#: Impacts that fail a page; "moderate" and "minor" findings are reported, not failed.
BLOCKING = ("serious", "critical")
#: The three widths of the issue: a phone, a laptop, a wide screen.
WIDTHS = (390, 1280, 1920)

_RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map(n => n.target.join(" ") + " :: " + n.failureSummary),
  }));
}"""

#: Elements whose right edge passes the viewport, and scroll boxes wider than themselves; what a
#: closed ``<details>`` folds away is skipped (open every fold to check it: :func:`open_folds`).
_OVERFLOW = """(boxesMayScroll) => {
  const width = document.documentElement.clientWidth;
  const clips = el => ["auto", "scroll", "hidden"].includes(getComputedStyle(el).overflowX);
  // What a closed <details> folds away is not on the screen (its summary is).
  const folded = el => {
    for (let fold = el.closest("details:not([open])"); fold;
         fold = fold.parentElement && fold.parentElement.closest("details:not([open])")) {
      const summary = fold.querySelector(":scope > summary");
      if (!summary || !summary.contains(el)) return true;
    }
    return false;
  };
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    if (folded(el)) continue;
    if (el.closest(".usa-nav, .usa-overlay, .usa-skipnav, .visually-hidden")) continue;
    let inside = false;
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement)
      if (clips(up)) { inside = true; break; }
    const name = el.tagName.toLowerCase() + "." + el.className;
    if (!inside && box.right > width + 1) out.push(name + " right=" + Math.round(box.right));
    const scrolls = ["auto", "scroll"].includes(getComputedStyle(el).overflowX);
    if (!boxesMayScroll && scrolls && el.scrollWidth > el.clientWidth + 1)
      out.push("scrolls sideways: " + name);
  }
  return out.slice(0, 8);
}"""

#: Every address the page itself refers to for scripts, styles, fonts, images and frames.
_REFERENCES = """() => {
  const found = [];
  document.querySelectorAll("script[src], img[src], iframe[src]").forEach(e => found.push(e.src));
  document.querySelectorAll("link[href]").forEach(e => found.push(e.href));
  for (const sheet of document.styleSheets) {
    let rules;
    try { rules = sheet.cssRules; }
    catch (e) { found.push("unreadable sheet " + sheet.href); continue; }
    for (const rule of rules) {
      const text = rule.cssText;
      for (const m of text.matchAll(/url\\(["']?([^"')]+)["']?\\)/g)) {
        const base = sheet.href || document.baseURI;
        if (!m[1].startsWith("data:")) found.push(new URL(m[1], base).href);
      }
    }
  }
  return found;
}"""


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (every impact)."""
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    found: list[dict[str, Any]] = page.evaluate(_RUN_AXE)
    return found


def blocking(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Only the serious and critical violations."""
    return [v for v in violations if v["impact"] in BLOCKING]


def serious_violations(page: Any) -> list[str]:
    """The page's serious and critical axe-core violations, one line each (none: ``[]``)."""
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes'][:3]}"
        for v in blocking(axe_violations(page))
    ]


def sideways(page: Any, *, boxes_may_scroll: bool = False) -> list[str]:
    """What makes the page (or, unless ``boxes_may_scroll``, a box in it) scroll sideways."""
    found: list[str] = page.evaluate(_OVERFLOW, boxes_may_scroll)
    return found


def open_folds(page: Any) -> int:
    """Open every ``<details>`` on the page, as a reader unfolding each would; returns how many."""
    opened: int = page.evaluate(
        "() => { const all = document.querySelectorAll('details');"
        " all.forEach(d => d.open = true); return all.length; }"
    )
    return opened


def foreign_references(page: Any, origin: str) -> list[str]:
    """Addresses the page refers to that are neither the service's nor inline data."""
    addresses: list[str] = page.evaluate(_REFERENCES)
    return [a for a in addresses if not a.startswith((origin, "data:", "about:", "file://"))]
