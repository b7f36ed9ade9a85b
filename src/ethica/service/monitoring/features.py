"""Input drift from the service's own decision log: each day's features, counted once.

The decision log keeps no input values: the features a model received are personal data,
sealed with the customer's key in the decision's ledger entry. A monitoring pass opens the
entries of one whole day with the ledger's key ring, counts each declared feature in the
bins of the model version's training summary (numeric: its observed range in 20 equal bins;
categories and booleans: their labels) and keeps only the counts, as the day's ``features``
part. What cannot be counted is said, not guessed:

- a decision without a subject stores no features at all (only their names): not counted;
- an erased customer's entry cannot be opened any more: not counted (a day counted before
  the erasure keeps its counts, which name nobody);
- a system whose model version has no training summary has no reference: no features part.

The reference is what the training summary counted of every training row, in the same bins
(see :mod:`ethica.monitoring._training`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from ethica.explain import TrainingSummary
from ethica.governance import parse_spec
from ethica.ledger import KeyRing, LedgerError
from ethica.monitoring._distribution import Distribution
from ethica.monitoring._feature_counts import FeatureBins
from ethica.monitoring._training import (
    FeatureReference,
    as_dict,
    counted,
    numeric_bins,
    reference_of,
)
from ethica.service.ledger.store import row_entry
from ethica.service.ledger.tables import LedgerEntry, SubjectKey
from ethica.service.systems.tables import ModelVersion, System

_NUMERIC = ("number", "integer")


def feature_reference(session: Session, system: System) -> FeatureReference | None:
    """The bins and reference of the system's current model version; None without a summary.

    The counts the summary recorded of every training row; a summary recorded before it kept
    them gives its background sample instead, marked as ``sampled``.
    """
    if system.model_version is None:
        return None
    stored = session.scalar(
        select(ModelVersion.training_summary).where(
            ModelVersion.system_id == system.id, ModelVersion.version == system.model_version
        )
    )
    if not stored:
        return None
    summary = TrainingSummary.from_dict(stored)
    declared = [f for f in parse_spec(system.spec).features if f.type != "text"]
    if summary.feature_counts:
        return reference_of(summary.feature_counts, [f.name for f in declared])
    background = summary.background if summary.background is not None else pd.DataFrame()
    bins: dict[str, FeatureBins] = {}
    reference: dict[str, Distribution] = {}
    for feature in declared:
        if feature.name not in background:
            continue
        if feature.type in _NUMERIC:
            fixed = numeric_bins(*summary.ranges.get(feature.name, (np.nan, np.nan)))
            if fixed is None:
                continue
            bins[feature.name] = fixed
        else:
            bins[feature.name] = FeatureBins("categorical")
        reference[feature.name] = counted(background[feature.name].tolist(), bins[feature.name])
    return FeatureReference(bins, reference, sampled=True) if bins else None


def day_features(
    session: Session, keyring: KeyRing, places: list[tuple[str, int]], reference: FeatureReference
) -> tuple[dict[str, Any] | None, int]:
    """The stored ``features`` part of one day's decisions, and how many were readable.

    ``places`` are the ledger places (chain, sequence) of the day's decisions with a subject.
    Each batch of entries is read in one query and their subjects' keys in one more (the key
    ring then finds them in the session), not one query per entry.
    """
    values: dict[str, list[Any]] = defaultdict(list)
    readable = 0
    by_chain: dict[str, list[int]] = defaultdict(list)
    for chain, sequence in places:
        by_chain[chain].append(sequence)
    # One chain at a time: SQLite finds ``chain = ? AND sequence IN (...)`` by its index, a
    # list of (chain, sequence) pairs only by reading the whole ledger.
    batches = [(c, s[i : i + 500]) for c, s in by_chain.items() for i in range(0, len(s), 500)]
    for chain, sequences in batches:
        entries = list(
            session.scalars(
                select(LedgerEntry).where(
                    LedgerEntry.chain == chain, LedgerEntry.sequence.in_(sequences)
                )
            )
        )
        subjects = {entry.subject for entry in entries if entry.subject is not None}
        # Held while the entries are opened: the session's identity map keeps weak references.
        keys = session.scalars(select(SubjectKey).where(SubjectKey.subject.in_(subjects))).all()
        for entry in entries:
            try:
                personal = keyring.open(row_entry(entry))
            except LedgerError:  # erased (or unreadable): the customer's values are gone
                continue
            features = personal.get("features")
            if not isinstance(features, dict):
                continue
            readable += 1
            for name in reference.bins:
                values[name].append(features.get(name))
        del keys
    if not readable:
        return None, 0
    return {
        name: as_dict(counted(values[name], bins)) for name, bins in reference.bins.items()
    }, readable
