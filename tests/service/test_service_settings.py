"""Settings: outside development the service refuses the built-in secrets, and says which."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from ethica.service.app import create_app
from ethica.service.secret_strength import MIN_SECRET_BITS, secret_bits
from ethica.service.settings import Settings

SECRETS = ("ETHICA__APP__SECRET_KEY", "ETHICA__LEDGER__MASTER_KEY", "ETHICA__LEDGER__SIGNING_KEY")


def test_production_with_default_secrets_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETHICA__APP__ENVIRONMENT", "production")
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValidationError) as refused:
        Settings()
    for name in SECRETS:
        assert name in str(refused.value)
    monkeypatch.setenv("ETHICA__APP__SECRET_KEY", secrets.token_urlsafe(32))
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert "ETHICA__APP__SECRET_KEY" not in str(refused.value)
    assert "ETHICA__LEDGER__MASTER_KEY" in str(refused.value)


def test_production_with_secrets_starts(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("ETHICA__APP__ENVIRONMENT", "production")
    monkeypatch.setenv("ETHICA__APP__SECRET_KEY", secrets.token_urlsafe(32))
    monkeypatch.setenv("ETHICA__LEDGER__MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    monkeypatch.setenv("ETHICA__LEDGER__SIGNING_KEY", base64.b64encode(os.urandom(32)).decode())
    monkeypatch.setenv("ETHICA__DATABASE__URL", f"sqlite:///{tmp_path}/production.db")
    settings = Settings()
    assert settings.app.environment == "production"
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").json()["status"] == "ok"


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def _production(**secrets_: str) -> dict[str, object]:
    chosen = {"secret_key": secrets.token_urlsafe(32), "master_key": _key(), "signing_key": _key()}
    chosen.update(secrets_)
    return {
        "app": {"environment": "production", "secret_key": chosen["secret_key"]},
        "ledger": {"master_key": chosen["master_key"], "signing_key": chosen["signing_key"]},
    }


@pytest.mark.parametrize(
    ("variable", "weak"),
    [
        ("ETHICA__APP__SECRET_KEY", ""),
        ("ETHICA__APP__SECRET_KEY", "x"),
        ("ETHICA__APP__SECRET_KEY", "a-real-secret-from-the-vault"),
        ("ETHICA__APP__SECRET_KEY", "0123456789abcdef" * 3),  # 48 hex digits: 192 bits
        ("ETHICA__LEDGER__MASTER_KEY", ""),
        ("ETHICA__LEDGER__MASTER_KEY", base64.b64encode(bytes(range(16))).decode()),
        ("ETHICA__LEDGER__MASTER_KEY", base64.b64encode(bytes(32)).decode()),
        ("ETHICA__LEDGER__MASTER_KEY", "not base64 at all!"),
        ("ETHICA__LEDGER__SIGNING_KEY", base64.b64encode(b"ab" * 16).decode()),
        ("ETHICA__LEDGER__SIGNING_KEY", base64.b64encode(bytes(range(33))).decode()),
    ],
)
def test_every_weak_secret_is_refused_outside_development_naming_its_variable(
    variable: str, weak: str
) -> None:
    field = variable.removeprefix("ETHICA__").split("__")[1].lower()
    with pytest.raises(ValidationError) as refused:
        Settings(**_production(**{field: weak}))
    message = str(refused.value.errors()[0]["msg"])
    assert variable in message
    others = {"ETHICA__APP__SECRET_KEY", "ETHICA__LEDGER__MASTER_KEY"} - {variable}
    assert not any(other in message for other in others)


def test_strong_secrets_of_every_usual_generator_are_accepted() -> None:
    for secret_key in (secrets.token_urlsafe(32), secrets.token_hex(32), _key()):
        settings = Settings(**_production(secret_key=secret_key))
        assert settings.app.secret_key.get_secret_value() == secret_key


def test_a_secret_s_entropy_is_its_length_times_its_alphabet_s_bits() -> None:
    assert secret_bits("") == 0
    assert secret_bits("0" * 77) == pytest.approx(77 * 3.3219, rel=1e-3)
    assert secret_bits(secrets.token_hex(32)) == 256
    assert secret_bits(secrets.token_urlsafe(32)) >= MIN_SECRET_BITS


def test_development_accepts_short_secrets_but_never_a_malformed_ledger_key() -> None:
    assert Settings(app={"secret_key": "x"}).app.secret_key.get_secret_value() == "x"
    with pytest.raises(ValidationError, match="ETHICA__LEDGER__MASTER_KEY must be base64"):
        Settings(ledger={"master_key": "short"})


def test_serve_refuses_a_weak_secret_with_one_line_and_exit_code_2(tmp_path: Path) -> None:
    environment = dict(
        os.environ,
        ETHICA__APP__ENVIRONMENT="production",
        ETHICA__APP__SECRET_KEY="x",
        ETHICA__LEDGER__MASTER_KEY="bm90IGEga2V5",
        ETHICA__LEDGER__SIGNING_KEY=_key(),
        ETHICA__DATABASE__URL=f"sqlite:///{tmp_path}/never.db",
        COLUMNS="60",
    )
    run = subprocess.run(
        [sys.executable, "-c", "from ethica.cli import main; main()", "serve", "--port", "1"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "ETHICA__APP__SECRET_KEY" in lines[0] and "ETHICA__LEDGER__MASTER_KEY" in lines[0]
    assert "Traceback" not in run.stderr and not (tmp_path / "never.db").exists()
