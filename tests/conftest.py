from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine import service
from engine.pack import RulePack, load_pack

ROOT = Path(__file__).resolve().parent.parent
CASE_STUDIES = sorted((ROOT / "case_studies").glob("*.yaml"))


@pytest.fixture(scope="session")
def pack() -> RulePack:
    return load_pack()


@pytest.fixture
def pack_copy(tmp_path: Path) -> tuple[Path, Path]:
    """A writable copy of rules/ and principles/ for tests that break files on purpose."""
    rules = tmp_path / "rules"
    principles = tmp_path / "principles"
    shutil.copytree(ROOT / "rules", rules)
    shutil.copytree(ROOT / "principles", principles)
    return rules, principles


def load_case(name: str):
    return service.load_assessment(ROOT / "case_studies" / name)
