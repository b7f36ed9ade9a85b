"""Rankings of declared items: a model gives one probability per item; the outcome is the top k."""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ethica.errors import InputError
from ethica.explain import Explainer
from ethica.governance import SpecError, SystemSpec, parse_spec
from ethica.scoring import Scorer, caller_scored, outcome_of

ITEMS = ["savings", "card", "loan", "fund"]
NAMES = ["income", "savings_level", "logins", "region"]


def ranking_spec(top_k: int = 3, items: list[str] | None = None) -> SystemSpec:
    return parse_spec(
        {
            "id": "offers",
            "name": "Product offers",
            "purpose": "personalize",
            "decision": {"kind": "ranking", "items": items or ITEMS, "top_k": top_k},
            "features": [
                {
                    "name": name,
                    "type": "number",
                    "data_category": "user.financial",
                    "description": name.replace("_", " "),
                    **({"proxy_for": ["origin"]} if name == "region" else {}),
                }
                for name in NAMES
            ],
            "protected_attributes": [{"name": "origin"}],
            "owner": "marketing@example.com",
        }
    )


@pytest.mark.parametrize("top_k", [1, 2, 4, 10])
def test_the_outcome_is_the_top_k_items_by_probability_best_first(top_k: int) -> None:
    probabilities = np.array([0.1, 0.45, 0.05, 0.4])
    scored = outcome_of(ranking_spec(top_k=top_k), probabilities)
    expected = ["card", "fund", "savings", "loan"][:top_k]
    assert scored.outcome == ",".join(expected)
    assert scored.outcome.split(",") == expected
    assert scored.score == pytest.approx(0.45)
    assert scored.probabilities == dict(zip(ITEMS, probabilities.tolist(), strict=True))


def test_ties_keep_the_order_of_the_declared_items() -> None:
    scored = outcome_of(ranking_spec(top_k=4), np.array([0.2, 0.3, 0.3, 0.2]))
    assert scored.outcome == "card,loan,savings,fund"


def test_a_model_with_another_number_of_outputs_is_refused() -> None:
    with pytest.raises(InputError, match="3 item probabilities; the spec declares 4 items"):
        outcome_of(ranking_spec(), np.array([0.2, 0.3, 0.5]))


def test_a_caller_score_cannot_rank_items() -> None:
    with pytest.raises(InputError, match="needs its registered model"):
        caller_scored(ranking_spec(), 0.7)


def test_a_ranking_without_items_still_scores_one_item() -> None:
    spec = parse_spec(
        {**ranking_spec().model_dump(mode="json"), "decision": {"kind": "ranking", "top_k": 5}}
    )
    scored = outcome_of(spec, np.array([1.25]))
    assert (scored.score, scored.outcome, scored.probabilities) == (1.25, "1.25", None)


@pytest.mark.parametrize(
    ("items", "top_k", "problem"),
    [
        (["a", "b", "a"], 3, "listed more than once"),
        (["a,b", "c"], 2, "decision.items: item ids contain no comma"),
        (["only"], 1, "at least 2"),
        ([f"{i:02d}" + "x" * 60 for i in range(5)], 4, "exceed the 200 characters"),
    ],
)
def test_items_are_distinct_comma_free_and_fit_in_an_outcome(
    items: list[str], top_k: int, problem: str
) -> None:
    with pytest.raises(SpecError, match=problem):
        ranking_spec(top_k=top_k, items=items)


def frame(rows: int = 1200, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = pd.DataFrame(
        {
            "income": rng.lognormal(10.3, 0.5, rows).round(-2),
            "savings_level": rng.integers(0, 4, rows).astype("float64"),
            "logins": rng.poisson(8, rows).astype("float64"),
            "region": rng.uniform(0, 1, rows).round(3),
        }
    )
    utility = np.column_stack(
        [
            1.0 - 0.4 * data["savings_level"],
            0.05 * data["logins"],
            np.log(data["income"] / 30_000) + data["region"],
            0.8 * data["savings_level"] - 1.0,
        ]
    )
    data["item"] = np.argmax(utility + rng.gumbel(size=utility.shape), axis=1)
    return data


@cache
def booster() -> Any:
    import lightgbm

    data = frame()
    params = {
        "objective": "multiclass",
        "num_class": len(ITEMS),
        "num_leaves": 8,
        "min_data_in_leaf": 20,
        "verbose": -1,
        "num_threads": 1,
        "seed": 0,
    }
    return lightgbm.train(params, lightgbm.Dataset(data[NAMES], label=data["item"]), 30)


CUSTOMERS = [
    {"income": 52_000.0, "savings_level": 3.0, "logins": 2.0, "region": 0.1},
    {"income": 21_000.0, "savings_level": 0.0, "logins": 15.0, "region": 0.9},
    {"income": 34_000.0, "savings_level": 1.0, "logins": 8.0, "region": 0.5},
]


@pytest.mark.parametrize("customer", CUSTOMERS)
def test_a_lightgbm_ranking_is_scored_and_explained_by_its_top_item_over_the_second(
    customer: dict[str, float],
) -> None:
    model = booster()
    spec = ranking_spec()
    scorer = Scorer(model, spec, version="1")
    row = pd.DataFrame({n: [customer[n]] for n in NAMES})
    probabilities = model.predict(row)[0]
    order = np.argsort(-probabilities, kind="stable")
    scored = scorer.score(customer)
    assert scored.outcome.split(",") == [ITEMS[i] for i in order[:3]]
    assert scored.score == pytest.approx(probabilities[order[0]], abs=1e-12)

    explanation = Explainer().explain(spec=spec, scorer=scorer, features=customer, scored=scored)
    assert explanation is not None
    top, second = int(order[0]), int(order[1])
    assert (explanation["top"], explanation["runner_up"]) == (ITEMS[top], ITEMS[second])
    blocks = np.asarray(model.predict(row, pred_contrib=True))[0].reshape(len(ITEMS), -1)
    difference = blocks[top] - blocks[second]
    for j, name in enumerate(NAMES):
        assert explanation["contributions"][name] == pytest.approx(difference[j], abs=1e-6)
    assert explanation["output"] == pytest.approx(
        math.log(probabilities[top] / probabilities[second]), abs=1e-9
    )
    total = explanation["baseline"] + math.fsum(explanation["contributions"].values())
    assert total == pytest.approx(explanation["output"], abs=1e-6)
    raised = sorted(
        (n for j, n in enumerate(NAMES) if difference[j] > 0 and n != "region"),
        key=lambda n: -difference[NAMES.index(n)],
    )
    assert [r["feature"] for r in explanation["reasons"]] == raised[:4]
    assert explanation["text"].startswith("Recommended")
    assert explanation["counterfactuals"] == []
