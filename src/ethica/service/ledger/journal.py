"""The service's erasure journal: where it is, and handing it to every session.

The journal (:class:`~ethica.ledger.ErasureJournal`) lives beside the key file unless
``ETHICA__LEDGER__ERASURE_JOURNAL`` says otherwise; what it is for: ``docs/erasure.md``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from ethica.ledger import ErasureJournal
from ethica.service.ledger.epochs import key_file_path
from ethica.service.settings import Settings

log = logging.getLogger("ethica.service")

JOURNAL = "ethica.erasure_journal"
"""Where a session factory's ``info`` holds the :class:`~ethica.ledger.ErasureJournal`."""


def journal_path(settings: Settings) -> Path | None:
    """Where erasures are journalled: the setting, else beside the key file, else nowhere."""
    if settings.ledger.erasure_journal:
        return Path(settings.ledger.erasure_journal)
    keys = key_file_path(settings.database.url, settings.ledger.key_file)
    if keys is None:
        return None
    stem = keys.name.removesuffix(".json").removesuffix(".keys")
    return keys.with_name(f"{stem}.erasures.jsonl")


def attach_erasure_journal(
    settings: Settings, sessions: sessionmaker[Session]
) -> ErasureJournal | None:
    """Hand the database's erasure journal (if any) to every session of ``sessions``."""
    path = journal_path(settings)
    if path is None:
        if settings.app.environment == "production":
            log.warning(
                "no erasure journal (set ETHICA__LEDGER__ERASURE_JOURNAL or "
                "ETHICA__LEDGER__KEY_FILE): after restoring an older backup, erased subjects "
                "come back unnoticed"
            )
        return None
    journal = ErasureJournal(path, settings.ledger.master_key_bytes)
    sessions.configure(info={**(sessions.kw.get("info") or {}), JOURNAL: journal})
    return journal


def journal_of(sessions: sessionmaker[Session]) -> ErasureJournal | None:
    """The erasure journal handed to ``sessions``; None when erasures are not journalled."""
    found = (sessions.kw.get("info") or {}).get(JOURNAL)
    return found if isinstance(found, ErasureJournal) else None
