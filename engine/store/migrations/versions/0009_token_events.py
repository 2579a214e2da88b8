"""Tokens are audit events: issuing one is a `token_issued` event carrying its owner, scopes,
expiry and its digest sealed with the audit key, and revoking one a `token_revoked` event
(engine/store/tokens.py), so a token row added or changed in SQL is named by `audit verify` and
refused when used.

- `tokens.issued_seq`: the seq of the token's `token_issued` event.
- Tokens issued before this migration have no such event, so they could not be told from a row
  added in SQL: they are deleted (sign in again; issue new script tokens).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM tokens"))
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("issued_seq", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("issued_seq")
