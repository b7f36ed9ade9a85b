"""The demo bank's three AI systems, as specs (``examples/bank/*.yaml`` holds the same in YAML)."""

from __future__ import annotations

from typing import Any

from ethica.demo._customers import (
    AGE_BANDS,
    DISTRICTS,
    EMPLOYMENTS,
    HOUSINGS,
    ORIGINS,
    SAVINGS,
    SEXES,
)
from ethica.demo._products import PRODUCTS
from ethica.demo._tickets import CHANNELS, ISSUES, TIERS
from ethica.governance import SystemSpec, parse_spec

CREDIT_LIMIT = "credit-limit"
SUPPORT_ROUTING = "support-routing"
PRODUCT_RECOMMENDATIONS = "product-recommendations"

_PROTECTED: list[dict[str, Any]] = [
    {"name": "sex", "categories": list(SEXES)},
    {"name": "age_band", "categories": list(AGE_BANDS)},
    {"name": "origin", "categories": list(ORIGINS), "description": "not always disclosed"},
]
_POSTCODE: dict[str, Any] = {
    "name": "postcode_district",
    "type": "category",
    "categories": list(DISTRICTS),
    "data_category": "user.contact.address.postal_code",
    "description": "postcode district",
    "proxy_for": ["origin"],
}


#: How the customer reads each support tier and product (the portal, notices, explanations).
TIER_LABELS = {
    "self-service": "self-service help",
    "standard": "standard support",
    "priority": "priority support",
}
PRODUCT_LABELS = {
    "savings-account": "a savings account",
    "credit-card": "a credit card",
    "personal-loan": "a personal loan",
    "mortgage": "a mortgage",
    "investment-fund": "an investment fund",
    "insurance": "insurance",
}

# Who the bank is, as AI Act documents name it (its address is for a person to fill in).
_BANK = {"name": "Example Bank", "contact": "compliance@bank.example"}


#: How people read the categories that are not plain words (after "Your housing situation:"
#: for the customer, "The customer's housing situation:" for a reviewer: no "you" in them).
_CATEGORY_LABELS: dict[str, dict[str, str]] = {
    "housing": {
        "own": "owner",
        "mortgage": "owner with a mortgage",
        "rent": "tenant",
        "with family": "living with family",
    },
    "savings": {
        "none": "no savings",
        "under 1k": "under 1,000 EUR",
        "1k-10k": "1,000 to 10,000 EUR",
        "over 10k": "over 10,000 EUR",
    },
}


def _category(name: str, values: tuple[str, ...], category: str, text: str) -> dict[str, Any]:
    labels = _CATEGORY_LABELS.get(name)
    return {
        "name": name,
        "type": "category",
        "categories": list(values),
        "data_category": category,
        "description": text,
        **({"labels": labels} if labels else {}),
    }


def _credit_limit() -> dict[str, Any]:
    return {
        "id": CREDIT_LIMIT,
        "name": "Credit limit increase",
        "description": "Approves or declines a customer's request for a higher credit limit.",
        "purpose": "finance",
        "legal_basis": "contract",
        "risk_tier": "high",
        "owner": "credit-risk@bank.example",
        "decision": {
            "kind": "binary",
            "threshold": 0.7,
            "positive": "approved",
            "negative": "declined",
            "adverse": "negative",
            "favourable_truth": "repaid",
        },
        "features": [
            {
                "name": "income",
                "type": "number",
                "data_category": "user.financial",
                "description": "yearly income",
                "unit": "EUR",
                "actionable": True,
                "direction": "increasing",
                "minimum": 0,
            },
            {
                "name": "debt_to_income",
                "type": "number",
                "data_category": "user.financial",
                "description": "monthly debt payments as a share of income",
                "unit": "percent",
                "actionable": True,
                "direction": "decreasing",
                "minimum": 0,
                "maximum": 1,
            },
            {
                "name": "months_since_opened",
                "type": "integer",
                "data_category": "user.financial.bank_account",
                "description": "account age",
                "unit": "months",
                "direction": "increasing",
            },
            {
                "name": "existing_credits",
                "type": "integer",
                "data_category": "user.financial",
                "description": "number of credits already running",
                "actionable": True,
                "direction": "decreasing",
                "minimum": 0,
            },
            {
                "name": "late_payments_2y",
                "type": "integer",
                "data_category": "user.financial",
                "description": "number of late payments in the last two years",
                "direction": "decreasing",
                "minimum": 0,
            },
            _category("employment", EMPLOYMENTS, "user.job_title", "employment status"),
            _category("housing", HOUSINGS, "user.financial", "housing situation"),
            _category("savings", SAVINGS, "user.financial.bank_account", "savings"),
            _POSTCODE,
        ],
        "protected_attributes": _PROTECTED,
        "oversight": {"review_adverse": True, "margin": 0.05, "sample_rate": 0.02},
        # Without a profile the bank cannot assess a request: it is declined, and being adverse
        # on a high-risk system, it goes to a person.
        "fallback": {"outcome": "declined"},
        "retention_months": 25,
        "ai_act": {
            "intended_purpose": "Evaluate the creditworthiness of retail customers who ask for a "
            "higher credit limit, and approve or decline the request.",
            "domain": "creditworthiness",
            "affected": ["customers"],
            "roles": ["provider", "deployer"],
            "significant_effects": True,
            "organisation": _BANK,
        },
    }


