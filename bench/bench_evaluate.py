"""Evaluation speed and memory, printed as figures (never asserted).

Baseline in the same run: a plain-Python interpreter of the very same compiled durable_rules
conditions (holds/unknown for every rule) on the same facts. It is the practical floor for
evaluating these conditions in Python; the ratio shows what hosting them in durable_rules costs.

Run: make bench   (or .venv/bin/python bench/bench_evaluate.py [--n 2000])
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import service  # noqa: E402
from engine.facts.schema import to_fact  # noqa: E402
from engine.knowledge.pack import load_pack  # noqa: E402
from engine.runtime.compiler import compile_program  # noqa: E402

_CMP = {"$gt": lambda a, b: a > b, "$gte": lambda a, b: a >= b, "$lt": lambda a, b: a < b,
        "$lte": lambda a, b: a <= b, "$neq": lambda a, b: a != b}


def _value(fact: dict[str, Any], rhs: Any) -> Any:
    if isinstance(rhs, dict) and "$m" in rhs:
        return fact.get(rhs["$m"])
    if isinstance(rhs, dict) and "$add" in rhs:
        left = _value(fact, rhs["$add"]["$l"])
        return None if left is None else left + rhs["$add"]["$r"]
    return rhs


def plain(expr: dict[str, Any], fact: dict[str, Any]) -> bool:
    """Interpret a compiled durable_rules condition in Python (the subset DTPA emits)."""
    ((op, arg),) = expr.items()
    if op == "$and":
        return all(plain(e, fact) for e in arg)
    if op == "$or":
        return any(plain(e, fact) for e in arg)
    if op == "$ex":
        return next(iter(arg)) in fact
    if op == "$nex":
        return next(iter(arg)) not in fact
    if op in _CMP:
        ((key, rhs),) = arg.items()
        left, right = fact.get(key), _value(fact, rhs)
        return left is not None and right is not None and _CMP[op](left, right)
    return fact.get(op) == arg  # equality


def median_p95(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95) - 1] * 1000


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def rss_mib() -> float:
    import resource

    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000, help="evaluations per case")
    n = parser.parse_args().n

    t = time.perf_counter()
    pack = load_pack()
    load_ms = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    programs = {ctx: service.program_for(pack, ctx) for ctx in ("procurement", "individual_use")}
    compile_ms = (time.perf_counter() - t) * 1000

    print(f"DTPA evaluation benchmark: {len(pack.rules)} rules, {n} runs per case")
    print(f"Python {platform.python_version()} on {platform.machine()}, "
          f"{platform.processor() or 'cpu'}; load pack {load_ms:.1f} ms, compile+register "
          f"{compile_ms:.1f} ms")
    header = (f"{'case study':<34}{'fired':>6}{'engine med':>12}{'p95':>8}{'python med':>12}"
              f"{'ratio':>7}{'record med':>12}{'assess med':>12}")
    print(header)
    print("-" * len(header))
    rss0 = rss_mib()
    medians: list[float] = []
    for path in sorted((ROOT / "case_studies").glob("*.yaml")):
        assessment = service.load_assessment(path)
        fact = to_fact(assessment).fact
        program = programs[assessment.context]
        conds = [rule["all"][0]["m"] for name, rule in
                 compile_program(pack, assessment.context).definition.items()
                 if name.endswith(("#holds", "#unknown"))]
        raw = service.engine().evaluate(program, fact)
        engine_s = timed(lambda p=program, f=fact: service.engine().evaluate(p, f), n)
        python_s = timed(lambda cs=conds, f=fact: [plain(c, f) for c in cs], n)
        record_s = timed(lambda a=assessment: service.evaluate(a, pack), max(200, n // 5))
        assess_s = timed(lambda a=assessment: service.assess(a, pack), max(20, n // 50))
        em, ep = median_p95(engine_s)
        pm, _ = median_p95(python_s)
        rm, _ = median_p95(record_s)
        am, _ = median_p95(assess_s)
        print(f"{path.stem:<34}{len(raw.fired):>6}{em:>10.3f}ms{ep:>6.2f}ms{pm:>10.3f}ms"
              f"{em / pm:>6.1f}x{rm:>10.3f}ms{am:>10.1f}ms")
        medians.append(em)
    print(f"median of the per-case engine medians: {statistics.median(medians):.3f} ms")
    print(f"RSS {rss0:.1f} MiB before the runs, {rss_mib():.1f} MiB after")
    print("engine = durable_rules evaluation incl. chaining to verdicts and outcome; "
          "python = same compiled conditions interpreted in Python (no chaining); "
          "record = engine + building and sealing the decision record; "
          "assess = record + 'what would change this decision' (each remedy proven by re-evaluation)")


if __name__ == "__main__":
    main()
