"""Documents built from evidence: their parts, their digest, and their check against a ledger.

A :class:`Document` is data (sections of items and tables) rendered three ways: JSON (the
canonical record, with its SHA-256 digest), HTML and PDF. It cites the ledger entries its
evidence rests on and the chain heads it was built from, so anyone holding the ledger can
check it with :func:`verify_document`. An item that cannot be derived has no value and says
what a person must supply.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ethica.errors import InputError
from ethica.governance._evidence import LedgerRef
from ethica.governance._law import AI_ACT, Citation, cite
from ethica.governance._render import print_pdf, render_html
from ethica.ledger import Entry, canonical_json, rfc3339, verify

__all__ = [
    "DOCUMENT_FORMAT",
    "DOCUMENT_TYPES",
    "Document",
    "DocumentCheck",
    "DocumentType",
    "Item",
    "Section",
    "SignOff",
    "Table",
    "verify_document",
]

DOCUMENT_FORMAT = "ethica.governance.document/1"


@dataclass(frozen=True)
class DocumentType:
    """A kind of document: its key, its title and the provisions that call for it."""

    key: str
    title: str
    citations: tuple[Citation, ...]


DOCUMENT_TYPES = {
    t.key: t
    for t in (
        DocumentType("annex-iv", "Technical documentation", cite(AI_ACT, "Art. 11", "Annex IV")),
        DocumentType("fria", "Fundamental-rights impact assessment", cite(AI_ACT, "Art. 27")),
        DocumentType("model-card", "Model card", cite(AI_ACT, "Art. 13")),
        DocumentType(
            "annex-viii", "EU database registration", cite(AI_ACT, "Art. 49", "Annex VIII")
        ),
        DocumentType("transparency-report", "Transparency report", ()),
    )
}
"""Every document type, by key."""


@dataclass(frozen=True)
class Item:
    """One labelled value; without a value, ``prompt`` says what a person must supply."""

    label: str
    value: str | None
    source: str = ""
    prompt: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the item as JSON data."""
        return {
            "label": self.label,
            "value": self.value,
            "source": self.source,
            "for_a_person": None if self.value is not None else self.prompt or "to be completed",
        }


def person(label: str, prompt: str) -> Item:
    """Return an item that only a person can fill in."""
    return Item(label, None, prompt=prompt)


@dataclass(frozen=True)
class Table:
    """A table of text cells with a caption and column headers."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the table as JSON data."""
        return {
            "caption": self.caption,
            "columns": list(self.columns),
            "rows": [list(r) for r in self.rows],
        }


