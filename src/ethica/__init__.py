"""ethica: a trust layer for customer-facing AI.

The library (``ethica.fairness``, ``ethica.ledger``, ...) works without the service; the service
parts below load on first use.
"""

from __future__ import annotations

from typing import Any

from ethica._version import __version__

__all__ = ["Client", "Gateway", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Client":
        from ethica.client import Client

        return Client
    if name == "Gateway":
        from ethica.service.embedded import EmbeddedGateway

        return EmbeddedGateway
    raise AttributeError(f"module 'ethica' has no attribute {name!r}")
