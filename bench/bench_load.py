"""Load benchmark, printed as figures (not asserted):

1. the full pack on every case study through durable_rules, against two baselines in the same
   run: a plain-Python interpreter of the same compiled conditions (the practical floor) and the
   `rule-engine` library evaluating the same conditions translated into its expression language;
2. throughput with a process pool on all cores against one process;
3. memory over 100,000 evaluations in one process.

Run: .venv/bin/python bench/bench_load.py [--n 1000] [--memory 100000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import rule_engine  # noqa: E402

from bench.bench_evaluate import plain, rss_mib  # noqa: E402
from bench.bench_exports import median_ms  # noqa: E402
from engine import service  # noqa: E402
from engine.facts.schema import to_fact  # noqa: E402
from engine.runtime.compiler import compile_program  # noqa: E402

_CMP = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<=", "$neq": "!="}


def _sym(key: str) -> str:
    return "s_" + re.sub(r"[^A-Za-z0-9]", "_", key)


def translate(expr: dict[str, Any], symbols: dict[str, str]) -> str:
    """A compiled durable_rules condition in rule-engine's expression language."""
    ((op, arg),) = expr.items()
    if op in ("$and", "$or"):
        joiner = " and " if op == "$and" else " or "
        return "(" + joiner.join(translate(e, symbols) for e in arg) + ")"
    if op in ("$ex", "$nex"):
        (key,) = arg
        symbols[_sym(key)] = key
        return f"{_sym(key)} {'!=' if op == '$ex' else '=='} null"
    if op in _CMP:
        ((key, rhs),) = arg.items()
        symbols[_sym(key)] = key
        left = _sym(key)
        if isinstance(rhs, dict):
            other = rhs["$m"] if "$m" in rhs else rhs["$add"]["$l"]["$m"]
            symbols[_sym(other)] = other
            right = _sym(other) + (f" + {rhs['$add']['$r']}" if "$add" in rhs else "")
            return f"({left} != null and {_sym(other)} != null and {left} {_CMP[op]} {right})"
        return f"({left} != null and {left} {_CMP[op]} {json.dumps(rhs)})"
    symbols[_sym(op)] = op
    return f"{_sym(op)} == {json.dumps(arg)}"


def _worker(args: tuple[list[dict], int]) -> int:
    facts, n = args
    pack = service.default_pack()
    programs = {c: service.program_for(pack, c) for c in ("procurement", "individual_use")}
    for i in range(n):
        fact = facts[i % len(facts)]
        service.engine().evaluate(programs[fact["kind"]], fact)
    return n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--memory", type=int, default=100_000)
    args = parser.parse_args()
    pack = service.default_pack()
    cases = [service.load_assessment(p) for p in sorted((ROOT / "case_studies").glob("*.yaml"))]
    facts = [to_fact(c).fact for c in cases]

    print(f"1. Full pack ({len(pack.rules)} rules), {args.n} runs per case study, medians in ms")
    print(f"{'case study':<32}{'durable_rules':>14}{'plain Python':>14}{'rule-engine':>13}"
          f"{'vs floor':>10}{'vs rule-engine':>16}")
    all_engine, ratios = [], []
    for path, assessment, fact in zip(sorted((ROOT / "case_studies").glob("*.yaml")), cases, facts,
                                      strict=True):
        program = service.program_for(pack, assessment.context)
        conds = [r["all"][0]["m"] for name, r in compile_program(pack, assessment.context)
                 .definition.items() if name.endswith(("#holds", "#unknown"))]
        symbols: dict[str, str] = {}
        ctx = rule_engine.Context(resolver=lambda thing, name: thing.get(name), default_value=None)
        rules = [rule_engine.Rule(translate(c, symbols), context=ctx) for c in conds]
        thing = {sym: fact.get(key) for sym, key in symbols.items()}
        d = median_ms(lambda p=program, f=fact: service.engine().evaluate(p, f), args.n)
        f = median_ms(lambda cs=conds, x=fact: [plain(c, x) for c in cs], args.n)
        r = median_ms(lambda rs=rules, x=thing: [rule.matches(x) for rule in rs], max(50, args.n // 10))
        agree = [rule.matches(thing) for rule in rules] == [plain(c, fact) for c in conds]
        all_engine.append(d)
        ratios.append(d / f)
        print(f"{path.stem:<32}{d:>14.3f}{f:>14.3f}{r:>13.3f}{d / f:>9.1f}x{d / r:>15.2f}x"
              + ("" if agree else "  (DISAGREE)"))
    print(f"median over case studies: {statistics.median(all_engine):.3f} ms; "
          f"p95 {sorted(all_engine)[int(len(all_engine) * 0.95) - 1]:.3f} ms; "
          f"median ratio to the floor {statistics.median(ratios):.1f}x")

    cores = os.cpu_count() or 1
    work = max(2000, args.n * 2)
    t = time.perf_counter()
    _worker((facts, work))
    single = work / (time.perf_counter() - t)
    with multiprocessing.get_context("spawn").Pool(cores) as pool:
        pool.map(_worker, [(facts, 10)] * cores)  # warm up: each process builds its engine
        t = time.perf_counter()
        pool.map(_worker, [(facts, work // cores)] * cores)
        pooled = work / (time.perf_counter() - t)
    print(f"\n2. Throughput: one process {single:,.0f} evaluations/s; a pool of {cores} processes "
          f"{pooled:,.0f}/s ({pooled / single:.1f}x)")

    print(f"\n3. Memory over {args.memory:,} evaluations in one process (RSS, MiB):")
    programs = {c: service.program_for(pack, c) for c in ("procurement", "individual_use")}
    start = rss_mib()
    marks = []
    t = time.perf_counter()
    for i in range(1, args.memory + 1):
        fact = facts[i % len(facts)]
        service.engine().evaluate(programs[fact["kind"]], fact)
        if i % (args.memory // 10) == 0:
            marks.append(f"{i:,}: {rss_mib():.1f}")
    print(f"start {start:.1f}; " + ", ".join(marks)
          + f"; {args.memory / (time.perf_counter() - t):,.0f} evaluations/s")


if __name__ == "__main__":
    main()
