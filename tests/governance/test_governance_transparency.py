"""The DP transparency report: OpenDP noise whose error matches the stated accuracy, budgets."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from governance_cases import bank

from ethica.errors import InputError
from ethica.governance import SystemSpec, parse_spec
from ethica.governance._budget import PrivacyBudget, PrivacyBudgetExceeded
from ethica.governance._transparency import release_transparency, transparency_document

AT = datetime(2026, 4, 1, tzinfo=UTC)


def without_groups(system: str) -> SystemSpec:
    data = bank(system).model_dump(mode="json")
    data["protected_attributes"] = []
    for feature in data["features"]:
        feature["proxy_for"] = []
    return parse_spec(data)


def decisions(n: int, *, seed: int, system: str = "credit-limit") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "system": system,
        "subject": [f"c{i}" for i in range(n)],
        "measure": "decisions",
        "category": rng.choice(["approved", "declined"], n, p=[0.4, 0.6]),
        "sex": rng.choice(["Female", "Male", None], n),
        "age_band": rng.choice(["25-34", "35-44"], n),
        "origin": None,
    })  # fmt: skip


def many_outcomes(classes: int) -> SystemSpec:
    data = without_groups("support-routing").model_dump(mode="json")
    data["decision"] = {"kind": "multiclass", "classes": [f"tier-{n}" for n in range(classes)]}
    data["fallback"] = None
    return parse_spec(data)


@pytest.mark.slow
def test_released_errors_match_the_stated_accuracy_of_opendps_discrete_laplace() -> None:
    spec = many_outcomes(400)  # one table of 400 counts: 400 errors per release
    rng = np.random.default_rng(2026)  # the data is seeded; OpenDP's noise cannot be
    events = pd.DataFrame({
        "system": spec.id, "subject": [f"c{i}" for i in range(20000)], "measure": "decisions",
        "category": rng.choice([f"tier-{n}" for n in range(400)], 20000),
    })  # fmt: skip
    truth = events["category"].value_counts()
    budget = PrivacyBudget(spec.id, epsilon=1e9)
    epsilon = 0.5
    errors: list[int] = []
    accuracies = set()
    for n in range(12):
        release = release_transparency(
            events, specs=[spec], budgets={spec.id: budget}, period=f"p{n}",
            epsilon=epsilon, released_at=AT, measures=("decisions",),
        )  # fmt: skip
        errors += [c.count - int(truth[c.category]) for c in release.counts]
        accuracies |= {c.accuracy for c in release.counts}
    (accuracy,) = accuracies
    scale = 1 / epsilon  # one table, one contribution per customer: scale = 1 / ε
    p = math.exp(-1 / scale)
    outside = 2 * p ** (accuracy + 1) / (1 + p)  # P(|X| > accuracy) for discrete Laplace
    assert outside <= 0.05  # the stated 95% holds
    samples = np.asarray(errors)
    share = float(np.mean(np.abs(samples) > accuracy))
    sd = math.sqrt(outside * (1 - outside) / samples.size)
    assert abs(share - outside) < 5 * sd, (share, outside)
    variance = 2 * p / (1 - p) ** 2
    assert abs(samples.var() / variance - 1) < 0.2
    assert abs(samples.mean()) < 5 * math.sqrt(variance / samples.size)
    assert len(budget.spends) == 12
    assert budget.spends[0].epsilon == pytest.approx(epsilon)


def test_each_customer_counts_at_most_contributions_times_per_table() -> None:
    spec = without_groups("credit-limit")
    events = pd.concat([decisions(50, seed=1), decisions(1, seed=2)], ignore_index=True)
    repeated = pd.DataFrame([events.iloc[-1].to_dict()] * 30)  # one customer, 31 decisions
    events = pd.concat([events, repeated], ignore_index=True)
    budget = PrivacyBudget(spec.id, epsilon=1e7)
    release = release_transparency(
        events, specs=[spec], budgets={spec.id: budget}, period="q", epsilon=1e6,
        released_at=AT, measures=("decisions",), contributions=2,
    )  # fmt: skip
    clipped = events.groupby("subject").head(2)["category"].value_counts()
    assert {c.category: c.count for c in release.counts} == clipped.to_dict()
    assert release.counts[0].accuracy == 0  # at this ε the noise is almost surely zero


def test_a_release_past_the_budget_is_refused_before_any_system_spends() -> None:
    credit, routing = bank("credit-limit"), bank("support-routing")
    events = decisions(200, seed=3)
    budgets = {
        "credit-limit": PrivacyBudget("credit-limit", epsilon=3.0),
        "support-routing": PrivacyBudget("support-routing", epsilon=1.0),
    }
    first = release_transparency(
        events, specs=[credit, routing], budgets=budgets, period="2026-Q1", epsilon=1.0,
        released_at=AT,
    )  # fmt: skip
    assert [s.system for s in first.spends] == ["credit-limit", "support-routing"]
    assert budgets["support-routing"].remaining == pytest.approx(0.0)
    with pytest.raises(PrivacyBudgetExceeded) as refused:
        release_transparency(
            events, specs=[credit, routing], budgets=budgets, period="2026-Q2", epsilon=1.0,
            released_at=AT,
        )  # fmt: skip
    assert str(refused.value).startswith(
        "the release '2026-Q2' of support-routing needs ε = 1, but only ε = 0 of its budget of "
        "1 is left (1 releases spent 1); nothing was released."
    )
    assert len(budgets["credit-limit"].spends) == 1  # the credit system was not charged either


def test_bad_events_are_refused_with_what_to_fix() -> None:
    spec = bank("credit-limit")
    budgets = {spec.id: PrivacyBudget(spec.id, epsilon=5)}
    events = decisions(20, seed=4)
    events.loc[0, "category"] = "maybe"
    with pytest.raises(InputError, match="values 'maybe' are not among the categories"):
        release_transparency(events, specs=[spec], budgets=budgets, period="q", epsilon=1,
                             released_at=AT)  # fmt: skip
    with pytest.raises(InputError, match="lack the columns \\['subject'\\]"):
        release_transparency(decisions(5, seed=5).drop(columns="subject"), specs=[spec],
                             budgets=budgets, period="q", epsilon=1, released_at=AT)  # fmt: skip
    with pytest.raises(InputError, match="no privacy budget for support-routing"):
        release_transparency(events, specs=[bank("support-routing")], budgets=budgets,
                             period="q", epsilon=1, released_at=AT)  # fmt: skip
    assert budgets[spec.id].spends == []
    with pytest.raises(InputError, match="positive ε"):
        PrivacyBudget(spec.id, epsilon=0)


def test_the_public_report_shows_every_number_with_its_interval_and_says_how() -> None:
    spec = bank("credit-limit")
    events = decisions(300, seed=6)
    release = release_transparency(
        events, specs=[spec], budgets={spec.id: PrivacyBudget(spec.id, epsilon=10)},
        period="2026-Q1", epsilon=8.0, released_at=AT,
    )  # fmt: skip
    document = transparency_document(release, specs=[spec], generated_at=AT)
    html = document.to_html()
    assert "released with differential privacy through OpenDP" in html
    assert "credit-limit: ε = 8" in html
    tables = document.sections[1].tables
    assert [t.caption for t in tables[:3]] == [
        "Decisions by outcome", "Decisions by outcome, by sex", "Decisions by outcome, by age_band",
    ]  # fmt: skip
    for table in tables:
        for _, count, interval in table.rows:
            low, high = (int(v) for v in interval.split(" to "))
            assert low <= int(count) <= high
    by_sex = {row[0] for row in tables[1].rows}
    assert "declined, not given" in by_sex and "approved, Female" in by_sex
