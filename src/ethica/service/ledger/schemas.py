"""Pydantic schemas of the ledger's routes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ethica.ledger import VerificationReport


class VerificationRead(BaseModel):
    """The result of verifying every chain against its newest signed checkpoint."""

    ok: bool = Field(description="True when every chain and checkpoint verifies.")
    entries_checked: int = Field(description="Entries whose hashes were recomputed.")
    checkpoints_checked: int = Field(description="Signed checkpoints checked.")
    heads: dict[str, int] = Field(description="Each chain's newest sequence number.")
    problems: list[str] = Field(
        description="What is wrong: each chain's first broken entry, then checkpoints."
    )

    @classmethod
    def of(cls, report: VerificationReport) -> VerificationRead:
        """The schema of a library verification report."""
        return cls(
            ok=report.ok,
            entries_checked=report.entries_checked,
            checkpoints_checked=report.checkpoints_checked,
            heads=dict(report.heads),
            problems=[str(p) for p in report.problems],
        )
