"""Attributions of decisions to the declared features, on the model's margin.

Tree boosters use their native TreeSHAP (LightGBM ``pred_contrib``, XGBoost ``pred_contribs``;
:mod:`ethica.explain._boosters`); scikit-learn trees use ``shap.TreeExplainer`` when shap is
installed; linear models are exact against a background mean; any other model gets a seeded
permutation estimate with its sampling error (:mod:`ethica.explain._sklearn_models`). Every
attribution adds up to the model's own output or is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ethica.errors import EthicaError, InputError
from ethica.explain._attribution import Attribution
from ethica.explain._boosters import (
    lightgbm_attribution,
    lightgbm_attributions,
    xgboost_attribution,
)
from ethica.explain._sklearn_models import (
    final_step,
    is_linear,
    is_tree,
    linear_attribution,
    permutation_attribution,
    sklearn_tree_attribution,
)
from ethica.scoring import Scorer


def attribute(
    scorer: Scorer,
    features: Mapping[str, Any],
    *,
    background: pd.DataFrame | None = None,
    permutations: int = 64,
    seed: int = 0,
) -> Attribution:
    """Attribute one decision's model output to the system's declared features.

    Parameters
    ----------
    scorer
        The system's loaded model bound to its spec.
    features
        The features the model received (after minimization), by declared name.
    background
        Training rows (declared feature columns). Required for linear models unless the model
        standardizes its inputs first, and for the permutation method; tree models use the
        training data stored in their trees.
    permutations
        Number of feature orderings the permutation method samples.
    seed
        Seed of the permutation method, so the same decision is explained the same way.

    Returns
    -------
    Attribution
        Contributions on the model's margin that add up to its output.
    """
    model = scorer.model
    module = type(model).__module__
    names = [f.name for f in scorer.spec.features]
    if module.startswith("lightgbm"):
        return lightgbm_attribution(scorer, features, names)
    if module.startswith("xgboost"):
        return xgboost_attribution(scorer, features, names)
    final = final_step(model)
    if is_linear(final):
        return linear_attribution(scorer, features, names, background)
    if is_tree(final):
        return sklearn_tree_attribution(scorer, features, names)
    if background is None:
        raise InputError(
            f"{type(final).__name__} is neither a tree nor a linear model: its model-agnostic "
            "attribution needs a background frame of training rows"
        )
    return permutation_attribution(
        scorer, features, names, background, permutations=permutations, seed=seed
    )


def attribute_many(
    scorer: Scorer,
    rows: Sequence[Mapping[str, Any]],
    *,
    background: pd.DataFrame | None = None,
    permutations: int = 64,
    seed: int = 0,
) -> list[Attribution | EthicaError]:
    """:func:`attribute` for several decisions of one system, computed together where it pays.

    A LightGBM model's contributions come from one compiled TreeSHAP call for all rows (the GIL
    released once, not per row); other models are attributed row by row. A row that cannot be
    attributed gets its error in its place, so one bad row does not cost the others theirs.
    """
    if not rows:
        return []
    if type(scorer.model).__module__.startswith("lightgbm"):
        names = [f.name for f in scorer.spec.features]
        try:
            return lightgbm_attributions(scorer, rows, names)
        except EthicaError as error:  # the model or its columns, not a row: every row has it
            return [error] * len(rows)
    found: list[Attribution | EthicaError] = []
    for features in rows:
        try:
            found.append(
                attribute(
                    scorer,
                    features,
                    background=background,
                    permutations=permutations,
                    seed=seed,
                )
            )
        except EthicaError as error:
            found.append(error)
    return found
