"""A federated audit over three sites, each a separate process, on Flower's Deployment Engine.

The coordinator runs a SuperLink on loopback; each site runs ``ethica federated site`` (a
SuperNode). The sum released by SecAgg+ is audited and must equal the audit of the pooled rows
to the last digit; no site's counts may reach the coordinator, in its logs or its messages.
"""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from federated_cases import assert_same_audit, site_logs, write_sites

from ethica.fairness import audit
from ethica.federated import SecureSum, federated_audit, read_plan, site_counts
from ethica.federated._deployment import free_port

pytestmark = pytest.mark.slow

ETHICA = str(Path(sys.executable).parent / "ethica")


@contextmanager
def running_sites(
    folder: Path, plan: Path, count: int, data: dict[int, list[str]] | None = None
) -> Iterator[None]:
    """``count`` sites running ``ethica federated site`` on folder/site{i}.parquet.

    ``data``: a site's own ``--data`` (and ``--table``) arguments in place of its file.
    """
    superlink = read_plan(plan).superlink
    processes = []
    for index in range(count):
        source = (data or {}).get(index, ["--data", str(folder / f"site{index}.parquet")])
        env = {**os.environ, "FLWR_HOME": str(folder / f"home{index}")}
        env.pop("FLWR_TELEMETRY_ENABLED", None)  # the site turns it off by itself
        command = [
            ETHICA,
            "federated",
            "site",
            *source,
            "--superlink",
            superlink,
        ]
        with (folder / f"site{index}.log").open("wb") as out:
            processes.append(
                subprocess.Popen(
                    command,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                )
            )
    try:
        yield
    finally:
        for process in processes:
            # Each site's SuperNode and ClientApps are in the session the test started.
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def sites(tmp_path: Path, flower: Path) -> Iterator[tuple[Path, list[pd.DataFrame]]]:
    """Three sites running ``ethica federated site``, waiting for the coordinator."""
    logs = site_logs()
    plan = write_sites(tmp_path, logs, port=free_port())
    with running_sites(tmp_path, plan, 3):
        yield plan, logs


def test_three_sites_audit_as_the_pooled_rows_and_reveal_no_table(
    sites: tuple[Path, list[pd.DataFrame]], tmp_path: Path
) -> None:
    plan_path, logs = sites
    plan = read_plan(plan_path)
    transcript = tmp_path / "transcript.jsonl"
    coordinator_logs = tmp_path / "coordinator"

    result = federated_audit(plan_path, transcript=transcript, logs=coordinator_logs)

    pooled = pd.concat(logs, ignore_index=True)
    central = audit(
        pooled,
        sensitive_features=["sex", "age_band"],
        label="repaid",
        prediction="approved",
        min_group_size=20,
    )
    assert result.table.rows == len(pooled) and result.sites == 3
    assert_same_audit(result.audit, central)

    tables = [site_counts(plan, plan_path.parent / f"site{i}.parquet") for i in range(3)]
    offset = SecureSum(3).largest_count
    messages = [json.loads(line) for line in transcript.read_text().splitlines()]
    masked = []
    for message in messages:
        assert "error" not in message
        # Flower's FitRes carries no parameters in the clear: secaggplus_mod cleared them.
        assert all(not arrays for arrays in message["arrays"].values())
        configs = message["configs"].get("secaggplus_configs", {})
        for encoded in configs.get("masked_params", []):
            # Flower writes arrays with np.save (never pickled).
            raw = io.BytesIO(base64.b64decode(encoded["base64"]))
            masked.append(np.load(raw, allow_pickle=False))
    assert len(masked) == 3 * 2  # per site: the weight, then the counts
    for vector in masked:
        for table in tables:
            if vector.shape == table.shape:
                assert not np.array_equal(vector, table)
                assert not np.array_equal(vector, table + offset)
                # Masked: spread over the modulus, far above any count.
                assert np.median(vector) > 10 * table.max()
    written = transcript.read_text() + "".join(
        p.read_text(errors="replace") for p in coordinator_logs.iterdir()
    )
    for table in tables:
        for separator in (", ", " ", ","):
            assert separator.join(str(c) for c in table) not in written
