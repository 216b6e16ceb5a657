"""The organisation's vendor-trust policy: factor weights, accepted jurisdictions, and
whether unknown factors count as 0 (server/trust_policy.py); no row means the defaults.
And devices count their heartbeats, which are no longer stored as report rows.

Revision ID: 0004
Revises: 0003 (OIDC accounts)
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trust_policy",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("weights", sa.JSON(), nullable=False),
        sa.Column("accepted_jurisdictions", sa.JSON(), nullable=False),
        sa.Column("penalise_unknown", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("last_heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("heartbeats", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("heartbeats")
        batch.drop_column("last_heartbeat_at")
    op.drop_table("trust_policy")
