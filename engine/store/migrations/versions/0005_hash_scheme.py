"""Each hashed row names its hash scheme and keeps the canonical bytes its hash covers.

Rows already stored were hashed over DTPA's sorted JSON and are marked `sorted-json-sha256`, so
they verify as before; new rows are `rfc8785-sha256` (RFC 8785 canonical JSON) and keep their
bytes (records in record_json and input_json, the rest in `canonical`).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

LEGACY = "sorted-json-sha256"


def upgrade() -> None:
    for table in ("records", "signoffs", "overrides", "audit_events"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("hash_scheme", sa.String(32), nullable=False,
                                       server_default=LEGACY))
            if table != "records":
                batch.add_column(sa.Column("canonical", sa.Text))


def downgrade() -> None:
    # Rows written under RFC 8785 would not verify without their scheme: refuse to lose it.
    bind = op.get_bind()
    for table in ("records", "signoffs", "overrides", "audit_events"):
        newer = bind.execute(sa.text(f"SELECT COUNT(*) FROM {table} WHERE hash_scheme != :legacy"),
                             {"legacy": LEGACY}).scalar_one()
        if newer:
            raise RuntimeError(f"{table} holds rows hashed under RFC 8785; they cannot be "
                               "downgraded to the old scheme")
    for table in ("records", "signoffs", "overrides", "audit_events"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("hash_scheme")
            if table != "records":
                batch.drop_column("canonical")
