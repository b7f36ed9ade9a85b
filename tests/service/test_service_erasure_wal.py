"""After an erasure PostgreSQL's write-ahead log moves past the segment the erasure wrote in.

The erasure's compaction checkpoints, closes the current WAL segment (``pg_switch_wal``) and
checkpoints again, so that the redo point is past every segment holding row versions from
before the erasure: PostgreSQL may then recycle them all (docs/erasure.md says for how long
they may still be read). SQLite empties its log instead (tested by the erasure scan).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from service_testing import Service
from sqlalchemy import select, text

from ethica.ledger import KeyFile
from ethica.service.app import state_of
from ethica.service.decisions.tables import ProtectedValue
from ethica.service.ledger.compaction import compact_after_erasure
from ethica.service.ledger.tables import KeyEpoch, SubjectKey


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


# --- the old ciphertext in pg_wal -------------------------------------------------------------

WAL_PAGE = 8192  # XLOG_BLCKSZ: each page starts with its header, xlp_pageaddr at byte 8


def _lsn(text_lsn: str) -> int:
    high, low = text_lsn.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def _wal_pages_holding(directory: Path, needle: bytes) -> list[tuple[str, int]]:
    """Every ``pg_wal`` segment and page that holds ``needle``, with the page's own address.

    A recycled segment is renamed for reuse, not wiped: its pages keep the address they were
    written at (``xlp_pageaddr``), older than the name says, until they are overwritten.
    """
    found = []
    for path in sorted((directory / "pg_wal").glob("0" * 7 + "*")):
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # removed by a checkpoint meanwhile
            continue
        at = data.find(needle)
        while at >= 0:
            page = at - at % WAL_PAGE
            address = int.from_bytes(data[page + 8 : page + 16], "little")
            found.append((path.name, address))
            at = data.find(needle, at + 1)
    return found


def test_the_erased_subjects_old_ciphertext_is_left_only_behind_the_redo_point(
    service: Callable[..., Service], database_url: str, tmp_path: Path
) -> None:
    """After the rotation the old ciphertext is in no WAL PostgreSQL will replay or ship.

    The erasure checkpoints, switches segment (``pg_switch_wal``) and checkpoints again. The
    erased subject's wrapped keys and sealed protected values (under the now destroyed
    epoch) were in ``pg_wal`` before; after, they are in no page at or past the redo point.
    With ``wal_recycle = on`` (the default) their bytes stay in recycled segments until those
    are overwritten; with it off, PostgreSQL unlinks the segments at the erasure's checkpoint
    and the scan finds nothing (docs/erasure.md: what operators must set, and archives).
    """
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's write-ahead log")
    running = service(ledger={"key_file": str(tmp_path / "keys.json")})
    running.register("credit")
    body = {"subject_id": "wal-old", "protected": {"sex": "wal-old-value"}, "score": 0.7}
    assert running.decide("credit", body).status_code == 201
    body = {"subject_id": "wal-kept", "protected": {"sex": "wal-kept-value"}, "score": 0.7}
    assert running.decide("credit", body).status_code == 201
    prefix = running.key_prefix("wal-old")
    engine = state_of(running.app).engine
    with engine.connect() as connection:
        directory = Path(str(connection.exec_driver_sql("SHOW data_directory").scalar()))
        recycle = connection.exec_driver_sql("SHOW wal_recycle").scalar() == "on"
        wrapped = [
            bytes(row.wrapped)
            for row in connection.execute(select(SubjectKey.subject, SubjectKey.wrapped))
            if row.subject.startswith(prefix)
        ]
        sealed = (
            connection.execute(
                select(ProtectedValue.value).where(ProtectedValue.subject_id == "wal-old")
            )
            .scalars()
            .all()
        )
    needles = [*wrapped, *(value.encode() for value in sealed)]
    assert len(wrapped) == 1 and len(sealed) == 1, (wrapped, sealed)
    for needle in needles:  # the scan sees them where the decision wrote them
        assert _wal_pages_holding(directory, needle), needle

    erased = running.client.post("/v1/subjects/wal-old/erasure", headers=running.headers["officer"])
    assert erased.status_code == 201, erased.text
    with engine.connect() as connection:
        redo = _lsn(
            str(connection.execute(text("SELECT redo_lsn FROM pg_control_checkpoint()")).scalar())
        )
        epochs = list(connection.execute(select(KeyEpoch.id)).scalars())
    key_file = KeyFile(tmp_path / "keys.json", running.settings.ledger.master_key_bytes)
    old_epoch = sealed[0].rpartition(":")[0]
    assert old_epoch not in epochs and old_epoch not in key_file.epochs()  # its KEK destroyed

    for needle in needles:
        pages = _wal_pages_holding(directory, needle)
        assert all(address < redo for _, address in pages), (pages, hex(redo))
        if not recycle:
            assert pages == [], pages
