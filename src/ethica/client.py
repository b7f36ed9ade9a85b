"""The Python SDK: send decisions to an ethica service over HTTP.

Each :meth:`Client.decide` carries an idempotency key (one is made when none is given) and is
retried with the same key on connection failures, so a retry never records a second decision.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from ethica._sdk import Decides
from ethica.errors import EthicaError


class ServiceError(EthicaError):
    """The service refused a request; ``status`` and ``code`` say why, ``message`` how to fix it."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class Client(Decides[dict[str, Any]]):
    """A client of the decision gateway.

    Parameters
    ----------
    base_url
        The service, e.g. ``"http://127.0.0.1:8000"``.
    api_key
        The application's API key (``ek_...``).
    timeout
        Seconds to wait for each request.
    retries
        Attempts after a connection failure (same idempotency key each time).
    """

    def __init__(
        self, base_url: str, *, api_key: str, timeout: float = 10.0, retries: int = 3
    ) -> None:
        import httpx

        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout,
        )
        self._retries = retries
        self._transport_errors = (httpx.TransportError,)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _decide(self, system_id: str, body: dict[str, Any]) -> dict[str, Any]:
        body["idempotency_key"] = body["idempotency_key"] or str(uuid.uuid4())
        return self._request("POST", f"/v1/systems/{system_id}/decisions", json=body)

    def record_outcome(self, decision_id: str, outcome: str) -> dict[str, Any]:
        """Record the true outcome of a decision."""
        return self._request(
            "POST", f"/v1/decisions/{decision_id}/outcome", json={"outcome": outcome}
        )

    def decision(self, decision_id: str) -> dict[str, Any]:
        """Read one decision."""
        return self._request("GET", f"/v1/decisions/{decision_id}")

    def decisions(self, **filters: Any) -> dict[str, Any]:
        """List decisions (filters: system_id, subject_id, outcome, review_status, since, ...)."""
        params = {k: v for k, v in filters.items() if v is not None}
        return self._request("GET", "/v1/decisions", params=params)

    def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        for attempt in range(self._retries + 1):
            try:
                response = self._http.request(method, path, **kwargs)
                break
            except self._transport_errors:
                if attempt == self._retries:
                    raise
                time.sleep(0.1 * 2**attempt)
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                raise ServiceError(response.status_code, error["code"], error["message"])
            except (ValueError, KeyError, TypeError):
                raise ServiceError(response.status_code, "error", response.text[:500]) from None
        result: dict[str, Any] = response.json()
        return result
