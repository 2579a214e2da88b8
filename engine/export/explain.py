"""`dtpa explain`: the chain from answers to rules to findings to principles to the outcome."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from engine.decide.wording import FAVOURABLE, VERDICT_WORDS, outcome_line
from engine.export.terminal import not_judged_text, product_source_text
from engine.knowledge.graph import build_graph, target_node
from engine.knowledge.pack import RulePack
from engine.models.record import DecisionRecord


def _answer(assessment: BaseModel, path: str) -> str:
    node: Any = assessment
    for part in path.split("."):
        node = getattr(node, part, None)
        if node is None:
            return "unanswered"
    if isinstance(node, BaseModel) and hasattr(node, "not_applicable"):
        return f"not applicable ({node.not_applicable})"
    if isinstance(node, list):
        return "[" + ", ".join(str(getattr(x, "option", x)) for x in node) + "]"
    return str(node)


def explain_text(record: DecisionRecord, assessment: BaseModel, pack: RulePack) -> str:
    g = build_graph(pack)
    context = record.record_type
    fired, unknown = set(record.trace.rules_fired), set(record.trace.rules_unknown)
    lines = [f"Outcome: {outcome_line(record)}",
             f"  decided by the policy: {record.outcome_reason}"]
    if context == "individual_use":
        if record.outcome not in FAVOURABLE:  # a favourable outcome names it in its own words
            lines.append(f"  legal route recorded: {record.legal_route or 'none'}")
        lines += product_source_text(record)
    lines.append("")
    for v in record.verdicts:
        lines.append(f"{v.target} {v.name}: {VERDICT_WORDS[v.verdict]}")
        serving = sorted(r[5:] for r in g.predecessors(target_node(pack, v.target))
                         if r.startswith("rule:") and context in pack.rules[r[5:]].rule.context)
        for rid in serving:
            if rid not in fired and rid not in unknown:
                continue
            rule = pack.rules[rid].rule
            status = "FIRED" if rid in fired else "OPEN "
            lines.append(f"  <- {status} {rid} [{rule.severity}] {rule.title}")
            for fact in sorted(pack.rules[rid].facts(context)):
                lines.append(f"       {fact} = {_answer(assessment, fact)}")
            via = "finding" if rid in fired else "open_question"
            chains = [p[7:] for p in g.successors(f"rule:{rid}")
                      if g.edges[f"rule:{rid}", p].get("via") == via]
            if chains:
                lines.append(f"       chains into {', '.join(sorted(chains))}")
        passed = [r for r in serving if r not in fired and r not in unknown]
        if passed:
            lines.append(f"  ({len(passed)} other rule(s) checked, no finding: {', '.join(passed)})")
    return "\n".join(lines + not_judged_text(record))
