"""Opens the collector's database: the engine, SQLite's locking, and the Alembic upgrade.

The schema comes only from the migrations shipped in this package, applied at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from shadowmap.agent.errors import ConfigError
from shadowmap.server.org import ensure_org_identity

logger = logging.getLogger(__name__)

# Shipped as package data (pyproject.toml), so a normal install migrates too.
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Replicas that start together migrate one at a time under this pg_advisory_xact_lock key
# (any fixed 64-bit number; this one spells "shmap").
MIGRATION_LOCK_KEY = 0x73686D6170
# How long SQLite waits for another writer before "database is locked" (sqlite3.connect).
SQLITE_BUSY_TIMEOUT_S = 30.0
# The next step when the database URL is unusable (docs/collector-api.md, --db).
URL_HINT = "pass --db sqlite:///PATH or --db postgresql+psycopg://USER@HOST:5432/DB"


def open_database(url: str) -> Engine:
    """An engine on an up-to-date schema with the org key in place; ConfigError if not."""
    engine = make_engine(url)
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        upgrade(engine)
        ensure_org_identity(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise ConfigError(f"cannot open the database {shown}: {reason}", hint=URL_HINT) from exc
    logger.info("database %s is ready", shown)
    return engine


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() != "sqlite":
            return create_engine(parsed, pool_pre_ping=True)
        engine = create_engine(
            parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
        )
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise ConfigError(
            f"cannot use the database URL: {exc}",
            hint=f"{URL_HINT}; PostgreSQL needs `pip install 'shadowmap[postgres]'`",
        ) from None
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def upgrade(engine: Engine) -> None:
    """``alembic upgrade head`` in one transaction, one replica at a time on PostgreSQL."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        command.upgrade(alembic_config(connection), "head")


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, made in code: no alembic.ini in the working directory."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


T = TypeVar("T")


def last_write_wins(session: Session, write: Callable[[], T]) -> T:
    """``write()``, which reads a row, makes it if absent and commits; once more if another
    writer (a replica, a second tab) made the row meanwhile, so the later write wins."""
    try:
        return write()
    except IntegrityError:
        session.rollback()
        return write()


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own BEGIN is deferred, which deadlocks two writers; _sqlite_on_begin takes over.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
