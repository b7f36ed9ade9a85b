"""Federated training: FedAvg of a logistic regression (under SecAgg+), or XGBoost bagging."""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ethica.errors import EngineError, InputError
from ethica.federated._coordinator import FederatedAudit, SuperLinkSession
from ethica.federated._plan import Plan, read_plan


@dataclass(frozen=True)
class FederatedModel:
    """A logistic regression trained across sites, and what it was measured to do.

    Attributes
    ----------
    features
        The model's inputs, in the order of ``coefficients``.
    coefficients, intercept
        The averaged model: favourable when ``x @ coefficients + intercept > 0``.
    accuracy
        Accuracy under the final model, each site's weighted by its rows (measured at the
        sites; no row leaves them).
    rounds, sites
        FedAvg rounds run, and sites that took part in every round.
    audit
        The federated fairness audit of the model's decisions at the sites (SecAgg+).
    """

    features: tuple[str, ...]
    coefficients: np.ndarray[Any, np.dtype[np.float64]]
    intercept: float
    accuracy: float
    rounds: int
    sites: int
    audit: FederatedAudit | None = None

    def estimator(self) -> Any:
        """Return the model as scikit-learn's fitted ``LogisticRegression``."""
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression()
        model.classes_ = np.array([0, 1])
        model.coef_ = self.coefficients.reshape(1, -1)
        model.intercept_ = np.array([self.intercept])
        model.n_features_in_ = len(self.features)
        model.n_iter_ = np.array([self.rounds])
        return model

    @property
    def format(self) -> Literal["skops"]:
        """The model store's format of :attr:`content`."""
        return "skops"

    @property
    def content(self) -> bytes:
        """The model as the model store keeps it (skops)."""
        return self.to_skops()

    def to_skops(self) -> bytes:
        """Write the model as a skops file: the format ethica's model store loads, no pickle."""
        import skops.io as sio

        buffer = io.BytesIO(sio.dumps(self.estimator()))
        return buffer.getvalue()


@dataclass(frozen=True)
class FederatedTrees:
    """Gradient-boosted trees grown across sites by XGBoost bagging, and their accuracy.

    Attributes
    ----------
    content
        The model as XGBoost's JSON (the model store's ``xgboost`` format; no pickle).
    accuracy
        Accuracy under the final model, each site's weighted by its rows (measured at the sites).
    rounds, sites
        Bagging rounds run, and sites that took part in every round.
    """

    features: tuple[str, ...]
    content: bytes
    accuracy: float
    rounds: int
    sites: int
    audit: FederatedAudit | None = None

    @property
    def format(self) -> Literal["xgboost"]:
        """The model store's format of :attr:`content`."""
        return "xgboost"


def federated_train(
    plan: Plan | Path,
    *,
    audit: bool = True,
    logs: Path | None = None,
    transcript: Path | None = None,
) -> FederatedModel | FederatedTrees:
    """Train the plan's model across its sites: FedAvg (then audit its decisions), or XGBoost.

    Parameters
    ----------
    plan
        The plan (or a ``sites.toml``) with a ``[training]`` table naming the features; the
        label is the audit's. The sites must be running (``ethica federated site``).
    audit
        Also run a federated audit of the trained model's decisions at the sites.
    logs
        Keep the SuperLink's and the runs' logs in this folder.
    transcript
        Write every message the coordinator received while training here, one JSON object a
        line: the sites' updates arrive masked by SecAgg+.
    """
    if isinstance(plan, Path):
        plan = read_plan(plan)
    if not plan.features:
        raise InputError("the plan has no [training] features: name the model's input columns")
    if plan.label is None:
        raise InputError("training needs the true outcome: set [audit] label in the plan")
    with SuperLinkSession(plan, logs=logs) as session:
        if plan.learner == "xgboost":
            return _trees(plan, session.run("trees", plan, transcript=transcript))
        answer = session.run("training", plan, transcript=transcript)
        _check_rounds(plan, answer)
        model = FederatedModel(
            features=plan.features,
            coefficients=np.asarray(answer["coefficients"], dtype=np.float64),
            intercept=float(answer["intercept"]),
            accuracy=float(answer["accuracy"]),
            rounds=int(answer["rounds"]),
            sites=int(answer["sites"]),
        )
        if not audit:
            return model
        decided = replace(plan, model=(tuple(model.coefficients.tolist()), model.intercept))
        return replace(model, audit=session.audit(decided))


def _trees(plan: Plan, answer: dict[str, Any]) -> FederatedTrees:
    import base64

    _check_rounds(plan, answer)
    return FederatedTrees(
        features=plan.features,
        content=base64.b64decode(answer["model"]),
        accuracy=float(answer["accuracy"]),
        rounds=int(answer["rounds"]),
        sites=int(answer["sites"]),
    )


def _check_rounds(plan: Plan, answer: dict[str, Any]) -> None:
    if answer["sites"] != plan.sites or answer["rounds"] != plan.rounds:
        raise EngineError(
            f"{answer['sites']} of {plan.sites} sites took part in {answer['rounds']} of "
            f"{plan.rounds} rounds; no model is released. See each site's output"
        )