@dataclass(frozen=True)
class Section:
    """A numbered part of a document, under the provision it answers."""

    key: str
    title: str
    provision: str = ""
    items: tuple[Item, ...] = ()
    tables: tuple[Table, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the section as JSON data."""
        return {
            "key": self.key,
            "title": self.title,
            "provision": self.provision,
            "items": [i.to_dict() for i in self.items],
            "tables": [t.to_dict() for t in self.tables],
        }


@dataclass(frozen=True)
class SignOff:
    """A sign-off a document needs from a named role; unsigned while ``name`` is unset."""

    role: str
    name: str | None = None
    on: str | None = None
    statement: str = ""

    @property
    def signed(self) -> bool:
        """Whether the role has signed."""
        return bool(self.name and self.on)

    def to_dict(self) -> dict[str, Any]:
        """Return the sign-off as JSON data."""
        return {"role": self.role, "name": self.name, "on": self.on, "statement": self.statement}


@dataclass(frozen=True)
class Document:
    """A generated document of one system.

    ``generated_at`` comes from the caller's clock, so the same inputs and clock give the same
    bytes in every format.
    """

    type: DocumentType
    system: str
    title: str
    generated_at: datetime
    sections: tuple[Section, ...]
    sources: tuple[LedgerRef, ...] = ()
    ledger: tuple[LedgerRef, ...] = ()
    signoffs: tuple[SignOff, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def for_a_person(self) -> list[tuple[Section, Item]]:
        """Every item a person must still fill in, with its section."""
        return [(s, i) for s in self.sections for i in s.items if i.value is None]

    @property
    def signed_off(self) -> bool:
        """Whether every sign-off is given."""
        return all(s.signed for s in self.signoffs)

    def content(self) -> dict[str, Any]:
        """Return everything the digest covers, as JSON data."""
        return {
            "format": DOCUMENT_FORMAT,
            "type": self.type.key,
            "title": self.title,
            "system": self.system,
            "generated_at": rfc3339(self.generated_at),
            "citations": [str(c) for c in self.type.citations],
            "sections": [s.to_dict() for s in self.sections],
            "signoffs": [s.to_dict() for s in self.signoffs],
            "metadata": dict(self.metadata),
            "sources": [r.model_dump() for r in _unique(self.sources)],
            "ledger": [r.model_dump() for r in _unique(self.ledger)],
        }

    @property
    def digest(self) -> str:
        """SHA-256 of the canonical JSON of :meth:`content`, as hex."""
        return hashlib.sha256(canonical_json(self.content())).hexdigest()

    def to_json(self) -> str:
        """Return the document as indented JSON with its digest (keys sorted, one final newline)."""
        data = {**self.content(), "digest": self.digest}
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def to_html(self) -> str:
        """Return the document as one self-contained HTML page."""
        return render_html(self)

    def to_pdf(self, *, chromium: str | None = None) -> bytes:
        """Return the HTML printed to PDF by headless Chromium (see :func:`print_pdf`)."""
        return print_pdf(self.to_html(), generated_at=self.generated_at, chromium=chromium)

    def write(
        self,
        directory: str | Path,
        *,
        formats: Iterable[str] = ("json", "html", "pdf"),
        chromium: str | None = None,
    ) -> list[Path]:
        """Write the document as ``<system>-<type>.<format>`` files; return their paths."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{self.system}-{self.type.key}"
        written: list[Path] = []
        for name in formats:
            path = folder / f"{stem}.{name}"
            if name == "json":
                path.write_text(self.to_json(), encoding="utf-8")
            elif name == "html":
                path.write_text(self.to_html(), encoding="utf-8")
            elif name == "pdf":
                path.write_bytes(self.to_pdf(chromium=chromium))
            elif name == "md" and "markdown" in self.metadata:
                path.write_text(str(self.metadata["markdown"]), encoding="utf-8")
            else:
                raise InputError(f"cannot write a {self.type.key} document as {name!r}")
            written.append(path)
        return written


def _unique(refs: Iterable[LedgerRef]) -> list[LedgerRef]:
    seen = {(r.chain, r.sequence): r for r in refs}
    return [seen[key] for key in sorted(seen)]


@dataclass(frozen=True)
class DocumentCheck:
    """What :func:`verify_document` found: ``ok`` and, if not, every problem in words."""

    ok: bool
    refs_checked: int
    problems: tuple[str, ...]

    def __str__(self) -> str:
        if self.ok:
            return f"the document verifies: its digest and {self.refs_checked} ledger entries match"
        return "the document does NOT verify:\n" + "\n".join(f"- {p}" for p in self.problems)


def verify_document(document: Mapping[str, Any] | str, entries: Iterable[Entry]) -> DocumentCheck:
    """Check a document's JSON against a ledger.

    Parameters
    ----------
    document : mapping or str
        The document's JSON (as :meth:`Document.to_json` wrote it), parsed or as text.
    entries : iterable of Entry
        The ledger's entries (every chain the document cites).

    Returns
    -------
    DocumentCheck
        Not ok when the document was edited after it was generated, cites an entry the ledger
        does not have or has with another hash, or the ledger itself does not verify.
    """
    data = json.loads(document) if isinstance(document, str) else dict(document)
    if data.get("format") != DOCUMENT_FORMAT or "digest" not in data:
        raise InputError(
            f"not an ethica document: expected format {DOCUMENT_FORMAT!r} and a digest"
        )
    problems: list[str] = []
    content = {k: v for k, v in data.items() if k != "digest"}
    if hashlib.sha256(canonical_json(content)).hexdigest() != data["digest"]:
        problems.append("its digest does not match its content: it was edited after it was made")
    ledger = list(entries)
    report = verify(ledger)
    problems += [f"the ledger does not verify: {p}" for p in report.problems]
    by_place = {(e.chain, e.sequence): e.hash for e in ledger}
    cited = [*data.get("sources", []), *data.get("ledger", [])]
    for ref in cited:
        place = (ref["chain"], ref["sequence"])
        held = by_place.get(place)
        if held is None:
            problems.append(f"it cites {place[0]}#{place[1]}, which the ledger does not have")
        elif held != ref["hash"]:
            problems.append(
                f"it cites {place[0]}#{place[1]} with hash {ref['hash'][:12]}…, the ledger has "
                f"{held[:12]}…"
            )
    return DocumentCheck(ok=not problems, refs_checked=len(cited), problems=tuple(problems))
