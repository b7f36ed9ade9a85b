"""The one composition root: settings, database, ledger writer and gateway, built in one place.

``create_app``, the embedded gateway, the CLI and the demo all call :func:`build_state`; routes
reach the state through the aliases of :mod:`ethica.service.deps`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ethica.service.consent.hook import SqlConsentHook
from ethica.service.db import make_engine, session_factory, upgrade
from ethica.service.decisions.gateway import Gateway
from ethica.service.ledger.epochs import attach_key_file
from ethica.service.ledger.heads import HeadSigner, head_signer, signing_writer
from ethica.service.ledger.journal import attach_erasure_journal
from ethica.service.ledger.writer import LedgerWriter
from ethica.service.settings import Settings
from ethica.service.wal import WalCheckpoints


@dataclass
class ServiceState:
    """What every request shares: settings, database, the ledger writer and the gateway."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    writer: LedgerWriter
    gateway: Gateway
    heads: HeadSigner
    wal: WalCheckpoints | None = None

    def close(self) -> None:
        """Finish queued decisions and writes, then close the database."""
        self.gateway.close()
        self.writer.close()
        if self.wal is not None:
            self.wal.close()
        self.engine.dispose()


def build_state(
    settings: Settings,
    *,
    migrate: bool,
    background_checkpoints: bool = False,
    seed: int | None = None,
) -> ServiceState:
    """Connect the database (migrating it when ``migrate``), start the ledger writer and gateway.

    ``background_checkpoints`` moves SQLite's WAL checkpoints to a thread of their own (the
    server's choice: commits then never wait for one); ``seed`` seeds the gateway's sampling.
    """
    engine = make_engine(
        settings.database.url,
        echo=settings.database.echo,
        background_checkpoints=background_checkpoints,
    )
    if migrate:
        upgrade(engine)
    wal = WalCheckpoints.start_for(engine) if background_checkpoints else None
    sessions = session_factory(engine)
    attach_key_file(settings, sessions)
    attach_erasure_journal(settings, sessions)
    heads = head_signer(settings)
    writer = signing_writer(sessions, settings, heads)
    gateway = Gateway(
        sessions, settings, seed=seed, consent=SqlConsentHook(sessions), writer=writer
    )
    return ServiceState(settings, engine, sessions, writer, gateway, heads, wal)


def state_of(app: Any) -> ServiceState:
    """The service state of an application built by ``create_app``."""
    state: ServiceState = app.state.ethica
    return state
