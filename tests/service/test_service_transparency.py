"""The transparency report on the service: events read from the database, released through
OpenDP, each system's spend a ledger entry, a release past the budget refused with nothing spent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from service_testing import Service, credit_spec
from sqlalchemy import func, select
from test_service_governance import CREDIT
from web_testing import csrf_of, token_of, viewing_as

from ethica.governance import PrivacyBudgetExceeded, TransparencyRelease
from ethica.service.app import state_of
from ethica.service.db import utcnow
from ethica.service.decisions.protected import session_cipher
from ethica.service.governance.service import system_spec
from ethica.service.governance.transparency import SPEND, budget_of, period_events, release_report
from ethica.service.ledger.tables import LedgerEntry
from ethica.service.settings import Settings, privacy_settings, settings_problem

SCORES = {"F": 0.1, "M": 0.9}  # every F declined, every M approved


def _scene(running: Service) -> None:
    protected = [{"name": "sex", "categories": ["F", "M"]}]
    running.register("credit", **CREDIT, protected_attributes=protected)
    for sex, score in SCORES.items():
        for n in range(6):
            body = {
                "subject_id": f"{sex}-{n}",
                "features": {"income": 50.0, "housing": "own"},
                "protected": {"sex": sex if n else "X"},  # "X" is not a declared category
                "score": score,
            }
            assert running.decide("credit", body).status_code == 201


def _release(running: Service, *, epsilon: float, budget: float) -> TransparencyRelease:
    state = state_of(running.app)
    with state.sessions() as session:
        specs = [system_spec(session, system_id="credit")]
    now = utcnow()

    def job(batch: Any) -> TransparencyRelease:
        return release_report(
            batch, specs=specs, period="2026-12", start=now - timedelta(days=1),
            end=now + timedelta(seconds=1), epsilon=epsilon, now=now, budget=budget,
            cipher=session_cipher(batch.session, state.settings.ledger.master_key_bytes),
        )  # fmt: skip

    return state.writer.submit(job).result()


def _spends(running: Service) -> int:
    with state_of(running.app).sessions() as session:
        return int(session.scalar(select(func.count()).where(LedgerEntry.kind == SPEND)) or 0)


def test_events_come_from_the_database_with_undeclared_groups_counted_as_not_given(
    service: Callable[..., Service],
) -> None:
    running = service()
    _scene(running)
    now = utcnow()
    with state_of(running.app).sessions() as session:
        spec = system_spec(session, system_id="credit")
        events = period_events(
            session,
            specs=[spec],
            start=now - timedelta(days=1),
            end=now + timedelta(seconds=1),
            cipher=session_cipher(session, running.settings.ledger.master_key_bytes),
        )
    decided = events[events["measure"] == "decisions"]
    # Held adverse decisions (review_adverse is on) have no outcome yet: only approvals count.
    assert sorted(decided["category"].unique()) == ["approved"]
    assert decided.groupby("sex").size().to_dict() == {"M": 5, "not given": 1}


def test_a_release_spends_in_the_ledger_and_one_past_the_budget_is_refused(
    service: Callable[..., Service],
) -> None:
    running = service()
    _scene(running)
    # ε so large that the noise's accuracy bound is 0: the counts are the true ones.
    exact = _release(running, epsilon=1e6, budget=2e6)
    overall = {c.category: c.count for c in exact.table("credit", "decisions")}
    assert overall == {"approved": 6, "declined": 0}
    assert {c.accuracy for c in exact.counts} == {0}
    (spend,) = exact.spends
    assert spend.ref is not None and spend.ref.chain == "credit"
    assert _spends(running) == 1

    with pytest.raises(PrivacyBudgetExceeded, match="nothing was released"):
        _release(running, epsilon=1.5e6, budget=2e6)
    assert _spends(running) == 1  # the refusal wrote nothing
    with state_of(running.app).sessions() as session:
        account = budget_of(session, system_id="credit", epsilon=2e6)
    assert account.spent == pytest.approx(1e6)
    assert account.spends[0].ref == spend.ref
    assert account.spends[0].budget == 2e6  # the entry records the budget it was spent from


def _on_the_page(running: Service, *releases: tuple[str, str]) -> tuple[Any, list[Any], Any]:
    """The officer's page, the answers to releasing each (period, ε) from it, the page after."""
    page_url = "/dashboard/governance/transparency"
    with viewing_as(running.client, token_of(running.headers["officer"])) as client:
        page = client.get(page_url)
        today = utcnow().date().isoformat()
        form = {"csrf": csrf_of(page.text), "start": today, "end": today}
        answers = [
            client.post(page_url, data={**form, "period": period, "epsilon": epsilon})
            for period, epsilon in releases
        ]
        after = client.get(page_url)
    return page, answers, after


