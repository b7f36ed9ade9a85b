"""Render documents: HTML from one template, PDF by printing that HTML with headless Chromium.

Why Chromium: the PDF is the very page the HTML shows (same engine as the dashboard), Chromium
writes tagged PDFs (a structure tree for screen readers), and it is already the browser the
project's tests drive, so it adds no Python dependency. Two runs differ only in the PDF's
creation and modification dates; they are set to the document's own time, so the same inputs
give the same bytes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import jinja2

from ethica.errors import EthicaError, InputError
from ethica.governance._law import cite_text

__all__ = ["find_chromium", "print_pdf", "render_html"]

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("ethica.governance", "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)

CHROMIUM_VARIABLE = "ETHICA_CHROMIUM"
_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_PDF_DATE = re.compile(rb"/(CreationDate|ModDate) \(D:(\d{14})([^)]*)\)")
PRINT_TIMEOUT_SECONDS = 120


class RenderedDocument(Protocol):
    """What a document shows on its page (a :class:`~ethica.governance.Document` has it)."""

    @property
    def type(self) -> Any:
        """The document type, with the citations it rests on."""

    @property
    def generated_at(self) -> datetime:
        """When the document was generated."""

    @property
    def digest(self) -> str:
        """The digest of its content."""

    def content(self) -> dict[str, Any]:
        """Return its content as plain data."""


def render_html(document: RenderedDocument) -> str:
    """Return the document as a self-contained HTML page (no external asset)."""
    template = _ENVIRONMENT.get_template("document.html")
    return template.render(
        document=document,
        citations=cite_text(document.type.citations),
        generated=document.generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        digest=document.digest,
        sources=document.content()["sources"],
        heads=document.content()["ledger"],
    )


def find_chromium(chromium: str | None = None) -> str:
    """Return the Chromium executable: ``chromium``, ``$ETHICA_CHROMIUM``, or one on the PATH."""
    named = chromium or os.environ.get(CHROMIUM_VARIABLE)
    if named:
        found = shutil.which(named)
        if found is None:
            raise InputError(f"no Chromium executable at {named!r}")
        return found
    for candidate in _CANDIDATES:
        found = shutil.which(candidate)
        if found is not None:
            return found
    raise InputError(
        "printing a PDF needs Chromium: install it (Debian: apt install chromium) or name its "
        f"executable in {CHROMIUM_VARIABLE}; HTML and JSON need nothing more"
    )


def print_pdf(html: str, *, generated_at: datetime, chromium: str | None = None) -> bytes:
    """Print ``html`` to PDF with headless Chromium; the PDF's dates are ``generated_at``.

    Raises
    ------
    InputError
        When no Chromium is found.
    EthicaError
        When Chromium fails to print.
    """
    executable = find_chromium(chromium)
    with tempfile.TemporaryDirectory(prefix="ethica-pdf-") as folder:
        page = Path(folder) / "document.html"
        page.write_text(html, encoding="utf-8")
        output = Path(folder) / "document.pdf"
        command = [
            executable,
            "--headless",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            f"--user-data-dir={Path(folder) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={output}",
            page.as_uri(),
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        try:
            subprocess.run(command, capture_output=True, timeout=PRINT_TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            raise EthicaError(f"Chromium did not print within {PRINT_TIMEOUT_SECONDS} s") from None
        if not output.exists() or output.stat().st_size == 0:
            raise EthicaError(f"Chromium ({executable}) printed no PDF")
        return _fixed_dates(output.read_bytes(), generated_at)


def _fixed_dates(pdf: bytes, moment: datetime) -> bytes:
    stamp = moment.astimezone(UTC).strftime("%Y%m%d%H%M%S").encode("ascii")

    def replace(match: re.Match[bytes]) -> bytes:
        # Same length as what Chromium wrote, so the cross-reference offsets stay right.
        suffix = b"+00'00'"[: len(match.group(3))].ljust(len(match.group(3)), b" ")
        return b"/" + match.group(1) + b" (D:" + stamp + suffix + b")"

    return _PDF_DATE.sub(replace, pdf)
