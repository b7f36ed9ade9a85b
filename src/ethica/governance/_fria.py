"""The fundamental-rights impact assessment of Art. 27, points (a) to (f), prefilled.

Volumes give the period and frequency of use and the groups affected; audits and monitoring
give the specific risks; the spec gives the oversight and what happens when risks materialise.
Named roles sign it off; until each has, the document says it awaits their signature.
"""

from __future__ import annotations

from datetime import datetime

from ethica.governance._classify import classify
from ethica.governance._documents import (
    DOCUMENT_TYPES,
    Document,
    Item,
    Section,
    SignOff,
    Table,
    person,
)
from ethica.governance._evidence import OversightRecord
from ethica.governance._record import SystemRecord, Volumes
from ethica.governance._sections import decision_rule, oversight_words, percent, record_refs

__all__ = ["FRIA_ROLES", "fria"]

FRIA_ROLES = ("system owner", "data protection officer", "risk and compliance officer")
"""The roles that sign an impact assessment off."""


def fria(record: SystemRecord, *, generated_at: datetime) -> Document:
    """Build the Art. 27 impact assessment of ``record``'s system, prefilled from its records."""
    spec = record.spec
    classification = classify(spec)
    facts = classification.facts
    volumes = record.volumes
    process = Section("a", "(a) The process in which the system is used", "Art. 27(1)(a)", (
        Item("Intended purpose", facts.intended_purpose, "spec ai_act.intended_purpose"),
        Item("Decision", decision_rule(spec), "spec decision"),
        Item("Classification", classification.summary(), "ethica.governance.classify"),
        person("The deployer's process", "Describe the business process around the system: who "
               "requests a decision, what follows from it."),
    ))  # fmt: skip
    period = Section(
        "b", "(b) Period and frequency of use", "Art. 27(1)(b)", _period_items(volumes),
        (_months_table(volumes),) if volumes and volumes.by_month else (),
    )  # fmt: skip
    persons = Section("c", "(c) Categories of persons and groups affected", "Art. 27(1)(c)", (
        Item("Who is affected", ", ".join(facts.affected), "spec ai_act.affected"),
        Item("Groups monitored", ", ".join(p.name for p in spec.protected_attributes) or "none",
             "spec protected_attributes"),
    ), _group_tables(volumes))  # fmt: skip
    risks = Section(
        "d", "(d) Specific risks of harm", "Art. 27(1)(d)",
        (person("Other risks", "Add risks the records cannot show (e.g. exclusion of people "
                "without a credit history) and the provider's information (Art. 13)."),),
        (Table("Risks found in the records", ("Source", "Finding"), _risks(record)),),
    )  # fmt: skip
    reviewed = record.latest(OversightRecord)
    oversight = Section("e", "(e) Human oversight", "Art. 27(1)(e); Art. 14", (
        Item("Design", oversight_words(spec.oversight, high_risk=classification.high_risk),
             "spec oversight"),
        Item("In operation", f"{reviewed.reviewers} reviewers decided {reviewed.decided} cases "
             f"(as of {reviewed.observed_at.date()}); override rate "
             f"{percent(reviewed.override_rate)}; seeded-case accuracy "
             f"{percent(reviewed.seeded_accuracy)}.", "review records") if reviewed else
        person("In operation", "No record of reviews: name the reviewers and their training."),
    ))  # fmt: skip
    measures = Section("f", "(f) Measures if the risks materialise", "Art. 27(1)(f)", (
        Item("Kill switch", "The system can be suspended at once (ethica systems suspend): a "
             "person then decides every request until it is resumed; both are ledger entries.",
             "ethica"),
        Item("Complaints and appeals", "Customers see each decision and its reasons in the "
             "portal, ask for a person to review it (an appeal reopens the case) and report "
             "concerns, which officers answer.", "ethica"),
        Item("Serious incidents", "Officers open an incident from an alert, a concern or by "
             "hand; its 2, 10 and 15-day reporting clocks run from awareness (Art. 73).",
             "ethica"),
        person("Internal governance", "Who decides on measures, and how the owner "
               f"({spec.owner}) is reached."),
        person("Notification", "Date the market surveillance authority was notified of the "
               "results (Art. 27(3))."),
    ), _mitigations(record))  # fmt: skip
    given = {s.role.lower(): s for s in record.signoffs}
    roles = list(FRIA_ROLES) + [r for r in given if r not in FRIA_ROLES]
    signoffs = tuple(
        SignOff(role, given[role].name, given[role].signed_on.isoformat(), given[role].statement)
        if role in given
        else SignOff(role)
        for role in roles
    )
    return Document(
        type=DOCUMENT_TYPES["fria"],
        system=spec.id,
        title=f"Fundamental-rights impact assessment: {spec.name}",
        generated_at=generated_at,
        sections=(process, period, persons, risks, oversight, measures),
        sources=record_refs(record),
        ledger=tuple(record.ledger),
        signoffs=signoffs,
        metadata={"spec_digest": classification.spec_digest},
    )


def _mitigations(record: SystemRecord) -> tuple[Table, ...]:
    """Table the mitigations tried, served, rolled back or withdrawn, each with its entry."""
    rows = tuple(
        (c.at.date().isoformat(), c.what, str(c.ref) if c.ref else "–")
        for c in sorted(record.changes, key=lambda c: c.at)
        if c.mitigation
    )
    return (
        (Table("Mitigations tried and served", ("Date", "Decision", "Ledger entry"), rows),)
        if rows
        else ()
    )


def _period_items(volumes: Volumes | None) -> tuple[Item, ...]:
    if volumes is None:
        return (
            person("Period of use", "No decision volumes are recorded: give the intended period."),
            person("Frequency", "Give the expected number of decisions per month."),
        )
    months = max(len(volumes.by_month), 1)
    return (
        Item("Period of use", f"in use from {volumes.period_start} to {volumes.period_end} "
             "(so far)", "decision log"),
        Item("Frequency", f"{volumes.decisions} decisions, about {volumes.decisions // months} "
             "a month", "decision log"),
    )  # fmt: skip


def _months_table(volumes: Volumes) -> Table:
    rows = tuple((month, str(n)) for month, n in sorted(volumes.by_month.items()))
    return Table("Decisions per month", ("Month", "Decisions"), rows)


def _group_tables(volumes: Volumes | None) -> tuple[Table, ...]:
    if volumes is None:
        return ()
    tables = []
    for attribute, groups in sorted(volumes.by_group.items()):
        adverse = volumes.adverse_by_group.get(attribute, {})
        rows = tuple(
            (group, str(n), percent(adverse[group] / n) if n and group in adverse else "–")
            for group, n in sorted(groups.items())
        )
        tables.append(Table(f"Decisions by {attribute}", (attribute, "Decisions", "Adverse"), rows))
    return tuple(tables)


def _risks(record: SystemRecord) -> tuple[tuple[str, str], ...]:
    rows: list[tuple[str, str]] = []
    for scope in ("training-data", "decisions", "monitoring"):
        audit = record.audit(scope)
        if audit is not None:
            label = f"{scope} audit, {audit.observed_at.date()}"
            rows += [(label, finding) for finding in audit.findings]
            small = sorted({f"{m.grouping} = {m.group}" for m in audit.metrics if 0 < m.count < 30})
            if small:
                rows.append((label, f"groups too small to assess reliably: {', '.join(small)}"))
    for feature in record.spec.features:
        if feature.proxy_for:
            rows.append(
                ("spec", f"{feature.name} is a known proxy for {', '.join(feature.proxy_for)}")
            )
    return tuple(rows)
