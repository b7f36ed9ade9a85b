"""Multiclass routing is explained against the runner-up; ranked items by what raised them."""

from __future__ import annotations

import math
import warnings
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest
from explain_cases import credit_spec

from ethica.errors import InputError
from ethica.explain import (
    Attribution,
    Explainer,
    attribute_contrast,
    chosen_and_runner_up,
    supporting_reasons,
)
from ethica.governance import SystemSpec, parse_spec
from ethica.scoring import Scorer

TIERS = ["self-service", "agent", "specialist"]
TICKET_FEATURES = ["severity", "product_age", "open_tickets", "region_risk"]


def _spec(decision: dict[str, Any], names: list[str], proxy: str) -> SystemSpec:
    features = [
        {
            "name": name,
            "type": "number",
            "data_category": "user.service",
            "description": name.replace("_", " "),
            **({"proxy_for": ["language"]} if name == proxy else {}),
        }
        for name in names
    ]
    return parse_spec(
        {
            "id": "routing",
            "name": "Ticket routing",
            "purpose": "essential.service",
            "decision": decision,
            "features": features,
            "protected_attributes": [{"name": "language"}],
            "owner": "support@example.com",
        }
    )


def ticket_spec() -> SystemSpec:
    return _spec({"kind": "multiclass", "classes": TIERS}, TICKET_FEATURES, "region_risk")


