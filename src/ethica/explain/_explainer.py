"""The gateway's explanation step: attributions → reason codes → sentences → counterfactuals."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ethica.explain._attribution import attribute
from ethica.explain._counterfactual import counterfactuals
from ethica.explain._reasons import DEFAULT_MAX_REASONS, reason_codes
from ethica.explain._reference import TrainingSummary
from ethica.explain._text import (
    Locale,
    counterfactual_text,
    describe,
    reason_text,
    template,
)
from ethica.governance import BinaryDecision, ScoreDecision, SystemSpec
from ethica.scoring import Scored, Scorer


class Explainer:
    """Explains scored decisions for the gateway (its ``Explainer`` hook) or a notebook.

    Parameters
    ----------
    summaries
        What each system's explanations compare with: one :class:`TrainingSummary` for every
        system, or one per system id. Without one, sentences name no typical value, numeric
        features without a declared range are not changed in counterfactuals, and linear
        models need a standardizing pipeline.
    locale
        Language of the sentences: ``"en"`` or ``"de"``.
    max_reasons
        At most this many reasons.
    max_counterfactuals
        At most this many counterfactual options; 0 computes none.
    permutations, seed
        Sampling of the model-agnostic attribution (models that are neither trees nor linear).
    """

    def __init__(
        self,
        summaries: TrainingSummary | Mapping[str, TrainingSummary] | None = None,
        *,
        locale: Locale = "en",
        max_reasons: int = DEFAULT_MAX_REASONS,
        max_counterfactuals: int = 3,
        permutations: int = 64,
        seed: int = 0,
    ) -> None:
        template(locale, "summary")  # refuses an unknown locale now, not on the first decision
        self.summaries = summaries
        self.locale = locale
        self.max_reasons = max_reasons
        self.max_counterfactuals = max_counterfactuals
        self.permutations = permutations
        self.seed = seed

    def explain(
        self,
        *,
        spec: SystemSpec,
        scorer: Scorer | None,
        features: Mapping[str, Any],
        scored: Scored,
    ) -> dict[str, Any] | None:
        """Explain one decision; None without a model or for multiclass and ranking decisions.

        Returns
        -------
        dict or None
            ``method``, ``scale``, ``baseline``, ``output``, ``contributions`` (per declared
            feature), ``sampling_error``, ``reasons`` (``feature``, ``contribution``, ``value``,
            ``text``), ``counterfactuals`` (``changes``, ``score``, ``outcome``, ``cost``,
            ``text``), ``counterfactual_text`` (when an adverse decision has none), ``text`` and
            ``locale``.
        """
        if scorer is None or not isinstance(spec.decision, (BinaryDecision, ScoreDecision)):
            return None
        summary = self._summary(spec)
        attribution = attribute(
            scorer,
            features,
            background=summary.background,
            permutations=self.permutations,
            seed=self.seed,
        )
        reasons = []
        for reason in reason_codes(attribution, spec=spec, max_reasons=self.max_reasons):
            feature = spec.feature(reason.feature)
            value = features.get(reason.feature)
            reasons.append(
                {
                    "feature": reason.feature,
                    "contribution": reason.contribution,
                    "value": _plain(value),
                    "text": reason_text(
                        feature,
                        value,
                        spec=spec,
                        reference=summary.reference.get(reason.feature),
                        locale=self.locale,
                        override=summary.templates.get(reason.feature),
                    ),
                }
            )
        adverse = (
            isinstance(spec.decision, BinaryDecision)
            and scored.outcome == spec.decision.adverse_outcome
        )
        options: list[dict[str, Any]] = []
        statement = None
        if adverse and self.max_counterfactuals > 0:
            found = counterfactuals(
                scorer, features, ranges=summary.ranges, max_options=self.max_counterfactuals
            )
            for option in found:
                changes = dict(option.changes)
                options.append(
                    {
                        **option.to_dict(),
                        "text": counterfactual_text(changes, spec=spec, locale=self.locale),
                    }
                )
            if not found:
                statement = self._none_found(spec)
        lines = [
            template(self.locale, "summary_reasons" if reasons and adverse else "summary").format(
                outcome=scored.outcome
            )
        ]
        if adverse:
            lines += [f"- {reason['text']}" for reason in reasons]
            lines += [option["text"] for option in options[:1]]
            if statement:
                lines.append(statement)
        return {
            **attribution.to_dict(),
            "reasons": reasons,
            "counterfactuals": options,
            "counterfactual_text": statement,
            "text": "\n".join(lines),
            "locale": self.locale,
        }

    def _summary(self, spec: SystemSpec) -> TrainingSummary:
        if isinstance(self.summaries, TrainingSummary):
            return self.summaries
        if self.summaries is not None and spec.id in self.summaries:
            return self.summaries[spec.id]
        return TrainingSummary()

    def _none_found(self, spec: SystemSpec) -> str:
        actionable = [describe(f) for f in spec.features if f.actionable]
        if not actionable:
            return template(self.locale, "nothing_actionable")
        return template(self.locale, "no_counterfactual").format(features=", ".join(actionable))


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
