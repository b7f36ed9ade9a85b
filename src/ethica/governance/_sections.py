"""Parts that several documents share: tables of features, metrics and obligations, in words."""

from __future__ import annotations

from collections.abc import Iterable

from ethica.governance._classification import Classification
from ethica.governance._documents import Item, Section, Table
from ethica.governance._evidence import AuditEvidence, LedgerRef
from ethica.governance._fact_words import fact_words
from ethica.governance._law import cite_text
from ethica.governance._record import SystemRecord
from ethica.governance._register import Register
from ethica.governance._spec import (
    BinaryDecision,
    MulticlassDecision,
    OversightSpec,
    RankingDecision,
    SystemSpec,
)

__all__ = [
    "METRIC_WORDS",
    "classification_section",
    "decision_rule",
    "features_table",
    "metrics_table",
    "oversight_words",
    "percent",
    "record_refs",
    "register_table",
]

METRIC_WORDS = {
    "selection_rate": "selection rate",
    "true_positive_rate": "true positive rate",
    "false_positive_rate": "false positive rate",
    "precision": "precision",
    "accuracy": "accuracy",
}
"""The metrics documents report per group, and their names in words."""


def percent(value: float | None) -> str:
    """Write a share as a percentage with one decimal, or a dash."""
    return "–" if value is None else f"{100 * value:.1f}%"


def classification_section(classification: Classification) -> Section:
    """Return the system's AI Act classification and every ground, as a section."""
    items = [
        Item("Risk tier", f"{classification.tier.label} ({classification.tier.key})",
             "ethica.governance.classify"),
        Item("Roles", " and ".join(classification.roles), "spec ai_act.roles"),
    ]  # fmt: skip
    if classification.mismatch:
        items.append(Item("Declared tier", classification.mismatch, "spec risk_tier"))
    rows = tuple(
        (cite_text(g.citations), g.statement, "; ".join(map(fact_words, g.facts)))
        for g in classification.grounds
    )
    table = Table("Grounds of the classification", ("Provisions", "Ground", "Facts"), rows)
    return Section("classification", "AI Act classification", "", tuple(items), (table,))


def decision_rule(spec: SystemSpec) -> str:
    """Say how the model's output becomes a decision."""
    d = spec.decision
    if isinstance(d, BinaryDecision):
        return (
            f"Binary: {d.positive} when the score is at least {d.threshold}, otherwise "
            f"{d.negative}; {d.adverse_outcome} is adverse to the customer."
        )
    if isinstance(d, MulticlassDecision):
        adverse = f"; adverse: {', '.join(d.adverse)}" if d.adverse else ""
        return f"Multiclass: one of {', '.join(d.classes)}{adverse}."
    if isinstance(d, RankingDecision):
        items = f" of {', '.join(d.items)}" if d.items else ""
        return f"Ranking: the top {d.top_k} items{items}, best first."
    return f"Score{f' in {d.unit}' if d.unit else ''}."


def features_table(spec: SystemSpec) -> Table:
    """Return every input the model receives, with its data category and meaning."""
    rows = tuple(
        (
            f.name,
            f.type,
            f.data_category,
            f.description or "–",
            "yes" if f.actionable else "no",
            ", ".join(f.proxy_for) or "–",
        )
        for f in spec.features
    )
    return Table(
        "Inputs of the model",
        ("Feature", "Type", "Data category", "Meaning", "Customer can change", "Proxy for"),
        rows,
    )


def oversight_words(oversight: OversightSpec, *, high_risk: bool) -> str:
    """Say when a person reviews a decision, in one paragraph."""
    held: list[str] = []
    if oversight.review_adverse:
        held.append("every adverse decision")
    if oversight.margin > 0:
        held.append(f"scores within {oversight.margin} of the threshold")
    if oversight.review_unfamiliar:
        held.append("inputs unlike the training data")
    if oversight.sample_rate > 0:
        held.append(f"a random {percent(oversight.sample_rate)} of the others for quality review")
    if not held:
        return "No decision is held for a person; customers can still ask for human review."
    sla = f"{oversight.sla_hours} hours" if oversight.sla_hours else "two business days"
    parts = [
        f"A person reviews {', '.join(held)} before it takes effect, within {sla}.",
        "Customers can ask for a person to review any decision (an appeal reopens the case).",
    ]
    if oversight.blind_first:
        parts.append(
            "Reviewers record their own judgement before they see the model's (automation bias)."
        )
    if high_risk:
        parts.append(
            "Overriding an adverse decision of a high-risk system needs a second reviewer."
        )
    return " ".join(parts)


def metrics_table(audit: AuditEvidence, *, caption: str) -> Table:
    """Return, per group, each reported metric with its interval and the group's size."""
    rows = tuple(
        (
            f"{m.grouping} = {m.group}",
            METRIC_WORDS[m.metric],
            percent(m.value),
            f"{percent(m.low)} – {percent(m.high)}",
            str(m.count),
        )
        for m in audit.metrics
        if m.metric in METRIC_WORDS
    )
    return Table(caption, ("Group", "Metric", "Value", "95% interval", "Rows"), rows)


def register_table(register: Register) -> Table:
    """Return every obligation with its status and why."""
    rows = tuple(
        (cite_text(r.obligation.citations), r.obligation.title, r.status.label, r.reason)
        for r in register.rows
    )
    return Table(
        f"Obligations on {register.today.isoformat()}",
        ("Provisions", "Obligation", "Status", "Why"),
        rows,
    )


def record_refs(record: SystemRecord, *extra: Iterable[LedgerRef]) -> tuple[LedgerRef, ...]:
    """Return every ledger entry that a record's evidence, attestations, models and changes cite."""
    refs: list[LedgerRef] = [r for e in record.evidence for r in e.refs]
    refs += [a.ref for a in record.attestations if a.ref is not None]
    refs += [r for m in record.models for r in m.refs]
    refs += [c.ref for c in record.changes if c.ref is not None]
    for more in extra:
        refs += list(more)
    return tuple(refs)
