"""The dashboard's governance pages: inventory, a system's classification and register,
documents built from the ledger that verify against it, attestations by named people.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from service_testing import Service
from sqlalchemy import func, update
from test_service_governance import APPLICANT, CREDIT, RECOMMENDATION_FACTS
from typer.testing import CliRunner
from web_testing import csrf_of, token_of, viewing_as

from ethica.cli import app as cli
from ethica.governance import verify_document
from ethica.service.app import state_of
from ethica.service.db import unit_of_work, utcnow
from ethica.service.ledger.store import SqlEntryStore
from ethica.service.ledger.tables import LedgerEntry


def _officer(running: Service) -> str:
    return token_of(running.headers["officer"])


def test_the_inventory_and_a_systems_page_show_tier_provisions_and_obligations(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", **CREDIT)
    running.register("tickets", name="Ticket routing", risk_tier="minimal")
    assert running.decide("credit", APPLICANT).status_code == 201

    with viewing_as(running.client, _officer(running)) as client:
        inventory = client.get("/dashboard/governance")
        page = client.get("/dashboard/governance/credit")
        bare = client.get("/dashboard/governance/tickets")
    assert inventory.status_code == 200, inventory.text
    assert "AI Act Art. 6(2), Annex III point 5(b)" in inventory.text
    assert "Not classified: its spec declares no AI Act facts" in inventory.text
    assert page.status_code == 200, page.text
    assert "Credit limit is high-risk (AI Act Art. 6(2), Annex III point 5(b))." in page.text
    assert "credit is high-risk" not in page.text  # the name, not the id
    assert "Ledger entry credit #0" in page.text
    row = re.search(r'<tr id="obligation-ai-act-12">.*?</tr>', page.text, re.S)
    assert row is not None and "met by evidence" in row.group(0)
    assert "the ledger verifies" in row.group(0)
    assert 'href="/dashboard/governance/credit/documents/annex-viii.html"' in page.text
    assert bare.status_code == 200 and "declares no AI Act facts" in bare.text


def test_a_document_from_the_dashboard_verifies_against_the_ledger(
    service: Callable[..., Service], database_url: str, tmp_path: Path
) -> None:
    running = service()
    running.register("credit", **CREDIT)
    running.register("credit", **{**CREDIT, "retention_months": 24})  # a second classification
    with viewing_as(running.client, _officer(running)) as client:
        document = client.get("/dashboard/governance/credit/documents/annex-iv.json")
        html = client.get("/dashboard/governance/credit/documents/annex-iv.html")
        unknown = client.get("/dashboard/governance/credit/documents/minutes.json")
    assert document.status_code == 200, document.text
    assert html.status_code == 200 and "Technical documentation" in html.text
    assert unknown.status_code == 422
    cited = {(s["chain"], s["sequence"]) for s in json.loads(document.text)["sources"]}
    assert {("credit", 0), ("credit", 1)} <= cited
    with state_of(running.app).sessions() as session:
        entries = list(SqlEntryStore(session).entries("credit"))
    check = verify_document(document.text, entries)
    assert check.ok, str(check)
    edited = json.loads(document.text)
    edited["title"] += " (edited)"
    assert not verify_document(edited, entries).ok
    assert not verify_document(document.text, entries[:1]).ok  # a cited entry is missing

    # The same check from the command line, against the service's own database.
    saved = tmp_path / "annex-iv.json"
    saved.write_text(document.text, encoding="utf-8")
    command = ["governance", "verify", str(saved), "--database", database_url]
    verified = CliRunner().invoke(cli, command)
    assert verified.exit_code == 0, verified.output
    assert "the document verifies: its digest and" in verified.output
    with unit_of_work(state_of(running.app).sessions) as session:
        session.execute(
            update(LedgerEntry)
            .where(LedgerEntry.chain == "credit", LedgerEntry.sequence == 1)
            .values(public=func.replace(LedgerEntry.public, '"tier":"high"', '"tier":"minimal"'))
        )
    tampered = CliRunner().invoke(cli, command)
    assert tampered.exit_code == 1, tampered.output
    assert "credit#1" in tampered.output


def test_an_officer_attests_an_obligation_from_the_page(service: Callable[..., Service]) -> None:
    running = service()
    running.register("credit", **CREDIT)
    with viewing_as(running.client, _officer(running)) as client:
        page = client.get("/dashboard/governance/credit")
        form = {
            "csrf": csrf_of(page.text),
            "obligation": "ai-act-9",
            "by": "Rita Risk",
            "role": "head of risk",
            "statement": "too short",
        }
        refused = client.post("/dashboard/governance/credit/attestations", data=form)
        form["statement"] = "The risk management system is documented in RM-7."
        done = client.post(
            "/dashboard/governance/credit/attestations", data=form, follow_redirects=False
        )
        after = client.get(done.headers["location"])
    assert refused.status_code == 422
    assert "Nothing was recorded: The statement: string should have at least 20" in refused.text
    assert 'value="Rita Risk"' in refused.text  # what was entered is kept
    assert done.status_code == 303, done.text
    assert "The attestation of ai-act-9 is recorded in the ledger." in after.text
    row = re.search(r'<tr id="obligation-ai-act-9">.*?</tr>', after.text, re.S)
    assert row is not None and "attested by Rita Risk (head of risk)" in row.group(0)


def test_the_cli_reads_the_services_database_and_regenerates_the_same_bytes(
    service: Callable[..., Service], database_url: str, tmp_path: Path
) -> None:
    running = service()
    running.register("credit", **CREDIT)
    assert running.decide("credit", APPLICANT).status_code == 201
    runner = CliRunner()
    base = ["--database", database_url]

    listed = runner.invoke(cli, ["governance", "obligations", "credit", "--json", *base])
    assert listed.exit_code == 0, listed.output
    statuses = {o["obligation"]: o["status"] for o in json.loads(listed.output)["obligations"]}
    assert statuses["ai-act-12"] == "met" and statuses["ai-act-9"] == "missing"
    classified = runner.invoke(cli, ["governance", "classify", "credit", *base])
    assert "credit is high-risk (AI Act Art. 6(2), Annex III point 5(b))." in classified.output

    at = ["--at", "2026-12-03T08:00:00Z", "--format", "json,html"]
    for folder in ("first", "second"):
        out = ["--out", str(tmp_path / folder)]
        made = runner.invoke(cli, ["governance", "dossier", "credit", *base, *out, *at])
        assert made.exit_code == 0, made.output
    names = sorted(p.name for p in (tmp_path / "first").iterdir())
    assert names == [
        "credit-annex-iv.html", "credit-annex-iv.json",
        "credit-annex-viii.html", "credit-annex-viii.json",
    ]  # fmt: skip
    for name in names:
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes()
    document = str(tmp_path / "first" / "credit-annex-iv.json")
    verified = runner.invoke(cli, ["governance", "verify", document, *base])
    assert verified.exit_code == 0, verified.output
    mixed = runner.invoke(cli, ["governance", "obligations", "credit", "--record", "x.yaml", *base])
    assert mixed.exit_code == 2 and "give --record or --database, not both" in mixed.output


def test_an_officer_opens_an_incident_and_records_its_report_from_the_page(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", **CREDIT)
    with viewing_as(running.client, _officer(running)) as client:
        page = client.get("/dashboard/governance/credit")
        csrf = csrf_of(page.text)
        form = {"csrf": csrf, "harm": "health", "source": "concern", "description": "x"}
        refused = client.post("/dashboard/governance/credit/incidents", data=form)
        form["source_ref"] = "concern-17"
        opened = client.post(
            "/dashboard/governance/credit/incidents", data=form, follow_redirects=False
        )
        shown = client.get(opened.headers["location"])
        incident = opened.headers["location"].split("incident=")[1].split("#")[0]
        stepped = client.post(
            f"/dashboard/governance/credit/incidents/{incident}/steps",
            data={"csrf": csrf, "step": "report"},
        )
    assert refused.status_code == 422
    assert "an incident opened from a concern names it" in refused.text
    assert opened.status_code == 303, opened.text
    assert f"Incident {incident} is recorded in the ledger." in shown.text
    assert "left to report (15 days, Art. 73(2))" in shown.text
    assert stepped.status_code == 200 and "reported " in stepped.text


def test_a_named_person_signs_the_impact_assessment_off_and_art_27_is_attested(
    service: Callable[..., Service], database_url: str
) -> None:
    running = service()
    running.register("credit", **CREDIT)
    running.register("shop", name="Shop", ai_act=RECOMMENDATION_FACTS, risk_tier="minimal")
    with viewing_as(running.client, _officer(running)) as client:
        page = client.get("/dashboard/governance/credit")
        csrf = csrf_of(page.text)
        form = {"csrf": csrf, "role": "data protection officer", "name": "Dana Privacy"}
        form["statement"] = "I have read the impact assessment of Credit and sign it off."
        stranger = client.post(
            "/dashboard/governance/credit/fria-signoffs", data={**form, "role": "intern"}
        )
        unneeded = client.post("/dashboard/governance/shop/fria-signoffs", data=form)
        done = client.post(
            "/dashboard/governance/credit/fria-signoffs", data=form, follow_redirects=False
        )
        after = client.get(done.headers["location"])
        fria = client.get("/dashboard/governance/credit/documents/fria.json")
        shop = client.get("/dashboard/governance/shop")
    assert 'id="fria-unsigned"' in page.text and "Sign the assessment off on" in page.text
    assert stranger.status_code == 422
    assert "signed off as the system owner, the data protection officer, the risk and " in (
        stranger.text
    )
    assert 'value="Dana Privacy"' in stranger.text  # what was entered is kept
    assert unneeded.status_code == 422
    assert "shop needs no fundamental-rights impact assessment" in unneeded.text
    assert 'id="fria"' not in shop.text
    assert done.status_code == 303, done.text
    assert "The sign-off as data protection officer is recorded in the ledger." in after.text
    today = utcnow().date()
    assert f"Signed off by Dana Privacy (data protection officer) on {today}" in after.text
    row = re.search(r'<tr id="obligation-ai-act-27">.*?</tr>', after.text, re.S)
    assert row is not None and ">attested<" in row.group(0)
    assert "attested by Dana Privacy (data protection officer)" in row.group(0)
    signoffs = {s["role"]: s for s in json.loads(fria.text)["signoffs"]}
    assert signoffs["data protection officer"]["name"] == "Dana Privacy"
    assert signoffs["data protection officer"]["on"] == today.isoformat()
    assert signoffs["system owner"]["name"] is None  # the others have not signed yet
    with state_of(running.app).sessions() as session:
        entries = list(SqlEntryStore(session).entries("credit"))
    (attestation,) = [e for e in entries if e.kind == "attestation"]
    assert attestation.public["obligation"] == "ai-act-27"
    assert attestation.public["by"] == "Dana Privacy"
    cited = {(s["chain"], s["sequence"]) for s in json.loads(fria.text)["sources"]}
    assert ("credit", attestation.sequence) in cited
    assert verify_document(fria.text, entries).ok
