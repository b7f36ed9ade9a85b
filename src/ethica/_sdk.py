"""The one ``decide`` of the two ways to call the gateway: over HTTP and in-process."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Decides(Generic[T]):
    """A way to run decisions; subclasses say how one request body reaches the gateway."""

    def decide(
        self,
        system_id: str,
        *,
        features: Mapping[str, Any],
        subject_id: str | None = None,
        protected: Mapping[str, str | None] | None = None,
        score: float | None = None,
        idempotency_key: str | None = None,
    ) -> T:
        """Run one decision through the governed path; return it once durably recorded."""
        body = {
            "subject_id": subject_id,
            "features": dict(features),
            "protected": dict(protected or {}),
            "score": score,
            "idempotency_key": idempotency_key,
        }
        return self._decide(system_id, body)

    def _decide(self, system_id: str, body: dict[str, Any]) -> T:
        raise NotImplementedError
