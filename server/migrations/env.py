"""Alembic's environment: runs on the connection db.upgrade hands over, or on a URL.

Never reads an alembic.ini or configures logging: the collector owns both.
"""

from __future__ import annotations

import logging

from alembic import context
from sqlalchemy import create_engine

from shadowmap.server.tables import Base

logger = logging.getLogger(__name__)


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("alembic needs a connection or sqlalchemy.url")
    engine = create_engine(url)
    try:
        with engine.begin() as own_connection:
            _run_on(own_connection)
    finally:
        engine.dispose()


def _run_on(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # type: ignore[attr-defined]
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


# Alembic runs this file as a script for each command; this is that script's one step.
run_migrations()
