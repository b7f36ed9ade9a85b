"""What a reviewer reads about a case's inputs: names, units, contributions, heavy proxies."""

from __future__ import annotations

from ethica.demo import bank_specs
from ethica.service.web.console.evidence import heavy_proxies, input_rows

CREDIT = bank_specs()["credit-limit"]


def test_inputs_read_by_their_description_with_units_in_the_spec_order() -> None:
    rows = input_rows(
        CREDIT,
        {"debt_to_income": 0.71, "income": 56200.0, "postcode_district": "NB3", "extra_x": 1},
    )
    assert [(r.label, r.value) for r in rows] == [
        ("yearly income", "56,200\u00a0EUR"),
        ("monthly debt payments as a share of income", "71%"),
        ("postcode district", "NB3"),
        ("extra x", "1"),
    ]
    assert input_rows(CREDIT, None) == []


def test_a_declared_proxy_among_the_three_largest_contributions_is_flagged() -> None:
    explanation = {
        "contributions": {
            "income": -0.9,
            "debt_to_income": -0.5,
            "postcode_district": -0.3,
            "housing": 0.1,
        }
    }
    (warning,) = heavy_proxies(CREDIT, explanation)
    assert "“Postcode district” is a declared proxy for origin" in warning
    assert "third largest contribution" in warning and "-0.300" in warning
    explanation["contributions"]["postcode_district"] = -0.05  # now fourth: not flagged
    assert heavy_proxies(CREDIT, explanation) == []
    assert heavy_proxies(CREDIT, None) == []
