"""Running each rule's own case table through durable_rules, and the coverage of the pack."""

from __future__ import annotations

from dataclasses import dataclass

from engine.facts import NA_PREFIX
from engine.pack import RulePack, case_contexts, case_fact
from engine.service import engine, program_for


@dataclass(frozen=True)
class CaseResult:
    rule_id: str
    case: str
    context: str
    expected: str
    actual: str

    @property
    def ok(self) -> bool:
        return self.expected == self.actual


def run_rule_cases(pack: RulePack) -> list[CaseResult]:
    out = []
    for rid, loaded in sorted(pack.rules.items()):
        for k, case in enumerate(loaded.rule.cases):
            for ctx in case_contexts(loaded.rule, case):
                fact = case_fact(ctx, case.facts)
                raw = engine().evaluate(program_for(pack, ctx), fact)
                if rid in raw.fired:
                    actual = "fires"
                elif rid in raw.unknown:
                    actual = "open_question"
                elif any(NA_PREFIX + f in fact for f in loaded.facts(ctx)):
                    actual = "not_applicable"
                else:
                    actual = "passes"
                out.append(CaseResult(rid, case.name or f"case {k + 1}", ctx, case.expect, actual))
    return out


def coverage(pack: RulePack) -> dict[str, dict[str, int]]:
    """Principle or area -> context -> number of rules serving it there."""
    table = {t: {"procurement": 0, "individual_use": 0} for t in pack.catalogue.targets}
    for loaded in pack.rules.values():
        if loaded.rule.severity == "out_of_scope":
            continue  # the scope rule names every principle but decides none of them
        for target in loaded.rule.targets:
            for ctx in loaded.rule.context:
                table[target][ctx] += 1
    return table


def coverage_gaps(pack: RulePack) -> list[str]:
    return [f"{t} has no rule in {ctx}" for t, row in coverage(pack).items()
            for ctx, n in row.items() if n == 0]
