"""``ethica governance`` on files: what a person running it reads and gets."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from governance_cases import EXAMPLES
from typer.testing import CliRunner

from ethica.cli import app
from ethica.ledger import Ledger

runner = CliRunner()
CREDIT = str(EXAMPLES / "credit-limit.yaml")


def test_classify_prints_the_tier_and_cites_why() -> None:
    done = runner.invoke(app, ["governance", "classify", CREDIT, "--json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    assert data["tier"] == "high" and data["annex_iii"] == ["5(b)"]
    assert data["grounds"][0]["citations"] == ["AI Act Art. 6(2)", "AI Act Annex III point 5(b)"]
    text = runner.invoke(app, ["governance", "classify", CREDIT]).output
    assert "credit-limit is high-risk (AI Act Art. 6(2), Annex III point 5(b))." in text


def test_obligations_read_a_record_file_with_evidence(tmp_path: Path) -> None:
    record = tmp_path / "record.yaml"
    record.write_text(
        "spec: unused.yaml\n"
        "evidence:\n"
        "- type: path-test\n  path: human-review\n  passed: false\n  detail: the queue is off\n"
        "  observed_at: 2026-02-20T09:00:00Z\n"
        "attestations:\n"
        "- obligation: ai-act-17\n  by: Dana Ortiz\n  role: compliance officer\n"
        "  statement: The quality management system is documented in QMS-4.\n"
        "  given_on: 2026-01-10\n",
        encoding="utf-8",
    )
    done = runner.invoke(
        app,
        [
            "governance",
            "obligations",
            CREDIT,
            "--record",
            str(record),
            "--today",
            "2026-03-01",
            "--json",
        ],
    )
    assert done.exit_code == 0, done.output
    rows = {r["obligation"]: r for r in json.loads(done.output)["obligations"]}
    assert rows["gdpr-22"]["status"] == "missing"
    assert rows["gdpr-22"]["reason"] == "the human-review path failed its test: the queue is off"
    assert rows["ai-act-17"]["status"] == "attested"
    bad = runner.invoke(app, ["governance", "obligations", CREDIT, "--today", "March"])
    assert bad.exit_code == 2 and "error:" in bad.output


def test_documents_are_written_and_verified_against_a_ledger_file(tmp_path: Path) -> None:
    ledger = Ledger()
    entry = ledger.append("audit", chain="credit-limit", public={"scope": "decisions"})
    ledger_file = tmp_path / "ledger.jsonl"
    ledger_file.write_text(json.dumps(entry.to_dict()) + "\n", encoding="utf-8")
    record = tmp_path / "record.json"
    record.write_text(json.dumps({
        "spec": CREDIT,
        "ledger": [{"chain": "credit-limit", "sequence": 0, "hash": entry.hash}],
    }), encoding="utf-8")  # fmt: skip
    args = ["governance", "dossier", CREDIT, "--record", str(record), "--out", str(tmp_path),
            "--format", "json,html", "--at", "2026-03-01T12:00:00Z"]  # fmt: skip
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    assert "items are marked for a person to complete" in done.output
    document = tmp_path / "credit-limit-annex-iv.json"
    first = document.read_bytes()
    assert runner.invoke(app, args).exit_code == 0 and document.read_bytes() == first
    verified = runner.invoke(
        app, ["governance", "verify", str(document), "--ledger", str(ledger_file)]
    )
    assert verified.exit_code == 0
    assert "the document verifies: its digest and 1 ledger entries match" in verified.output
    other = Ledger().append("audit", chain="credit-limit", public={"scope": "something else"})
    ledger_file.write_text(json.dumps(other.to_dict()) + "\n", encoding="utf-8")
    refused = runner.invoke(
        app, ["governance", "verify", str(document), "--ledger", str(ledger_file)]
    )
    assert refused.exit_code == 1
    assert "it cites credit-limit#0 with hash" in refused.output


def test_transparency_records_each_spend_and_refuses_past_the_budget(tmp_path: Path) -> None:
    events = tmp_path / "events.csv"
    pd.DataFrame({
        "system": "credit-limit", "subject": [f"c{i}" for i in range(60)], "measure": "decisions",
        "category": ["approved", "declined"] * 30, "sex": "Female",
    }).to_csv(events, index=False)  # fmt: skip
    budgets = tmp_path / "budgets.json"
    budgets.write_text(json.dumps({"credit-limit": {"epsilon": 1.5}}), encoding="utf-8")
    args = ["governance", "transparency", str(events), "--spec", CREDIT, "--budgets", str(budgets),
            "--period", "2026-Q1", "--out", str(tmp_path), "--epsilon", "1.0",
            "--at", "2026-04-01T00:00:00Z"]  # fmt: skip
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    assert "credit-limit: spent ε = 1 of 1.5" in done.output
    spends = json.loads(budgets.read_text(encoding="utf-8"))["credit-limit"]["spends"]
    assert [s["release"] for s in spends] == ["2026-Q1"]
    again = runner.invoke(app, args)
    assert again.exit_code == 2
    assert "needs ε = 1, but only ε = 0.5 of its budget of 1.5 is left" in again.output
    assert len(json.loads(budgets.read_text(encoding="utf-8"))["credit-limit"]["spends"]) == 1


def test_an_incident_is_opened_and_its_clock_read(tmp_path: Path) -> None:
    incident = tmp_path / "incident.json"
    opened = runner.invoke(app, [
        "governance", "incident", "open", "--out", str(incident), "--system", "credit-limit",
        "--harm", "widespread-infringement", "--description", "Declines tied to a district.",
        "--by", "Dana Ortiz", "--aware", "2026-03-02T09:00:00Z", "--id", "INC-7",
    ])  # fmt: skip
    assert opened.exit_code == 0, opened.output
    assert "opened INC-7: 2 days 0 hours left to report (2 days, Art. 73(3))" in opened.output
    late = runner.invoke(
        app, ["governance", "incident", "status", str(incident), "--now", "2026-03-05T09:00:00Z"]
    )
    assert "INC-7 (credit-limit): overdue by 1 days 0 hours" in late.output
    assert "to fill in" in late.output
