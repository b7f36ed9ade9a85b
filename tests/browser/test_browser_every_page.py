"""Every page of every face, on the demo bank, at a phone's, a laptop's and a wide screen's width.

Each page must pass axe-core with no serious or critical violation, must not scroll sideways,
and must load nothing from another site; each is photographed into ``test-artifacts/pages/``.
The audit report (the HTML file ``ethica audit --report`` writes) passes the same checks.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from page_checks import (
    WIDTHS,
    axe_violations,
    blocking,
    foreign_references,
    open_folds,
    sideways,
)
from scenes import write_audit_report

from conftest import ARTIFACTS, DemoBank

pytestmark = pytest.mark.slow

#: The height of one part of a page's photograph, well inside JPEG's limit of 65,535 px.
PART = 30_000


class Tour:
    """Visits pages in one browser context, checks each at every width, collects what fails."""

    def __init__(
        self, browser: Any, origin: str, face: str, *, boxes_may_scroll: bool = False
    ) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        # The machine is shared: a system page audits its live decisions while it answers.
        self.page.set_default_timeout(90_000)
        self.origin = origin
        self.face = face
        self.boxes_may_scroll = boxes_may_scroll
        self.requests: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.problems: list[str] = []
        self.visited: list[str] = []

    def visit(self, name: str, address: str) -> None:
        page = self.page
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(address)
            page.wait_for_load_state("networkidle")
            folder = ARTIFACTS / "pages" / self.face
            folder.mkdir(parents=True, exist_ok=True)
            self.photograph(folder, f"{name}-{width}")
            for what in sideways(page, boxes_may_scroll=self.boxes_may_scroll):
                self.problems.append(f"{name} at {width} px: {what}")
            for violation in blocking(axe_violations(page)):
                self.problems.append(f"{name} at {width} px: axe {violation}")
        for address_seen in foreign_references(page, self.origin):
            self.problems.append(f"{name}: refers to {address_seen}")
        self.visited.append(name)

    def photograph(self, folder: Path, name: str) -> None:
        """A full-page JPEG; a page taller than JPEG allows (65,535 px) in numbered parts."""
        # JPEG: a system page is metres long on a phone, and a PNG of it runs to 10 MB.
        page = self.page
        height = int(page.evaluate("document.documentElement.scrollHeight"))
        width = int(page.viewport_size["width"])
        parts = range(0, height, PART) if height > PART else [None]
        for number, top in enumerate(parts, start=1):
            shot = folder / (f"{name}.jpg" if top is None else f"{name}-part{number}.jpg")
            tall = PART if top is None else min(PART, height - top)
            clip = None if top is None else {"x": 0, "y": top, "width": width, "height": tall}
            page.screenshot(path=str(shot), full_page=True, clip=clip, type="jpeg", quality=70)
            assert shot.stat().st_size > 0, f"{shot} is empty"

    def link(self, selector: str) -> str:
        href = self.page.locator(selector).first.get_attribute("href")
        assert href, selector
        return f"{self.origin}{href}" if href.startswith("/") else href

    def finish(self) -> None:
        foreign = [u for u in self.requests if not u.startswith((self.origin, "data:", "file:"))]
        self.context.close()
        assert not foreign, f"requests to other sites: {foreign[:5]}"
        assert not self.problems, "\n".join(self.problems)


def _sign_in(tour: Tour, email: str, password: str) -> None:
    page = tour.page
    page.goto(f"{tour.origin}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")


def test_every_customer_page(browser: Any, demo_bank: DemoBank) -> None:
    tour = Tour(browser, demo_bank.url, "portal")
    tour.page.goto(f"{demo_bank.url}/portal/enter?token={demo_bank.portal_token}")
    tour.visit("decisions", f"{demo_bank.url}/portal")
    decision = tour.link('a[href^="/portal/decisions/"]')
    tour.visit("decision", decision)
    if tour.page.locator('a[href$="/notice"]').count():
        tour.visit("notice", tour.link('a[href$="/notice"]'))
    tour.visit("privacy", f"{demo_bank.url}/portal/privacy")
    tour.visit("erasure", f"{demo_bank.url}/portal/privacy/erasure")
    tour.visit("not-found", f"{demo_bank.url}/portal/decisions/no-such-decision")
    tour.finish()


def test_every_reviewer_page(browser: Any, demo_bank: DemoBank) -> None:
    tour = Tour(browser, demo_bank.url, "console")
    _sign_in(tour, "reviewer@bank.example", "demo-reviewer-pass")
    tour.visit("queue", f"{demo_bank.url}/console")
    tour.visit("case", tour.link('#queue a[href^="/console/cases/"]'))
    tour.visit("stats", f"{demo_bank.url}/console/stats")
    tour.finish()


def test_every_officer_page(browser: Any, demo_bank: DemoBank) -> None:
    tour = Tour(browser, demo_bank.url, "dashboard")
    _sign_in(tour, "admin@bank.example", "demo-admin-pass")
    tour.visit("dashboard", f"{demo_bank.url}/dashboard")
    reviewers = " ".join(tour.page.locator("main").inner_text().split())
    assert re.search(r"agreed with the model in \d+% of \d{1,3}(,\d{3})+ cases", reviewers)
    for system in ("credit-limit", "support-routing", "product-recommendations"):
        tour.visit(f"system-{system}", f"{demo_bank.url}/dashboard/systems/{system}")
        if system == "credit-limit":  # audited by sex, age band and origin, and crossed
            page = tour.page
            assert page.locator("#findings li").count() == 10
            more = page.locator("#more-findings summary").inner_text()
            assert re.fullmatch(r"The other \d+ findings", more), more
            note = " ".join(page.locator("main").inner_text().split())
            assert "Origin was not given for " in note and "is missing on" not in note
    tour.visit("concerns", f"{demo_bank.url}/dashboard/concerns")
    tour.visit("concerns-resolved", f"{demo_bank.url}/dashboard/concerns?status=resolved")
    tour.visit("ledger", f"{demo_bank.url}/dashboard/ledger")
    tour.visit("governance", f"{demo_bank.url}/dashboard/governance")
    for system in ("credit-limit", "support-routing", "product-recommendations"):
        tour.visit(f"governance-{system}", f"{demo_bank.url}/dashboard/governance/{system}")
    for document in ("annex-iv", "fria", "model-card", "annex-viii"):
        address = f"{demo_bank.url}/dashboard/governance/credit-limit/documents/{document}.html"
        tour.visit(f"document-{document}", address)
    tour.visit("transparency", f"{demo_bank.url}/dashboard/governance/transparency")
    tour.finish()


#: A folded table's summary: what, by which crossed grouping, how many groups.
FOLD = re.compile(r".+ by \S[^×]* × .+ \((\d+) groups\)")


#: Each table of one attribute (caption without "×"): its caption, and whether it is on screen.
_SINGLE_TABLES = """() => [...document.querySelectorAll("table.usa-table")]
  .filter(t => t.caption && !t.caption.textContent.includes("×"))
  .map(t => [t.caption.textContent.trim(), !t.closest("details") && t.checkVisibility()])"""


def test_every_officer_system_page_folds_crossed_groups(browser: Any, demo_bank: DemoBank) -> None:
    """A crossed grouping's table is folded, closed, and fits a phone's screen once opened."""
    tour = Tour(browser, demo_bank.url, "dashboard")
    _sign_in(tour, "admin@bank.example", "demo-admin-pass")
    page = tour.page
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        for system in ("credit-limit", "support-routing", "product-recommendations"):
            page.goto(f"{demo_bank.url}/dashboard/systems/{system}")
            where = f"{system} at {width} px"
            folds = page.locator("details.crossed-groups")
            summaries = folds.locator("summary").all_inner_texts()
            assert summaries, where  # every demo system is audited by crossed groupings
            for summary, fold in zip(summaries, folds.all(), strict=True):
                counted = FOLD.fullmatch(summary)
                assert counted, f"{where}: {summary!r}"
                assert fold.locator("tbody tr").count() == int(counted.group(1)), summary
                assert fold.get_attribute("open") is None, f"{where}: {summary!r} is open"
            # The tables of one attribute stay open, outside any fold.
            singles = page.evaluate(_SINGLE_TABLES)
            assert singles and all(shown for _, shown in singles), f"{where}: {singles}"
            assert open_folds(page) >= len(summaries)
            assert sideways(page) == [], f"{where}, every fold open"
            if width == 390:
                for violation in blocking(axe_violations(page)):
                    tour.problems.append(f"{where}, folds open: axe {violation}")
                tour.photograph(ARTIFACTS / "pages" / "dashboard", f"folds-open-{system}-{width}")
    tour.finish()


def test_every_page_without_signing_in(browser: Any, demo_bank: DemoBank) -> None:
    tour = Tour(browser, demo_bank.url, "public")
    tour.visit("sign-in", f"{demo_bank.url}/login")
    tour.visit("not-found", f"{demo_bank.url}/no-such-page")
    tour.finish()


def test_api_docs_load_from_the_service_alone(browser: Any, demo_bank: DemoBank) -> None:
    tour = Tour(browser, demo_bank.url, "public")
    for width in WIDTHS:
        tour.page.set_viewport_size({"width": width, "height": 900})
        tour.page.goto(f"{demo_bank.url}/docs")
        tour.page.get_by_text("/v1/systems/{system_id}/decisions").first.wait_for()
        tour.page.screenshot(path=str(ARTIFACTS / "pages" / "public" / f"docs-{width}.jpg"))
        for violation in blocking(axe_violations(tour.page)):
            tour.problems.append(f"docs at {width} px: axe {violation}")
    assert not foreign_references(tour.page, demo_bank.url)
    tour.finish()


def test_the_audit_report(browser: Any, tmp_path: Path) -> None:
    report = write_audit_report(tmp_path / "report.html")
    # No box of the report scrolls sideways either: at 1280 and 1920 px its widest tables fit,
    # and on a phone every row is a card of labelled values.
    tour = Tour(browser, "file://", "report")
    tour.visit("audit-report", report.as_uri())
    page = tour.page
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        open_folds(page)
        assert sideways(page) == [], f"audit report at {width} px, every table open"
    page.set_viewport_size({"width": 390, "height": 900})
    card = page.locator("table.metrics tbody tr").first
    label = card.locator("td").nth(1).evaluate("cell => getComputedStyle(cell, '::before').content")
    assert label == '"selection rate"'
    assert card.locator("th").first.inner_text() == "Female"
    tour.finish()
