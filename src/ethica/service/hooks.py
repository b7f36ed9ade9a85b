"""The decision path's hooks: consent and explanation, as small Protocols with defaults.

The consent domain fills the consent hook (``SqlConsentHook``) and ``ethica.explain`` the
explanation hook; the defaults let the path run without either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

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
    """Reads a subject's consent for a system; the default allows every declared feature.

    A hook may set ``needs_session = False`` when it never reads the database: the gateway
    then passes ``None`` and saves opening a session per decision. Without it, it gets one.
    """

    def check(
        self, session: Session | None, *, spec: SystemSpec, subject_id: str | None
    ) -> ConsentState:
        """The subject's consent state for this system's purpose."""


class AllowAll:
    """No consent records yet: every declared feature may be used."""

    needs_session = False

    def check(
        self, session: Session | None, *, spec: SystemSpec, subject_id: str | None
    ) -> ConsentState:
        """Allow everything."""
        return ConsentState()


class Explainer(Protocol):
    """Explains a scored decision; the default gives no explanation."""

    def explain(
        self,
        *,
        spec: SystemSpec,
        scorer: Scorer | None,
        features: Mapping[str, Any],
        scored: Scored,
    ) -> dict[str, Any] | None:
        """An explanation of the decision, or None."""


class NoExplanation:
    """Explanations are not configured."""

    def explain(
        self,
        *,
        spec: SystemSpec,
        scorer: Scorer | None,
        features: Mapping[str, Any],
        scored: Scored,
    ) -> dict[str, Any] | None:
        """No explanation."""
        return None


def default_explainer(summaries: dict[str, Any]) -> Explainer:
    """Attributions, reason codes, sentences and counterfactuals (``ethica.explain``)."""
    from ethica.explain import Explainer as ModelExplainer

    explainer: Explainer = ModelExplainer(summaries)
    return explainer
