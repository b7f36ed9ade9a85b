"""When the ledger writer's group conflicts with another writer: retry it, or say so.

A group of jobs fails when another writer (a process, a replica, an erasure) committed first:
a key or head it took, an epoch it retired, SQLite's busy answer. Such a group runs again; when
it cannot pass, each caller gets a conflict to retry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from ethica.service.ledger.tables import KeyEpoch


def retry_may_pass(error: BaseException) -> bool:
    """Whether another writer's commit failed the group, so that running it again may pass.

    A unique or foreign key another writer took first (its heads and keys are stale), an epoch
    an erasure retired, or SQLite's busy answer: ``database is locked`` is also what a
    transaction gets that read before another process committed and then tries to write
    (``SQLITE_BUSY_SNAPSHOT``, which waiting cannot cure).
    """
    if isinstance(error, IntegrityError | RetiredEpochError):
        return True
    return isinstance(error, OperationalError) and "database is locked" in str(error.orig)


class RetiredEpochError(Exception):
    """A value of the group was sealed under an epoch an erasure retired meanwhile."""


def check_epochs(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Make sure every epoch the group's protected values were sealed under is still listed.

    The values were sealed when their job ran, under the epoch the key file then named. An
    erasure in another process (``ethica subjects erase``, another worker) may since have
    re-sealed every stored value under a new epoch and deleted the old one's row: a value
    inserted now under the old epoch would be opened by nobody once its key is destroyed.
    Checked inside the group's transaction: on SQLite after its first write (the database's
    write lock is held, so no erasure commits before this group does); on PostgreSQL with a
    ``FOR KEY SHARE`` lock on the epochs' rows, so that an erasure's delete of one waits for
    this commit and its re-sealing (the next statement) then sees these rows. A retired epoch
    raises :class:`RetiredEpochError`: the group runs again, sealing under the current epoch.
    """
    epochs = {str(row["value"]).rpartition(":")[0] for row in rows} - {""}
    if not epochs:  # sealed under the master key alone (no key file): no epoch to retire
        return
    listed = set(
        session.scalars(
            select(KeyEpoch.id)
            .where(KeyEpoch.id.in_(sorted(epochs)))
            .with_for_update(read=True, key_share=True)
        )
    )
    if epochs - listed:
        raise RetiredEpochError(f"key epochs {sorted(epochs - listed)} were retired meanwhile")


def conflict_error() -> Exception:
    from ethica.service.errors import ConflictError

    return ConflictError("the write conflicted with another writer; retry the request")
