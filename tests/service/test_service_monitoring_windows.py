"""Daily windows of the decision log: counted once, stored, recounted only for late outcomes.

On SQLite and PostgreSQL (in the database there). Decisions go through the gateway; their
timestamps are then spread over days, as a log that has run for a week would hold them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from service_testing import Service
from sqlalchemy import select, update
from typer.testing import CliRunner

from ethica.cli import app as cli
from ethica.fairness import audit
from ethica.monitoring._windows import merge_windows
from ethica.service.app import state_of
from ethica.service.decisions.tables import Decision
from ethica.service.monitoring.service import MonitorRun, load_windows, run_monitor

runner = CliRunner()
DAY0 = datetime(2026, 11, 2, tzinfo=UTC)
GROUPS = ["f", "m", "x"]


def _running(service: Callable[..., Service]) -> Service:
    running = service()
    running.register(
        "credit",
        risk_tier="limited",
        decision={"kind": "binary", "threshold": 0.5, "favourable_truth": "repaid"},
    )
    return running


def _decide(running: Service, n: int = 60) -> list[dict[str, object]]:
    rng = np.random.default_rng(11)
    made = []
    for i in range(n):
        group = GROUPS[i % 3]
        score = float(np.clip(rng.normal(0.35 + 0.15 * (i % 3), 0.2), 0.0, 1.0))
        response = running.decide(
            "credit", {"subject_id": f"s{i}", "protected": {"sex": group}, "score": score}
        )
        assert response.status_code == 201, response.text
        made.append(
            {"id": response.json()["id"], "sex": group, "outcome": response.json()["outcome"]}
        )
    # Spread the log over six days, ten decisions a day.
    with state_of(running.app).sessions() as session:
        for i, decision in enumerate(made):
            moment = DAY0 + timedelta(days=i // 10, hours=1 + i % 10)
            session.execute(
                update(Decision).where(Decision.id == decision["id"]).values(created_at=moment)
            )
            decision["day"] = i // 10
        session.commit()
    return made


def _monitor(running: Service, database_url: str, *, until: datetime, now: datetime) -> MonitorRun:
    master = base64.b64decode(running.settings.ledger.master_key.get_secret_value())
    with state_of(running.app).sessions() as session:
        run = run_monitor(
            session,
            system_id="credit",
            database_url=database_url,
            master_key=master,
            until=until,
            now=now,
        )
        session.commit()
    return run


def _record_outcome(running: Service, decision_id: object, outcome: str) -> None:
    response = running.client.post(
        f"/v1/decisions/{decision_id}/outcome",
        json={"outcome": outcome},
        headers=running.headers["admin"],
    )
    assert response.status_code in (200, 201), response.text


def test_windows_are_counted_once_and_late_outcomes_recount_only_their_day(
    service: Callable[..., Service], database_url: str
) -> None:
    running = _running(service)
    made = _decide(running)
    now = datetime.now(UTC)
    first = _monitor(running, database_url, until=DAY0 + timedelta(days=4), now=now)
    assert first.built == [DAY0 + timedelta(days=d) for d in range(4)] and not first.refreshed
    again = _monitor(running, database_url, until=DAY0 + timedelta(days=4), now=now)
    assert again.built == [] and again.refreshed == []  # nothing is counted twice
    with state_of(running.app).sessions() as session:
        stored = load_windows(session, system_id="credit")
    assert [w.rows for w in stored.values()] == [10, 10, 10, 10]
    assert all(w.outcomes is None for w in stored.values())  # no outcome known yet

    # Outcomes arrive for three decisions of day 1; the next run recounts day 1's outcomes only.
    for decision in [m for m in made if m["day"] == 1][:3]:
        _record_outcome(running, decision["id"], "repaid")
    later = now + timedelta(seconds=5)
    run = _monitor(running, database_url, until=DAY0 + timedelta(days=6), now=later)
    assert run.built == [DAY0 + timedelta(days=4), DAY0 + timedelta(days=5)]
    assert run.refreshed == [DAY0 + timedelta(days=1)]
    with state_of(running.app).sessions() as session:
        after = load_windows(session, system_id="credit")
    for start, window in stored.items():
        assert window.decisions is not None and after[start].decisions is not None
        pd.testing.assert_frame_equal(window.decisions.cells, after[start].decisions.cells)
    day_one = after[DAY0 + timedelta(days=1)].outcomes
    assert day_one is not None and day_one.rows == 3
    assert all(after[DAY0 + timedelta(days=d)].outcomes is None for d in (0, 2, 3, 4, 5))

    # The stored windows add up to a direct audit of the same decisions.
    merged = merge_windows(list(after.values()))
    assert merged.decisions is not None
    direct = audit(
        pd.DataFrame(
            {
                "sex": [m["sex"] for m in made],
                "approved": [1 if m["outcome"] == "approved" else 0 for m in made],
            }
        ),
        sensitive_features=["sex"],
        prediction="approved",
    )
    ours = audit(merged.decisions, sensitive_features=["sex"]).by_group("sex")
    numeric = ours.select_dtypes("number").columns
    np.testing.assert_allclose(
        ours[numeric].to_numpy(float), direct.by_group("sex")[numeric].to_numpy(float), atol=1e-12
    )


def test_a_system_without_decisions_builds_nothing(
    service: Callable[..., Service], database_url: str
) -> None:
    running = _running(service)
    run = _monitor(running, database_url, until=DAY0, now=datetime.now(UTC))
    assert run.built == [] and run.refreshed == []
    with state_of(running.app).sessions() as session:
        assert session.scalars(select(Decision)).first() is None


@pytest.mark.parametrize("hours", [0, 23])
def test_a_decision_belongs_to_the_utc_day_it_was_made(
    service: Callable[..., Service], database_url: str, hours: int
) -> None:
    running = _running(service)
    made = _decide(running, 3)
    with state_of(running.app).sessions() as session:
        moment = DAY0 + timedelta(hours=hours, minutes=59, seconds=59)
        session.execute(update(Decision).values(created_at=moment))
        session.commit()
    run = _monitor(running, database_url, until=DAY0 + timedelta(days=2), now=datetime.now(UTC))
    assert run.built == [DAY0, DAY0 + timedelta(days=1)]
    with state_of(running.app).sessions() as session:
        windows = load_windows(session, system_id="credit")
    assert windows[DAY0].rows == len(made) and windows[DAY0 + timedelta(days=1)].rows == 0


def test_the_cli_counts_days_and_reports_from_them(
    service: Callable[..., Service], database_url: str, tmp_path: Path
) -> None:
    running = _running(service)
    _decide(running)
    until = (DAY0 + timedelta(days=6)).isoformat()
    counted = runner.invoke(cli, ["monitor", "run", "--until", until, "--database", database_url])
    assert counted.exit_code == 0, counted.output
    assert "credit: counted 6 new day(s), recounted 0 day(s)" in counted.output
    page = tmp_path / "report.html"
    since = (DAY0 - timedelta(days=1)).isoformat()
    reported = runner.invoke(
        cli,
        ["monitor", "report", "--system", "credit", "--since", since, "--json"]
        + ["--html", str(page), "--database", database_url],
    )
    assert reported.exit_code == 0, reported.output
    report = json.loads(reported.output)
    assert report["windows"] == 6 and report["decisions"] == 60
    trends = {(t["grouping"], t["group"]): t for t in report["trends"]}
    assert set(trends) == {("sex", g) for g in GROUPS}
    assert [p["decisions"] for p in trends[("sex", "f")]["points"]] == [
        len([i for i in range(d * 10, d * 10 + 10) if i % 3 == 0]) for d in range(6)
    ]
    text = page.read_text(encoding="utf-8")
    assert text.count("<svg role='img'") == 3 and text.count("<table>") == 3
    wrong = runner.invoke(
        cli, ["monitor", "run", "--until", "tomorrow", "--database", database_url]
    )
    assert wrong.exit_code != 0 and "ISO date" in wrong.output
