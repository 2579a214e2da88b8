"""Keyed audit events: each event names the audit key its hash was made with.

Events from here on are hashed with HMAC-SHA256 over their RFC 8785 canonical bytes
(`rfc8785-hmac-sha256`), with a key kept outside the database (engine/store/keys.py, in
DTPA_KEY_DIR); `key_id` says which key of the ring, so keys can be rotated and old events still
verify. Events stored before keep no key id and verify as they were hashed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

KEYED = "rfc8785-hmac-sha256"


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("key_id", sa.String(40)))


def downgrade() -> None:
    # A keyed event without its key id cannot be checked: refuse to lose it.
    bind = op.get_bind()
    keyed = bind.execute(sa.text("SELECT COUNT(*) FROM audit_events WHERE hash_scheme = :keyed"),
                         {"keyed": KEYED}).scalar_one()
    if keyed:
        raise RuntimeError("audit_events holds events hashed with an audit key; they cannot be "
                           "downgraded to a store without key ids")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("key_id")
