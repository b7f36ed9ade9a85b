"""Which declared features a system could stop collecting (GDPR Art. 5(1)(c), data minimization).

Each recent decision's inputs are opened from its sealed ledger entry and scored again by the
system's current model, once as recorded and once per feature with that feature replaced by what
the model would get if it were no longer collected: its declared default, else its typical value
in the training data, else nothing (missing). A feature whose replacement moves no score and
flips no outcome is recommended for dropping; a feature never provided is listed apart.

Decisions without a subject have no sealed inputs, and erased subjects' inputs cannot be opened:
both count for "provided" (from the decision log) but are not replayed.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ethica.errors import InputError
from ethica.governance import SystemSpec, parse_spec
from ethica.ledger import KeyRing, LedgerError
from ethica.scoring import Scorer
from ethica.service.decisions.tables import Decision
from ethica.service.ledger.store import SqlKeyStore, row_entry
from ethica.service.ledger.tables import LedgerEntry
from ethica.service.systems.service import get_model, get_system

Recommendation = Literal["drop", "keep", "never provided", "not assessed"]
ReplacementSource = Literal["declared default", "training reference", "missing"]
NOT_PROVIDED = "not provided"
"""The reason minimization gives for a declared feature the caller did not send."""


@dataclass(frozen=True)
class FeatureUse:
    """How one declared feature is provided and how much the model's decisions depend on it."""

    feature: str
    provided: int
    withheld: dict[str, int]
    replaced_by: Any
    replaced_from: ReplacementSource
    contribution: float | None
    """Mean absolute change of the score when the feature is replaced (None: nothing replayed)."""
    flips: float | None
    """Share of replayed decisions whose outcome changes when the feature is replaced."""
    recommendation: Recommendation


@dataclass(frozen=True)
class MinimizationReport:
    """Per declared feature of one system, its use on recent decisions, with recommendations."""

    system_id: str
    model_version: str
    since: datetime | None
    decisions: int
    replayed: int
    features: list[FeatureUse] = field(default_factory=list)

    @property
    def drop(self) -> list[str]:
        """Features provided but without effect on any replayed score or outcome."""
        return [f.feature for f in self.features if f.recommendation == "drop"]

    @property
    def never_provided(self) -> list[str]:
        """Declared features no decision in the window received."""
        return [f.feature for f in self.features if f.recommendation == "never provided"]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            "system_id": self.system_id,
            "model_version": self.model_version,
            "since": None if self.since is None else self.since.isoformat(),
            "decisions": self.decisions,
            "replayed": self.replayed,
            "features": [asdict(f) for f in self.features],
            "drop": self.drop,
            "never_provided": self.never_provided,
        }


