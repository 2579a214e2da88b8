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
    key_dir: Path = Field(
        default=ROOT / "keys",
        description="The deployment's secrets, kept apart from the database (owner-only): the "
                    "audit-chain HMAC key, the checkpoint signing key, the PDF signing "
                    "certificate. A deployment points this outside the database's backups")


def settings() -> Settings:
    return Settings()
