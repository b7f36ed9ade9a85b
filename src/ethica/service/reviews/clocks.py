"""The clocks of a held decision: its review deadline (SLA), escalation, the statutory notice.

Pure functions of a decision's times and its system's spec, so the queue, the case view and the
escalation job compute them the same way.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from ethica.governance import BinaryDecision, MulticlassDecision, SystemSpec

Priority = Literal["urgent", "high", "normal", "low"]
PRIORITY_ORDER: dict[str, int] = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
"""The queue's order of priorities, most urgent first."""

SLA_BUSINESS_DAYS = 2
"""A held decision should be reviewed within this many business days (Monday to Friday) of
being held, unless its system sets ``oversight.sla_hours``. A constant rather than a setting:
it is a service level stated to customers, and changing it is a policy change, not a
deployment detail. Public holidays are not counted."""

ADVERSE_ACTION_NOTICE_DAYS = 30
"""Days after an adverse decision by which the customer must have its adverse-action notice.

ECOA / Regulation B, 12 CFR 1002.9(a)(1)(i)-(ii): a creditor notifies an applicant of action
taken within 30 days after receiving a completed application, and of adverse action within
30 days after taking it. Counted here from the decision, the earliest moment that applies; a
held decision's clock runs while it waits for review."""


def sla_deadline(held_since: datetime, *, business_days: int = SLA_BUSINESS_DAYS) -> datetime:
    """``held_since`` plus ``business_days`` weekdays, at the same time of day.

    A case held on a weekend counts as held on the Monday (numpy's ``busday_offset`` with
    ``roll="forward"``).
    """
    deadline = held_since
    while deadline.weekday() >= 5:
        deadline += timedelta(days=1)
    left = business_days
    while left > 0:
        deadline += timedelta(days=1)
        if deadline.weekday() < 5:
            left -= 1
    return deadline


def review_deadline(spec: SystemSpec, held_since: datetime) -> datetime:
    """When a case held at ``held_since`` is due: the system's ``sla_hours``, or the default."""
    hours = spec.oversight.sla_hours
    return sla_deadline(held_since) if hours is None else held_since + timedelta(hours=hours)


def priority_of(spec: SystemSpec) -> Priority:
    """The queue priority of a system's cases: declared, or high for a high-risk system."""
    declared = spec.oversight.priority
    if declared is not None:
        return declared
    return "high" if spec.risk_tier == "high" else "normal"


def is_adverse(spec: SystemSpec, outcome: str) -> bool:
    """Whether ``outcome`` is adverse to the customer under the system's decision rule."""
    decision = spec.decision
    if isinstance(decision, BinaryDecision):
        return outcome == decision.adverse_outcome
    if isinstance(decision, MulticlassDecision):
        return outcome in decision.adverse
    return False


def notice_due(spec: SystemSpec, *, outcome: str, decided_at: datetime) -> datetime | None:
    """When the adverse-action notice of a decision is due; ``None`` if it is not adverse."""
    if not is_adverse(spec, outcome):
        return None
    return decided_at + timedelta(days=ADVERSE_ACTION_NOTICE_DAYS)