def _support_routing() -> dict[str, Any]:
    return {
        "id": SUPPORT_ROUTING,
        "name": "Support ticket routing",
        "description": "Routes a customer's support ticket to self-service, standard or priority.",
        "purpose": "essential.service.operations.support",
        "legal_basis": "contract",
        "risk_tier": "limited",
        "owner": "customer-service@bank.example",
        "decision": {
            "kind": "multiclass",
            "classes": list(TIERS),
            "adverse": ["self-service"],
            "labels": TIER_LABELS,
        },
        "features": [
            _category("issue", ISSUES, "user.content.private", "ticket topic"),
            _category("channel", CHANNELS, "user.behavior", "way of getting in touch"),
            {
                "name": "open_tickets",
                "type": "integer",
                "data_category": "user.behavior",
                "description": "number of tickets still open",
                "minimum": 0,
            },
            {
                "name": "products_held",
                "type": "integer",
                "data_category": "user.financial.bank_account",
                "description": "number of products held with us",
                "minimum": 1,
            },
            {
                "name": "balance",
                "type": "number",
                "data_category": "user.financial.bank_account",
                "description": "account balance",
                "unit": "EUR",
            },
            _POSTCODE,
        ],
        "protected_attributes": _PROTECTED,
        # Reviewers give their own tier before they see the model's (automation-bias safeguard).
        "oversight": {"sample_rate": 0.02, "blind_first": True},
        "fallback": {"outcome": "standard"},
        "retention_months": 12,
        "ai_act": {
            "intended_purpose": "Route customers' support tickets to self-service, standard or "
            "priority handling, and tell each customer which service their ticket gets.",
            "domain": "customer-support",
            "affected": ["customers"],
            "roles": ["provider", "deployer"],
            "interacts_with_persons": True,
            "organisation": _BANK,
        },
    }


def _product_recommendations() -> dict[str, Any]:
    return {
        "id": PRODUCT_RECOMMENDATIONS,
        "name": "Product recommendations",
        "description": "Ranks the bank's products for a customer, most relevant first.",
        "purpose": "personalize.content.profiled",
        "legal_basis": "legitimate_interests",
        "risk_tier": "minimal",
        "owner": "marketing@bank.example",
        "decision": {
            "kind": "ranking",
            "items": list(PRODUCTS),
            "top_k": 3,
            "labels": PRODUCT_LABELS,
        },
        "features": [
            {
                "name": "income",
                "type": "number",
                "data_category": "user.financial",
                "description": "yearly income",
                "unit": "EUR",
            },
            _category("savings", SAVINGS, "user.financial.bank_account", "savings"),
            _category("housing", HOUSINGS, "user.financial", "housing situation"),
            _category("employment", EMPLOYMENTS, "user.job_title", "employment status"),
            {
                "name": "months_since_opened",
                "type": "integer",
                "data_category": "user.financial.bank_account",
                "description": "account age",
                "unit": "months",
            },
            {
                "name": "existing_credits",
                "type": "integer",
                "data_category": "user.financial",
                "description": "number of credits already running",
            },
            {
                "name": "app_logins_month",
                "type": "integer",
                "data_category": "user.behavior",
                "description": "number of logins to the banking app last month",
            },
        ],
        "protected_attributes": _PROTECTED,
        "fallback": {"ranking": ["savings-account", "credit-card", "insurance"]},
        "retention_months": 12,
        "ai_act": {
            "intended_purpose": "Rank the bank's products for a customer, most relevant first, "
            "in the banking app.",
            "domain": "recommendation",
            "affected": ["customers"],
            "roles": ["provider", "deployer"],
            "organisation": _BANK,
        },
    }


def bank_specs() -> dict[str, SystemSpec]:
    """Return the specs of the demo bank's three systems, by id."""
    specs = (_credit_limit(), _support_routing(), _product_recommendations())
    return {data["id"]: parse_spec(data) for data in specs}
