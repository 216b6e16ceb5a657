"""The organisation's vendor-trust policy: factor weights, accepted jurisdictions, and
whether unknown factors count as 0 (server/trust_policy.py). No row means the defaults.

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
    op.create_table(
        "trust_policy",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("weights", sa.JSON(), nullable=False),
        sa.Column("accepted_jurisdictions", sa.JSON(), nullable=False),
        sa.Column("penalise_unknown", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("trust_policy")
