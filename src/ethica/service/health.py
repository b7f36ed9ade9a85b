"""Liveness of the service (no credentials needed, reveals nothing)."""

from __future__ import annotations

from fastapi import APIRouter

from ethica._version import __version__

router = APIRouter(tags=["health"])


@router.get("/health", operation_id="health")
def health() -> dict[str, str]:
    """The service is up."""
    return {"status": "ok", "version": __version__}
