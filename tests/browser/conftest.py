"""Real-browser tests: the Streamlit app served on localhost, driven by Debian's Chromium.

Fixtures
    app_server  (session)  a SQLite database seeded as `make run` seeds it (`dtpa seed`: the case
                           studies, assessed today), the accounts in ACCOUNTS, and `streamlit run
                           ui/app.py` on a free port; yields an AppServer with .url, .db_url,
                           .startup_seconds, .key_dir (start_app does the same outside pytest:
                           bench/bench_ui.py)
    browser     (session)  Debian's /usr/bin/chromium, headless, through Playwright (no browser
                           download: `playwright install` is never used)
    page        (function) a fresh context (1280x900) and page; requests to anything but localhost
                           are aborted and listed
    approved_product (function) the seeded product decision PRODUCT_CASE, approved through the
                           service layer by the four accounts its profile needs: its record id

Helpers (import them: `from tests.browser.conftest import ...`)
    wait_for_app(page, timeout_ms=30_000, fail_on_exception=True)
    screenshot(page, name) -> Path                      artifacts/NAME(.png), the whole page
    check_accessibility(page, name, ignore_rules={}, *, impacts=...)
                                                        axe-core; fails the test on any serious or
                                                        critical violation not in ignore_rules (rule
                                                        id -> the reason it is excused); full
                                                        results in artifacts/axe-NAME.json

Moving around as a person does (sign in, go to a page, choose, open a step, type a date) is in
tests/browser/actions.py.

A missing browser (or Playwright) skips these tests locally and fails them in CI (CI=true).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlparse

import pytest

from engine import service
from engine.service.session import Access
from tests.conftest import ALL_ATTESTATIONS

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "ui" / "app.py"
ARTIFACTS = ROOT / "artifacts"  # git-ignored

# Accounts created for the journeys (local sign-in): username, name, role, wards
PASSWORD = "browser tests only, not a secret"
# The four roles the profile needs to sign a product decision (national-default), and a clinician.
ACCOUNTS = [("ada.obi", "Dr Ada Obi", "panel_chair", []),
            ("kim.lee", "Nurse Kim Lee", "clinician", ["Willow Ward"]),
            ("sam.patel", "Sam Patel", "dpo", []),
            ("cal.jones", "Cal Jones", "clinical_safety_officer", []),
            ("lee.ray", "Lee Ray", "lived_experience_representative", [])]

# The seeded product decision (Willow Ward) a clinician's check relies on: approved_product.
PRODUCT_CASE = "vbm-individual-decision"

ADMIN = ("admin", "Avery Admin")  # the first account: adds the others from the command line

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}
STARTUP_TIMEOUT = 60.0
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}

# WCAG 2.x A and AA; tags this axe-core build does not know are dropped at run time.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
SERIOUS = ("serious", "critical")


def _missing(reason: str) -> NoReturn:
    """No browser here: a failure in CI, a skip (with the reason) elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must run the browser tests; see scripts/system-deps.sh)")
    pytest.skip(reason)


# --- the server ----------------------------------------------------------------------------------

@dataclass
class AppServer:
    url: str
    db_url: str
    startup_seconds: float
    port: int
    log_dir: Path
    process: subprocess.Popen = field(repr=False)

    @property
    def key_dir(self) -> Path:
        """This store's audit key, checkpoints and PDF certificate (DTPA_KEY_DIR of the server)."""
        return self.log_dir / "keys"

    def stderr_tail(self, chars: int = 4000) -> str:
        return _tail(self.log_dir / "streamlit.err", chars)


_STARTUP: dict[str, float] = {}


class AppStartFailed(RuntimeError):
    pass


def _tail(path: Path, chars: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 2.0) -> str:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # localhost: no proxy
    with opener.open(url, timeout=timeout) as resp:
        return resp.read().decode("utf-8", "replace")


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the server's process group, then SIGKILL if it is still there after 10 s."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
    else:
        proc.wait()


def _dtpa() -> list[str]:
    """The `dtpa` command `make run` runs (its entry point, engine.cli:app), from this checkout:
    the virtual environment's `dtpa` script would import the checkout it was installed from."""
    return [sys.executable, "-m", "engine.cli"]


