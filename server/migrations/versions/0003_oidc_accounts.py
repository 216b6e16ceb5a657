"""Accounts of OIDC subjects: issuer, subject and email columns; the password hash optional.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite cannot alter a column in place; batch mode copies the table there and is a
    # plain ALTER TABLE on PostgreSQL.
    with op.batch_alter_table("user_accounts") as batch:
        batch.alter_column("password_hash", existing_type=sa.String(255), nullable=True)
        batch.add_column(sa.Column("oidc_issuer", sa.String(512), nullable=True))
        batch.add_column(sa.Column("oidc_subject", sa.String(255), nullable=True))
        batch.add_column(sa.Column("email", sa.String(320), nullable=True))
        batch.create_unique_constraint("uq_user_accounts_oidc", ["oidc_issuer", "oidc_subject"])


def downgrade() -> None:
    # An OIDC account has no password to go back to; it goes.
    op.execute(sa.text("DELETE FROM user_accounts WHERE password_hash IS NULL"))
    with op.batch_alter_table("user_accounts") as batch:
        batch.drop_constraint("uq_user_accounts_oidc", type_="unique")
        batch.drop_column("email")
        batch.drop_column("oidc_subject")
        batch.drop_column("oidc_issuer")
        batch.alter_column("password_hash", existing_type=sa.String(255), nullable=False)
