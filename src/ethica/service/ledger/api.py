"""Routes of the ledger."""

from __future__ import annotations

from fastapi import APIRouter

from ethica.service.answers import ERROR_ANSWERS
from ethica.service.deps import SessionDep, SettingsDep, requires
from ethica.service.ledger.schemas import VerificationRead
from ethica.service.ledger.service import verify_ledger

router = APIRouter(prefix="/v1/ledger", tags=["ledger"], responses=ERROR_ANSWERS)


@router.get(
    "/verification",
    operation_id="verify_ledger",
    response_model=VerificationRead,
    dependencies=[requires("ledger:verify")],
)
def verification(session: SessionDep, settings: SettingsDep) -> VerificationRead:
    """Verify every hash chain and its newest signed checkpoint; name the first broken entry."""
    return VerificationRead.of(verify_ledger(session, settings=settings))
