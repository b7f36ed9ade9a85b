"""Explanations a customer can understand and a regulator can check.

:func:`attribute` splits the model's margin among the declared features (native TreeSHAP for
LightGBM and XGBoost, ``shap`` for scikit-learn trees, exact for linear models, a seeded
permutation estimate otherwise) and refuses any split that does not add up; :func:`reason_codes`
ranks the adverse ones without protected attributes or their proxies; :func:`reason_text`
words them; :func:`counterfactuals` finds the smallest actionable changes the model confirms.
:class:`Explainer` runs the whole chain as the gateway's explanation hook, and
:func:`adverse_action_notice` renders it for the customer with their rights;
:func:`attribution_summary` shows a data scientist which features drive the decisions of
each group. :func:`attribute_contrast` explains a multiclass decision as "this class rather
than the runner-up", and :func:`supporting_reasons` ranks what favoured it (or what raised a
recommended item's score).
"""

from ethica.explain._attribute import attribute, attribute_many
from ethica.explain._attribution import (
    ADDITIVITY_TOLERANCE,
    FLOAT32_EPSILON,
    AdditivityError,
    Attribution,
    Method,
    Scale,
    feature_of_column,
    float32_tolerance,
    group_columns,
)
from ethica.explain._contrast import attribute_contrast, chosen_and_runner_up
from ethica.explain._counterfactual import Counterfactual, counterfactuals
from ethica.explain._explainer import Explainer
from ethica.explain._notice import NOTICE_TEMPLATES, adverse_action_notice
from ethica.explain._reasons import (
    DEFAULT_MAX_REASONS,
    Reason,
    adverse_sign,
    excluded_features,
    reason_codes,
    supporting_reasons,
)
from ethica.explain._reference import TrainingSummary, feature_ranges, reference_values
from ethica.explain._summary import attribution_summary
from ethica.explain._text import (
    REVIEWER_TEMPLATES,
    TEMPLATES,
    Locale,
    Reader,
    counterfactual_text,
    format_value,
    reason_text,
    retold,
)

__all__ = [
    "ADDITIVITY_TOLERANCE",
    "DEFAULT_MAX_REASONS",
    "FLOAT32_EPSILON",
    "NOTICE_TEMPLATES",
    "REVIEWER_TEMPLATES",
    "TEMPLATES",
    "AdditivityError",
    "Attribution",
    "Counterfactual",
    "Explainer",
    "Locale",
    "Method",
    "Reader",
    "Reason",
    "Scale",
    "TrainingSummary",
    "adverse_action_notice",
    "adverse_sign",
    "attribute",
    "attribute_many",
    "attribute_contrast",
    "attribution_summary",
    "chosen_and_runner_up",
    "counterfactual_text",
    "counterfactuals",
    "excluded_features",
    "feature_of_column",
    "float32_tolerance",
    "feature_ranges",
    "format_value",
    "group_columns",
    "reason_codes",
    "reason_text",
    "reference_values",
    "retold",
    "supporting_reasons",
]
