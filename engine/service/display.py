"""The words and views a front end shows: outcomes and verdicts in plain words, a stored
record's governance in text, and the traceability graph of one principle or area."""

from __future__ import annotations

from engine.decide.wording import (
    ATTESTATION_WORDS,
    CONTEXT_WORDS,
    FAVOURABLE,
    OUTCOME_SHORT,
    ROLE_WORDS,
    VERDICT_WORDS,
    ChangeSummary,
    NextCondition,
    change_summary,
    conditions_by_owner,
    day_words,
    next_conditions,
    outcome_line,
    product_conditions_heading,
    product_source_words,
    review_basis_words,
    review_words,
    role_words,
    roles_words,
    signoff_words,
    status_words,
    subject_words,
    when_words,
)
from engine.export.terminal import governance_text
from engine.knowledge.graph import build_graph, target_node, to_dot
from engine.knowledge.pack import RulePack

__all__ = ["CONTEXT_WORDS", "FAVOURABLE", "VERDICT_WORDS", "governance_text", "outcome_line",
           "product_conditions_heading", "product_source_words", "traceability_dot"]
__all__ += ["ROLE_WORDS", "role_words", "roles_words", "status_words"]  # roles in words (issue 13)
__all__ += ["ATTESTATION_WORDS", "OUTCOME_SHORT", "ChangeSummary", "NextCondition",  # decision page
            "change_summary", "conditions_by_owner", "day_words", "next_conditions", "review_words",
            "review_basis_words", "signoff_words", "subject_words", "when_words"]


def traceability_dot(pack: RulePack, target: str) -> str:
    """Graphviz DOT of one principle or area: the rules serving it and the questions they read."""
    graph = build_graph(pack)
    node = target_node(pack, target)
    keep = {node} | set(graph.predecessors(node))
    keep |= {fact for rule in list(keep) if rule.startswith("rule:") for fact in graph.predecessors(rule)}
    return to_dot(graph.subgraph(keep).copy())
