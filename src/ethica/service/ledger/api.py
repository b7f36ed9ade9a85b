"""Routes of the ledger."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ethica.service.deps import SessionDep, requires
from ethica.service.ledger.service import verify_ledger
from ethica.service.state import state_of

router = APIRouter(prefix="/v1/ledger", tags=["ledger"])


@router.get(
    "/verification",
    operation_id="verify_ledger",
    dependencies=[requires("ledger:verify")],
)
def verification(session: SessionDep, request: Request) -> dict[str, Any]:
    """Verify every hash chain and its newest signed checkpoint; name the first broken entry."""
    report = verify_ledger(session, settings=state_of(request.app).settings)
    return {
        "ok": report.ok,
        "entries_checked": report.entries_checked,
        "checkpoints_checked": report.checkpoints_checked,
        "heads": report.heads,
        "problems": [str(p) for p in report.problems],
    }
