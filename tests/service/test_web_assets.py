"""The pages' assets: the vendored design system, Swagger UI and the favicon, all served here."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

from service_testing import Service
from web_testing import viewing_as

from ethica.service.web.rendering import STATIC

ROOT = Path(__file__).parents[2]


class _References(HTMLParser):
    """Every address a page loads by itself: stylesheets, scripts, icons, images."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "link" and values.get("href"):
            self.found.append(str(values["href"]))
        if tag in ("script", "img") and values.get("src"):
            self.found.append(str(values["src"]))


def references(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    return parser.found


def test_every_asset_a_page_loads_is_served_by_the_service(
    service: Callable[..., Service],
) -> None:
    running = service()
    with viewing_as(running.client, None) as client:
        for path in ("/login", "/docs", "/no-such-page"):
            page = client.get(path, headers={"accept": "text/html"})
            loaded = references(page.text)
            assert loaded, path
            for address in loaded:
                assert address.startswith("/") and not address.startswith("//"), (path, address)
                assert client.get(address).status_code == 200, (path, address)
        assert "/static/uswds/css/uswds.min.css" in references(client.get("/login").text)
        docs = client.get("/docs").text
        assert '<html lang="en">' in docs
        assert "/static/swagger-ui-contrast.css" in references(docs)
        assert '"deepLinking": false' in docs  # no link nested in an operation's button


def test_the_vendored_stylesheets_point_only_at_vendored_files() -> None:
    for sheet in STATIC.rglob("*.css"):
        for address in re.findall(r"url\(([^)]*)\)", sheet.read_text()):
            address = address.strip("'\"")
            if not address or address.startswith(("data:", "#")):
                continue
            assert "://" not in address and not address.startswith("//"), (sheet, address)
            assert (sheet.parent / address).is_file(), (sheet, address)


def test_the_vendored_versions_are_the_locked_ones() -> None:
    lock = json.loads((ROOT / "frontend" / "package-lock.json").read_text())["packages"]
    lines = (STATIC / "VENDORED.txt").read_text().splitlines()
    vendored = dict(line.split(" ") for line in lines if not line.startswith("#"))
    assert set(vendored) == {"@uswds/uswds", "swagger-ui-dist", "axe-core"}
    for package, version in vendored.items():
        assert lock[f"node_modules/{package}"]["version"] == version


def test_favicon_and_unknown_pages(service: Callable[..., Service]) -> None:
    running = service()
    with viewing_as(running.client, None) as client:
        icon = client.get("/favicon.ico")
        assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
        browser = client.get("/no-such-page", headers={"accept": "text/html,*/*;q=0.8"})
        assert browser.status_code == 404
        assert browser.headers["content-type"].startswith("text/html")
        assert "There is no page at this address" in browser.text
        program = client.get("/no-such-page", headers={"accept": "application/json"})
        assert program.status_code == 404 and program.json()["error"]["code"] == "not_found"
        api = client.get("/v1/no-such-route", headers={"accept": "text/html"})
        assert api.headers["content-type"].startswith("application/json")
