"""Settings: outside development the service refuses the built-in secrets, and says which."""

from __future__ import annotations

import base64
import os

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from ethica.service.app import create_app
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
    monkeypatch.setenv("ETHICA__APP__SECRET_KEY", "a-real-secret-from-the-vault")
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert "ETHICA__APP__SECRET_KEY" not in str(refused.value)
    assert "ETHICA__LEDGER__MASTER_KEY" in str(refused.value)


def test_production_with_secrets_starts(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("ETHICA__APP__ENVIRONMENT", "production")
    monkeypatch.setenv("ETHICA__APP__SECRET_KEY", "a-real-secret-from-the-vault")
    monkeypatch.setenv("ETHICA__LEDGER__MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    monkeypatch.setenv("ETHICA__LEDGER__SIGNING_KEY", base64.b64encode(os.urandom(32)).decode())
    monkeypatch.setenv("ETHICA__DATABASE__URL", f"sqlite:///{tmp_path}/production.db")
    settings = Settings()
    assert settings.app.environment == "production"
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").json()["status"] == "ok"
