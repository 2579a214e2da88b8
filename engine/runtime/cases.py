"""Running each rule's own case table through durable_rules, and the coverage of the pack."""

from __future__ import annotations

from dataclasses import dataclass

from engine.facts.schema import NA_PREFIX
from engine.knowledge.conventions import case_contexts, case_fact
from engine.knowledge.pack import RulePack
from engine.runtime.programs import engine, program_for


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
