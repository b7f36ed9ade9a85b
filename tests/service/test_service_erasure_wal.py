"""After an erasure PostgreSQL's write-ahead log moves past the segment the erasure wrote in.

The erasure's compaction checkpoints, closes the current WAL segment (``pg_switch_wal``) and
checkpoints again, so that the redo point is past every segment holding row versions from
before the erasure: PostgreSQL may then recycle them all (docs/erasure.md says for how long
they may still be read). SQLite empties its log instead (tested by the erasure scan).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from service_testing import Service
from sqlalchemy import text

from ethica.service.app import state_of
from ethica.service.ledger.compaction import compact_after_erasure


def _wal(running: Service) -> tuple[str, str]:
    """The segment being written, and the one the last checkpoint's redo point is in."""
    with state_of(running.app).engine.connect() as connection:
        current = connection.execute(text("SELECT pg_walfile_name(pg_current_wal_lsn())"))
        redo = connection.execute(text("SELECT redo_wal_file FROM pg_control_checkpoint()"))
        return str(current.scalar()), str(redo.scalar())


def test_an_erasure_moves_the_redo_point_past_the_segments_it_wrote_in(
    service: Callable[..., Service], database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's write-ahead log")
    running = service()
    running.register("credit")
    made = running.decide("credit", {"subject_id": "wal-erased", "score": 0.7})
    assert made.status_code == 201, made.text
    writing, _ = _wal(running)  # holds the decision row, with the subject's id

    erased = running.client.post(
        "/v1/subjects/wal-erased/erasure", headers=running.headers["officer"]
    )
    assert erased.status_code == 201, erased.text

    now_writing, redo = _wal(running)
    # WAL file names sort in log order (timeline, then position).
    assert now_writing > writing and redo > writing, (writing, now_writing, redo)


def test_the_compaction_says_what_it_could_do(
    service: Callable[..., Service], database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's write-ahead log")
    running = service()
    done = compact_after_erasure(state_of(running.app).engine)
    assert done["checkpoint"] and done["wal_switched"] and done["checkpoint_after_switch"], done
