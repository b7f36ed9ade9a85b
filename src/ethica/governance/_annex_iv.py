"""The technical documentation of Annex IV (Art. 11), all nine points, from a system's record."""

from __future__ import annotations

from datetime import date, datetime

from ethica._version import __version__
from ethica.governance._classify import classify
from ethica.governance._documents import DOCUMENT_TYPES, Document, Item, Section, Table, person
from ethica.governance._evidence import AuditEvidence, ExplanationRecord, IncidentLog
from ethica.governance._record import SystemRecord
from ethica.governance._register import obligation_register
from ethica.governance._sections import (
    classification_section,
    decision_rule,
    features_table,
    metrics_table,
    oversight_words,
    percent,
    record_refs,
    register_table,
)

__all__ = ["annex_iv"]

_GATEWAY = (
    "Each decision is requested through ethica's gateway (REST or the Python SDK) and passes "
    "consent checks, data minimisation (only declared features reach the model; protected "
    "attributes go to a separate store for monitoring only), scoring, explanation, the "
    "oversight policy, and a hash-chained ledger entry before the answer."
)

_ARCHITECTURE = (
    "One service composes the parts: consent rules per purpose (fideslang data uses), the "
    "minimiser, the scorer of the registered model, the explainer (exact TreeSHAP for tree "
    "models, exact for linear ones), the oversight policy with its review queue, and the "
    "ledger writer (one hash chain per system, anchored in a root chain and checkpointed)."
)


