"""A seeded synthetic bank whose credit model an audit finds real disparities in.

:func:`generate_customers` builds the customers (see :mod:`ethica.demo._customers` for the two
mechanisms that make the recorded outcome unfair), :func:`train_credit_model` trains a model on
their features only, and :func:`run_demo` audits its decisions and writes the reports. The data
is synthetic, made to show how an audit assesses such gaps; it describes no real population.
"""

from ethica.demo._customers import (
    AFFECTED_ORIGIN,
    CATEGORICAL_FEATURES,
    FEATURES,
    PROTECTED_ATTRIBUTES,
    SEGREGATED_DISTRICTS,
    generate_customers,
)
from ethica.demo._model import model_inputs, train_credit_model
from ethica.demo._run import DemoResult, run_demo

__all__ = [
    "AFFECTED_ORIGIN",
    "CATEGORICAL_FEATURES",
    "FEATURES",
    "PROTECTED_ATTRIBUTES",
    "SEGREGATED_DISTRICTS",
    "DemoResult",
    "generate_customers",
    "model_inputs",
    "run_demo",
    "train_credit_model",
]
