"""What the service tests share besides fixtures: specs, training data, a running service."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ethica.ledger import KeyRing
from ethica.service.app import state_of
from ethica.service.ledger.store import SqlKeyStore
from ethica.service.settings import Settings

PASSWORD = "correct horse battery staple"
STAFF = ("admin", "officer", "reviewer")


def credit_spec(**changes: Any) -> dict[str, Any]:
    """A high-risk binary credit system with two features and one protected attribute."""
    spec: dict[str, Any] = {
        "name": "Credit limit",
        "purpose": "finance",
        "risk_tier": "high",
        "decision": {"kind": "binary", "threshold": 0.5},
        "features": [
            {"name": "income", "type": "number", "data_category": "user.financial"},
            {
                "name": "housing",
                "type": "category",
                "categories": ["own", "rent"],
                "data_category": "user.demographic",
            },
        ],
        "protected_attributes": [{"name": "sex"}],
        "owner": "risk@bank.example",
    }
    spec.update(changes)
    return spec


def credit_frame(n: int = 400, *, seed: int = 0) -> tuple[pd.DataFrame, pd.Series[int]]:
    """Training data where approval follows income (with housing as a categorical)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "income": rng.random(n) * 100,
            "housing": pd.Categorical(rng.choice(["own", "rent"], n), categories=["own", "rent"]),
        }
    )
    return frame, (frame["income"] > 50).astype(int)


@dataclass
class Service:
    """A running app with its client and every staff role signed in."""

    app: FastAPI
    client: TestClient
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        return state_of(self.app).settings

    def api_key(self, *scopes: str) -> dict[str, str]:
        """Headers of a new application key with ``scopes``."""
        response = self.client.post(
            "/v1/api-keys",
            json={"name": "application", "scopes": list(scopes)},
            headers=self.headers["admin"],
        )
        assert response.status_code == 201, response.text
        return bearer(response.json()["key"])

    def register(self, system_id: str = "credit", **changes: Any) -> dict[str, Any]:
        """Register a system from :func:`credit_spec`."""
        response = self.client.put(
            f"/v1/systems/{system_id}", json=credit_spec(**changes), headers=self.headers["admin"]
        )
        assert response.status_code in (200, 201), response.text
        return dict(response.json())

    def upload(self, system_id: str, content: bytes, *, format: str, version: str = "1") -> Any:
        """Upload a model version (the raw response)."""
        return self.client.post(
            f"/v1/systems/{system_id}/models",
            params={"version": version, "format": format},
            content=content,
            headers=self.headers["admin"],
        )

    def key_prefix(self, subject: str) -> str:
        """How ledger entries and ``subject_keys`` name ``subject``'s keys: ``<pseudonym>#``."""
        with state_of(self.app).sessions() as session:
            keyring = KeyRing(self.settings.ledger.master_key_bytes, store=SqlKeyStore(session))
            return keyring.subject_pseudonym(subject, create=False) + "#"

    def decide(self, system_id: str, body: dict[str, Any], **kwargs: Any) -> Any:
        """Send a decision with the admin's session (the raw response)."""
        return self.client.post(
            f"/v1/systems/{system_id}/decisions",
            json=body,
            headers=kwargs.pop("headers", self.headers["admin"]),
            **kwargs,
        )


def bearer(credential: str) -> dict[str, str]:
    """An ``Authorization`` header."""
    return {"Authorization": f"Bearer {credential}"}


def sign_in(client: TestClient, email: str) -> dict[str, str]:
    """Headers of a staff user's session."""
    response = client.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return bearer(response.json()["token"])


def explained_features() -> list[dict[str, Any]]:
    """Credit features a model explains: income (actionable) and housing."""
    return [
        {
            "name": "income",
            "type": "number",
            "data_category": "user.financial",
            "description": "yearly income",
            "actionable": True,
            "direction": "increasing",
        },
        {
            "name": "housing",
            "type": "category",
            "categories": ["own", "rent"],
            "data_category": "user.demographic",
            "description": "housing",
        },
    ]