def server_env(work: Path) -> dict[str, str]:
    """The environment of a store in `work`: its database, and its own config and key folders
    (the command line signs in there, never into the real ones; never keys/)."""
    env = {**os.environ, "DTPA_DATABASE_URL": f"sqlite:///{work / 'dtpa.sqlite'}",
           "PYTHONUNBUFFERED": "1", "DTPA_CONFIG_DIR": str(work / "config"),
           "DTPA_KEY_DIR": str(work / "keys")}
    env.pop("DTPA_CHECKPOINT_DIR", None)
    env.pop("DTPA_TOKEN", None)
    return env


@contextmanager
def start_app(work: Path, accounts: Iterable[tuple[str, str, str, list[str]]] = ACCOUNTS
              ) -> Iterator[AppServer]:
    """Seed a SQLite store in `work` as `make run` does (`dtpa seed`: the case studies, assessed
    today), add the first administrator and `accounts` from the command line, serve the app on a
    free port and yield it once healthy; stop it afterwards. AppStartFailed says what went wrong."""
    env = server_env(work)
    db_url = env["DTPA_DATABASE_URL"]
    seed = subprocess.run([*_dtpa(), "seed", "--db", db_url], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    if seed.returncode != 0:
        raise AppStartFailed(f"seeding {db_url} failed ({seed.returncode}):\n{seed.stdout}\n{seed.stderr}")
    # The first administrator (the operator, no sign-in), who signs in and adds the others.
    stdin = "--password-stdin"
    for command in (["users", "add", ADMIN[0], "--name", ADMIN[1], "--role", "administrator", stdin],
                    ["login", ADMIN[0], stdin],
                    *(["users", "add", username, "--name", name, "--role", role, stdin,
                       *[a for w in wards for a in ("--ward", w)]]
                      for username, name, role, wards in accounts),
                    ["logout"]):
        made = subprocess.run([*_dtpa(), *command, "--db", db_url], cwd=ROOT, env=env,
                              input=PASSWORD + "\n", capture_output=True, text=True, timeout=120)
        if made.returncode != 0:
            raise AppStartFailed(f"`dtpa {' '.join(command)}` failed:\n{made.stdout}\n{made.stderr}")

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP.relative_to(ROOT)),
           "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
           "--global.developmentMode", "false", "--client.toolbarMode", "minimal"]
    out_path, err_path = work / "streamlit.out", work / "streamlit.err"
    start = time.monotonic()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=err, start_new_session=True)
    try:
        while True:
            if proc.poll() is not None:
                raise AppStartFailed(f"streamlit exited with {proc.returncode} before it was healthy:\n"
                                     f"{_tail(err_path)}\n{_tail(out_path)}")
            try:
                if _get(f"{url}/_stcore/health").strip() == "ok":
                    break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() - start > STARTUP_TIMEOUT:
                raise AppStartFailed(f"streamlit was not healthy on {url} after {STARTUP_TIMEOUT:.0f} s:\n"
                                     f"{_tail(err_path)}\n{_tail(out_path)}")
            time.sleep(0.1)
        yield AppServer(url=url, db_url=db_url, startup_seconds=time.monotonic() - start, port=port,
                        log_dir=work, process=proc)
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def app_server(tmp_path_factory) -> Iterator[AppServer]:
    try:
        with start_app(tmp_path_factory.mktemp("browser-app")) as server:
            _STARTUP["seconds"] = server.startup_seconds
            print(f"\n[browser] Streamlit healthy on {server.url} after {server.startup_seconds:.2f} s "
                  "(start-up time)")
            yield server
    except AppStartFailed as exc:
        pytest.fail(str(exc))


def pytest_terminal_summary(terminalreporter) -> None:
    if "seconds" in _STARTUP:
        terminalreporter.write_line(f"browser tests: Streamlit start-up took {_STARTUP['seconds']:.2f} s")


