"""Documents: built from records, byte-identical on a fixed clock, verifiable against a ledger."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest
import yaml
from governance_cases import OBSERVED, bank, full_evidence, spec_with

from ethica.errors import InputError
from ethica.fairness import audit
from ethica.governance import AuditEvidence, LedgerRef, SystemSpec
from ethica.governance._annex_iv import annex_iv
from ethica.governance._documents import verify_document
from ethica.governance._fria import fria
from ethica.governance._model_card import model_card
from ethica.governance._record import ModelVersion, SignOffGiven, SystemRecord, Volumes
from ethica.governance._registration import registration
from ethica.ledger import Ledger

CLOCK = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def fairness_audit() -> dict[str, object]:
    rng = np.random.default_rng(7)
    n = 1200
    sex = rng.choice(["Female", "Male"], n)
    label = rng.integers(0, 2, n)
    prediction = np.where(rng.random(n) < 0.8, label, 1 - label)
    prediction[(sex == "Female") & (rng.random(n) < 0.2)] = 0
    frame = pd.DataFrame({"sex": sex, "repaid": label, "approved": prediction})
    return audit(frame, label="repaid", prediction="approved", sensitive_features=["sex"]).to_dict()


def built(spec: SystemSpec | None = None) -> tuple[SystemRecord, Ledger]:
    """A record whose evidence rests on real ledger entries."""
    spec = spec or bank("credit-limit")
    ledger = Ledger(clock=lambda: OBSERVED)
    training = ledger.append("audit", chain=spec.id, public={"scope": "training-data"})
    decisions = ledger.append("audit", chain=spec.id, public={"scope": "decisions"})
    registered = ledger.append("model", chain=spec.id, public={"version": "2026.1"})
    anchor = ledger.anchor()
    audited = fairness_audit()
    evidence = [
        e for e in full_evidence(spec) if e.kind not in ("training-data-audit", "decisions-audit")
    ]
    evidence += [
        AuditEvidence.from_audit(audited, scope="training-data", dataset="training set",
                                 observed_at=OBSERVED, refs=[LedgerRef.of(training)]),
        AuditEvidence.from_audit(audited, scope="decisions", dataset="decisions Q1",
                                 observed_at=OBSERVED, refs=[LedgerRef.of(decisions)]),
    ]  # fmt: skip
    evidence = [
        e.model_copy(update={"refs": [], "head": None}) if e.kind == "ledger-verification" else e
        for e in evidence
    ]
    evidence = [
        e if e.kind.endswith("audit") else e.model_copy(update={"refs": []}) for e in evidence
    ]
    record = SystemRecord(
        spec=spec,
        evidence=evidence,
        models=[
            ModelVersion(version="2026.1", format="lightgbm", algorithm="gradient-boosted trees",
                         trained_at=OBSERVED, training_rows=5000, training_data="bank customers",
                         refs=[LedgerRef.of(registered)])
        ],
        volumes=Volumes(
            period_start=date(2026, 1, 1), period_end=date(2026, 2, 28), decisions=1000,
            by_month={"2026-01": 480, "2026-02": 520},
            by_group={"sex": {"Female": 500, "Male": 500}},
            adverse_by_group={"sex": {"Female": 200, "Male": 150}},
        ),
        ledger=[LedgerRef.of(anchor)],
    )  # fmt: skip
    return record, ledger


def test_annex_iv_has_its_nine_points_and_marks_what_a_person_must_add() -> None:
    record, _ = built()
    document = annex_iv(record, generated_at=CLOCK)
    assert [s.key for s in document.sections] == ["classification", *map(str, range(1, 10))]
    data = json.loads(document.to_json())
    open_items = {i["label"] for s in data["sections"] for i in s["items"] if i["for_a_person"]}
    assert {"Hardware", "Declaration", "Post-market monitoring plan", "Standards"} <= open_items
    assert "Model version" not in open_items and "Training data" not in open_items
    html = document.to_html()
    assert "Annex III point 5(b)" in html
    assert html.count("To complete:") == len(document.for_a_person)
    assert re.search(
        r'<th scope="row">sex = Female</th><td data-label="[^"]*">selection rate</td>', html
    )
    assert "95% interval" in html


def test_every_document_cites_the_ledger_entries_it_rests_on_and_verifies() -> None:
    record, ledger = built()
    entries = [e for chain in ledger.chains() for e in ledger.entries(chain)]
    for build in (annex_iv, fria, model_card, registration):
        document = build(record, generated_at=CLOCK)
        data = json.loads(document.to_json())
        assert [r["sequence"] for r in data["sources"]] == [0, 1, 2]
        assert data["ledger"] == [LedgerRef.of(ledger.head("root")).model_dump()]  # type: ignore[arg-type]
        check = verify_document(document.to_json(), entries)
        assert check.ok, check.problems
        assert str(check) == "the document verifies: its digest and 4 ledger entries match"


def test_verification_names_an_edited_document_a_tampered_ledger_and_a_missing_entry() -> None:
    record, ledger = built()
    entries = [e for chain in ledger.chains() for e in ledger.entries(chain)]
    text = annex_iv(record, generated_at=CLOCK).to_json()

    edited = json.loads(text)
    edited["sections"][1]["items"][0]["value"] = "Something more flattering."
    assert verify_document(edited, entries).problems == (
        "its digest does not match its content: it was edited after it was made",
    )
    tampered = list(entries)
    tampered[1] = dataclasses.replace(tampered[1], public={"scope": "nothing"})
    problems = verify_document(text, tampered).problems
    assert problems[0].startswith("the ledger does not verify: credit-limit#1 edited")
    cut = [e for e in entries if not (e.chain == "credit-limit" and e.sequence == 2)]
    assert (
        "it cites credit-limit#2, which the ledger does not have"
        in verify_document(text, cut).problems
    )
    with pytest.raises(InputError, match="not an ethica document"):
        verify_document({"title": "a letter"}, entries)


def test_documents_regenerate_byte_identically_from_the_same_inputs_and_clock() -> None:
    first, _ = built()
    second, _ = built()
    for build in (annex_iv, fria, model_card, registration):
        a, b = build(first, generated_at=CLOCK), build(second, generated_at=CLOCK)
        assert a.to_json() == b.to_json() and a.to_html() == b.to_html()
        later = build(first, generated_at=datetime(2026, 3, 2, tzinfo=UTC))
        assert later.digest != a.digest


@pytest.mark.browser
def test_the_pdf_is_byte_identical_too_and_is_printed_by_chromium(tmp_path: object) -> None:
    record, _ = built()
    document = fria(record, generated_at=CLOCK)
    one, two = document.to_pdf(), document.to_pdf()
    assert one.startswith(b"%PDF-") and one == two
    assert b"/CreationDate (D:20260301120000" in one and b"/StructTreeRoot" in one


def test_the_impact_assessment_is_prefilled_and_awaits_its_named_sign_offs() -> None:
    record, _ = built()
    document = fria(record, generated_at=CLOCK)
    assert [s.key for s in document.sections] == ["a", "b", "c", "d", "e", "f"]
    assert not document.signed_off
    html = document.to_html()
    assert html.count("Awaiting signature") == 3
    assert "1000 decisions, about 500 a month" in html
    assert "postcode_district is a known proxy for origin" in html
    assert "40.0%" in html  # adverse share of the 500 decisions about women
    signed = record.model_copy(update={"signoffs": [
        SignOffGiven(role=role, name=name, signed_on=date(2026, 2, 25), statement="Reviewed.")
        for role, name in [("system owner", "Ana Lima"), ("data protection officer", "Ben Okoro"),
                           ("risk and compliance officer", "Dana Ortiz")]
    ]})  # fmt: skip
    done = fria(signed, generated_at=CLOCK)
    assert done.signed_off and "Awaiting signature" not in done.to_html()
    assert "Ben Okoro" in done.to_html()


def test_the_model_card_has_hugging_face_metadata_and_metrics_by_group_with_intervals() -> None:
    record, _ = built()
    card = model_card(record, generated_at=CLOCK)
    markdown = str(card.metadata["markdown"])
    assert markdown.startswith("---\n")
    front, body = markdown.split("---\n", 2)[1:]
    metadata = yaml.safe_load(front)
    assert metadata["library_name"] == "lightgbm"
    assert metadata["pipeline_tag"] == "tabular-classification"
    assert "eu-ai-act-high" in metadata["tags"]
    (index,) = metadata["model-index"]
    metrics = index["results"][0]["metrics"]
    names = [m["name"] for m in metrics]
    assert names[0] == "Accuracy"
    women = next(m for m in metrics if m["name"].startswith("Selection rate, sex = Female"))
    audited = AuditEvidence.from_audit(
        fairness_audit(), scope="decisions", dataset="d", observed_at=OBSERVED
    )
    expected = next(
        m for m in audited.metrics if (m.group, m.metric) == ("Female", "selection_rate")
    )
    assert expected.value is not None and expected.low is not None and expected.high is not None
    assert women["value"] == round(expected.value, 4)
    assert f"95% interval {100 * expected.low:.1f}% to {100 * expected.high:.1f}%" in women["name"]
    assert "# Credit limit increase (model 2026.1)" in body
    assert "| sex = Female | selection rate |" in body
    with pytest.raises(InputError, match="no model version '1999'; recorded: 2026.1"):
        model_card(record, generated_at=CLOCK, version="1999")


def test_registration_uses_the_section_of_annex_viii_that_applies() -> None:
    record, _ = built()
    assert [s.key for s in registration(record, generated_at=CLOCK).sections] == ["A"]
    claim = {"condition": "narrow_procedural_task", "assessed_by": "Dana Ortiz",
             "assessed_on": "2026-01-15", "assessment": "It sorts requests into a queue a "
             "person works through in full; no outcome depends on its order."}  # fmt: skip
    exempt, _ = built(spec_with(domain="creditworthiness", profiling=False, exception=claim))
    (section,) = registration(exempt, generated_at=CLOCK).sections
    assert section.key == "B"
    assert "Art. 6(3)(a): it performs a narrow procedural task" in exempt_html(exempt)
    minimal, _ = built(bank("product-recommendations"))
    with pytest.raises(InputError, match="needs no EU database registration: it is minimal-risk"):
        registration(minimal, generated_at=CLOCK)


def exempt_html(record: SystemRecord) -> str:
    return registration(record, generated_at=CLOCK).to_html()
