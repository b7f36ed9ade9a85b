"""A system's spec overrides the default drift rule per feature; every other feature keeps it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ethica.errors import InputError
from ethica.governance import SpecError, load_spec, parse_spec
from ethica.monitoring import Distribution, DriftRule, drift, drift_all

BANK = Path(__file__).resolve().parents[2] / "examples" / "bank" / "credit-limit.yaml"


def _sides() -> tuple[dict[str, Distribution], dict[str, Distribution]]:
    rng = np.random.default_rng(3)
    reference = {
        "income": Distribution.of(np.round(rng.normal(50, 10, 5000), 1)),
        "region": Distribution.of(rng.choice(["north", "south", "east"], 5000)),
    }
    current = {
        "income": Distribution.of(np.round(rng.normal(50.3, 10, 5000), 1)),  # a small shift
        "region": Distribution.of(rng.choice(["north", "south", "east"], 5000)),
    }
    return reference, current


def test_without_rules_every_feature_gets_the_default_rule() -> None:
    reference, current = _sides()
    results = drift_all(reference, current)
    assert results == [drift(name, reference[name], current[name]) for name in reference]
    assert [(r.test, r.threshold, r.drifted) for r in results] == [
        ("wasserstein", 0.1, False),
        ("jensenshannon", 0.1, False),
    ]


def test_an_override_changes_the_test_or_threshold_of_its_feature_only() -> None:
    reference, current = _sides()
    strict = drift_all(reference, current, rules={"income": DriftRule(threshold=0.01)})
    assert (strict[0].test, strict[0].threshold, strict[0].drifted) == ("wasserstein", 0.01, True)
    assert strict[1] == drift("region", reference["region"], current["region"])
    ks = drift_all(reference, current, rules={"income": DriftRule("ks", 0.5)})[0]
    assert ks == drift("income", reference["income"], current["income"], test="ks", threshold=0.5)
    assert ks.drifted == (ks.score < 0.5)


def test_rules_that_cannot_apply_are_clear_errors() -> None:
    reference, current = _sides()
    with pytest.raises(InputError, match="not compared: \\['salary'\\]"):
        drift_all(reference, current, rules={"salary": DriftRule()})
    with pytest.raises(InputError, match="unknown drift test 'kolmogorov'"):
        DriftRule("kolmogorov")
    with pytest.raises(InputError, match="does not apply to the categorical feature 'region'"):
        drift_all(reference, current, rules={"region": DriftRule("wasserstein")})
    with pytest.raises(InputError, match="has no column \\['region'\\]"):
        drift_all(reference, {"income": current["income"]})


def _bank_with(drift_rules: list[dict[str, Any]]) -> dict[str, Any]:
    data = load_spec(BANK).model_dump(mode="json")
    data["monitoring"] = {"drift": drift_rules}
    return data


def test_a_spec_declares_its_overrides_and_is_checked() -> None:
    feature = load_spec(BANK).features[0].name
    spec = parse_spec(_bank_with([{"feature": feature, "test": "psi", "threshold": 0.2}]))
    assert spec.monitoring.drift_rules() == {feature: DriftRule("psi", 0.2)}
    assert load_spec(BANK).monitoring.drift_rules() == {}  # no overrides: the defaults
    with pytest.raises(SpecError, match="undeclared features \\['salary'\\]"):
        parse_spec(_bank_with([{"feature": "salary"}]))
    with pytest.raises(SpecError, match="unknown drift test 'kolmogorov'"):
        parse_spec(_bank_with([{"feature": feature, "test": "kolmogorov"}]))
    with pytest.raises(SpecError, match="two rules for"):
        parse_spec(_bank_with([{"feature": feature}, {"feature": feature, "threshold": 0.3}]))
    with pytest.raises(SpecError, match="threshold"):
        parse_spec(_bank_with([{"feature": feature, "threshold": -1}]))
