"""The laws that classifications, obligations and documents cite, and how a citation reads."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AI_ACT",
    "ECOA",
    "FCRA",
    "GDPR",
    "INSTRUMENTS",
    "Citation",
    "Instrument",
    "cite",
    "cite_text",
]


@dataclass(frozen=True)
class Instrument:
    """A legal instrument: a regulation or statute.

    Attributes
    ----------
    key : str
        Short stable key (``"ai-act"``), used in JSON and ledger entries.
    short : str
        How a citation names it (``"AI Act"``).
    title : str
        Its full title, as a document's list of sources names it.
    """

    key: str
    short: str
    title: str


AI_ACT = Instrument(
    "ai-act",
    "AI Act",
    "Regulation (EU) 2024/1689 laying down harmonised rules on artificial intelligence",
)
GDPR = Instrument(
    "gdpr",
    "GDPR",
    "Regulation (EU) 2016/679, the General Data Protection Regulation",
)
ECOA = Instrument(
    "reg-b",
    "Reg. B",
    "Equal Credit Opportunity Act, Regulation B (12 CFR part 1002)",
)
FCRA = Instrument(
    "fcra",
    "FCRA",
    "Fair Credit Reporting Act (15 U.S.C. 1681 et seq.)",
)

INSTRUMENTS = {instrument.key: instrument for instrument in (AI_ACT, GDPR, ECOA, FCRA)}
"""Every instrument cited, by key."""


@dataclass(frozen=True)
class Citation:
    """A provision of an instrument: ``AI Act Art. 6(2)``, ``AI Act Annex III point 5(b)``.

    ``provision`` is written as the instrument writes it (``"Art. 6(2)"``, ``"§ 1002.9"``).
    """

    instrument: Instrument
    provision: str

    def __str__(self) -> str:
        return f"{self.instrument.short} {self.provision}"

    def to_dict(self) -> dict[str, str]:
        """Return the citation as JSON data."""
        return {"instrument": self.instrument.key, "provision": self.provision, "text": str(self)}


def cite(instrument: Instrument, *provisions: str) -> tuple[Citation, ...]:
    """Return one :class:`Citation` per provision of ``instrument``."""
    return tuple(Citation(instrument, provision) for provision in provisions)


def cite_text(citations: tuple[Citation, ...] | list[Citation]) -> str:
    """Write citations as one would: ``AI Act Art. 6(2), Annex III point 5(b); GDPR Art. 22``."""
    by_instrument: dict[Instrument, list[str]] = {}
    for citation in citations:
        by_instrument.setdefault(citation.instrument, []).append(citation.provision)
    return "; ".join(
        f"{instrument.short} {', '.join(provisions)}"
        for instrument, provisions in by_instrument.items()
    )