def minimization_report(
    session: Session,
    *,
    system_id: str,
    master_key: bytes,
    since: datetime | None = None,
    limit: int = 2000,
    tolerance: float = 1e-9,
) -> MinimizationReport:
    """Measure each declared feature's effect on the system's recent decisions.

    Parameters
    ----------
    session
        A session on the service's database.
    system_id
        The system; it needs a registered model.
    master_key
        The ledger's master key, to open the decisions' sealed inputs.
    since
        Only decisions recorded at or after this time.
    limit
        Replay at most this many of the most recent decisions (each costs one scoring per
        declared feature).
    tolerance
        A mean score change at or below this counts as no contribution.
    """
    system = get_system(session, system_id=system_id)
    if system.model_version is None:
        raise InputError(
            f"system {system_id!r} has no registered model: features can only be assessed "
            "against the model that uses them"
        )
    spec = parse_spec(system.spec)
    stored, model = get_model(session, system_id=system_id, version=system.model_version)
    scorer = Scorer(model, spec, version=system.model_version)
    query = select(Decision).where(Decision.system_id == system_id)
    if since is not None:
        query = query.where(Decision.created_at >= since)
    rows = list(session.scalars(query.order_by(Decision.created_at.desc()).limit(limit)))
    if not rows:
        raise InputError(f"system {system_id!r} has no decisions in this window to assess")
    provided: Counter[str] = Counter()
    withheld: dict[str, Counter[str]] = {f.name: Counter() for f in spec.features}
    for row in rows:
        provided.update(row.data.get("used", []))
        for item in row.data.get("withheld", []):
            if item.get("feature") in withheld:
                withheld[item["feature"]][str(item.get("reason"))] += 1
    inputs = _opened_inputs(session, KeyRing(master_key, store=SqlKeyStore(session)), rows)
    replacements = _replacements(spec, stored.training_summary)
    effects = _effects(scorer, inputs, replacements)
    features = []
    for feature in spec.features:
        name = feature.name
        value, source = replacements[name]
        contribution, flips = effects.get(name, (None, None))
        features.append(
            FeatureUse(
                feature=name,
                provided=provided[name],
                withheld=dict(withheld[name]),
                replaced_by=value,
                replaced_from=source,
                contribution=contribution,
                flips=flips,
                recommendation=_recommend(
                    provided[name], withheld[name], contribution, flips, tolerance
                ),
            )
        )
    return MinimizationReport(
        system_id=system_id,
        model_version=system.model_version,
        since=since,
        decisions=len(rows),
        replayed=len(inputs),
        features=features,
    )


def _opened_inputs(
    session: Session, keyring: KeyRing, rows: list[Decision]
) -> list[dict[str, Any]]:
    """The sealed features of each decision that has them and can still be opened."""
    opened = []
    for row in rows:
        if row.subject_id is None:
            continue  # no subject, no sealed inputs
        stored = session.get(LedgerEntry, (row.ledger_chain, row.ledger_sequence))
        if stored is None:
            continue
        try:
            personal = keyring.open(row_entry(stored))
        except LedgerError:
            continue  # erased: the subject's inputs are gone, as they should be
        features = personal.get("features")
        if isinstance(features, dict):
            opened.append(features)
    return opened


def _replacements(
    spec: SystemSpec, summary: dict[str, Any] | None
) -> dict[str, tuple[Any, ReplacementSource]]:
    """What the model would receive for each feature if it were no longer collected."""
    reference: dict[str, Any] = {}
    if summary is not None:
        from ethica.explain import TrainingSummary

        reference = dict(TrainingSummary.from_dict(summary).reference)
    chosen: dict[str, tuple[Any, ReplacementSource]] = {}
    for feature in spec.features:
        if feature.default is not None:
            chosen[feature.name] = (feature.default, "declared default")
        elif reference.get(feature.name) is not None:
            chosen[feature.name] = (reference[feature.name], "training reference")
        else:
            chosen[feature.name] = (None, "missing")
    return chosen


def _effects(
    scorer: Scorer,
    inputs: list[dict[str, Any]],
    replacements: Mapping[str, tuple[Any, str]],
) -> dict[str, tuple[float, float]]:
    """Per feature, the mean absolute score change and the share of flipped outcomes."""
    if not inputs:
        return {}
    totals = {name: [0.0, 0] for name in replacements}
    for features in inputs:
        base = scorer.score(features)
        for name, (value, _) in replacements.items():
            changed = scorer.score({**features, name: value})
            difference = abs(changed.score - base.score)
            if not math.isnan(difference):
                totals[name][0] += difference
            totals[name][1] += changed.outcome != base.outcome
    n = len(inputs)
    return {name: (float(total) / n, float(flips) / n) for name, (total, flips) in totals.items()}


def _recommend(
    provided: int,
    withheld: Counter[str],
    contribution: float | None,
    flips: float | None,
    tolerance: float,
) -> Recommendation:
    if provided == 0 and set(withheld) <= {NOT_PROVIDED}:
        return "never provided"
    if contribution is None or flips is None:
        return "not assessed"
    if contribution <= tolerance and flips == 0:
        return "drop"
    return "keep"
