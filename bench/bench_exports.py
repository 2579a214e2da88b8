"""Export benchmarks, printed as figures: one audit PDF (median of many) and a 500-record bundle.

Baseline in the same run: evaluating the same record, so the ratio shows what the PDF adds."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import service  # noqa: E402
from engine.export.easyread import easy_read_pdf  # noqa: E402
from engine.export.pdf import audit_pdf  # noqa: E402
from engine.store import Database, Store  # noqa: E402


def median_ms(fn, n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    record = service.assess(service.load_assessment(ROOT / "case_studies" / "vbm-ward-wide-default.yaml"))
    small = service.assess(service.load_assessment(ROOT / "case_studies" / "feedback-kiosk.yaml"))
    evaluate_ms = median_ms(lambda: service.evaluate(
        service.load_assessment(ROOT / "case_studies" / "vbm-ward-wide-default.yaml")), 20)
    big_ms = median_ms(lambda: audit_pdf(record), 20)
    small_ms = median_ms(lambda: audit_pdf(small), 20)
    print("DTPA export benchmark")
    print(f"audit PDF, 30 findings (ward-wide case):   median {big_ms:7.1f} ms "
          f"({big_ms / evaluate_ms:.0f}x its evaluation, {evaluate_ms:.1f} ms)")
    print(f"audit PDF, no findings (feedback kiosk):   median {small_ms:7.1f} ms")
    individual = service.load_assessment(ROOT / "case_studies" / "vbm-patient-refuses.yaml")
    individual_record = service.assess(individual)
    answers = individual.model_dump(mode="json")
    easy_ms = median_ms(lambda: easy_read_pdf(individual_record, answers), 20)
    print(f"easy-read PDF (patient refuses):          median {easy_ms:7.1f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DTPA_KEY_DIR"] = f"{tmp}/keys"  # a new store: its own audit key, never keys/
        store = Store(Database(f"sqlite:///{tmp}/b.sqlite"))
        cases = [service.load_assessment(p) for p in sorted((ROOT / "case_studies").glob("*.yaml"))]
        records = [(c, service.evaluate(c)) for c in cases]
        for i in range(500):
            c, r = records[i % len(records)]
            store.save(c.model_dump(mode="json"), r, "Bench Runner", "auditor", f"b{i}")
        views = store.latest()
        t = time.perf_counter()
        pdf, csv_text = service.export_bundle(views, "Bench bundle", "Bench Runner", "auditor", store)
        bundle_s = time.perf_counter() - t
        print(f"bundle of {len(views)} records: {bundle_s:6.1f} s, {len(pdf) / 2**20:.1f} MiB PDF, "
              f"{len(csv_text.splitlines()) - 1} open conditions in the CSV")
        store.db.dispose()


if __name__ == "__main__":
    main()