def test_the_officer_releases_the_report_from_the_dashboard(
    service: Callable[..., Service],
) -> None:
    running = service()
    _scene(running)
    page, (released, refused), after = _on_the_page(running, ("2026-12", "3"), ("2026-12", "2"))
    assert page.status_code == 200, page.text
    assert released.status_code == 200, released.text
    assert "Transparency report 2026-12" in released.text
    assert "OpenDP" in released.text and "interval" in released.text
    assert refused.status_code == 422
    assert "Nothing was released: the release &#39;2026-12&#39; of credit needs" in refused.text
    assert "credit #" in after.text and "2026-12: ε = 3" in after.text


def test_the_budget_is_a_setting_and_each_release_records_the_budget_it_spent_from(
    service: Callable[..., Service],
) -> None:
    running = service(privacy={"transparency_budget": 2.5})
    _scene(running)
    page, (above, first, second), after = _on_the_page(
        running, ("2026-12", "3"), ("2026-12", "2"), ("2027-01", "1")
    )
    assert "every system's budget of ε = 2.5 (set by" in page.text
    assert above.status_code == 422  # more than the whole budget: refused before anything
    assert "at most each system&#39;s budget of 2.5 (ETHICA__PRIVACY__TRANSPARENCY_BUDGET)" in (
        above.text
    )
    assert first.status_code == 200, first.text
    assert second.status_code == 422  # 2 spent, 0.5 left
    assert "only ε = 0.5 of its budget of 2.5 is left" in second.text
    assert "2026-12: ε = 2" in after.text and "2027-01" not in after.text
    with state_of(running.app).sessions() as session:
        (spend,) = budget_of(session, system_id="credit", epsilon=2.5).spends
    assert (spend.release, spend.epsilon, spend.budget) == ("2026-12", 2.0, 2.5)


def test_a_budget_above_the_ceiling_is_refused_naming_both_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ETHICA__PRIVACY__TRANSPARENCY_BUDGET", "12")
    with pytest.raises(ValidationError) as refused:
        Settings()
    problem = settings_problem(refused.value)
    assert "the transparency budget ε = 12 (ETHICA__PRIVACY__TRANSPARENCY_BUDGET)" in problem
    assert "above the ceiling ε = 10 (ETHICA__PRIVACY__MAX_EPSILON)" in problem
    monkeypatch.setenv("ETHICA__PRIVACY__MAX_EPSILON", "12")  # raised knowingly: accepted
    assert Settings().privacy.transparency_budget == 12
    monkeypatch.setenv("ETHICA__PRIVACY__TRANSPARENCY_BUDGET", "0")
    with pytest.raises(ValidationError, match="greater than 0"):
        Settings()


def test_a_low_ceiling_is_a_stricter_policy_that_an_unset_budget_follows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ETHICA__PRIVACY__MAX_EPSILON", "2")  # below the default budget of 4
    privacy = Settings().privacy
    assert (privacy.max_epsilon, privacy.transparency_budget) == (2, 2)
    assert privacy_settings() == privacy  # a file's synthetic release reads the same
    monkeypatch.setenv("ETHICA__PRIVACY__TRANSPARENCY_BUDGET", "1.5")
    assert Settings().privacy.transparency_budget == 1.5
    monkeypatch.setenv("ETHICA__PRIVACY__TRANSPARENCY_BUDGET", "3")  # set above it: refused
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert (
        "the transparency budget ε = 3 (ETHICA__PRIVACY__TRANSPARENCY_BUDGET) is above the "
        "ceiling ε = 2 (ETHICA__PRIVACY__MAX_EPSILON)" in settings_problem(refused.value)
    )
    monkeypatch.delenv("ETHICA__PRIVACY__TRANSPARENCY_BUDGET")
    for ceiling, problem in [
        ("0", "greater than 0"),
        ("-1", "greater than 0"),
        ("inf", "finite number"),
        ("nan", "finite number"),
        ("ten", "valid number"),
    ]:
        monkeypatch.setenv("ETHICA__PRIVACY__MAX_EPSILON", ceiling)
        for read in (Settings, privacy_settings):
            with pytest.raises(ValidationError) as refused:
                read()
            said = settings_problem(refused.value)
            assert said.startswith("ETHICA__PRIVACY__MAX_EPSILON: ") and problem in said, said


def test_every_review_category_the_report_counts_comes_from_a_review_action() -> None:
    from ethica.governance import MEASURES, parse_spec
    from ethica.service.governance.transparency import REVIEW_CATEGORIES

    spec = parse_spec({"id": "credit", **credit_spec()})
    assert set(REVIEW_CATEGORIES.values()) == set(MEASURES["reviews"].categories(spec))