# --- the browser ---------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright for Python is not installed (pip install -e '.[dev]')")
    if not os.access(CHROMIUM, os.X_OK):
        _missing(f"{CHROMIUM} not found: install Debian's chromium package (scripts/system-deps.sh)")
    pw = sync_playwright().start()
    try:
        # launch() gives every browser a fresh temporary profile (user-data dir) and removes it.
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        pw.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    blocked: list[str] = []
    errors: list[str] = []

    def only_localhost(route) -> None:
        parts = urlparse(route.request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS:
            blocked.append(route.request.url)
            route.abort("blockedbyclient")
        else:
            route.continue_()

    context.route("**/*", only_localhost)
    pg = context.new_page()
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield pg
    finally:
        context.close()
        if blocked:
            print(f"\n[browser] blocked {len(blocked)} request(s) off localhost: {sorted(set(blocked))}")
        if errors:
            print(f"\n[browser] uncaught page error(s): {errors}")


# --- helpers -------------------------------------------------------------------------------------

_SCRIPT_DONE = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return false;
  const state = app.getAttribute('data-test-script-state');          // initial, running, ...
  if (state !== null && state !== 'notRunning' && state !== 'compilationError') return false;
  const conn = app.getAttribute('data-test-connection-state');
  if (conn !== null && conn !== 'CONNECTED') return false;
  for (const w of document.querySelectorAll('[data-testid="stStatusWidget"]')) {
    const shown = w.getClientRects().length > 0 && getComputedStyle(w).visibility !== 'hidden';
    if (shown && /running/i.test(w.textContent || '')) return false;
  }
  return true;
}"""


def wait_for_app(page, timeout_ms: float = 30_000, fail_on_exception: bool = True) -> None:
    """Wait until Streamlit is connected and has finished running the script.

    The stApp element carries the script's run state (data-test-script-state: initial, running,
    notRunning, ...); the status widget's "Running..." must be gone too. Twice in a row, 250 ms
    apart, so a rerun that starts straight after a run is not missed. An exception shown on the
    page fails the test unless fail_on_exception is False.
    """
    page.wait_for_selector('[data-testid="stApp"]', state="attached", timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        remaining = max(1.0, (deadline - time.monotonic()) * 1000)
        page.wait_for_function(_SCRIPT_DONE, timeout=remaining, polling=100)
        page.wait_for_timeout(250)
        if page.evaluate(_SCRIPT_DONE):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"Streamlit still running after {timeout_ms / 1000:.0f} s")
    if fail_on_exception:
        shown = page.locator('[data-testid="stException"]')
        if shown.count():
            pytest.fail("the app shows an exception:\n" + "\n---\n".join(shown.all_inner_texts()))


_SCROLL_HEIGHT = """() => Math.max(
  ...['[data-testid="stApp"]', '[data-testid="stAppViewContainer"]', '[data-testid="stMain"]',
      '[data-testid="stSidebarContent"]']
    .map(s => document.querySelector(s)).filter(Boolean).map(e => e.scrollHeight),
  document.scrollingElement ? document.scrollingElement.scrollHeight : 0)"""


def page_height(page) -> int:
    """The height of the page's content in CSS pixels (Streamlit scrolls inside its container)."""
    return int(page.evaluate(_SCROLL_HEIGHT))


@contextmanager
def _full_height(page) -> Iterator[None]:
    """Stretch the viewport to the content's height, then put it back. Streamlit scrolls inside its
    own container, so a full-page screenshot would stop at the fold, and axe-core skips content that
    the container clips (color-contrast checked only what was on screen)."""
    size = page.viewport_size or VIEWPORT
    height = min(page_height(page), 16_000)
    stretched = height > size["height"]
    if stretched:
        page.set_viewport_size({"width": size["width"], "height": height})
        page.wait_for_timeout(300)  # let the layout settle
    try:
        yield
    finally:
        if stretched:
            page.set_viewport_size(size)
            page.wait_for_timeout(300)  # settled again, or the next click can land beside its target


