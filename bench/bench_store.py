"""Store benchmarks, printed as figures: save N records, re-evaluate them, verify the audit chain.

Run: make bench-store   (SQLite in a temporary file; PostgreSQL too when DTPA_TEST_POSTGRES_URL is
set, as scripts/with-postgres.sh does). Baseline in the same run: evaluating the same records
without the store, so the ratios show what storing and verifying add.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_evaluate import rss_mib  # noqa: E402
from engine import service  # noqa: E402
from engine.models.people import Actor  # noqa: E402
from engine.service.session import Access  # noqa: E402
from engine.store import Database, Store  # noqa: E402


def run(name: str, url: str, n: int) -> None:
    # Each benchmark store is a new deployment: its own audit key and checkpoints, never keys/.
    os.environ["DTPA_KEY_DIR"] = tempfile.mkdtemp(prefix="dtpa-bench-keys-")
    store = Store(Database(url), required_roles=service.api.signoff_roles(service.default_pack()))
    cases = [c for c in (service.load_assessment(p)
                         for p in sorted((ROOT / "case_studies").glob("*.yaml")))
             if c.context == "procurement"]
    pack = service.default_pack()

    t = time.perf_counter()
    records = [service.evaluate(cases[i % len(cases)], pack) for i in range(n)]
    evaluate_s = time.perf_counter() - t

    t = time.perf_counter()
    for i, record in enumerate(records):
        assessment = cases[i % len(cases)]
        store.save(assessment.model_dump(mode="json"), record, "Bench Runner", "panel_chair",
                   idempotency_key=f"bench-{uuid.uuid4().hex}")
    save_s = time.perf_counter() - t

    rss0 = rss_mib()
    t = time.perf_counter()
    report = service.reevaluate_all("Bench Runner", "panel_chair", store, pack,
                                    workers=os.cpu_count() or 1)
    reeval_s = time.perf_counter() - t
    rss1 = rss_mib()

    t = time.perf_counter()
    result = store.verify()
    verify_s = time.perf_counter() - t
    assert result.ok and report.checked == n, (result.problems[:3], report.checked)

    print(f"{name:<11}{n:>8}{evaluate_s:>11.1f}s{save_s:>10.1f}s ({save_s / evaluate_s:4.1f}x)"
          f"{reeval_s:>10.1f}s ({reeval_s / evaluate_s:4.1f}x){verify_s:>10.1f}s"
          f"{rss1 - rss0:>10.1f} MiB")
    home(name, store)
    store.db.dispose()


def home(name: str, store: Store) -> None:
    """What waits for a panel chair (the home page): one read of the records for all three lists
    (`Access.waiting`), against the baseline of one read per list."""
    who = Access(Actor(username="bench.chair", name="Bench Chair", role="panel_chair", wards=[]), store)
    t = time.perf_counter()
    waiting = who.waiting(30, 30)
    once = time.perf_counter() - t
    t = time.perf_counter()
    who.awaiting_my_signoff(), who.conditions_due(30), who.due(30)
    thrice = time.perf_counter() - t
    print(f"{name:<11}home page lists ({len(waiting.awaiting)} sign-offs awaited): one read "
          f"{once:.2f}s, one read per list {thrice:.2f}s ({thrice / once:.1f}x)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--sqlite-only", action="store_true", help="Skip PostgreSQL")
    options = parser.parse_args()
    n = options.n
    print(f"DTPA store benchmark: {n} procurement records (17 case studies' products in turn)")
    print(f"{'database':<11}{'records':>8}{'evaluate':>12}{'save':>18}{'re-evaluate':>18}"
          f"{'verify':>11}{'re-eval RSS':>14}")
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", f"sqlite:///{tmp}/bench.sqlite", n)
    pg = None if options.sqlite_only else os.environ.get("DTPA_TEST_POSTGRES_URL")
    if pg:
        import psycopg

        name = f"bench_{uuid.uuid4().hex[:8]}"
        admin = pg.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            run("PostgreSQL", pg.rsplit("/", 1)[0] + f"/{name}", n)
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    else:
        print("PostgreSQL: not measured (set DTPA_TEST_POSTGRES_URL, e.g. via scripts/with-postgres.sh)")
    print("evaluate = the same records decided without the store (baseline); save = decide nothing, "
          "store record + audit event in one transaction; re-evaluate = every stored record against "
          "the pack; verify = audit chain + every record hash")


if __name__ == "__main__":
    main()
