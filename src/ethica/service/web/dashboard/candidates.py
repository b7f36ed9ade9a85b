"""The dashboard's page of a system's candidate mitigations: shadow comparison, promote, roll
back, withdraw.

Each candidate in shadow shows its comparison with the served decisions as of the moment the
page was drawn; the promotion form cites that moment and the comparison's digest, so the ledger
entry names exactly the evidence the officer saw.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy.orm import Session

from ethica.errors import EthicaError, InputError
from ethica.service.candidates import service
from ethica.service.candidates.api import promote, roll_back, withdraw
from ethica.service.candidates.schemas import CandidateRead, Criterion, PromotionCreate
from ethica.service.db import utcnow
from ethica.service.decisions.live_audit import live_count_table
from ethica.service.deps import SessionDep
from ethica.service.errors import ConflictError
from ethica.service.state import state_of
from ethica.service.systems.service import get_system
from ethica.service.web.dashboard.overview import staff_names
from ethica.service.web.rendering import render
from ethica.service.web.session import Viewer, page_requires

router = APIRouter(prefix="/dashboard/systems", tags=["web"], include_in_schema=False)

Officer = Annotated[Viewer, page_requires("audit:run")]
Promoter = Annotated[Viewer, page_requires("candidates:promote")]


def _page(
    request: Request,
    session: Session,
    viewer: Viewer,
    system_id: str,
    *,
    error: str | None = None,
    status: int = 200,
    sweep_form: dict[str, str] | None = None,
) -> Response:
    system = get_system(session, system_id=system_id)
    master_key = state_of(request.app).settings.ledger.master_key_bytes
    candidates = service.list_candidates(session, system_id=system_id)
    counts = service.shadow_counts(session, system_id=system_id)
    as_of = utcnow()
    shown: list[dict[str, Any]] = []
    for candidate in candidates:
        compared = None
        if counts.get(candidate.id):
            compared = service.comparison(
                session,
                system_id=system_id,
                candidate_id=candidate.id,
                master_key=master_key,
                as_of=as_of,
            )
        shadow = counts.get(candidate.id, 0)
        shown.append({"candidate": candidate, "compared": compared, "shadow": shadow})
    context = {
        "system": system,
        "shown": shown,
        "sweep": _sweep(request, session, system_id, candidates, sweep_form or {}),
        "names": staff_names(session, _user_ids(c.created_by for c in candidates)),
        "minimum": service.MIN_SHADOW_DECISIONS,
        "can_promote": viewer.principal.can("candidates:promote"),
        "error": error,
    }
    return render(request, "dashboard/candidates.html", context, viewer=viewer, status=status)


@router.get("/{system_id}/candidates")
def candidates_page(
    system_id: str,
    request: Request,
    session: SessionDep,
    viewer: Officer,
    by: Annotated[str | None, Query(max_length=64)] = None,
    criterion: Annotated[Criterion | None, Query()] = None,
    costs: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The system's candidate mitigations, each in shadow compared with the served decisions.

    Above them, the trade-off of group thresholds on the decisions with recorded outcomes, by
    ``by`` for ``criterion``, weighing expected profit when ``costs`` (tp=..,fp=..) is given.
    """
    form = {k: v for k, v in {"by": by, "criterion": criterion, "costs": costs}.items() if v}
    return _page(request, session, viewer, system_id, sweep_form=form)


@router.post("/{system_id}/candidates/{candidate_id}")
async def act(
    system_id: str,
    candidate_id: str,
    request: Request,
    viewer: Promoter,
    to: Annotated[Literal["promotion", "rollback", "withdrawal"], Form()],
    why: Annotated[str, Form(max_length=2000)] = "",
    evidence_sha256: Annotated[str | None, Form()] = None,
    as_of: Annotated[datetime | None, Form()] = None,
) -> Response:
    """Promote a candidate (citing the comparison shown), roll it back or withdraw it from shadow:
    a ledger entry each.
    """
    by = f"{viewer.principal.kind}:{viewer.principal.id}"
    try:
        if not why.strip():
            raise InputError(f"say why: a {to} needs a reason")
        body = PromotionCreate(reason=why, evidence_sha256=evidence_sha256, as_of=as_of)
        acts = {"promotion": promote, "rollback": roll_back, "withdrawal": withdraw}
        await acts[to](request, system_id, candidate_id, body, by=by)
    except (EthicaError, ValidationError) as error:
        status = 409 if isinstance(error, ConflictError) else 422
        with state_of(request.app).sessions() as session:
            return _page(request, session, viewer, system_id, error=_said(error), status=status)
    return RedirectResponse(
        f"/dashboard/systems/{system_id}/candidates#candidate-{candidate_id}", status_code=303
    )


@dataclass(frozen=True)
class SweepShown:
    """The trade-off section: what it was asked, and its chart or why there is none."""

    by: str
    criterion: str
    costs: str
    attributes: list[str]
    figure: Markup | None = None
    problem: str | None = None


def _sweep(
    request: Request,
    session: Session,
    system_id: str,
    candidates: list[CandidateRead],
    form: dict[str, str],
) -> SweepShown:
    """The trade-off of group thresholds on the decisions with outcomes (or why there is none)."""
    from ethica.governance import parse_spec
    from ethica.mitigation import CostMatrix, trade_off, trade_off_figure

    spec = parse_spec(get_system(session, system_id=system_id).spec)
    attributes = [p.name for p in spec.protected_attributes]
    latest = next((c for c in candidates if c.method == "thresholds"), None)
    default_by = latest.policy["sensitive_features"][0] if latest else None
    default_criterion = (latest.policy.get("criterion") if latest else None) or "equal_opportunity"
    shown = SweepShown(
        by=form.get("by") or default_by or (attributes[0] if attributes else ""),
        criterion=form.get("criterion") or default_criterion,
        costs=form.get("costs", ""),
        attributes=attributes,
    )
    settings = state_of(request.app).settings
    try:
        if shown.by not in attributes:
            raise InputError("the trade-off is by a protected attribute the system declares")
        table = live_count_table(
            session,
            database_url=settings.database.url,
            system_id=system_id,
            master_key=settings.ledger.master_key_bytes,
            sensitive_features=[shown.by],
            with_outcomes=True,
            with_scores=True,
        )
        costs = CostMatrix.parse(shown.costs) if shown.costs else None
        swept = trade_off(table, criterion=shown.criterion, costs=costs)  # type: ignore[arg-type]
    except EthicaError as error:
        return replace(shown, problem=str(error))
    # trade_off_figure escapes every text it places in the SVG and the table.
    return replace(shown, figure=Markup(trade_off_figure(swept)))  # noqa: S704


def _user_ids(actors: Any) -> list[str]:
    return [a.removeprefix("user:") for a in actors if a.startswith("user:")]


def _said(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "the form was not filled in as expected; reload the page and try again"
    return str(error)
