"""The demo run: generate customers, train the credit model, audit its decisions, write reports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ethica.demo._customers import PROTECTED_ATTRIBUTES, generate_customers
from ethica.demo._model import train_credit_model
from ethica.fairness import Audit, audit

#: Bootstrap replicates of the demo audit.
BOOTSTRAP = 500
REPORT_TITLE = "Credit limit increase: fairness audit (synthetic demo)"


@dataclass(frozen=True)
class DemoResult:
    """What :func:`run_demo` produced.

    Attributes
    ----------
    audit
        The audit of the held-out decisions.
    decisions
        The held-out decisions that were audited (features, protected attributes, ``repaid``,
        ``repaid_latent``, ``score``, ``approved``).
    model
        The fitted credit model.
    report_html
        The HTML report.
    audit_json
        The audit as JSON.
    """

    audit: Audit
    decisions: pd.DataFrame
    model: Any
    report_html: Path
    audit_json: Path


def run_demo(out_dir: Path, *, n: int = 20_000, seed: int = 0) -> DemoResult:
    """Generate the demo bank, train its credit model, audit the decisions and write the reports.

    Writes ``audit.json`` and ``report.html`` into ``out_dir`` (created if needed). The
    protected attributes are missing for some customers, so the audit warns with a
    :class:`~ethica.fairness.MissingGroupWarning` and reports them as the group "missing".

    Parameters
    ----------
    out_dir
        Folder the reports are written to.
    n
        Number of customers generated; half are held out and audited.
    seed
        Seed of the scenario, the model and the bootstrap.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    customers = generate_customers(n, seed=seed)
    model, decisions = train_credit_model(customers, seed=seed)
    result = audit(
        decisions,
        label="repaid",
        prediction="approved",
        score="score",
        sensitive_features=list(PROTECTED_ATTRIBUTES),
        bootstrap=BOOTSTRAP,
        seed=seed,
    )
    audit_json = out_dir / "audit.json"
    result.to_json(audit_json)
    report_html = out_dir / "report.html"
    result.to_html(report_html, title=REPORT_TITLE)
    return DemoResult(
        audit=result,
        decisions=decisions,
        model=model,
        report_html=report_html,
        audit_json=audit_json,
    )
