"""The words and views a front end shows: outcomes and verdicts in plain words, a stored
record's governance in text, and the traceability graph of one principle or area."""

from __future__ import annotations

from engine.decide.wording import (
    CONTEXT_WORDS,
    FAVOURABLE,
    VERDICT_WORDS,
    outcome_line,
    product_conditions_heading,
    product_source_words,
)
from engine.export.terminal import governance_text
from engine.knowledge.graph import build_graph, target_node, to_dot
from engine.knowledge.pack import RulePack

__all__ = ["CONTEXT_WORDS", "FAVOURABLE", "VERDICT_WORDS", "governance_text", "outcome_line",
           "product_conditions_heading", "product_source_words", "traceability_dot"]


def traceability_dot(pack: RulePack, target: str) -> str:
    """Graphviz DOT of one principle or area: the rules serving it and the questions they read."""
    graph = build_graph(pack)
    node = target_node(pack, target)
    keep = {node} | set(graph.predecessors(node))
    keep |= {fact for rule in list(keep) if rule.startswith("rule:") for fact in graph.predecessors(rule)}
    return to_dot(graph.subgraph(keep).copy())
