"""A seeded synthetic bank whose AI systems an audit finds real disparities in.

:func:`generate_customers` builds the customers (see :mod:`ethica.demo._customers` for the two
mechanisms that make the recorded outcome unfair), :func:`train_credit_model` trains a model on
their features only, and :func:`run_demo` audits its decisions and writes the reports.
:func:`build_bank` puts the bank on the service: its three systems (:func:`bank_specs`: credit
limit, support-ticket routing from :func:`generate_tickets`, product recommendations from
:func:`generate_products`), staff, and customers' decisions through the gateway;
:func:`serve_bank` serves it. The data is synthetic, made to show how an audit assesses such
gaps; it describes no real population.
"""

from ethica.demo._bank import BankDemo, build_bank, serve_bank
from ethica.demo._bank_people import STAFF, StaffLogin
from ethica.demo._customers import (
    AFFECTED_ORIGIN,
    CATEGORICAL_FEATURES,
    FEATURES,
    PROTECTED_ATTRIBUTES,
    SEGREGATED_DISTRICTS,
    generate_customers,
)
from ethica.demo._model import model_inputs, train_credit_model
from ethica.demo._products import PRODUCTS, generate_products
from ethica.demo._run import DemoResult, run_demo
from ethica.demo._systems import bank_specs
from ethica.demo._tickets import TIERS, generate_tickets

__all__ = [
    "AFFECTED_ORIGIN",
    "CATEGORICAL_FEATURES",
    "FEATURES",
    "PRODUCTS",
    "PROTECTED_ATTRIBUTES",
    "SEGREGATED_DISTRICTS",
    "STAFF",
    "TIERS",
    "BankDemo",
    "DemoResult",
    "StaffLogin",
    "bank_specs",
    "build_bank",
    "generate_customers",
    "generate_products",
    "generate_tickets",
    "model_inputs",
    "run_demo",
    "serve_bank",
    "train_credit_model",
]
