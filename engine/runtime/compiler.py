"""Rule pack -> durable_rules ruleset definition, one per context.

Each rule becomes up to two durable rules: `<id>#holds` (a finding) and `<id>#unknown` (an open
question). Findings and open questions are asserted as facts, one per principle or area they
serve; the decision policy's rules chain on those facts to verdicts, and on verdicts to an
outcome. Every durable rule starts with a positive `kind` test, so none can ever match the
engine's own per-session state message (which would loop forever). A catch-all at the lowest
priority handles the assessment fact even if no other rule does (an unhandled first fact makes
`delete_state` unsafe); derived facts that no rule consumes are tolerated by the actions instead,
which saves two actions per finding.

durable_rules matches with a fixed stack of 64 alpha nodes and at most 128 "missing field"
children per node: a pack with a hundred rules that each test an unanswered question under the
same `kind` node overflows it (error 303). So the rules of a context are spread over "lanes":
after the `kind` test each rule tests one `lane.<k>` property, which every assessment fact
carries, so no node has more than about the square root of the rule count as children.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from engine.facts.conditions import FALSE, TRUE, Expr, and_, split_for_durable
from engine.knowledge.pack import RulePack

ActionKind = Literal["finding", "open", "verdict", "outcome", "catch"]

PRI_FINDING, PRI_OPEN, PRI_VERDICT, PRI_OUTCOME, PRI_CATCH_ALL = 1, 2, 10, 20, 1_000_000


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    ref: str  # rule id or policy rule id
    value: str | None = None  # the verdict or outcome a policy rule gives


@dataclass(frozen=True)
class Program:
    """Everything needed to register and run one context's ruleset."""

    context: str
    ruleset: str
    definition: dict[str, dict[str, Any]]  # durable rule name -> {"all": [...], "pri": n}
    actions: dict[str, Action]
    lanes: int = 1
    lane_facts: dict[str, int] = field(default_factory=dict)  # added to every assessment fact


def guarded(kind: str, expr: Expr) -> dict[str, Any] | None:
    """The condition with its discriminator first; None when it can never hold."""
    full = and_({"kind": kind}, expr)
    if full is FALSE:
        return None
    assert full is not TRUE
    return full


def ruleset_name(pack: RulePack, context: str) -> str:
    return f"{context}@{pack.hash[:12]}"


MAX_LANES = 32


def compile_program(pack: RulePack, context: str) -> Program:
    entries: list[tuple[str, dict[str, Any], int, Action]] = []

    def add(name: str, cond: dict[str, Any] | None, pri: int, action: Action) -> None:
        if cond is None:
            return
        for i, part in enumerate(split_for_durable(cond)):
            # A split condition's parts are conditions: `_join` folds constants away whenever
            # any part is a mapping, so no part is ever True or False.
            assert isinstance(part, dict)
            key = name if i == 0 else f"{name}.{i + 1}"  # parts share the action (deduplicated)
            entries.append((key, part, pri, action))

    for loaded in pack.rules_for(context):
        compiled = loaded.compiled[context]
        rid = loaded.rule.id
        add(f"{rid}#holds", guarded(context, compiled.holds), PRI_FINDING, Action("finding", rid))
        add(f"{rid}#unknown", guarded(context, compiled.unknown), PRI_OPEN, Action("open", rid))

    for lp in pack.policy_rules:
        prule = lp.rule
        on = context if prule.on == "assessment" else prule.on
        expr = lp.compiled.holds if lp.compiled else TRUE
        if prule.verdict:
            add(prule.id, guarded(on, expr), PRI_VERDICT, Action("verdict", prule.id, prule.verdict))
        else:
            add(prule.id, guarded(on, expr), PRI_OUTCOME, Action("outcome", prule.id, prule.outcome))

    on_assessment = sum(1 for e in entries if _kind_of(e[1]) == context)
    lanes = max(1, min(MAX_LANES, math.ceil(math.sqrt(on_assessment))))
    definition: dict[str, dict[str, Any]] = {}
    actions: dict[str, Action] = {}
    placed = 0
    for name, cond, pri, action in entries:
        if _kind_of(cond) == context:
            cond = _in_lane(cond, placed % lanes)
            placed += 1
        definition[name] = {"all": [{"m": cond}], "pri": pri}
        actions[name] = action
    definition["catch-all"] = {"all": [{"m": {"kind": context}}], "pri": PRI_CATCH_ALL}
    actions["catch-all"] = Action("catch", "catch-all")
    return Program(context, ruleset_name(pack, context), definition, actions, lanes,
                   {f"lane.{k}": 1 for k in range(lanes)})


def _kind_of(cond: dict[str, Any]) -> str:
    first = cond["$and"][0] if "$and" in cond else cond
    kind: str = first["kind"]
    return kind


def _in_lane(cond: dict[str, Any], lane: int) -> dict[str, Any]:
    """The condition with a `lane.<k>` test right after its `kind` discriminator."""
    items = cond["$and"] if "$and" in cond else [cond]
    return {"$and": [items[0], {f"lane.{lane}": 1}, *items[1:]]}
