"""DTPA's configuration: every environment variable it reads, in one pydantic-settings object.

Read afresh by `settings()` at the point of use, so a changed environment (a test, a service
restarted with a new profile) is seen without restarting the interpreter. An argument given on
the command line or to a function still wins over the environment: callers pass theirs first.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


def _user_config_dir() -> Path:
    """The user's config folder (XDG on Linux, ~/.config otherwise), DTPA's own subfolder."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "dtpa"


class Settings(BaseSettings):
    """Each field is read from DTPA_<FIELD> (e.g. DTPA_DATABASE_URL); README lists them all."""

    model_config = SettingsConfigDict(env_prefix="DTPA_", env_ignore_empty=True, extra="ignore",
                                      frozen=True)

    database_url: str = Field(
        default=f"sqlite:///{ROOT / 'data' / 'dtpa.sqlite'}",
        description="The decision store: SQLite (default, a file under data/) or PostgreSQL")
    lock_timeout: float = Field(
        default=10, gt=0, le=600,
        description="Seconds a write waits for another writer's lock before it gives up with "
                    "\"the store is busy; try again\" (PostgreSQL lock_timeout, SQLite "
                    "busy_timeout)")
    profile: str = Field(
        default="national-default",
        description="Local policy profile: a name in rules/profiles/ or a YAML file")
    rules_dir: Path = Field(default=ROOT / "rules", description="The rule pack's folder")
    principles_dir: Path = Field(default=ROOT / "principles",
                                 description="The principles catalogue's folder")
    config_dir: Path = Field(default_factory=_user_config_dir,
                             description="Where `dtpa login` keeps its token (mode 0600)")
    token: SecretStr | None = Field(
        default=None, description="A token from `dtpa token create`, for scripts")
    idle_minutes: int = Field(
        default=30, ge=1, le=24 * 60,
        description="Minutes without interaction after which the web app signs the person out")
    key_dir: Path = Field(
        default=ROOT / "keys",
        description="The deployment's secrets, kept apart from the database (owner-only): the "
                    "audit-chain HMAC key, the checkpoint signing key, the PDF signing "
                    "certificate. A deployment points this outside the database's backups")
    checkpoint_dir: Path | None = Field(
        default=None,
        description="Where signed audit checkpoints are written (public, not secret: copy them "
                    "off the host); default: checkpoints/ in the key folder")
    checkpoint_every: int = Field(
        default=100, ge=0,
        description="Write a signed audit checkpoint after every this many audit events (0: only "
                    "the first event and `dtpa audit checkpoint`)")
    pdf_signing_pkcs12: Path | None = Field(
        default=None,
        description="The trust's own PDF signing certificate and key, as a PKCS#12 file (.p12, "
                    ".pfx), used instead of the self-signed certificate DTPA makes in key_dir")
    pdf_signing_key: Path | None = Field(
        default=None, description="The trust's own PDF signing key as a PEM file (with "
                                  "pdf_signing_cert), instead of PKCS#12")
    pdf_signing_cert: Path | None = Field(
        default=None, description="The certificate of pdf_signing_key (PEM; the issuing CA "
                                  "certificates may follow it in the same file)")
    pdf_signing_passphrase: SecretStr | None = Field(
        default=None, description="The passphrase of the PKCS#12 file or of the PEM key, if any")


def settings() -> Settings:
    return Settings()