def ticket_frame(rows: int = 900, seed: int = 1) -> pd.DataFrame:
    """Severe tickets on old products go to specialists; ``region_risk`` is a strong proxy."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "severity": rng.uniform(0, 10, rows).round(1),
            "product_age": rng.uniform(0, 20, rows).round(1),
            "open_tickets": rng.integers(0, 8, rows).astype("float64"),
            "region_risk": rng.uniform(0, 1, rows).round(3),
        }
    )
    logits = np.column_stack(
        [
            np.zeros(rows),
            0.5 * (frame["severity"] - 3) + 0.3 * frame["open_tickets"] - 1.0,
            0.9 * (frame["severity"] - 6) + 0.2 * frame["product_age"] + 2 * frame["region_risk"],
        ]
    )
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    draws = rng.uniform(size=(rows, 1))
    frame["tier"] = (draws > probabilities.cumsum(axis=1)).sum(axis=1).clip(0, 2)
    return frame


@cache
def ticket_booster() -> Any:
    import lightgbm

    frame = ticket_frame()
    data = lightgbm.Dataset(frame[TICKET_FEATURES], label=frame["tier"])
    params = {
        "objective": "multiclass",
        "num_class": 3,
        "num_leaves": 8,
        "learning_rate": 0.2,
        "min_data_in_leaf": 10,
        "verbose": -1,
        "num_threads": 1,
        "seed": 0,
    }
    return lightgbm.train(params, data, num_boost_round=25)


TICKETS = [
    {"severity": 9.0, "product_age": 15.0, "open_tickets": 1.0, "region_risk": 0.2},
    {"severity": 5.0, "product_age": 2.0, "open_tickets": 6.0, "region_risk": 0.5},
    {"severity": 1.0, "product_age": 8.0, "open_tickets": 0.0, "region_risk": 0.9},
    {"severity": 6.5, "product_age": 10.0, "open_tickets": 3.0, "region_risk": 0.7},
]


def _row(features: dict[str, Any], names: list[str]) -> pd.DataFrame:
    return pd.DataFrame({n: [float(features[n])] for n in names})


def _assert_adds_up(attribution: Attribution) -> None:
    total = attribution.baseline + math.fsum(attribution.contributions.values())
    assert total == pytest.approx(attribution.output, abs=1e-6)


def _ranked_classes(probabilities: np.ndarray[Any, Any]) -> tuple[int, int]:
    order = np.argsort(-probabilities, kind="stable")
    return int(order[0]), int(order[1])


@pytest.mark.parametrize("ticket", TICKETS)
def test_lightgbm_contrast_equals_native_pred_contrib_differences(ticket: dict[str, Any]) -> None:
    booster = ticket_booster()
    row = _row(ticket, TICKET_FEATURES)
    first, second = _ranked_classes(booster.predict(row)[0])
    attribution = attribute_contrast(
        Scorer(booster, ticket_spec(), version="1"),
        ticket,
        chosen=TIERS[first],
        runner_up=TIERS[second],
    )
    native = np.asarray(booster.predict(row, pred_contrib=True))
    assert native.shape == (1, 3 * (len(TICKET_FEATURES) + 1))
    blocks = native[0].reshape(3, len(TICKET_FEATURES) + 1)
    for j, name in enumerate(TICKET_FEATURES):
        expected = blocks[first, j] - blocks[second, j]
        assert attribution.contributions[name] == pytest.approx(expected, abs=1e-6)
    assert attribution.baseline == pytest.approx(blocks[first, -1] - blocks[second, -1], abs=1e-6)
    margins = booster.predict(row, raw_score=True)[0]
    assert attribution.output == pytest.approx(margins[first] - margins[second], abs=1e-9)
    probabilities = booster.predict(row)[0]
    assert attribution.output == pytest.approx(
        math.log(probabilities[first] / probabilities[second]), abs=1e-9
    )
    _assert_adds_up(attribution)
    assert attribution.method == "lightgbm-treeshap" and attribution.scale == "log-odds"


def test_lightgbm_contrast_equals_shap_tree_explainer_differences() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shap's plotting colours warn on import
        shap = pytest.importorskip("shap")
    booster = ticket_booster()
    ticket = TICKETS[0]
    row = _row(ticket, TICKET_FEATURES)
    explainer = shap.TreeExplainer(booster)
    values = np.asarray(explainer.shap_values(row))
    # shap gives (rows, features, classes) or, in older releases, a list per class.
    per_class = values[0].T if values.ndim == 3 and values.shape[0] == 1 else values[:, 0, :]
    expected_values = np.ravel(explainer.expected_value)
    attribution = attribute_contrast(
        Scorer(booster, ticket_spec(), version="1"), ticket, chosen=TIERS[2], runner_up=TIERS[0]
    )
    for j, name in enumerate(TICKET_FEATURES):
        difference = per_class[2, j] - per_class[0, j]
        assert attribution.contributions[name] == pytest.approx(difference, abs=1e-6)
    assert attribution.baseline == pytest.approx(expected_values[2] - expected_values[0], abs=1e-6)


def test_xgboost_contrast_equals_native_pred_contribs_differences() -> None:
    xgboost = pytest.importorskip("xgboost")
    frame = ticket_frame()
    matrix = xgboost.DMatrix(
        frame[TICKET_FEATURES].to_numpy(), label=frame["tier"], feature_names=TICKET_FEATURES
    )
    params = {"objective": "multi:softprob", "num_class": 3, "max_depth": 3, "nthread": 1}
    booster = xgboost.train(params, matrix, num_boost_round=15)
    ticket = TICKETS[1]
    one = xgboost.DMatrix(_row(ticket, TICKET_FEATURES).to_numpy(), feature_names=TICKET_FEATURES)
    native = np.asarray(booster.predict(one, pred_contribs=True))
    assert native.shape == (1, 3, len(TICKET_FEATURES) + 1)
    margins = np.asarray(booster.predict(one, output_margin=True))[0]
    attribution = attribute_contrast(
        Scorer(booster, ticket_spec(), version="1"), ticket, chosen=TIERS[1], runner_up=TIERS[2]
    )
    for j, name in enumerate(TICKET_FEATURES):
        expected = native[0, 1, j] - native[0, 2, j]
        assert attribution.contributions[name] == pytest.approx(expected, abs=1e-6)
    assert attribution.output == pytest.approx(margins[1] - margins[2], abs=1e-6)
    _assert_adds_up(attribution)


def test_linear_multinomial_contrast_is_the_coefficient_difference_times_the_centred_row() -> None:
    from sklearn.linear_model import LogisticRegression

    frame = ticket_frame()
    model = LogisticRegression(max_iter=2000).fit(frame[TICKET_FEATURES], frame["tier"])
    ticket = TICKETS[3]
    row = _row(ticket, TICKET_FEATURES)
    attribution = attribute_contrast(
        Scorer(model, ticket_spec(), version="1"),
        ticket,
        chosen=TIERS[2],
        runner_up=TIERS[1],
        background=frame,
    )
    mean = frame[TICKET_FEATURES].to_numpy(dtype=float).mean(axis=0)
    x = row.to_numpy()[0]
    for j, name in enumerate(TICKET_FEATURES):
        expected = (model.coef_[2, j] - model.coef_[1, j]) * (x[j] - mean[j])
        assert attribution.contributions[name] == pytest.approx(expected, abs=1e-9)
    probabilities = model.predict_proba(row)[0]
    assert attribution.output == pytest.approx(
        math.log(probabilities[2] / probabilities[1]), abs=1e-9
    )
    _assert_adds_up(attribution)
    assert attribution.method == "linear-exact"
    with pytest.raises(InputError, match="background"):
        attribute_contrast(
            Scorer(model, ticket_spec(), version="1"), ticket, chosen=TIERS[2], runner_up=TIERS[1]
        )


def test_a_contrast_needs_two_declared_classes() -> None:
    scorer = Scorer(ticket_booster(), ticket_spec(), version="1")
    with pytest.raises(InputError, match="two different classes"):
        attribute_contrast(scorer, TICKETS[0], chosen="agent", runner_up="agent")
    with pytest.raises(InputError, match="two different classes"):
        attribute_contrast(scorer, TICKETS[0], chosen="agent", runner_up="manager")


@pytest.mark.parametrize("ticket", TICKETS)
def test_the_explainer_routes_with_the_features_that_favour_the_chosen_tier(
    ticket: dict[str, Any],
) -> None:
    booster = ticket_booster()
    spec = ticket_spec()
    scorer = Scorer(booster, spec, version="1")
    scored = scorer.score(ticket)
    row = _row(ticket, TICKET_FEATURES)
    first, second = _ranked_classes(booster.predict(row)[0])
    assert chosen_and_runner_up(spec, scored) == (TIERS[first], TIERS[second])
    explanation = Explainer().explain(spec=spec, scorer=scorer, features=ticket, scored=scored)
    assert explanation is not None
    assert explanation["chosen"] == TIERS[first] and explanation["runner_up"] == TIERS[second]
    blocks = np.asarray(booster.predict(row, pred_contrib=True))[0].reshape(3, -1)
    difference = dict(zip(TICKET_FEATURES, blocks[first, :-1] - blocks[second, :-1], strict=True))
    favouring = sorted(
        (name for name, value in difference.items() if value > 0 and name != "region_risk"),
        key=lambda name: -difference[name],
    )
    assert [r["feature"] for r in explanation["reasons"]] == favouring[:4]
    for reason in explanation["reasons"]:
        assert reason["contribution"] == pytest.approx(difference[reason["feature"]], abs=1e-6)
        assert reason["value"] == ticket[reason["feature"]]
        assert TIERS[first] in reason["text"] and TIERS[second] in reason["text"]
    lead = f"Routed to {TIERS[first]} rather than {TIERS[second]}"
    assert explanation["text"].startswith(lead)
    if favouring:
        assert "mainly because" in explanation["text"]
        assert all(name.replace("_", " ") in explanation["text"] for name in favouring[:4])
    assert "region risk" not in explanation["text"]
    assert explanation["counterfactuals"] == []


def test_the_routing_sentence_is_german_with_german_numbers() -> None:
    spec = ticket_spec()
    scorer = Scorer(ticket_booster(), spec, version="1")
    ticket = {**TICKETS[0], "product_age": 15.5}
    scored = scorer.score(ticket)
    explanation = Explainer(locale="de").explain(
        spec=spec, scorer=scorer, features=ticket, scored=scored
    )
    assert explanation is not None
    assert explanation["text"].startswith(f"Zugeordnet zu „{explanation['chosen']}“ statt")
    if any(r["feature"] == "product_age" for r in explanation["reasons"]):
        assert "15,5" in explanation["text"]


def test_supporting_reasons_keep_only_positive_contributions_without_proxies() -> None:
    spec = credit_spec()
    contributions = {
        "income": 0.4,
        "debt": -0.9,  # lowered the output: not a reason
        "years_employed": 0.7,
        "postcode_risk": 2.0,  # the strongest, but a declared proxy
        "housing": 0.0,
        "ethnicity_b": 3.0,  # a protected attribute that leaked into a model
    }
    reasons = supporting_reasons(contributions, spec=spec)
    assert [r.feature for r in reasons] == ["years_employed", "income"]
    assert [r.contribution for r in reasons] == pytest.approx([0.7, 0.4])
    assert [r.feature for r in supporting_reasons(contributions, spec=spec, max_reasons=1)] == [
        "years_employed"
    ]
    with pytest.raises(InputError):
        supporting_reasons(contributions, spec=spec, max_reasons=0)


ITEM_FEATURES = ["rating", "price", "affinity", "seller_region", "stock"]


def item_spec() -> SystemSpec:
    return _spec({"kind": "ranking", "top_k": 5}, ITEM_FEATURES, "seller_region")


@cache
def ranking_booster() -> Any:
    import lightgbm

    rng = np.random.default_rng(3)
    rows = 1000
    frame = pd.DataFrame(
        {
            "rating": rng.uniform(1, 5, rows).round(1),
            "price": rng.uniform(5, 200, rows).round(2),
            "affinity": rng.uniform(0, 1, rows).round(3),
            "seller_region": rng.uniform(0, 1, rows).round(3),
            "stock": rng.integers(0, 50, rows).astype("float64"),
        }
    )
    utility = (
        frame["rating"] - 0.01 * frame["price"] + 2 * frame["affinity"] + frame["seller_region"]
    )
    relevance = np.digitize(utility + rng.normal(0, 0.5, rows), [1.5, 3.0, 4.5])
    data = lightgbm.Dataset(frame[ITEM_FEATURES], label=relevance, group=[20] * (rows // 20))
    params = {
        "objective": "lambdarank",
        "num_leaves": 8,
        "learning_rate": 0.1,
        "min_data_in_leaf": 10,
        "verbose": -1,
        "num_threads": 1,
        "seed": 0,
    }
    return lightgbm.train(params, data, num_boost_round=30)


ITEMS = [
    {"rating": 4.8, "price": 20.0, "affinity": 0.9, "seller_region": 0.8, "stock": 10.0},
    {"rating": 1.5, "price": 180.0, "affinity": 0.1, "seller_region": 0.2, "stock": 40.0},
    {"rating": 3.5, "price": 60.0, "affinity": 0.6, "seller_region": 0.5, "stock": 3.0},
]


@pytest.mark.parametrize("locale", ["en", "de"])
@pytest.mark.parametrize("item", ITEMS)
def test_a_recommendation_names_only_the_features_that_raised_its_score(
    item: dict[str, Any], locale: Any
) -> None:
    booster = ranking_booster()
    spec = item_spec()
    scorer = Scorer(booster, spec, version="1")
    scored = scorer.score(item)
    explanation = Explainer(locale=locale).explain(
        spec=spec, scorer=scorer, features=item, scored=scored
    )
    assert explanation is not None
    row = _row(item, ITEM_FEATURES)
    native = dict(
        zip(ITEM_FEATURES, np.asarray(booster.predict(row, pred_contrib=True))[0], strict=False)
    )
    assert explanation["output"] == pytest.approx(booster.predict(row, raw_score=True)[0])
    raised = sorted(
        (n for n, v in native.items() if v > 0 and n != "seller_region"), key=lambda n: -native[n]
    )
    assert [r["feature"] for r in explanation["reasons"]] == raised[:4]
    assert all(r["contribution"] > 0 for r in explanation["reasons"])
    lowered = [n for n, v in native.items() if v <= 0]
    assert not {r["feature"] for r in explanation["reasons"]} & set(lowered)
    expected_start = {"en": "Recommended", "de": "Empfohlen"}[locale]
    assert explanation["text"].startswith(expected_start)
    if raised:
        assert {"en": "because", "de": "weil"}[locale] in explanation["text"]
    assert explanation["counterfactuals"] == []
