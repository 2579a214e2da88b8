"""Retention: a record whose patient payload was erased at the end of its retention period keeps
its row as a tombstone, marked with when it was erased and under which profile rule.

The erasure itself empties title, patient_reference, input_json and record_json and is a
`record_erased` audit event (engine/store/retention.py); the hashes, the other columns, the
sign-offs, the overrides and every event stay, so the audit chain still verifies.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("erased_at", sa.String(32)))
        batch.add_column(sa.Column("erasure_rule", sa.String(200)))


def downgrade() -> None:
    # A tombstone without its marker would read as a payload emptied outside DTPA: refuse.
    bind = op.get_bind()
    erased = bind.execute(sa.text("SELECT COUNT(*) FROM records WHERE erased_at IS NOT NULL")
                          ).scalar_one()
    if erased:
        raise RuntimeError(f"{erased} record(s) were erased under the retention rule; their "
                           "tombstone markers cannot be dropped")
    with op.batch_alter_table("records") as batch:
        batch.drop_column("erasure_rule")
        batch.drop_column("erased_at")
