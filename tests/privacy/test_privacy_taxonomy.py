"""The data-use / data-category vocabulary (Fides taxonomy) and hierarchical matching."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

from ethica.errors import InputError
from ethica.governance import parse_spec
from ethica.privacy import (
    Taxonomy,
    TaxonomyEntry,
    UnknownKeyError,
    category_covers,
    check_spec,
    data_category,
    data_use,
    default_taxonomy,
    is_known_category,
    is_known_subject,
    is_known_use,
    use_covers,
)


def spec(**changes: Any) -> Any:
    data: dict[str, Any] = {
        "id": "credit-limit",
        "name": "Credit limit",
        "purpose": "essential.service.payment_processing",
        "decision": {"kind": "binary"},
        "owner": "risk@example.com",
        "features": [
            {"name": "income", "type": "number", "data_category": "user.financial"},
            {"name": "card", "type": "number", "data_category": "user.financial.credit_card"},
        ],
    }
    data.update(changes)
    return parse_spec(data)


def test_shipped_data_names_its_source_and_license() -> None:
    raw = json.loads(
        resources.files("ethica.privacy").joinpath("fides_taxonomy.json").read_text("utf-8")
    )
    assert "fideslang" in raw["source"]
    assert "CC BY 4.0" in raw["license"]


@pytest.mark.parametrize(
    "key", ["essential.service", "marketing.communications.email", "personalize", "train_ai_system"]
)
def test_fides_data_uses_are_known(key: str) -> None:
    assert is_known_use(key)


@pytest.mark.parametrize(
    "key", ["user.financial.bank_account", "user.contact.email", "user.demographic", "system"]
)
def test_fides_data_categories_are_known(key: str) -> None:
    assert is_known_category(key)


def test_fides_data_subjects_are_known() -> None:
    assert is_known_subject("customer")
    assert not is_known_subject("user.financial")


def test_unknown_and_cross_kind_keys_are_not_known() -> None:
    assert not is_known_use("user.financial")  # a category, not a use
    assert not is_known_category("essential.service")
    assert not is_known_use("essential.servic")


def test_every_parent_is_the_key_without_its_last_part() -> None:
    taxonomy = default_taxonomy()
    for kind in ("data_use", "data_category", "data_subject"):
        for key in taxonomy.keys(kind):
            entry = taxonomy.entry(kind, key)
            expected = key.rsplit(".", 1)[0] if "." in key else None
            assert entry.parent == expected, key


@pytest.mark.parametrize(
    ("parent", "child", "expected"),
    [
        ("marketing", "marketing.communications.email", True),
        ("marketing", "marketing", True),
        ("marketing.communications.email", "marketing", False),
        ("essential.service", "essential.service_extra", False),
        ("essential", "marketing.essential", False),
    ],
)
def test_use_covers_whole_parts_only(parent: str, child: str, expected: bool) -> None:
    assert use_covers(parent, child) is expected


def test_category_covers() -> None:
    assert category_covers("user", "user.financial.bank_account")
    assert not category_covers("user.financial", "user.contact")


def test_covers_refuses_keys_that_are_not_dotted() -> None:
    with pytest.raises(InputError, match="dotted"):
        use_covers("Marketing", "marketing.x")
    with pytest.raises(InputError, match="dotted"):
        use_covers("marketing", "marketing..x")


def test_unknown_key_error_suggests_close_matches() -> None:
    with pytest.raises(UnknownKeyError) as caught:
        data_use("essential.servce")
    assert "essential.service" in caught.value.suggestions
    assert "did you mean 'essential.service'" in str(caught.value)
    assert isinstance(caught.value, InputError)
    assert isinstance(caught.value, KeyError)


def test_unknown_category_suggests_siblings_or_parent() -> None:
    with pytest.raises(UnknownKeyError) as caught:
        data_category("user.financial.income")
    assert "user.financial" in caught.value.suggestions


def test_lookup_returns_name_and_description() -> None:
    entry = data_use("marketing.communications.email")
    assert entry.parent == "marketing.communications"
    assert entry.name
    assert entry.description


def test_check_spec_accepts_a_spec_in_the_taxonomy() -> None:
    assert check_spec(spec()) == []


def test_check_spec_lists_unknown_purpose_and_categories_with_locations() -> None:
    problems = check_spec(
        spec(
            purpose="finance.credit",
            features=[
                {"name": "income", "type": "number", "data_category": "user.financial"},
                {"name": "salary", "type": "number", "data_category": "user.financial.income"},
            ],
        )
    )
    assert len(problems) == 2
    assert problems[0].startswith("purpose: 'finance.credit' is not a known data use")
    assert "'finance'" in problems[0]
    assert problems[1].startswith("features[1].data_category: 'user.financial.income'")


def test_check_spec_flags_a_deprecated_purpose_and_its_replacement() -> None:
    (problem,) = check_spec(spec(purpose="personalize.profiling"))
    assert "deprecated" in problem
    assert "personalize.content.profiling" in problem


def test_extended_taxonomy_accepts_organization_keys() -> None:
    taxonomy = default_taxonomy().extended(
        data_uses=[TaxonomyEntry("finance.credit", "Credit decisions", parent="finance")]
    )
    assert is_known_use("finance.credit", taxonomy=taxonomy)
    assert not is_known_use("finance.credit")  # the default is unchanged
    assert check_spec(spec(purpose="finance.credit"), taxonomy=taxonomy) == []


def test_taxonomy_refuses_entries_under_an_unknown_parent() -> None:
    with pytest.raises(InputError, match="unknown parent"):
        Taxonomy(
            data_uses=[TaxonomyEntry("finance.credit", "Credit", parent="finance")],
            data_categories=[],
        )
