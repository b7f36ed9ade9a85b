"""The gateway's explanation step: attributions → reason codes → sentences → counterfactuals.

Multiclass decisions are explained as "this class rather than the runner-up"; ranked items as
"recommended because" (a ranking of declared items: the top item rather than the second);
neither gets counterfactuals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ethica.errors import EthicaError
from ethica.explain._attribute import attribute, attribute_many
from ethica.explain._attribution import Attribution
from ethica.explain._contrast import attribute_contrast, chosen_and_runner_up
from ethica.explain._counterfactual import counterfactuals
from ethica.explain._reasons import DEFAULT_MAX_REASONS, Reason, reason_codes, supporting_reasons
from ethica.explain._reference import TrainingSummary
from ethica.explain._text import (
    Locale,
    counterfactual_text,
    no_change_text,
    reason_text,
    recommendation_text,
    recommended_reason_text,
    routed_reason_text,
    routing_text,
    template,
)
from ethica.governance import (
    BinaryDecision,
    FeatureSpec,
    MulticlassDecision,
    RankingDecision,
    SystemSpec,
)
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
        """Explain one decision; None without a model.

        A multiclass decision is explained by the features that favoured the chosen class over
        the runner-up (its attribution is of the margin difference, and it also has ``chosen``
        and ``runner_up``); a ranked item by the features that raised its score. Neither has
        counterfactuals.

        Returns
        -------
        dict or None
            ``method``, ``scale``, ``baseline``, ``output``, ``contributions`` (per declared
            feature), ``sampling_error``, ``reasons`` (``feature``, ``contribution``, ``value``,
            ``text``), ``counterfactuals`` (``changes``, ``score``, ``outcome``, ``cost``,
            ``text``), ``counterfactual_text`` (when an adverse decision has none), ``text`` and
            ``locale``.
        """
        if scorer is None:
            return None
        if isinstance(spec.decision, MulticlassDecision):
            return self._routing(spec=spec, scorer=scorer, features=features, scored=scored)
        if isinstance(spec.decision, RankingDecision) and spec.decision.items is not None:
            return self._top_item(spec=spec, scorer=scorer, features=features, scored=scored)
        if isinstance(spec.decision, RankingDecision):
            return self._recommendation(spec=spec, scorer=scorer, features=features)
        summary = self._summary(spec)
        attribution = attribute(
            scorer,
            features,
            background=summary.background,
            permutations=self.permutations,
            seed=self.seed,
        )
        return self._explained(spec, scorer, features, scored, attribution, summary)

    def explain_many(
        self,
        *,
        spec: SystemSpec,
        scorer: Scorer | None,
        rows: Sequence[tuple[Mapping[str, Any], Scored]],
    ) -> list[dict[str, Any] | None | EthicaError]:
        """:meth:`explain` for several decisions of one system: (features, scored) pairs.

        Binary and score decisions get their attributions computed together
        (:func:`~ethica.explain.attribute_many`: one TreeSHAP call for a LightGBM model); the
        rest are explained one by one. A decision that cannot be explained gets its error in
        its place, and the others are still explained.
        """
        if scorer is None:
            return [None] * len(rows)
        if isinstance(spec.decision, MulticlassDecision | RankingDecision):
            return [self._one(spec, scorer, features, scored) for features, scored in rows]
        summary = self._summary(spec)
        attributions = attribute_many(
            scorer,
            [features for features, _ in rows],
            background=summary.background,
            permutations=self.permutations,
            seed=self.seed,
        )
        explained: list[dict[str, Any] | None | EthicaError] = []
        for (features, scored), attribution in zip(rows, attributions, strict=True):
            if isinstance(attribution, EthicaError):
                explained.append(attribution)
                continue
            try:
                explanation = self._explained(spec, scorer, features, scored, attribution, summary)
            except EthicaError as error:
                explained.append(error)
            else:
                explained.append(explanation)
        return explained

    def _one(
        self, spec: SystemSpec, scorer: Scorer, features: Mapping[str, Any], scored: Scored
    ) -> dict[str, Any] | None | EthicaError:
        try:
            return self.explain(spec=spec, scorer=scorer, features=features, scored=scored)
        except EthicaError as error:
            return error

    def _explained(
        self,
        spec: SystemSpec,
        scorer: Scorer,
        features: Mapping[str, Any],
        scored: Scored,
        attribution: Attribution,
        summary: TrainingSummary,
    ) -> dict[str, Any]:
        """Explain a binary or score decision from its attribution."""
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
                statement = no_change_text(spec, locale=self.locale)
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

    def _routing(
        self, *, spec: SystemSpec, scorer: Scorer, features: Mapping[str, Any], scored: Scored
    ) -> dict[str, Any]:
        chosen, runner_up, attribution = self._contrast(spec, scorer, features, scored)
        found = supporting_reasons(attribution, spec=spec, max_reasons=self.max_reasons)
        # The sentences name the classes as the spec labels them ("standard support").
        said = spec.decision.label if isinstance(spec.decision, MulticlassDecision) else str
        reasons = [
            self._reason(
                reason,
                features,
                routed_reason_text(
                    spec.feature(reason.feature),
                    features.get(reason.feature),
                    chosen=said(chosen),
                    runner_up=said(runner_up),
                    locale=self.locale,
                ),
            )
            for reason in found
        ]
        text = routing_text(
            _values(spec, features, found),
            chosen=said(chosen),
            runner_up=said(runner_up),
            locale=self.locale,
        )
        return {
            **self._plain_result(attribution, reasons, text),
            "chosen": chosen,
            "runner_up": runner_up,
        }

    def _recommendation(
        self, *, spec: SystemSpec, scorer: Scorer, features: Mapping[str, Any]
    ) -> dict[str, Any]:
        summary = self._summary(spec)
        attribution = attribute(
            scorer,
            features,
            background=summary.background,
            permutations=self.permutations,
            seed=self.seed,
        )
        return self._recommended(spec, features, attribution)

    def _top_item(
        self, *, spec: SystemSpec, scorer: Scorer, features: Mapping[str, Any], scored: Scored
    ) -> dict[str, Any]:
        """Explain a ranking of declared items: why the top item rather than the second."""
        top, second, attribution = self._contrast(spec, scorer, features, scored)
        return {
            **self._recommended(spec, features, attribution),
            "top": top,
            "runner_up": second,
        }

    def _contrast(
        self, spec: SystemSpec, scorer: Scorer, features: Mapping[str, Any], scored: Scored
    ) -> tuple[str, str, Attribution]:
        """Return the chosen class (or top item), the runner-up, and their margin's attribution."""
        chosen, runner_up = chosen_and_runner_up(spec, scored)
        attribution = attribute_contrast(
            scorer,
            features,
            chosen=chosen,
            runner_up=runner_up,
            background=self._summary(spec).background,
        )
        return chosen, runner_up, attribution

    def _recommended(
        self, spec: SystemSpec, features: Mapping[str, Any], attribution: Attribution
    ) -> dict[str, Any]:
        """'Recommended because ...': the features that raised the (top) item's score."""
        found = supporting_reasons(attribution, spec=spec, max_reasons=self.max_reasons)
        reasons = [
            self._reason(
                reason,
                features,
                recommended_reason_text(
                    spec.feature(reason.feature), features.get(reason.feature), locale=self.locale
                ),
            )
            for reason in found
        ]
        text = recommendation_text(_values(spec, features, found), locale=self.locale)
        return self._plain_result(attribution, reasons, text)

    @staticmethod
    def _reason(reason: Reason, features: Mapping[str, Any], text: str) -> dict[str, Any]:
        return {
            "feature": reason.feature,
            "contribution": reason.contribution,
            "value": _plain(features.get(reason.feature)),
            "text": text,
        }

    def _plain_result(
        self, attribution: Attribution, reasons: list[dict[str, Any]], text: str
    ) -> dict[str, Any]:
        return {
            **attribution.to_dict(),
            "reasons": reasons,
            "counterfactuals": [],
            "counterfactual_text": None,
            "text": text,
            "locale": self.locale,
        }

    def _summary(self, spec: SystemSpec) -> TrainingSummary:
        if isinstance(self.summaries, TrainingSummary):
            return self.summaries
        if self.summaries is not None and spec.id in self.summaries:
            return self.summaries[spec.id]
        return TrainingSummary()


def _values(
    spec: SystemSpec, features: Mapping[str, Any], reasons: list[Reason]
) -> list[tuple[FeatureSpec, Any]]:
    return [(spec.feature(r.feature), features.get(r.feature)) for r in reasons]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
