"""Fixtures of the ledger tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest


class TickingClock:
    """A clock that advances one second per reading, so entries differ in time."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def ticking_clock() -> TickingClock:
    """A new clock at 2026-03-01 09:00 UTC that ticks one second per reading."""
    return TickingClock()
