from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine import service
from engine.knowledge.pack import RulePack, load_pack
from engine.service import accounts

ROOT = Path(__file__).resolve().parent.parent
CASE_STUDIES = sorted((ROOT / "case_studies").glob("*.yaml"))


@pytest.fixture(autouse=True)
def _cli_sign_in_is_private(tmp_path_factory, monkeypatch):
    """No test reads or writes the real config folder's token, or signs in through a token it
    did not make: `dtpa login` writes into a fresh folder, and DTPA_TOKEN starts unset."""
    monkeypatch.setenv("DTPA_CONFIG_DIR", str(tmp_path_factory.mktemp("dtpa-config")))
    monkeypatch.delenv("DTPA_TOKEN", raising=False)


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


# --- the store, on SQLite and on a real PostgreSQL server ---------------------------------------

import os  # noqa: E402
import uuid  # noqa: E402

BACKENDS = ["sqlite", "postgresql"]


def _postgres_database() -> tuple[str, object]:
    """A fresh database on the test server (scripts/with-postgres.sh) and a function dropping it."""
    base = os.environ.get("DTPA_TEST_POSTGRES_URL")
    if not base:
        if os.environ.get("CI") == "true":
            pytest.fail("DTPA_TEST_POSTGRES_URL is not set: CI must run the PostgreSQL store tests "
                        "(make test starts a server with scripts/with-postgres.sh)")
        pytest.skip("no PostgreSQL server (run `make test`, which starts one)")
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return base.rsplit("/", 1)[0] + f"/{name}", drop


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'dtpa.sqlite'}"
        return
    url, drop = _postgres_database()
    yield url
    cached = service.api._STORES.pop(url, None)
    if cached is not None:
        cached.db.dispose()
    drop()


@pytest.fixture
def store(store_url):
    from engine.store import Database, Store

    st = Store(Database(store_url), required_roles=service.api.signoff_roles(service.default_pack()))
    yield st
    st.db.dispose()


ALL_ATTESTATIONS = ["context_accurate", "risks_understood", "action_plan_agreed",
                    "actions_will_be_done"]


def approve(store, ref: str, context: str = "procurement") -> None:
    for role in service.default_pack().profile.required_signoff_roles[context]:
        store.sign(ref, f"Signer {role}", role, ALL_ATTESTATIONS)


def individual_for(product_ref: str, name: str = "vbm-adult-consents-night-use.yaml", **changes):
    """A case study's individual-use check pointed at a stored product record."""
    data = load_case(name).model_dump(mode="json", exclude_none=True)
    data["product"] = {"record_id": product_ref}
    for path, value in changes.items():  # section__field=value, or a top-level field
        if "__" in path:
            section, field = path.split("__")
            data.setdefault(section, {})[field] = value
        else:
            data[path] = value
    return service.validate_assessment(data)


PASSWORD = "correct horse battery staple"


def cli_token(store, role: str, wards: list[str] | None = None, username: str | None = None) -> str:
    """A new account of that role, signed in: its token, for `CliRunner().invoke(...,
    env={"DTPA_TOKEN": token})`. `store` is a Store or a database URL."""
    store = service.open_store(store) if isinstance(store, str) else store
    username = username or role.replace("_", "-")
    store.add_user(username, f"Person {role}", role, wards or [], PASSWORD)
    return accounts.sign_in(store, username, PASSWORD).token
