"""Routes of the ledger."""

from __future__ import annotations

from fastapi import APIRouter

from ethica.service.answers import ERROR_ANSWERS
from ethica.service.deps import SessionDep, SettingsDep, requires
from ethica.service.ledger.schemas import SignedHeadRead, VerificationRead
from ethica.service.ledger.service import verify_ledger
from ethica.service.ledger.store import newest_heads, stored_heads

router = APIRouter(prefix="/v1/ledger", tags=["ledger"], responses=ERROR_ANSWERS)


@router.get(
    "/verification",
    operation_id="verify_ledger",
    response_model=VerificationRead,
    dependencies=[requires("ledger:verify")],
)
def verification(session: SessionDep, settings: SettingsDep) -> VerificationRead:
    """Verify every chain against its signed heads; name each broken entry, head or row."""
    return VerificationRead.of(verify_ledger(session, settings=settings))


@router.get(
    "/heads",
    operation_id="list_ledger_heads",
    response_model=list[SignedHeadRead],
    dependencies=[requires("ledger:verify")],
)
def heads(session: SessionDep, chain: str | None = None) -> list[SignedHeadRead]:
    """The newest signed head of every chain, or every head of one ``chain``.

    Keep them: a ledger later cut back or rewritten no longer matches a head you kept.
    """
    signed = newest_heads(session) if chain is None else stored_heads(session, chain=chain)
    return [SignedHeadRead.of(head) for head in signed]
