"""The decision path's hooks: consent and explanation, as small Protocols with defaults.

The consent domain fills the consent hook (``SqlConsentHook``) and ``ethica.explain`` the
explanation hook; the defaults let the path run without either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from ethica.errors import EthicaError
from ethica.governance import SystemSpec
from ethica.scoring import Scored, Scorer


@dataclass(frozen=True)
class ConsentState:
    """What the subject allows for this system's purpose (filled by the consent domain)."""

    withhold: dict[str, str] = field(default_factory=dict)
    objects_to_automation: bool = False
    objects_to_profiling: bool = False
    version: str | None = None


class ConsentHook(Protocol):
    """Reads subjects' consent for a system; the default allows every declared feature.

    The gateway asks for the decisions it prepares together, in one call. A hook may set
    ``needs_session = False`` when it never reads the database: the gateway then passes
    ``None`` and saves opening a session. Without it, it gets one per call.
    """

    def check_many(
        self, session: Session | None, *, spec: SystemSpec, subject_ids: Sequence[str | None]
    ) -> list[ConsentState]:
        """Each subject's consent state for this system's purpose, in the order given."""


class AllowAll:
    """No consent records yet: every declared feature may be used."""

    needs_session = False

    def check_many(
        self, session: Session | None, *, spec: SystemSpec, subject_ids: Sequence[str | None]
    ) -> list[ConsentState]:
        """Allow everything."""
        return [ConsentState() for _ in subject_ids]


class Explainer(Protocol):
    """Explains scored decisions of one system; the default gives no explanation.

    The gateway asks for the decisions it prepares together, as (features, scored) pairs, in
    one call. Each gets its explanation, None, or the error that kept it from one. An
    explanation is plain JSON data (dicts with string keys, lists, strings, numbers, booleans,
    None), as the ledger records it without normalizing it (``Ledger.append(built=True)``).
    """

    def explain_many(
        self,
        *,
        spec: SystemSpec,
        scorer: Scorer | None,
        rows: Sequence[tuple[Mapping[str, Any], Scored]],
    ) -> list[dict[str, Any] | None | EthicaError]:
        """An explanation of each decision, None, or why it has none."""


class NoExplanation:
    """Explanations are not configured."""

    def explain_many(
        self,
        *,
        spec: SystemSpec,
        scorer: Scorer | None,
        rows: Sequence[tuple[Mapping[str, Any], Scored]],
    ) -> list[dict[str, Any] | None | EthicaError]:
        """No explanations."""
        return [None] * len(rows)


def as_recorded(explanation: dict[str, Any] | None | EthicaError) -> dict[str, Any] | None:
    """What a decision records of its explanation: the explanation, or why it has none.

    A decision that could not be explained still stands.
    """
    if isinstance(explanation, EthicaError):
        return {"unavailable": str(explanation)}
    return explanation


def default_explainer(summaries: dict[str, Any]) -> Explainer:
    """Attributions, reason codes, sentences and counterfactuals (``ethica.explain``)."""
    from ethica.explain import Explainer as ModelExplainer

    explainer: Explainer = ModelExplainer(summaries)
    return explainer
