"""Records, sign-offs, overrides and the hash-chained audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "records",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("key", sa.String(32), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("context", sa.String(20), nullable=False, index=True),
        sa.Column("title", sa.String(200)),
        sa.Column("product", sa.String(200), nullable=False, index=True),
        sa.Column("product_version", sa.String(200)),
        sa.Column("patient_reference", sa.String(40)),
        sa.Column("ward", sa.String(200), index=True),
        sa.Column("relies_on", sa.String(40), index=True),
        sa.Column("outcome", sa.String(40), nullable=False, index=True),
        sa.Column("assessed_on", sa.Date, nullable=False),
        sa.Column("review_date", sa.Date, index=True),
        sa.Column("rule_pack_version", sa.String(20), nullable=False),
        sa.Column("rule_pack_hash", sa.String(64), nullable=False),
        sa.Column("profile", sa.String(80), nullable=False),
        sa.Column("input_json", sa.Text, nullable=False),
        sa.Column("record_json", sa.Text, nullable=False),
        sa.Column("input_hash", sa.String(64), nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_role", sa.String(80), nullable=False),
        sa.Column("idempotency_key", sa.String(200), unique=True),
        sa.UniqueConstraint("key", "version", name="uq_records_key_version"),
    )
    op.create_table(
        "signoffs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("record_id", sa.String(40), sa.ForeignKey("records.id"), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(80), nullable=False),
        sa.Column("signed_at", sa.String(32), nullable=False),
        sa.Column("attestations", sa.JSON, nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("content_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "overrides",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("record_id", sa.String(40), sa.ForeignKey("records.id"), nullable=False, index=True),
        sa.Column("target", sa.String(20), nullable=False),
        sa.Column("engine_value", sa.String(40), nullable=False),
        sa.Column("new_value", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(80), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("role", sa.String(80), nullable=False),
        sa.Column("action", sa.String(20), nullable=False, index=True),
        sa.Column("record_id", sa.String(40), index=True),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("flags_review", sa.Boolean, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    for table in ("audit_events", "overrides", "signoffs", "records"):
        op.drop_table(table)
