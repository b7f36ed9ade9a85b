"""Errors that ethica raises on purpose, each with a message that says what to fix."""

from __future__ import annotations


class EthicaError(Exception):
    """Base class of every error ethica raises on purpose."""


class InputError(EthicaError, ValueError):
    """The caller's data or arguments cannot be used as given; the message says how to fix them."""


class EngineError(EthicaError, RuntimeError):
    """An aggregation engine is unavailable or failed to run a query."""
