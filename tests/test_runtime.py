"""durable_rules regressions (see the stack reference notes): what must never happen again."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from engine import service
from engine.errors import EngineFailure
from engine.facts.schema import to_fact
from engine.knowledge.pack import load_pack
from engine.runtime import host as runtime
from engine.runtime.compiler import Action, Program, compile_program
from engine.runtime.host import Engine
from tests.conftest import CASE_STUDIES

ROOT = Path(__file__).resolve().parent.parent


def _program(name: str, rules: dict, catch_all: bool = True) -> tuple[Program, dict]:
    definition = {rid: {"all": [{"m": cond}], "pri": 1} for rid, cond in rules.items()}
    actions = {rid: Action("finding", rid) for rid in rules}
    if catch_all:
        definition["catch-all"] = {"all": [{"m": {"kind": "t"}}], "pri": 1_000_000}
        actions["catch-all"] = Action("catch", "catch-all")
    return Program("t", name, definition, actions), {rid: ("advisory", []) for rid in rules}


def test_an_assessment_no_rule_matches_does_not_crash():
    eng = Engine()
    program, info = _program("nomatch@1", {"R1": {"$and": [{"kind": "t"}, {"x": 1}]}})
    eng.ensure(program, info)
    raw = eng.evaluate(program, {"kind": "t", "x": 2})
    assert raw.fired == [] and raw.error is None


def test_without_a_catch_all_an_unhandled_fact_is_an_error_not_a_crash():
    eng = Engine()
    program, info = _program("nocatch@1", {"R1": {"$and": [{"kind": "t"}, {"x": 1}]}}, catch_all=False)
    eng.ensure(program, info)
    with pytest.raises(EngineFailure, match="no rule handled"):
        eng.evaluate(program, {"kind": "t", "x": 2})
    assert eng.evaluate(program, {"kind": "t", "x": 1}).fired == ["R1"]  # still usable


def test_every_compiled_rule_has_a_positive_discriminator(pack):
    for context in ("procurement", "individual_use"):
        program = compile_program(pack, context)
        for name, rule in program.definition.items():
            cond = rule["all"][0]["m"]
            first = cond["$and"][0] if "$and" in cond else cond
            assert set(first) == {"kind"} and isinstance(first["kind"], str), name


def test_a_rule_on_a_missing_answer_fires_once_and_does_not_loop(pack):
    # `missing:` compiles to $nex, the pattern that loops on the state message without a
    # discriminator (reference notes 3.3). POL-IND-001 is such a rule.
    fact = {"kind": "individual_use"}
    raw = service.engine().evaluate(service.program_for(pack, "individual_use"), fact)
    assert raw.fired.count("POL-IND-001") == 1
    # no loop: with every answer missing each rule acts a bounded number of times (its open
    # question and the policy's verdicts on it), far below the 10,000-action loop guard
    assert raw.actions < 4 * len(pack.rules_for("individual_use"))


def test_a_rule_that_would_loop_on_the_state_is_cut_and_reported():
    eng = Engine()
    program, info = _program("loop@1", {"BAD": {"$nex": {"owner": 1}}})  # no discriminator
    eng.ensure(program, info)
    with pytest.raises(EngineFailure, match="a rule loops"):
        eng.evaluate(program, {"kind": "t"})
    good, good_info = _program("after-loop@1", {"OK": {"$and": [{"kind": "t"}, {"x": 1}]}})
    eng.ensure(good, good_info)
    assert eng.evaluate(good, {"kind": "t", "x": 1}).fired == ["OK"]


def test_an_exception_in_an_action_surfaces(pack, monkeypatch):
    def boom(*args):
        raise RuntimeError("boom in action")

    eng = Engine()
    program = compile_program(pack, "procurement")
    info = {lr.rule.id: (lr.rule.severity, lr.rule.targets) for lr in pack.rules_for("procurement")}
    eng.ensure(program, info)
    fact = to_fact(service.load_assessment(next(p for p in CASE_STUDIES
                                                if p.stem == "vr-relaxation"))).fact
    monkeypatch.setitem(runtime._ACTIONS, "verdict", boom)
    with pytest.raises(EngineFailure, match="RuntimeError: boom in action"):
        eng.evaluate(program, fact)
    monkeypatch.undo()
    assert eng.evaluate(program, fact).fired  # the engine is still usable


def test_loading_the_same_pack_twice_reuses_its_ruleset(tmp_path):
    first = load_pack()
    second = load_pack()
    assert first.hash == second.hash
    a = service.program_for(first, "procurement")
    before = list(service.engine().registered)
    b = service.program_for(second, "procurement")
    assert a.ruleset == b.ruleset and service.engine().registered == before

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    path = rules / "p3_equity.yaml"
    path.write_text(path.read_text().replace("severity: condition", "severity: advisory", 1))
    changed = load_pack(rules)
    c = service.program_for(changed, "procurement")
    assert changed.hash != first.hash and c.ruleset != a.ruleset
    assert c.ruleset in service.engine().registered and a.ruleset in service.engine().registered
    case = service.load_assessment(ROOT / "case_studies" / "vbm-ward-wide-default.yaml")
    old, new = service.assess(case, first), service.assess(case, changed)
    p3 = {r.rule_id: r.severity for r in new.findings}["P3-PRO-001"]
    assert p3 == "advisory" and {r.rule_id: r.severity for r in old.findings}["P3-PRO-001"] == "condition"
    assert new.rule_pack.hash == changed.hash and old.rule_pack.hash == first.hash


def _signature(record) -> tuple:
    return (record.outcome, tuple(record.trace.rules_fired), tuple(record.trace.rules_unknown),
            tuple((v.target, v.verdict) for v in record.verdicts), record.input_hash)


def test_eight_threads_give_exactly_the_serial_results():
    cases = [service.load_assessment(p) for p in CASE_STUDIES]
    serial = [_signature(service.evaluate(c)) for c in cases]
    results: dict[int, list] = {}
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            results[n] = [_signature(service.evaluate(cases[(n + i) % len(cases)]))
                          for i in range(1000)]
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for n, got in results.items():
        assert got == [serial[(n + i) % len(cases)] for i in range(1000)]


def _rss_kib() -> int:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    import resource

    return pages * resource.getpagesize() // 1024


@pytest.mark.slow
def test_ten_thousand_evaluations_leave_memory_flat(pack, capsys):
    cases = [to_fact(service.load_assessment(p)) for p in CASE_STUDIES]
    programs = [service.program_for(pack, v.fact["kind"]) for v in cases]
    for i in range(500):  # warm up allocator pools
        service.engine().evaluate(programs[i % 4], cases[i % 4].fact)
    before = _rss_kib()
    for i in range(10_000):
        service.engine().evaluate(programs[i % 4], cases[i % 4].fact)
    grown = _rss_kib() - before
    with capsys.disabled():
        print(f"\n[memory] 10,000 evaluations: RSS grew by {grown / 1024:.1f} MiB "
              f"(from {before / 1024:.1f} MiB)")
    # Without delete_state each live sid costs about 1 MB with 100 rules (10 GB here).
    assert grown < 30 * 1024
