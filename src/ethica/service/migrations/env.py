"""Alembic environment: runs on the connection the service hands it (or its own URL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import ethica.service.tables  # noqa: F401  (registers every table on the metadata)
from ethica.service.db import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    """Run the migrations on the given connection, or on ``sqlalchemy.url``."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///ethica.db")
    with engine.begin() as own:
        _migrate(own)


def _migrate(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
