"""Serious incidents: the 2, 10 and 15-day clocks of Art. 73 and the report's fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ethica.errors import InputError
from ethica.governance._incidents import incident_log, open_incident

AWARE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("harm", "days", "provision"),
    [
        ("widespread-infringement", 2, "Art. 73(3)"),
        ("critical-infrastructure", 2, "Art. 73(3)"),
        ("death", 10, "Art. 73(4)"),
        ("fundamental-rights", 15, "Art. 73(2)"),
        ("health", 15, "Art. 73(2)"),
    ],
)
def test_each_kind_of_harm_runs_its_own_reporting_clock(
    harm: str, days: int, provision: str
) -> None:
    incident = open_incident(
        id="INC-1", system="credit-limit", harm=harm, source="manual", aware_at=AWARE,
        description="Declines for one district rose sharply.", opened_by="Dana Ortiz",
    )  # fmt: skip
    assert incident.deadline == AWARE + timedelta(days=days)
    assert incident.clock(AWARE + timedelta(hours=12)).endswith(
        f"left to report ({days} days, {provision})"
    )
    just_before = incident.deadline - timedelta(minutes=1)
    assert not incident.overdue(just_before)
    after = incident.deadline + timedelta(hours=5)
    assert incident.overdue(after)
    assert incident.clock(after).startswith("overdue by 5 hours:")
    assert incident_log([incident], now=after).overdue == ["INC-1"]
    reported = incident.record("initial-report", at=just_before, by="Dana Ortiz")
    assert not reported.overdue(after)
    assert reported.clock(after) == f"reported {just_before:%Y-%m-%d %H:%M} UTC"
    assert incident_log([reported], now=after).overdue == []


def test_an_incident_from_a_concern_names_it_and_its_report_marks_what_is_missing() -> None:
    with pytest.raises(InputError, match="opened from a concern names it"):
        open_incident(id="INC-2", system="credit-limit", harm="fundamental-rights",
                      source="concern", aware_at=AWARE, description="x", opened_by="D")  # fmt: skip
    incident = open_incident(
        id="INC-2", system="credit-limit", harm="fundamental-rights", source="concern",
        source_ref="concern-81", aware_at=AWARE, opened_by="Dana Ortiz",
        description="A customer shows declines tied to her postcode district.",
        persons_affected=140,
    )  # fmt: skip
    fields = incident.report_fields()
    assert fields["detected through"] == "concern concern-81"
    assert fields["type of incident"].endswith("(Art. 73(2))")
    assert fields["persons affected"] == 140
    assert fields["causal link to the AI system"] is None and fields["authority notified"] is None
    closed = incident.record("report", at=AWARE + timedelta(days=3), by="Dana Ortiz").record(
        "closed", at=AWARE + timedelta(days=20), by="Dana Ortiz"
    )
    assert [e.step for e in closed.events] == ["opened", "report", "closed"]
    with pytest.raises(InputError, match="is closed"):
        closed.record("assessed", at=AWARE + timedelta(days=21), by="Dana Ortiz")
    with pytest.raises(InputError, match="unknown harm 'embarrassment'"):
        open_incident(id="X", system="s", harm="embarrassment", source="manual",
                      aware_at=AWARE, description="x", opened_by="D")  # fmt: skip
