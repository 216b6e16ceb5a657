"""The migrations: they build exactly the ORM's schema, rerun harmlessly, keep the org key."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from shadowmap.server.db import make_engine, open_database, upgrade
from shadowmap.server.tables import Base, OrgIdentity


def test_the_migrations_build_the_orm_schema(db_url: str) -> None:
    engine = open_database(db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
            tables = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()

    assert differences == []
    assert {"alembic_version", "devices", "reports", "findings", "org_identity"} <= tables


def test_opening_again_keeps_the_schema_and_the_org_key(db_url: str) -> None:
    first = open_database(db_url)
    with Session(first) as session:
        key = session.scalars(select(OrgIdentity.fingerprint_key)).all()
    first.dispose()

    second = open_database(db_url)
    upgrade(second)
    with Session(second) as session:
        again = session.scalars(select(OrgIdentity.fingerprint_key)).all()
    second.dispose()

    assert len(key) == 1
    assert again == key


def test_an_empty_database_has_no_tables_before_the_first_start(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            assert inspect(connection).get_table_names() == []
    finally:
        engine.dispose()
