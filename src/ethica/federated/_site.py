"""A site of a federated audit: a SuperNode whose ClientApp counts this site's decision log."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from types import FrameType

from ethica.errors import InputError
from ethica.federated._deployment import flower_environment, stop, supernode_command
from ethica.federated._plan import check_loopback


def run_site(data: Path, superlink: str) -> int:
    """Run this site until the SuperNode stops, or the operator stops it (Ctrl+C, SIGTERM)."""
    if not data.is_file():
        raise InputError(f"no decision log at {data}; pass a Parquet or CSV file with --data")
    check_loopback(superlink, "--superlink")
    process = subprocess.Popen(supernode_command(data, superlink), env=flower_environment())
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
