"""The words for metrics, criteria and corrections, one glossary for findings, reports, charts.

Every sentence names a figure the same way; decision kinds carry their own words (``_kinds``).
"""

from __future__ import annotations

#: What each metric means for the people affected, used in sentences.
METRIC_WORDS: dict[str, str] = {
    "selection_rate": "selection rate (share given the favourable outcome)",
    "true_positive_rate": "true positive rate (share of those who merited it who got it)",
    "false_positive_rate": "false positive rate (share of those who did not merit it who got it)",
    "false_negative_rate": "false negative rate (share of those who merited it who were refused)",
    "precision": "precision (share of favourable decisions that proved right)",
    "accuracy": "accuracy",
    "base_rate": "base rate (share with the favourable true outcome)",
}
#: What a group holds a share of, for the metrics that are shares of a total (rankings).
SHARE_WORDS: dict[str, str] = {
    "share_of_exposure": "of exposure",
    "share_of_top_k": "of the top-{k} places",
}
#: Short names where space is scarce (chart legends).
SHORT_NAMES: dict[str, str] = {
    "selection_rate": "selection rate",
    "true_positive_rate": "TPR",
    "false_positive_rate": "FPR",
    "precision": "precision",
}
#: Named criteria in words: what each asks of the groups.
CRITERIA_WORDS: dict[str, tuple[str, str]] = {
    "demographic_parity": ("Demographic parity", "equal selection rates"),
    "equal_opportunity": ("Equal opportunity", "equal true positive rates"),
    "equalized_odds": (
        "Equalized odds",
        "equal true and false positive rates (the worse of the two is shown)",
    ),
    "predictive_parity": ("Predictive parity", "equal precision"),
}
#: How the p-value correction is named in a report.
CORRECTION_WORDS: dict[str, str] = {
    "holm": "Holm (controls the chance of any false alarm)",
    "bh": "Benjamini-Hochberg (controls the share of false alarms)",
    "none": "none",
}
#: Said of a gap whose interval and test disagree at the corrected level.
BORDERLINE = (
    "A borderline case: at this level the interval and the test disagree on whether the gap is zero"
)
#: What a rate's denominator counts, for the headline rates computed over part of a group.
SUPPORT_WORDS: dict[str, str] = {
    "true_positive_rate": "positives (rows whose true outcome was favourable)",
    "false_positive_rate": "negatives (rows whose true outcome was unfavourable)",
    "precision": "favourable decisions",
}
#: What a metric is computed over, for saying why it is undefined (0/0) in a group.
DENOMINATOR_WORDS: dict[str, str] = {
    "true_positive_rate": "positives",
    "false_negative_rate": "positives",
    "false_positive_rate": "negatives",
    "true_negative_rate": "negatives",
    "precision": "favourable decisions",
    "false_discovery_rate": "favourable decisions",
    "negative_predictive_value": "unfavourable decisions",
    "false_omission_rate": "unfavourable decisions",
    "balanced_accuracy": "positives or no negatives",
    "roc_auc": "positives or no negatives",
    "f1": "positives and no favourable decisions",
}
#: The interval shown in a bootstrap column where the percentile interval was too coarse.
BOOT_METHOD_WORDS: dict[str, str] = {
    "wilson": "Wilson, too few outcomes to resample",
    "newcombe": "Newcombe, too few outcomes to resample",
}


def confidence_words(level: float) -> str:
    """Write a confidence level as a percentage with the digits it needs: 95%, 99.87%."""
    return f"{level * 100:.4g}%"


#: Metrics with a cut-off (``"in_top_k[5]"``), named with it: ``{k}`` is the cut-off.
CUT_OFF_NAMES: dict[str, str] = {
    "in_top_k": "share shown in the top {k}",
    "share_of_top_k": "share of the top-{k} places",
}


def plain_name(metric: str) -> str:
    """Name a metric in plain words without its explanation: ``"true positive rate"``.

    A metric with a cut-off reads with it: ``"in_top_k[1]"`` is ``"share shown in the top 1"``.
    """
    base, bracket, rest = metric.partition("[")
    if bracket and rest.endswith("]") and base in CUT_OFF_NAMES:
        return CUT_OFF_NAMES[base].format(k=rest[:-1])
    return metric.replace("_", " ")


def metric_words(metric: str) -> str:
    """Name a metric for a sentence, with what it means when the glossary says it."""
    return METRIC_WORDS.get(metric, plain_name(metric))


def short_name(metric: str) -> str:
    """Name a metric where space is scarce: ``"TPR"``."""
    return SHORT_NAMES.get(metric, plain_name(metric))
