"""Model cards per model version: Hugging Face-style YAML metadata and a readable body.

The card's figures are those of the latest audit of decisions (or, failing that, of the
training data) from ``ethica.fairness``: each metric per group with its 95% interval. The
Markdown form (``.md``) is what a model repository shows; HTML, PDF and JSON are as every
document's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import yaml

from ethica.errors import InputError
from ethica.governance._classify import classify
from ethica.governance._documents import DOCUMENT_TYPES, Document, Item, Section, person
from ethica.governance._evidence import AuditEvidence
from ethica.governance._record import ModelVersion, SystemRecord
from ethica.governance._sections import (
    METRIC_WORDS,
    decision_rule,
    metrics_table,
    oversight_words,
    percent,
    record_refs,
)
from ethica.governance._spec import ScoreDecision, SystemSpec
from ethica.governance._use_cases import USE_CASES

__all__ = ["model_card"]


def model_card(
    record: SystemRecord, *, generated_at: datetime, version: str | None = None
) -> Document:
    """Build the model card of one model version (the latest by default)."""
    model = _version(record, version)
    spec = record.spec
    classification = classify(spec)
    facts = classification.facts
    audit = record.audit("decisions") or record.audit("training-data")
    details = Section("details", "Model details", "", (
        Item("Model", f"{spec.name}, version {model.version}", "model registry"),
        Item("Algorithm", model.algorithm or f"a {model.format} model", "model registry"),
        Item("Owner", spec.owner, "spec"),
        Item("Trained", model.trained_at.date().isoformat(), "model registry")
        if model.trained_at else person("Trained", "When was this version trained?"),
        Item("Risk tier", classification.summary(), "ethica.governance.classify"),
    ))  # fmt: skip
    uses = Section("intended-use", "Intended use", "", (
        Item("Intended purpose", facts.intended_purpose, "spec ai_act.intended_purpose"),
        Item("Decision", decision_rule(spec), "spec decision"),
        Item("Out of scope", f"Any use other than {USE_CASES[facts.domain].label}; decisions "
             "without the oversight policy below; decisions about people the training data "
             "did not represent.", "spec"),
    ))  # fmt: skip
    data = Section("data", "Training data", "", (
        Item("Data", model.training_data or "not described", "model registry")
        if model.training_data else person("Data", "Describe the training data."),
        Item("Rows", str(model.training_rows), "model registry")
        if model.training_rows else person("Rows", "How many rows was it trained on?"),
        Item("Inputs", ", ".join(f.name for f in spec.features), "spec features"),
        Item("Not used", ", ".join(p.name for p in spec.protected_attributes) + " (protected "
             "attributes, kept for fairness monitoring only)", "spec protected_attributes")
        if spec.protected_attributes else Item("Not used", "no protected attribute", "spec"),
    ))  # fmt: skip
    evaluation = Section(
        "evaluation", "Evaluation: metrics by group", "",
        (Item("Audit", f"{audit.dataset} on {audit.observed_at.date()}, {audit.rows} rows; "
              f"accuracy {percent(audit.accuracy)} overall", f"{audit.scope} audit"),)
        if audit else (person("Audit", "No audit is recorded: run ethica audit on held-out "
                              "decisions with true outcomes."),),
        (metrics_table(audit, caption="Metrics by group with 95% intervals"),) if audit else (),
    )  # fmt: skip
    limitations = Section("limitations", "Limitations", "", (
        Item("Gaps found", " ".join(audit.findings) or "No material gap between groups.",
             f"{audit.scope} audit") if audit else person("Gaps found", "Not yet audited."),
        Item("Known proxies", "; ".join(f"{f.name} for {', '.join(f.proxy_for)}"
             for f in spec.features if f.proxy_for) or "none declared", "spec features"),
    ))  # fmt: skip
    ethics = Section("ethics", "Ethical considerations", "", (
        Item("Oversight", oversight_words(spec.oversight, high_risk=classification.high_risk),
             "spec oversight"),
        Item("Explanations", "Every decision comes with its main reasons and, for adverse "
             "ones, what would have changed it, over features the customer can act on.",
             "ethica.explain"),
        Item("Words", "An audit assesses disparities; no tool makes a system fair.", "ethica"),
    ))  # fmt: skip
    sections = (details, uses, data, evaluation, limitations, ethics)
    metadata = _metadata(spec, model, audit, classification.tier.key)
    markdown = _markdown(spec, model, metadata, sections)
    return Document(
        type=DOCUMENT_TYPES["model-card"],
        system=spec.id,
        title=f"Model card: {spec.name} {model.version}",
        generated_at=generated_at,
        sections=sections,
        sources=record_refs(record),
        ledger=tuple(record.ledger),
        metadata={
            "card": metadata,
            "markdown": markdown,
            "model_version": model.version,
            "spec_digest": classification.spec_digest,
        },
    )


def _version(record: SystemRecord, version: str | None) -> ModelVersion:
    if version is None:
        if record.model is None:
            raise InputError(f"{record.spec.id} has no model version recorded: add one to models")
        return record.model
    for model in record.models:
        if model.version == version:
            return model
    known = ", ".join(m.version for m in record.models) or "none"
    raise InputError(f"{record.spec.id} has no model version {version!r}; recorded: {known}")


def _metadata(
    spec: SystemSpec, model: ModelVersion, audit: AuditEvidence | None, tier: str
) -> dict[str, Any]:
    task = "tabular-regression" if isinstance(spec.decision, ScoreDecision) else (
        "tabular-classification"
    )  # fmt: skip
    metrics: list[dict[str, Any]] = []
    if audit is not None:
        if audit.accuracy is not None:
            metrics.append(
                {"type": "accuracy", "value": round(audit.accuracy, 4), "name": "Accuracy"}
            )
        for m in audit.metrics:
            if m.metric in METRIC_WORDS and m.value is not None:
                interval = f" (95% interval {percent(m.low)} to {percent(m.high)})"
                metrics.append({
                    "type": m.metric,
                    "value": round(m.value, 4),
                    "name": f"{METRIC_WORDS[m.metric].capitalize()}, {m.grouping} = {m.group}"
                    + interval,
                })  # fmt: skip
    index: dict[str, Any] = {
        "name": f"{spec.id}-{model.version}",
        "results": [
            {
                "task": {"type": task, "name": spec.name},
                "dataset": {
                    "type": audit.scope if audit else "none",
                    "name": audit.dataset if audit else "not audited",
                },
                "metrics": metrics,
            }
        ],
    }
    return {
        "library_name": model.format,
        "license": "other",
        "pipeline_tag": task,
        "tags": ["ethica", task, f"eu-ai-act-{tier}"],
        "model-index": [index] if metrics else [],
    }


def _markdown(
    spec: SystemSpec, model: ModelVersion, metadata: dict[str, Any], sections: tuple[Section, ...]
) -> str:
    header = yaml.safe_dump(metadata, sort_keys=True, allow_unicode=True, width=100)
    lines = ["---", header.rstrip(), "---", "", f"# {spec.name} (model {model.version})", ""]
    for section in sections:
        lines += [f"## {section.title}", ""]
        for item in section.items:
            value = item.value if item.value is not None else f"*To complete: {item.prompt}*"
            lines.append(f"- **{item.label}**: {value}")
        for table in section.tables:
            lines += ["", f"{table.caption}:", "", _md_row(table.columns)]
            lines.append(_md_row(tuple("---" for _ in table.columns)))
            lines += [_md_row(row) for row in table.rows]
        lines.append("")
    return "\n".join(lines)


def _md_row(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
