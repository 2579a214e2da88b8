"""Sign-in that resists guessing: back-off and lockout state, one-time setup tokens, accounts
linked to an identity provider by issuer and subject, and sessions an administrator can end.

- `signin_guard`: failed sign-ins per account name and per client (keyed by a SHA-256) and the
  lock each is under (engine/store/guard.py).
- `setup_tokens`: the SHA-256 of each one-time token for creating the first administrator on the
  web, with its expiry and when it was used (engine/store/bootstrap.py).
- `users.oidc_issuer`, `users.oidc_subject` (unique together): the identity-provider account
  linked to a DTPA account; OpenID Connect sign-in finds it by both, never by e-mail.
- `users.sessions_from`: web sessions signed in before it are over (deactivation, password reset).
- `audit_events.action` widened from 20 to 40 characters (`account_password_reset` ...).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signin_guard",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("window_start", sa.String(32)),
        sa.Column("last_failure", sa.String(32)),
        sa.Column("lockouts", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.String(32)),
    )
    op.create_table(
        "setup_tokens",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.Column("used_at", sa.String(32)),
    )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("oidc_issuer", sa.String(500)))
        batch.add_column(sa.Column("oidc_subject", sa.String(255)))
        batch.add_column(sa.Column("sessions_from", sa.String(32)))
        batch.create_unique_constraint("uq_users_oidc_identity", ["oidc_issuer", "oidc_subject"])
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("action", existing_type=sa.String(20), type_=sa.String(40),
                           existing_nullable=False)


def downgrade() -> None:
    # An event whose action needs more than 20 characters would not fit: refuse to cut it.
    bind = op.get_bind()
    long_actions = bind.execute(sa.text("SELECT COUNT(*) FROM audit_events "
                                        "WHERE LENGTH(action) > 20")).scalar_one()
    if long_actions:
        raise RuntimeError("audit_events holds actions longer than 20 characters (account "
                           "changes); they cannot be downgraded")
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("action", existing_type=sa.String(40), type_=sa.String(20),
                           existing_nullable=False)
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_oidc_identity", type_="unique")
        batch.drop_column("sessions_from")
        batch.drop_column("oidc_subject")
        batch.drop_column("oidc_issuer")
    op.drop_table("setup_tokens")
    op.drop_table("signin_guard")
