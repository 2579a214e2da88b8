"""The version lock (rules/pack.lock.yaml): each released pack version and the hash of its
national content, so content cannot change under a version number already released."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from engine.knowledge.rulespec import PackHeader
from engine.knowledge.yamlio import read_document
from engine.settings import settings

LOCK_FILE = "pack.lock.yaml"


class Versioned(Protocol):
    """What the lock needs of a loaded pack (a RulePack), without importing the loader."""

    @property
    def header(self) -> PackHeader: ...

    @property
    def national_hash(self) -> str: ...


def locked_versions(rules_dir: Path | None = None) -> dict[str, str]:
    """Version -> national content hash, as released (rules/pack.lock.yaml)."""
    path = Path(rules_dir or settings().rules_dir) / LOCK_FILE
    if not path.exists():
        return {}
    return dict((read_document(path).data or {}).get("versions") or {})


def lock_problem(pack: Versioned, rules_dir: Path | None = None) -> str | None:
    """Why the pack's version does not match its content, or None when it does."""
    locked = locked_versions(rules_dir).get(pack.header.version)
    if locked is None:
        return (f"rule pack version {pack.header.version} is not in {LOCK_FILE}: run "
                "`dtpa rules lock` after reviewing the changes")
    if locked != pack.national_hash:
        return (f"the rule pack's content changed but its version is still {pack.header.version}: "
                "bump the version in rules/pack.yaml, add a CHANGELOG entry, then run "
                "`dtpa rules lock`")
    return None