def screenshot(page, name: str) -> Path:
    """A PNG of the whole page in artifacts/ (name with or without .png); returns its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / (name if name.endswith(".png") else f"{name}.png")
    with _full_height(page):
        page.screenshot(path=str(path), full_page=True)
    return path


def _axe_script() -> str:
    from axe_playwright_python.sync_playwright import Axe  # bundles axe-core's axe.min.js

    return Axe().axe_script


_ORIGIN = """(selector) => {
  let el = null;
  try { el = document.querySelector(selector); } catch (e) { return 'unknown'; }
  if (!el) return 'unknown';
  return el.closest('[data-testid="stMainBlockContainer"], [data-testid="stSidebarUserContent"]')
    ? 'app' : 'streamlit';
}"""


def check_accessibility(page, name: str, ignore_rules: Mapping[str, str] | None = None, *,
                        impacts: Iterable[str] = SERIOUS) -> None:
    """Run axe-core (WCAG 2.x A/AA, wcag22aa where this axe-core knows it) on the current page.

    Writes the full results to artifacts/axe-NAME.json, and fails the test on any violation whose
    impact is in `impacts` (serious and critical by default), wherever it is on the page, unless
    its rule id is in `ignore_rules`: rule id
    -> why it is excused (for example a rule that fires on Streamlit's own markup, not the app's,
    named with the Streamlit issue); an exclusion without a reason is refused, and the reasons are
    written to the JSON with the results. The failure message gives each node's "origin":
    "streamlit" when the element lies outside the app's content blocks (Streamlit's header,
    toolbar, navigation), "app" inside them.
    """
    ARTIFACTS.mkdir(exist_ok=True)
    ignored, wanted = dict(ignore_rules or {}), set(impacts)
    unexplained = sorted(rule for rule, reason in ignored.items() if not str(reason).strip())
    if unexplained:
        raise ValueError(f"axe-core rules excluded without a reason: {unexplained}")
    try:
        script = _axe_script()
    except ImportError:
        _missing("axe-playwright-python is not installed (pip install -e '.[dev]')")
    page.evaluate(script)
    tags = [t for t in AXE_TAGS if page.evaluate("(t) => axe.getRules([t]).length", t) > 0]
    with _full_height(page):  # else axe skips what Streamlit's scroll container clips
        results = page.evaluate("(opts) => axe.run(document, opts)",
                                {"runOnly": {"type": "tag", "values": tags}})
    results["dtpa"] = {"tags": tags, "ignored_rules": ignored, "url": page.url}
    (ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(results, indent=2))

    found = [v for v in results["violations"] if v.get("impact") in wanted and v["id"] not in ignored]
    for v in found:
        for node in v["nodes"]:
            target = node["target"][0] if node.get("target") else ""
            node["origin"] = page.evaluate(_ORIGIN, target) if isinstance(target, str) else "unknown"
    if found:
        pytest.fail(f"axe-core ({name}): {describe_violations(found)}")


def describe_violations(violations: list[dict]) -> str:
    lines = [f"{len(violations)} violation(s)"]
    for v in violations:
        origins = sorted({n.get("origin", "?") for n in v["nodes"]})
        lines.append(f"- {v['id']} ({v['impact']}), {len(v['nodes'])} node(s), origin {'/'.join(origins)}: "
                     f"{v['help']}")
        for n in v["nodes"]:
            lines.append(f"    {n.get('origin', '?'):9} {n['target']}  {n['html'][:160]}")
    return "\n".join(lines)


@pytest.fixture
def approved_product(app_server, monkeypatch) -> str:
    """The seeded product decision for the contactless bedroom monitor (Willow Ward), signed
    through the service layer by the four accounts the profile needs: the id of the record."""
    monkeypatch.setenv("DTPA_KEY_DIR", str(app_server.key_dir))  # the server's audit key
    store = service.open_store(app_server.db_url)
    title = service.load_assessment(service.CASE_STUDIES / f"{PRODUCT_CASE}.yaml").title
    [product] = [v for v in store.latest(context="procurement")
                 if v.record.title == title and v.row.created_by == service.api.SEEDER[0]]
    for username in ("ada.obi", "sam.patel", "cal.jones", "lee.ray"):
        if store.get(product.row.id).status != "approved":
            person = Access.sign_in(username, PASSWORD, store, client="browser test fixture")
            if person.actor.role.value in store.get(product.row.id).missing_roles:
                person.sign(product.row.id, ALL_ATTESTATIONS)
    assert store.get(product.row.id).status == "approved"
    return product.row.id
