"""Accounts, API tokens, vendor settings, people, IdP identities, apps and grants, repositories.

Also gives findings a value_hash column (filled from their JSON) so keys join across devices.

Revision ID: 0002
Revises: 0001
Create Date: 2024-06-08
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.Text(), nullable=True)


def _fk(name: str, target: str, type_: sa.types.TypeEngine[Any], **kw: object) -> sa.Column[object]:
    ondelete = str(kw.pop("ondelete", "CASCADE"))
    return sa.Column(name, type_, sa.ForeignKey(target, ondelete=ondelete), **kw)  # type: ignore[arg-type]


def upgrade() -> None:
    _accounts()
    _people()
    _idp()
    _repositories()
    _finding_hashes()


def _accounts() -> None:
    op.create_table(
        "user_accounts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        _when("created_at"),
        _when("last_login_at", nullable=True),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _when("created_at"),
        _when("last_used_at", nullable=True),
        _when("revoked_at", nullable=True),
    )
    op.create_table(
        "vendor_settings",
        sa.Column("vendor_id", sa.String(64), primary_key=True),
        sa.Column("sanctioned", sa.Boolean(), nullable=True),
        sa.Column("allowed_scopes", sa.JSON(), nullable=False),
        _text("note"),
        sa.Column("trust_override", sa.Integer(), nullable=True),
        _text("override_reason"),
        sa.Column("updated_by", sa.String(64), nullable=False),
        _when("updated_at"),
    )


def _people() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        _text("display_name"),
        _when("first_seen"),
    )
    op.create_table(
        "person_devices",
        _fk("person_id", "people.id", sa.Integer(), primary_key=True),
        _fk("device_id", "devices.id", sa.String(36), primary_key=True),
        sa.Column("rule", sa.String(32), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        _when("linked_at"),
    )


def _idp() -> None:
    op.create_table(
        "idp_identities",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(256), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        _text("display_name"),
        sa.Column("status", sa.String(16), nullable=False),
        _fk("person_id", "people.id", sa.Integer(), nullable=True, ondelete="SET NULL"),
        _when("first_seen"),
        _when("last_seen"),
        sa.UniqueConstraint("provider", "external_id", name="uq_idp_identities"),
    )
    op.create_table(
        "idp_apps",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("client_id", sa.String(256), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        _text("publisher"),
        _text("verified_publisher"),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.Column("native", sa.Boolean(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("first_party", sa.Boolean(), nullable=False),
        sa.Column("sso_status", sa.String(16), nullable=True),
        _text("sso_note"),
        _when("first_seen"),
        _when("last_seen"),
        sa.UniqueConstraint("provider", "client_id", name="uq_idp_apps"),
    )
    op.create_table(
        "idp_grants",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        _fk("identity_id", "idp_identities.id", sa.Integer(), nullable=True),
        _fk("app_id", "idp_apps.id", sa.Integer(), nullable=False),
        sa.Column("resource", sa.String(256), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("consent", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _when("granted_at", nullable=True),
        _when("last_used_at", nullable=True),
        _when("revoked_at", nullable=True),
        _when("first_seen"),
        _when("last_seen"),
        sa.UniqueConstraint("provider", "key_hash", name="uq_idp_grants"),
    )
    op.create_table(
        "import_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        _when("ran_at"),
    )


def _repositories() -> None:
    op.create_table(
        "repositories",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(255), nullable=False),
        _text("remote"),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("head", sa.String(64), nullable=True),
        sa.Column("branch", sa.String(255), nullable=True),
        _when("first_seen"),
        _when("last_seen"),
    )
    op.create_table(
        "repo_findings",
        _fk("repository_id", "repositories.id", sa.String(36), primary_key=True),
        sa.Column("finding_id", sa.String(128), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("value_hash", sa.String(128), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        _when("first_seen"),
        _when("last_seen"),
        _when("resolved_at", nullable=True),
    )
    op.create_index("ix_repo_findings_value_hash", "repo_findings", ["value_hash"])


def _finding_hashes() -> None:
    with op.batch_alter_table("findings") as batch:
        batch.add_column(sa.Column("value_hash", sa.String(128), nullable=True))
    op.create_index("ix_findings_value_hash", "findings", ["value_hash"])
    findings = sa.table(
        "findings",
        sa.column("device_id", sa.String()),
        sa.column("finding_id", sa.String()),
        sa.column("data", sa.JSON()),
        sa.column("value_hash", sa.String()),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(findings.c.device_id, findings.c.finding_id, findings.c.data))
    for device_id, finding_id, data in list(rows):
        found = data if isinstance(data, dict) else json.loads(data or "{}")
        if found.get("value_hash"):
            bind.execute(
                findings.update()
                .where(findings.c.device_id == device_id, findings.c.finding_id == finding_id)
                .values(value_hash=found["value_hash"])
            )


def downgrade() -> None:
    op.drop_index("ix_findings_value_hash", table_name="findings")
    with op.batch_alter_table("findings") as batch:
        batch.drop_column("value_hash")
    op.drop_index("ix_repo_findings_value_hash", table_name="repo_findings")
    for table in (
        "repo_findings",
        "repositories",
        "import_runs",
        "idp_grants",
        "idp_apps",
        "idp_identities",
        "person_devices",
        "people",
        "vendor_settings",
        "api_tokens",
        "user_accounts",
    ):
        op.drop_table(table)
