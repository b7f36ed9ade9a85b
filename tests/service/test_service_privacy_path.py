"""Privacy on the decision path: free text redacted before the model and the ledger, protected
attributes sealed at rest yet audited in the database, and `ethica systems minimize`."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from service_testing import Service, credit_spec
from sqlalchemy import text
from typer.testing import CliRunner

from ethica.cli import app as cli
from ethica.errors import InputError
from ethica.fairness import audit
from ethica.governance import parse_spec
from ethica.ledger import KeyRing
from ethica.privacy import minimize
from ethica.scoring import dump_model
from ethica.service.app import state_of
from ethica.service.decisions.live_audit import audit_live_decisions
from ethica.service.decisions.protected import ProtectedCipher, ProtectedValueError
from ethica.service.ledger.store import SqlKeyStore, key_file_of, row_entry
from ethica.service.ledger.tables import LedgerEntry

EMAIL = "jane.doe.4417@example.org"
CARD = "4111 1111 1111 1111"  # a Luhn-valid test card number
runner = CliRunner()


def _ticket_spec(**changes: Any) -> dict[str, Any]:
    features = [
        {"name": "message", "type": "text", "data_category": "user.content"},
        {"name": "tenure", "type": "number", "data_category": "user.financial"},
    ]
    return credit_spec(name="Ticket routing", features=features, **changes)


def _master(running: Service) -> bytes:
    return base64.b64decode(running.settings.ledger.master_key.get_secret_value())


def _raw_database(running: Service, database_url: str) -> bytes:
    """Every byte the database keeps: the SQLite file after a checkpoint, or a PostgreSQL dump."""
    engine = state_of(running.app).engine
    if database_url.startswith("sqlite"):
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        path = Path(database_url.removeprefix("sqlite:///"))
        wal = path.with_name(path.name + "-wal")
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    dump = subprocess.run(
        ["pg_dump", "--dbname", database_url], capture_output=True, check=True, timeout=60
    )
    return dump.stdout


# --- 1. free text ------------------------------------------------------------------------


def test_minimize_gives_the_model_redacted_text_and_names_only_the_kinds() -> None:
    spec = parse_spec({"id": "tickets", **_ticket_spec()})
    message = f"Please call me, or write to {EMAIL}; card {CARD}."
    done = minimize(spec, {"message": message, "tenure": 3})
    assert done.features["message"] == "Please call me, or write to <EMAIL>; card <CREDIT_CARD>."
    assert done.redacted == {"message": ["CREDIT_CARD", "EMAIL"]}
    assert EMAIL not in repr(done) and CARD not in repr(done)
    plain = minimize(spec, {"message": "My router blinks red.", "tenure": 3})
    assert plain.features["message"] == "My router blinks red." and plain.redacted == {}


def test_free_text_leaves_no_trace_in_the_ledger_or_the_decision_log(
    service: Callable[..., Service], database_url: str
) -> None:
    running = service()
    response = running.client.put(
        "/v1/systems/tickets", json=_ticket_spec(), headers=running.headers["admin"]
    )
    assert response.status_code == 201, response.text
    body = {
        "subject_id": "cust-9",
        "features": {"message": f"Refund to {CARD} please, reply to {EMAIL}", "tenure": 4.0},
        "score": 0.8,
    }
    response = running.decide("tickets", body)
    assert response.status_code == 201, response.text
    decision = response.json()
    assert decision["data"]["redacted"] == {"message": ["CREDIT_CARD", "EMAIL"]}
    assert EMAIL not in response.text and "4111" not in response.text

    state = state_of(running.app)
    with state.sessions() as session:
        stored = session.get(LedgerEntry, ("tickets", decision["ledger"]["sequence"]))
        assert stored is not None
        personal = KeyRing(_master(running), store=SqlKeyStore(session)).open(row_entry(stored))
        logged = session.execute(text("SELECT * FROM decisions")).mappings().all()
    assert personal["features"]["message"] == "Refund to <CREDIT_CARD> please, reply to <EMAIL>"
    assert json.loads(stored.public)["data"]["redacted"] == {"message": ["CREDIT_CARD", "EMAIL"]}
    everything = json.dumps(personal) + stored.public + repr([dict(r) for r in logged])
    assert EMAIL not in everything and "4111" not in everything
    assert "jane.doe" not in everything and "example.org" not in everything
    raw = _raw_database(running, database_url)
    assert EMAIL.encode() not in raw and b"4111 1111" not in raw


# --- 2. protected attributes sealed at rest ----------------------------------------------


def test_sealing_is_deterministic_per_attribute_and_refuses_a_wrong_key() -> None:
    cipher = ProtectedCipher(b"k" * 32)
    assert cipher.seal("sex", "F") == cipher.seal("sex", "F")
    assert cipher.seal("sex", "F") != cipher.seal("sex", "M")
    assert cipher.seal("sex", "F") != cipher.seal("age_band", "F")  # name bound as data
    assert cipher.open("sex", cipher.seal("sex", "F")) == "F"
    with pytest.raises(ProtectedValueError):
        cipher.open("age_band", cipher.seal("sex", "F"))
    with pytest.raises(ProtectedValueError):
        ProtectedCipher(b"x" * 32).open("sex", cipher.seal("sex", "F"))


def test_protected_values_are_group_labels_of_bounded_length() -> None:
    spec = parse_spec({"id": "credit", **credit_spec()})
    with pytest.raises(InputError, match="at most 100 characters"):
        minimize(spec, {"income": 1.0}, protected={"sex": "x" * 101})


def _independent_open(master: bytes, name: str, sealed: str, key_file: Path | None) -> str:
    """Open a stored value following the documented scheme, without ethica's cipher.

    ``<epoch>:<base64>`` is sealed under a key derived from the epoch's KEK (in the key file,
    wrapped by the master key); a bare ``<base64>`` under a key derived from the master key.
    """
    epoch, _, text = sealed.rpartition(":")
    secret = master
    if epoch:
        assert key_file is not None
        wrapped = base64.b64decode(json.loads(key_file.read_bytes())["epochs"][epoch])
        context = json.dumps(
            {"epoch": epoch, "purpose": "ethica.ledger key-encryption key"},
            separators=(",", ":"),
            sort_keys=True,
        ).encode()
        secret = AESGCM(master).decrypt(wrapped[:12], wrapped[12:], context)
    key = HKDF(
        algorithm=hashes.SHA256(), length=64, salt=None, info=b"ethica protected attributes"
    ).derive(secret)
    return AESSIV(key).decrypt(base64.b64decode(text), [name.encode()]).decode()


def test_protected_values_are_sealed_yet_audited_and_erased(
    service: Callable[..., Service], database_url: str
) -> None:
    running = service()
    running.register("credit")
    rng = np.random.default_rng(3)
    rows = []
    for i in range(120):
        sex = ["Fem-ale", "Ma-le", "Non-binary"][i % 3]
        score = float(np.clip(rng.normal(0.45 if i % 3 == 0 else 0.6, 0.2), 0, 1))
        made = running.decide(
            "credit",
            {
                "subject_id": f"s-{i}",
                "features": {"income": 10.0, "housing": "own"},
                "protected": {"sex": sex},
                "score": score,
            },
        )
        assert made.status_code == 201, made.text
        rows.append({"sex": sex, "approved": int(made.json()["outcome"] == "approved")})
    state = state_of(running.app)
    master = _master(running)
    with state.sessions() as session:
        stored = session.execute(text("SELECT name, value FROM protected_values")).all()
        assert len(stored) == 120
        values = {value for _, value in stored}
        assert values.isdisjoint({"Fem-ale", "Ma-le", "Non-binary"})
        assert len(values) == 3  # equal values seal equally: the database can group them
        key_file = key_file_of(session)
        path = None if key_file is None else key_file.path
        assert {_independent_open(master, n, v, path) for n, v in stored} == {
            "Fem-ale",
            "Ma-le",
            "Non-binary",
        }
        live = audit_live_decisions(
            session, database_url=database_url, master_key=master, system_id="credit"
        )
    direct = audit(pd.DataFrame(rows), prediction="approved", sensitive_features=["sex"])
    ours, theirs = live.by_group("sex"), direct.by_group("sex")
    assert list(ours.index) == list(theirs.index) == ["Fem-ale", "Ma-le", "Non-binary"]
    assert ours["count"].tolist() == theirs["count"].tolist()
    np.testing.assert_allclose(ours["selection_rate"], theirs["selection_rate"], atol=1e-12)

    erased = running.client.post("/v1/subjects/s-0/erasure", headers=running.headers["officer"])
    assert erased.status_code == 201, erased.text
    assert erased.json()["result"]["protected_values_deleted"] == 1
    with state.sessions() as session:
        left = session.execute(
            text("SELECT COUNT(*) FROM protected_values WHERE subject_id = 's-0'")
        ).scalar_one()
        total = session.execute(text("SELECT COUNT(*) FROM protected_values")).scalar_one()
        now_stored = session.execute(text("SELECT name, value FROM protected_values")).all()
    assert (left, total) == (0, 119)
    if path is not None:  # with a key file every value moved to the erasure's new epoch,
        now = {value for _, value in now_stored}
        assert len(now) == 3 and now.isdisjoint(values)
        assert {_independent_open(master, n, v, path) for n, v in now_stored} == {
            "Fem-ale",
            "Ma-le",
            "Non-binary",
        }
        for old in values:  # and the old epoch's key is gone: no old copy opens again
            with pytest.raises(KeyError):
                _independent_open(master, "sex", old, path)


# --- 3. ethica systems minimize ----------------------------------------------------------


def test_systems_minimize_recommends_the_unused_and_the_never_provided_features(
    service: Callable[..., Service], database_url: str
) -> None:
    lightgbm = pytest.importorskip("lightgbm")
    rng = np.random.default_rng(11)
    n = 400
    frame = pd.DataFrame(
        {
            "income": rng.random(n) * 100,
            "shoe_size": rng.integers(35, 47, n).astype(float),
            "channel": np.zeros(n),
        }
    )
    label = (frame["income"] > 50).astype(int)
    model = lightgbm.LGBMClassifier(n_estimators=5, max_depth=1, num_leaves=2, verbose=-1)
    model.fit(frame, label)
    # The peer's own view: the model never splits on shoe_size or channel.
    importance = dict(zip(frame.columns, model.booster_.feature_importance(), strict=True))
    assert importance["income"] > 0 and importance["shoe_size"] == importance["channel"] == 0

    features = [
        {"name": "income", "type": "number", "data_category": "user.financial", "default": 50.0},
        {"name": "shoe_size", "type": "number", "data_category": "user.demographic"},
        {"name": "channel", "type": "number", "data_category": "user.demographic"},
    ]
    running = service()
    put = running.client.put(
        "/v1/systems/toy", json=credit_spec(features=features), headers=running.headers["admin"]
    )
    assert put.status_code == 201, put.text
    assert running.upload("toy", dump_model(model, "lightgbm"), format="lightgbm").status_code == (
        201
    )
    sent = []
    for i in range(40):
        row = {"income": float(rng.random() * 100), "shoe_size": float(rng.integers(35, 47))}
        made = running.decide("toy", {"subject_id": f"t-{i}", "features": row})
        assert made.status_code == 201, made.text
        sent.append(row)

    done = runner.invoke(
        cli, ["systems", "minimize", "toy", "--database", database_url, "--since", "30d", "--json"]
    )
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    by_name = {f["feature"]: f for f in report["features"]}
    assert report["decisions"] == report["replayed"] == 40
    assert report["drop"] == ["shoe_size"]
    assert report["never_provided"] == ["channel"]
    assert by_name["channel"]["withheld"] == {"not provided": 40}
    assert by_name["shoe_size"]["contribution"] == 0 and by_name["shoe_size"]["flips"] == 0

    # Income replaced by its declared default, computed with the model itself.
    inputs = pd.DataFrame([{**r, "channel": np.nan} for r in sent])
    before = model.predict_proba(inputs)[:, 1]
    after = model.predict_proba(inputs.assign(income=50.0))[:, 1]
    assert by_name["income"]["recommendation"] == "keep"
    assert by_name["income"]["contribution"] == pytest.approx(np.abs(after - before).mean())
    assert by_name["income"]["flips"] == pytest.approx(np.mean((before >= 0.5) != (after >= 0.5)))

    table = runner.invoke(cli, ["systems", "minimize", "toy", "--database", database_url])
    assert table.exit_code == 0, table.output
    assert "Recommended to drop: shoe_size" in table.output
    assert "Declared but never provided: channel" in table.output


def test_systems_minimize_needs_a_registered_model(
    service: Callable[..., Service], database_url: str
) -> None:
    running = service()
    running.register("credit")
    done = runner.invoke(cli, ["systems", "minimize", "credit", "--database", database_url])
    assert done.exit_code == 2
    assert "no registered model" in " ".join(done.output.split())
