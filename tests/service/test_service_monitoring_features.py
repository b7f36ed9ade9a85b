"""Input drift from the service's own log: each day's sealed features counted once, per bin.

A LightGBM system with a training summary decides for customers over eight days; from day 4
on their incomes are higher. The monitor opens the day's ledger entries, counts each feature
in the bins of the model version's training range, and the drift grid tests each week against
the training data. Decisions without a customer store no features and are not counted.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from service_testing import Service, credit_frame, credit_spec, explained_features
from sqlalchemy import update

from ethica.explain import TrainingSummary
from ethica.governance import parse_spec
from ethica.monitoring._feature_counts import FeatureBins
from ethica.monitoring._training import counted
from ethica.monitoring._weekly import by_week, drift_grid
from ethica.scoring import dump_model
from ethica.service.app import state_of
from ethica.service.decisions.tables import Decision
from ethica.service.monitoring.features import feature_reference
from ethica.service.monitoring.service import load_windows, run_monitor
from ethica.service.systems.service import get_system

DAY0 = datetime(2026, 9, 7, tzinfo=UTC)
DAYS, PER_DAY = 8, 12


def test_a_summary_recorded_before_it_kept_counts_gives_its_sample_marked_as_such(
    service: Callable[..., Service], lightgbm_model: Any
) -> None:
    """Drawn on the heat map, but no drift alert rests on it (see ``_report_inputs``)."""
    running, summary = _started(service, lightgbm_model)
    older = {k: v for k, v in summary.to_dict().items() if k != "feature_counts"}
    stored = running.client.put(
        "/v1/systems/credit/models/1/training-summary",
        json=older,
        headers=running.headers["admin"],
    )
    assert stored.status_code == 200, stored.text
    with state_of(running.app).sessions() as session:
        reference = feature_reference(session, get_system(session, system_id="credit"))
    assert reference is not None and reference.sampled
    assert summary.background is not None
    assert reference.reference["income"].total == len(summary.background) == 200


def _started(service: Callable[..., Service], lightgbm_model: Any) -> tuple[Service, Any]:
    running = service()
    running.register("credit", features=explained_features())
    upload = running.upload("credit", dump_model(lightgbm_model, "lightgbm"), format="lightgbm")
    assert upload.status_code == 201, upload.text
    frame, label = credit_frame()
    spec = parse_spec({**credit_spec(features=explained_features()), "id": "credit"})
    summary = TrainingSummary.from_training(frame, label, spec=spec)
    stored = running.client.put(
        "/v1/systems/credit/models/1/training-summary",
        json=summary.to_dict(),
        headers=running.headers["admin"],
    )
    assert stored.status_code == 200, stored.text
    return running, summary


def test_monitor_counts_sealed_features_per_day_and_the_grid_finds_the_shift(
    service: Callable[..., Service], database_url: str, lightgbm_model: Any
) -> None:
    running, summary = _started(service, lightgbm_model)
    rng = np.random.default_rng(3)
    sent: dict[int, list[dict[str, Any]]] = {day: [] for day in range(DAYS)}
    made = []
    for i in range(DAYS * PER_DAY):
        day = i // PER_DAY
        income = float(rng.uniform(0, 100) if day < 4 else rng.uniform(70, 140))
        features = {"income": round(income, 2), "housing": str(rng.choice(["own", "rent"]))}
        body: dict[str, Any] = {"features": features, "protected": {"sex": "fm"[i % 2]}}
        if i % 6 != 5:  # every sixth decision has no customer: its inputs are not stored
            body["subject_id"] = f"c{i}"
            sent[day].append(features)
        response = running.decide("credit", body)
        assert response.status_code == 201, response.text
        made.append((response.json()["id"], day))
    sessions = state_of(running.app).sessions
    with sessions() as session:
        for n, (decision_id, day) in enumerate(made):
            moment = DAY0 + timedelta(days=day, minutes=10 + n % PER_DAY)
            session.execute(
                update(Decision).where(Decision.id == decision_id).values(created_at=moment)
            )
        session.commit()
    master = base64.b64decode(running.settings.ledger.master_key.get_secret_value())
    with sessions() as session:
        run = run_monitor(
            session,
            system_id="credit",
            database_url=database_url,
            master_key=master,
            until=DAY0 + timedelta(days=DAYS),
            now=datetime.now(UTC),
        )
        session.commit()
        assert len(run.built) == DAYS
        windows = load_windows(session, system_id="credit", parts=("decisions", "features"))
        reference = feature_reference(session, get_system(session, system_id="credit"))
    assert reference is not None
    low, high = summary.ranges["income"]
    assert reference.bins["income"] == FeatureBins("numeric", low, high, 20)
    # The reference is every training row (400), counted once in the bins, not the summary's
    # 200-row sample of them.
    frame, _ = credit_frame()
    assert not reference.sampled
    for name in ("income", "housing"):
        expected = counted(frame[name].tolist(), reference.bins[name])
        assert reference.reference[name].total == len(frame) == 400
        np.testing.assert_array_equal(reference.reference[name].values, expected.values)
        np.testing.assert_array_equal(reference.reference[name].counts, expected.counts)
    for day in range(DAYS):
        stored = windows[DAY0 + timedelta(days=day)].features
        expected = counted([f["income"] for f in sent[day]], reference.bins["income"])
        np.testing.assert_array_equal(stored["income"].values, expected.values)
        np.testing.assert_array_equal(stored["income"].counts, expected.counts)
        assert stored["income"].total == len(sent[day]) < PER_DAY
        housing = stored["housing"]
        assert dict(zip(housing.values, housing.counts, strict=True)) == {
            value: sum(f["housing"] == value for f in sent[day])
            for value in {f["housing"] for f in sent[day]}
        }
    # The first week is the grid's reference for the score; income is tested against the
    # training data, and the second week (day 7, higher incomes) drifts.
    weeks = by_week(windows)
    grid = drift_grid(weeks, sensitive_features=[], reference_weeks=1, features=reference.reference)
    assert grid is not None and "income" in grid.rows and "housing" in grid.rows
    (income,) = grid.rows["income"]
    assert income is not None and income.drifted
