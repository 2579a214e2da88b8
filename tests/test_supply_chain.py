"""The lock that `make` installs from: every package pinned with hashes, every dependency that
pyproject.toml names pinned within its range, and this environment installed from it."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "scripts" / "requirements.lock"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>[^\s;\\]+)"
                 r"(?:\s*;\s*(?P<marker>[^\\]+?))?\s*\\?$")


def _entries() -> list[tuple[str, str, str | None, list[str]]]:
    """(name, version, marker, hashes) for each pin, in file order."""
    entries: list[tuple[str, str, str | None, list[str]]] = []
    for line in LOCK.read_text().splitlines():
        match = PIN.match(line)
        if match:
            entries.append((canonicalize_name(match["name"]), match["version"], match["marker"], []))
        elif line.strip().startswith("--hash=sha256:") and entries:
            entries[-1][3].append(line.strip().removeprefix("--hash=sha256:").rstrip(" \\"))
    return entries


def _here() -> dict[str, str]:
    """The pins that apply to this interpreter and platform."""
    return {name: version for name, version, marker, _ in _entries()
            if marker is None or Marker(marker).evaluate()}


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in [*project["dependencies"],
                                     *project["optional-dependencies"]["dev"]]]


def test_every_pin_has_a_sha256_hash() -> None:
    entries = _entries()
    assert len(entries) > 50
    unhashed = [name for name, _, _, hashes in entries
                if not hashes or any(not re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes)]
    assert not unhashed


def test_every_declared_dependency_is_pinned_within_its_range() -> None:
    pins = _here()
    wrong = []
    for requirement in _declared():
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        version = pins.get(canonicalize_name(requirement.name))
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            wrong.append(f"{requirement} (locked: {version})")
    assert not wrong, "run `make lock` after changing pyproject.toml: " + "; ".join(wrong)


def test_lock_covers_python_3_11_and_3_12() -> None:
    # A universal lock: pins for both interpreters durable-rules 2.0.28 supports.
    for python in ("3.11", "3.12"):
        env = {"python_version": python, "python_full_version": f"{python}.0"}
        names = {name for name, _, marker, _ in _entries()
                 if marker is None or Marker(marker).evaluate(env)}
        assert {"durable-rules", "streamlit", "cryptography", "pyhanko"} <= names


def test_this_environment_was_installed_from_the_lock() -> None:
    pins = _here()
    if not pins.keys() <= {canonicalize_name(d.metadata["Name"])
                           for d in importlib.metadata.distributions()}:
        pytest.fail("packages of the lock are missing: install with `make` (pip --require-hashes)")
    drift = {name: (version, importlib.metadata.version(name)) for name, version in pins.items()
             if importlib.metadata.version(name) != version}
    assert not drift, f"installed versions differ from scripts/requirements.lock: {drift}"


@pytest.mark.parametrize(("package", "floor"), [
    ("authlib", "1.6.9"), ("pypdf", "6.16"), ("streamlit", "1.54"), ("cryptography", "50.0.0")])
def test_security_floors_hold(package: str, floor: str) -> None:
    # The floors the README's supply-chain section names: lowering one must be deliberate.
    declared = {canonicalize_name(r.name): r for r in _declared()}
    minimums = [Version(s.version) for s in declared[package].specifier if s.operator == ">="]
    assert minimums and min(minimums) >= Version(floor)