def annex_iv(
    record: SystemRecord, *, generated_at: datetime, today: date | None = None
) -> Document:
    """Build the Annex IV technical documentation of ``record``'s system.

    Parameters
    ----------
    record : SystemRecord
        The spec and everything recorded about the system.
    generated_at : datetime
        The document's time (timezone-aware); the same record and time give the same bytes.
    today : date, optional
        The day of the obligations table (point 5); ``generated_at``'s date by default.
    """
    spec = record.spec
    classification = classify(spec)
    facts = classification.facts
    register = obligation_register(
        spec,
        today=today or generated_at.date(),
        evidence=record.evidence,
        attestations=record.attestations,
        classification=classification,
    )
    model = record.model
    provider = facts.organisation.name if facts.organisation else None
    general = Section("1", "1. General description", "Annex IV point 1", (
        Item("Intended purpose", facts.intended_purpose, "spec ai_act.intended_purpose"),
        Item("Provider", provider, "spec ai_act.organisation") if provider else
        person("Provider", "Name the provider (AI Act Art. 3(3))."),
        Item("System", f"{spec.name} ({spec.id}); owner {spec.owner}", "spec"),
        Item("Model version", model.version, "model registry") if model else
        person("Model version", "No model version is recorded: name the version in service."),
        Item("Interaction with other systems", _GATEWAY, "ethica architecture"),
        Item("Software versions", f"ethica {__version__}"
             + (f"; model stored as {model.format}" if model else ""), "ethica"),
        person("Forms in which it is made available", "Packages, downloads or APIs, and who "
               "receives them (Annex IV point 1(d))."),
        person("Hardware", "The hardware it is intended to run on (Annex IV point 1(e))."),
        Item("Interfaces for deployers", "Reviewer console (review queue, case pages), officer "
             "dashboard (inventory, monitoring, ledger verification), customer portal "
             "(decisions, reasons, appeals, consent).", "ethica"),
        Item("Instructions for use", "The model card generated with this documentation "
             "(purpose, data, performance by group, limitations).", "ethica.governance"),
    ))  # fmt: skip
    design = [
        Item("Decision rule", decision_rule(spec), "spec decision"),
        Item(
            "Protected attributes",
            (", ".join(p.name for p in spec.protected_attributes) or "none")
            + ": collected for fairness monitoring only, never given to the model or shown in "
            "an explanation.",
            "spec protected_attributes",
        ),
        Item("Method", model.algorithm or f"a {model.format} model", "model registry")
        if model
        else person("Method", "Describe how the model was developed and trained."),
    ]
    if spec.fallback is not None:
        design.append(
            Item(
                "Without profiling",
                "Customers who object to profiling get a fixed, non-personalised decision.",
                "spec fallback",
            )
        )
    tables: list[Table] = [features_table(spec)]
    training = record.audit("training-data")
    data_items = [
        Item("Training data", _training_words(record), "model registry")
        if model and (model.training_rows or model.training_data)
        else person("Training data", "Describe the data sets: provenance, scope, labelling, "
                    "cleaning (Annex IV point 2(d))."),
        Item("Examination for bias", f"Audited on {training.observed_at.date()}: {training.rows} "
             f"rows by {', '.join(training.sensitive_features)}; "
             + (f"{len(training.findings)} material gaps: " + " ".join(training.findings)
                if training.findings else "no material gap found."), "training-data audit")
        if training else person("Examination for bias", "No audit of the training data is "
                                "recorded: run ethica audit on it (Art. 10(2)(f))."),
    ]  # fmt: skip
    decisions = record.audit("decisions")
    if decisions is not None:
        tables.append(metrics_table(decisions, caption=f"Validation: {decisions.dataset}"))
    development = Section("2", "2. Elements and development", "Annex IV point 2", (
        *design,
        Item("Architecture", _ARCHITECTURE, "ethica architecture"),
        *data_items,
        Item("Human oversight", oversight_words(spec.oversight, high_risk=classification.high_risk),
             "spec oversight"),
        person("Pre-determined changes", "Changes to the system and its performance that were "
               "planned at the first conformity assessment (Annex IV point 2(f))."),
        Item("Validation and testing", _validation_words(decisions), "decisions audit")
        if decisions else person("Validation and testing", "No audit of decisions with true "
                                 "outcomes is recorded."),
        Item("Cybersecurity", "Ledger entries are hash-chained (SHA-256) and their heads signed "
             "(Ed25519); personal fields are sealed per customer (AES-256-GCM) and erased by "
             "destroying the key; models load with skops, never plain pickle.", "ethica"),
    ), tuple(tables))  # fmt: skip
    explained = record.latest(ExplanationRecord)
    influence = Table(
        "What drives the decisions (share of all attributions)",
        ("Feature", "Share"),
        tuple((i.feature, percent(i.share)) for i in record.influences),
    )
    functioning = Section("3", "3. Monitoring, functioning and control", "Annex IV point 3", (
        Item("Accuracy", f"{percent(decisions.accuracy)} overall on {decisions.dataset}; by group "
             "in point 2.", "decisions audit") if decisions and decisions.accuracy is not None
        else person("Accuracy", "State the expected level of accuracy overall and by group."),
        Item("Known limitations", " ".join(decisions.findings) or "No material gap found.",
             "decisions audit") if decisions else
        person("Known limitations", "Describe the limitations and the groups it serves less well."),
        person("Foreseeable unintended outcomes", "Risks to health, safety, fundamental rights "
               "and of discrimination that can be foreseen (Annex IV point 3)."),
        Item("Explanations", f"{explained.explained} of {explained.decisions} decisions from "
             f"{explained.period_start} to {explained.period_end} were explained to the customer.",
             "explanations served") if explained else
        person("Explanations", "No record of explanations served."),
        Item("Input data", "See the table of inputs in point 2; values outside the ranges seen "
             "in training are " + ("held for review." if spec.oversight.review_unfamiliar
                                   else "scored as given."), "spec"),
    ), (influence,) if record.influences else ())  # fmt: skip
    metrics = Section("4", "4. Appropriateness of the performance metrics", "Annex IV point 4", (
        Item("Metrics reported", "Selection rate (demographic parity), true and false positive "
             "rates (equal opportunity, equalized odds), precision (predictive parity) and "
             "accuracy, per group with 95% intervals (Wilson), gaps tested with Holm-corrected "
             "tests; groups below the minimum size are reported but not asserted.",
             "ethica.fairness"),
        person("Why they fit this system", "Explain why these metrics suit the decision and the "
               "people it affects."),
    ))  # fmt: skip
    risk = Section("5", "5. Risk management system", "Annex IV point 5; Art. 9", (
        Item("Status of Art. 9", f"{register.status('ai-act-9').status.label}: "
             f"{register.status('ai-act-9').reason}", "obligations register")
        if classification.high_risk else Item("Status of Art. 9", "not required: the system is "
                                              "not high-risk", "classification"),
        person("Description", "Describe the risk management process: identification, "
               "estimation, evaluation and measures (Art. 9(2))."),
    ), (register_table(register),))  # fmt: skip
    changes = Section("6", "6. Changes through the lifecycle", "Annex IV point 6", (), (
        Table("Recorded changes", ("Date", "Change", "Ledger entry"), tuple(
            (c.at.date().isoformat(), c.what, str(c.ref) if c.ref else "–")
            for c in sorted(record.changes, key=lambda c: c.at))),
        Table("Model versions", ("Version", "Format", "Trained"), tuple(
            (m.version, m.format, m.trained_at.date().isoformat() if m.trained_at else "–")
            for m in record.models)),
    ))  # fmt: skip
    standards = Section("7", "7. Standards applied", "Annex IV point 7", (
        Item("Standards", "; ".join(record.standards), "record") if record.standards else
        person("Standards", "List the harmonised standards applied, or describe the solutions "
               "adopted to meet Chapter III, Section 2."),
    ))  # fmt: skip
    declaration = Section("8", "8. EU declaration of conformity", "Annex IV point 8; Art. 47", (
        person("Declaration", "Attach a copy of the EU declaration of conformity (Art. 47)."),
    ))  # fmt: skip
    monitoring = record.audit("monitoring")
    incidents = record.latest(IncidentLog)
    post_market = Section("9", "9. Post-market monitoring", "Annex IV point 9; Art. 72", (
        Item("Latest monitoring", f"{monitoring.dataset}, {monitoring.observed_at.date()}: "
             f"{monitoring.rows} decisions by {', '.join(monitoring.sensitive_features)}; "
             + (" ".join(monitoring.findings) or "no material gap."), "monitoring")
        if monitoring else person("Latest monitoring", "No monitoring result is recorded."),
        Item("Serious incidents", f"{incidents.open} open; past a deadline: "
             f"{', '.join(incidents.overdue) or 'none'}", "incident log")
        if incidents else Item("Serious incidents", "none recorded", "incident log"),
        person("Post-market monitoring plan", "Attach the plan of Art. 72(3)."),
    ))  # fmt: skip
    return Document(
        type=DOCUMENT_TYPES["annex-iv"],
        system=spec.id,
        title=f"Technical documentation: {spec.name}",
        generated_at=generated_at,
        sections=(
            classification_section(classification),
            general,
            development,
            functioning,
            metrics,
            risk,
            changes,
            standards,
            declaration,
            post_market,
        ),
        sources=record_refs(record),
        ledger=tuple(record.ledger),
        metadata={"spec_digest": classification.spec_digest},
    )


def _training_words(record: SystemRecord) -> str:
    model = record.model
    assert model is not None
    rows = f"{model.training_rows} rows" if model.training_rows else "rows not recorded"
    when = f", trained {model.trained_at.date()}" if model.trained_at else ""
    return f"{model.training_data or 'Training data'} ({rows}{when})."


def _validation_words(audit: AuditEvidence) -> str:
    gaps = f"{len(audit.findings)} material gaps" if audit.findings else "no material gap"
    return (
        f"Audit of {audit.dataset} on {audit.observed_at.date()} ({audit.rows} decisions with "
        f"true outcomes): accuracy {percent(audit.accuracy)}, {gaps}; metrics by group in the "
        "table below, each with its 95% interval."
    )
