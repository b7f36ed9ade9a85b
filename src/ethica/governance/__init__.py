"""Governance of AI systems: their specs, risk tiers and obligations."""

from ethica.governance._oversight import AUTOMATIC, Routing, TrainingData, route, unlike_training
from ethica.governance._spec import (
    BinaryDecision,
    FallbackSpec,
    FeatureSpec,
    ModelSpec,
    MulticlassDecision,
    OversightSpec,
    ProtectedAttributeSpec,
    RankingDecision,
    ScoreDecision,
    SpecError,
    SystemSpec,
    load_spec,
    parse_spec,
)

__all__ = [
    "AUTOMATIC",
    "Routing",
    "TrainingData",
    "route",
    "unlike_training",
    "BinaryDecision",
    "FallbackSpec",
    "FeatureSpec",
    "ModelSpec",
    "MulticlassDecision",
    "OversightSpec",
    "ProtectedAttributeSpec",
    "RankingDecision",
    "ScoreDecision",
    "SpecError",
    "SystemSpec",
    "load_spec",
    "parse_spec",
]
