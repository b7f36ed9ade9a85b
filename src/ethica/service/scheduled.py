"""Jobs the service runs on the ledger writer at an interval (retention, review escalation)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

log = logging.getLogger("ethica.service.scheduled")


class JobWriter(Protocol):
    """What a scheduled job needs of the ledger writer."""

    def submit(self, job: Any, *, savepoint: bool = True) -> Future[Any]: ...


def start_every(
    writer: JobWriter,
    job: Callable[[Any], T],
    *,
    seconds: float,
    name: str,
    report: Callable[[T], None],
) -> asyncio.Task[None] | None:
    """Run ``job`` on ``writer`` every ``seconds`` on the running loop; ``None`` when 0.

    The first run is one interval after start, so starting the service stays cheap; a failed
    run is logged and retried at the next interval; cancel the returned task to stop it.
    ``report`` receives each run's result.
    """
    if seconds <= 0:
        return None
    return asyncio.get_running_loop().create_task(_every(writer, job, seconds, name, report))


async def _every(
    writer: JobWriter,
    job: Callable[[Any], T],
    seconds: float,
    name: str,
    report: Callable[[T], None],
) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            result = await asyncio.wrap_future(writer.submit(job))
        except Exception:  # a failed run is retried at the next interval
            log.exception("%s run failed", name)
            continue
        report(result)
