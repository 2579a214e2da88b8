"""The store's tables (SQLAlchemy 2). Rows are written once and never updated: a change to a
decision is a new version, and every action is an event in the hash-chained audit log. The one
exception is retention (retention.py): an individual use past its period has its patient
payload emptied, as an audit event, and its row stays as a tombstone.
Timestamps are ISO 8601 strings in UTC, so they hash the same on SQLite and PostgreSQL.

Every hashed row names its hash scheme (engine/hashing.py) and, from migration 0005 on, keeps the
exact canonical bytes its hash covers: a record its record_json and input_json, an event, sign-off
or override its `canonical` column. Rows stored before 0005 are `sorted-json-sha256`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedColumn, mapped_column

from engine.hashing import LEGACY


def _scheme() -> MappedColumn[str]:
    # Rows stored before migration 0005 are legacy; every writer names its scheme explicitly.
    return mapped_column(String(32), server_default=LEGACY)


class Base(DeclarativeBase):
    pass


class RecordRow(Base):
    """One version of a decision record, with the assessment it was made from."""

    __tablename__ = "records"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_records_key_version"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # "<key>@<version>"
    key: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer)
    context: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str | None] = mapped_column(String(200))
    product: Mapped[str] = mapped_column(String(200), index=True)
    product_version: Mapped[str | None] = mapped_column(String(200))
    patient_reference: Mapped[str | None] = mapped_column(String(40))
    ward: Mapped[str | None] = mapped_column(String(200), index=True)
    relies_on: Mapped[str | None] = mapped_column(String(40), index=True)
    outcome: Mapped[str] = mapped_column(String(40), index=True)
    assessed_on: Mapped[dt.date] = mapped_column(Date)
    review_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    rule_pack_version: Mapped[str] = mapped_column(String(20))
    rule_pack_hash: Mapped[str] = mapped_column(String(64))
    profile: Mapped[str] = mapped_column(String(80))
    input_json: Mapped[str] = mapped_column(Text)
    record_json: Mapped[str] = mapped_column(Text)
    input_hash: Mapped[str] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64))
    hash_scheme: Mapped[str] = _scheme()
    created_at: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(200))
    created_role: Mapped[str] = mapped_column(String(80))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # Set when the retention rule erased the patient's payload (migration 0008, retention.py):
    # the row stays as a tombstone with its hashes, and title, patient_reference, input_json and
    # record_json are emptied.
    erased_at: Mapped[str | None] = mapped_column(String(32))
    erasure_rule: Mapped[str | None] = mapped_column(String(200))


class SignoffRow(Base):
    __tablename__ = "signoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(80))
    signed_at: Mapped[str] = mapped_column(String(32))
    attestations: Mapped[dict[str, bool]] = mapped_column(JSON)
    comment: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    hash_scheme: Mapped[str] = _scheme()
    canonical: Mapped[str | None] = mapped_column(Text)  # the bytes content_hash covers


class OverrideRow(Base):
    __tablename__ = "overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), index=True)
    target: Mapped[str] = mapped_column(String(20))  # a principle or area id, or "outcome"
    engine_value: Mapped[str] = mapped_column(String(40))
    new_value: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(32))
    content_hash: Mapped[str] = mapped_column(String(64))
    hash_scheme: Mapped[str] = _scheme()
    canonical: Mapped[str | None] = mapped_column(Text)  # the bytes content_hash covers


class EventRow(Base):
    """An append-only, hash-chained audit event: who did what to which record, and when."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40), index=True)  # 20 before migration 0007
    record_id: Mapped[str | None] = mapped_column(String(40), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    flags_review: Mapped[bool] = mapped_column(Boolean, default=False)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    hash_scheme: Mapped[str] = _scheme()
    canonical: Mapped[str | None] = mapped_column(Text)  # the bytes `hash` covers
    # The audit key (engine/store/keys.py) a keyed event's HMAC was made with (migration 0006).
    key_id: Mapped[str | None] = mapped_column(String(40))


class DraftRow(Base):
    """An unfinished assessment from the web form; a draft is not a decision and is not audited."""

    __tablename__ = "drafts"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    context: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    saved_at: Mapped[str] = mapped_column(String(32))
    saved_by: Mapped[str] = mapped_column(String(200))


class UserRow(Base):
    """A local account: who someone is, their role, the wards they work on (clinicians)."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_users_oidc_identity"),)

    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(80))
    wards: Mapped[list[str]] = mapped_column(JSON)
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[str] = mapped_column(String(32))
    # The identity-provider account linked to it (migration 0007): OpenID Connect sign-in finds
    # the account by issuer and subject together, never by e-mail address.
    oidc_issuer: Mapped[str | None] = mapped_column(String(500))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    # Web sessions signed in before this moment are over (set when the account is deactivated
    # or its password reset; migration 0007).
    sessions_from: Mapped[str | None] = mapped_column(String(32))


class TokenRow(Base):
    """A sign-in or script token. The token itself is shown once and never stored: only its
    SHA-256, whose it is, what it may do, and when it expires or was revoked."""

    __tablename__ = "tokens"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    username: Mapped[str] = mapped_column(ForeignKey("users.username"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[str] = mapped_column(String(32))
    revoked_at: Mapped[str | None] = mapped_column(String(32))
    # The `token_issued` audit event (migration 0009): resolving a token reads that one event
    # to check the row against it, without searching the chain.
    issued_seq: Mapped[int | None] = mapped_column(Integer)


class SignInGuardRow(Base):
    """Failed sign-ins counted for one account name or one client (migration 0007): the key is
    a SHA-256, so the table never holds what someone typed as a username. A row changes: it is
    state, not evidence (the audit chain keeps the failures and lockouts)."""

    __tablename__ = "signin_guard"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # "account" or "client"
    failures: Mapped[int] = mapped_column(Integer)  # in the current window
    window_start: Mapped[str | None] = mapped_column(String(32))
    last_failure: Mapped[str | None] = mapped_column(String(32))
    lockouts: Mapped[int] = mapped_column(Integer)  # in a row: each doubles the next lock
    locked_until: Mapped[str | None] = mapped_column(String(32))


class SetupTokenRow(Base):
    """A one-time token for creating the first administrator on the web (migration 0007): only
    its SHA-256 is kept, with who made it, when it expires and when it was used."""

    __tablename__ = "setup_tokens"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[str] = mapped_column(String(32))
    used_at: Mapped[str | None] = mapped_column(String(32))
