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


@pytest.fixture(autouse=True)
def _keys_are_private(tmp_path_factory, monkeypatch):
    """No test reads or writes the checkout's keys/ folder: each has a fresh DTPA_KEY_DIR (the
    PDF signing certificate is made there by its first signed export), and no trust's own
    signing certificate is configured."""
    monkeypatch.setenv("DTPA_KEY_DIR", str(tmp_path_factory.mktemp("dtpa-keys") / "keys"))
    for name in ("PKCS12", "KEY", "CERT", "PASSPHRASE"):
        monkeypatch.delenv(f"DTPA_PDF_SIGNING_{name}", raising=False)


@pytest.fixture(autouse=True)
def _audit_checkpoints_are_private(monkeypatch):
    """Audit keys and checkpoints go to the test's own DTPA_KEY_DIR (above), never the
    checkout's keys/ or a configured checkpoint folder, at the default interval."""
    monkeypatch.delenv("DTPA_CHECKPOINT_DIR", raising=False)
    monkeypatch.delenv("DTPA_CHECKPOINT_EVERY", raising=False)


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

    st = Store(Database(store_url), required_roles=service.api.signoff_roles(service.default_pack()),
               role_rules=service.default_pack().profile.role_rules())
    yield st
    st.db.dispose()


ALL_ATTESTATIONS = ["context_accurate", "risks_understood", "action_plan_agreed",
                    "actions_will_be_done"]


def approve(store, ref: str) -> None:
    """Sign the record in every role it still needs (the profile's required roles)."""
    for role in store.get(ref).missing_roles:
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
    # added by an administrator, as DTPA adds accounts: an audit event (audit verify names an
    # account without one)
    store.add_user(username, f"Person {role}", role, wards or [], PASSWORD,
                   by=("Test Administrator", "administrator"))
    return accounts.sign_in(store, username, PASSWORD).token


# --- property-based tests: one hypothesis profile, a larger example budget in CI ---------------

from hypothesis import HealthCheck  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402

# CI (CI=true) runs every property test with FUZZ_SCALE times the examples a developer's run uses.
FUZZ_SCALE = 4 if os.environ.get("CI") == "true" else 1
hypothesis_settings.register_profile(
    "dtpa", max_examples=100, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
hypothesis_settings.register_profile("dtpa-ci", parent=hypothesis_settings.get_profile("dtpa"),
                                     max_examples=100 * FUZZ_SCALE)
hypothesis_settings.load_profile("dtpa-ci" if FUZZ_SCALE > 1 else "dtpa")


def examples(n: int) -> int:
    """A property test's example budget: `n` on a developer's machine, FUZZ_SCALE times that in CI."""
    return n * FUZZ_SCALE
