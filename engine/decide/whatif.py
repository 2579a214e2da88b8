"""What would change this decision: for an outcome short of `supported`, the smallest set of
remedies that improves it, each step proven by re-evaluating the assessment with the remedied
answers (never by assuming a remedy works)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.knowledge.pack import RulePack
from engine.knowledge.remedies import apply_to_assessment, fix_of, fixed_paths
from engine.models.record import ChangeStep, DecisionRecord, Remedy

Evaluate = Callable[[dict[str, Any]], DecisionRecord]
MAX_STEPS = 4
MAX_ROUNDS = 3
FINAL = ("supported", "out_of_scope")
CONTEXTS = ("procurement", "individual_use")


def _holding_back(record: DecisionRecord, pack: RulePack) -> list[str]:
    """The rules that keep the record at its outcome, as the decision policy ranks them."""
    severity = {rid: pack.rules[rid].rule.severity for rid in pack.rules}
    if record.outcome == "not_supported":
        return [r for r in record.trace.rules_fired if severity[r] == "blocker"]
    if record.outcome == "insufficient_information":
        return [r for r in record.trace.rules_unknown if severity[r] in ("blocker", "condition")] + \
            [r for r in record.trace.rules_fired if severity[r] == "unresolved"]
    if record.outcome == "supported_with_conditions":
        return [r for r in record.trace.rules_fired if severity[r] == "condition"]
    return []


def _remedy_answers(pack: RulePack, rid: str, context: str) -> dict[str, Any]:
    """A rule's remedy as answers this context lets a remedy set. `fix_of` already leaves out
    the facts of the case; this guards the proof too, whatever a rule file says."""
    fixed = fixed_paths([context] if context in CONTEXTS else CONTEXTS)
    return {k: v for k, v in fix_of(pack.rules[rid]).items() if k not in fixed}


def _answers(pack: RulePack, rule_ids: list[str], context: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for rid in rule_ids:
        merged.update(_remedy_answers(pack, rid, context))
    return merged


def what_would_change(data: dict[str, Any], record: DecisionRecord, pack: RulePack,
                      evaluate: Evaluate) -> tuple[list[ChangeStep], str | None]:
    """The proven steps, and a sentence on any finding that no change of answers remedies."""
    order = list(pack.policy.outcome_order)
    context = str(data.get("context", ""))

    def better(a: DecisionRecord, b: DecisionRecord) -> bool:
        return order.index(a.outcome) > order.index(b.outcome)

    steps: list[ChangeStep] = []
    current = record
    for _ in range(MAX_STEPS):
        if current.outcome in FINAL:
            break
        chosen = _holding_back(current, pack)
        final = [r for r in chosen if not _remedy_answers(pack, r, context)]
        if final:
            return steps, " ".join(f"{r}: {pack.rules[r].rule.remedy.strip()}" for r in final)
        found: tuple[dict[str, Any], DecisionRecord] | None = None
        for _round in range(MAX_ROUNDS):
            if not chosen:
                break
            trial = apply_to_assessment(data, _answers(pack, chosen, context))
            result = evaluate(trial)
            if better(result, current):
                found = (trial, result)
                break
            # Remedies can uncover other problems at the same level: take those in too.
            extra = [r for r in _holding_back(result, pack) if r not in chosen]
            if not extra:
                break
            chosen = chosen + extra
        if found is None:
            return steps, ("No further change could be proven: carrying out the remedies of "
                           f"{', '.join(chosen)} did not improve the outcome when re-evaluated.")
        # Drop every remedy the improvement does not need (a minimal set, proven each time).
        for rid in list(chosen):
            rest = [r for r in chosen if r != rid]
            if not rest:
                continue
            trial = apply_to_assessment(data, _answers(pack, rest, context))
            result = evaluate(trial)
            if better(result, current):
                chosen, found = rest, (trial, result)
        trial, result = found
        steps.append(ChangeStep(
            from_outcome=current.outcome, to_outcome=result.outcome,
            remedies=[Remedy(rule_id=r, title=pack.rules[r].rule.title, remedy=pack.rules[r].rule.remedy,
                             answers=_remedy_answers(pack, r, context)) for r in chosen],
            proof_record_hash=result.record_hash))
        data, current = trial, result
    return steps, None
