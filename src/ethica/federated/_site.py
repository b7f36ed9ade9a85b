"""A site of a federated audit: a SuperNode whose ClientApp counts this site's decision log."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from types import FrameType

from ethica.federated._deployment import flower_environment, stop, supernode_command
from ethica.federated._plan import check_loopback
from ethica.federated._site_counts import SiteLog


def run_site(data: str | Path, superlink: str, *, table: str | None = None) -> int:
    """Run this site until the SuperNode stops, or the operator stops it (Ctrl+C, SIGTERM).

    ``data`` is a Parquet or CSV file, or a ``postgresql://`` URL whose ``table`` holds the log.
    """
    log = SiteLog.of(data, table)
    check_loopback(superlink, "--superlink")
    command = supernode_command(log.location, superlink, log.table)
    process = subprocess.Popen(command, env=flower_environment())
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        # The SuperNode stops the ClientApps it started.
        stop(process)
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
