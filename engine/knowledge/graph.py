"""Traceability graph of the rule pack (networkx).

Nodes: questions (facts), rules, principles, practice areas, Culture of Care commitments, external
framework references, decision-policy rules and outcomes. Edges: fact -> rule it is read by,
rule -> principle/area it serves, rule -> commitment, rule -> framework reference it evidences,
rule -> policy rule its findings chain into, policy verdict rule -> policy outcome rule -> outcome,
principle -> commitment it upholds. Used for coverage checks, "why" explanations and the diagram.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import networkx as nx

from engine.facts.conditions import Composite, Node, Predicate
from engine.facts.schema import fact_specs
from engine.knowledge.coverage import coverage_gaps
from engine.knowledge.pack import RulePack

LAYERS = {"fact": 0, "rule": 1, "principle": 2, "area": 2, "policy": 3, "commitment": 3,
          "framework": 3, "outcome": 4}


def _holds(node: Node | None, fact: dict[str, Any]) -> bool:
    """Two-valued reading of a decision-policy condition on a small derived fact."""
    if node is None:
        return True
    if isinstance(node, Composite):
        results = [_holds(c, fact) for c in node.children]
        return {"all": all, "any": any}[node.op](results) if node.op != "not" else not results[0]
    assert isinstance(node, Predicate)
    value = fact.get(node.fact)
    tests: dict[str, Callable[[], bool]] = {
        "equals": lambda: value == node.values[0],
        "not_equals": lambda: value is not None and value != node.values[0],
        "one_of": lambda: value in node.values,
        "present": lambda: value is not None,
        "missing": lambda: value is None}
    return tests.get(node.op, lambda: False)()


def target_node(pack: RulePack, target: str) -> str:
    return f"principle:{target}" if target in pack.catalogue.principles else f"area:{target}"


def build_graph(pack: RulePack) -> nx.DiGraph:
    g = nx.DiGraph(name=f"{pack.header.name} {pack.header.version}")
    cat = pack.catalogue
    for cid, c in cat.commitments.items():
        g.add_node(f"commitment:{cid}", kind="commitment", label=f"{cid} {c.title}")
    for pid, p in cat.principles.items():
        g.add_node(f"principle:{pid}", kind="principle", label=f"{pid} {p.title}")
        for cid in p.commitments:
            g.add_edge(f"principle:{pid}", f"commitment:{cid}", relation="upholds")
    for aid, a in cat.areas.items():
        g.add_node(f"area:{aid}", kind="area", label=f"{aid} {a.title}")

    policy = pack.policy_rules
    for lp in policy:
        g.add_node(f"policy:{lp.rule.id}", kind="policy", label=lp.rule.id)
        if lp.rule.outcome:
            g.add_node(f"outcome:{lp.rule.outcome}", kind="outcome", label=lp.rule.outcome)
            g.add_edge(f"policy:{lp.rule.id}", f"outcome:{lp.rule.outcome}", relation="decides")
    for v in (lp for lp in policy if lp.rule.verdict):
        for o in (lp for lp in policy if lp.rule.outcome and lp.rule.on == "verdict"):
            if _holds(o.node, {"verdict": v.rule.verdict}):
                g.add_edge(f"policy:{v.rule.id}", f"policy:{o.rule.id}", relation="chains into")

    for rid, loaded in pack.rules.items():
        r = loaded.rule
        rule = f"rule:{rid}"
        g.add_node(rule, kind="rule", label=f"{rid} {r.title}", severity=r.severity,
                   contexts=",".join(r.context))
        for ctx in r.context:
            for path in loaded.facts(ctx):
                g.add_node(f"fact:{path}", kind="fact", label=path)
                g.add_edge(f"fact:{path}", rule, relation="read by")
        for pid in r.principles:
            g.add_edge(rule, f"principle:{pid}", relation="serves")
        for aid in r.areas:
            g.add_edge(rule, f"area:{aid}", relation="serves")
        for cid in r.commitments:
            g.add_edge(rule, f"commitment:{cid}", relation="upholds")
        for framework, refs in r.crosswalk.items():
            for ref in refs:
                node = f"framework:{framework}:{ref}"
                g.add_node(node, kind="framework", label=f"{framework}: {ref}")
                g.add_edge(rule, node, relation="evidences")
        for lp in policy:
            on = lp.rule.on
            if on in ("finding", "open_question") and _holds(lp.node, {"severity": r.severity}):
                g.add_edge(rule, f"policy:{lp.rule.id}", relation="chains into", via=on)
    for _node, data in g.nodes(data=True):
        data["layer"] = LAYERS[data["kind"]]
    return g


def graph_problems(pack: RulePack, g: nx.DiGraph | None = None) -> list[str]:
    """What `dtpa rules check` refuses: gaps, uncited rules, unknown facts, chaining cycles."""
    g = g if g is not None else build_graph(pack)
    problems = list(coverage_gaps(pack))
    asked = set(fact_specs("procurement")) | set(fact_specs("individual_use"))
    for node, data in g.nodes(data=True):
        if data["kind"] == "rule":
            serves = [t for t in g.successors(node) if g.nodes[t]["kind"] in ("principle", "area")]
            if not serves:
                problems.append(f"{node[5:]} serves no principle or practice area")
            rid = node[5:]
            if not any(c.ref in pack.catalogue.sources for c in pack.rules[rid].rule.citations):
                problems.append(f"{rid} cites no external source")
        if data["kind"] == "fact" and node[5:] not in asked:
            problems.append(f"fact {node[5:]} is read by a rule but no question asks it")
    chaining = g.subgraph(n for n, d in g.nodes(data=True) if d["kind"] in ("rule", "policy", "outcome"))
    for cycle in list(nx.simple_cycles(chaining))[:5]:
        problems.append("chaining cycle: " + " -> ".join(cycle))
    return problems


def unused_questions(pack: RulePack, context: str) -> list[str]:
    """Questions of a context that no rule reads (shown, not refused: they may feed the record)."""
    read = {f for lr in pack.rules_for(context) for f in lr.facts(context)}
    return [p for p in fact_specs(context) if p not in read]


def to_dot(g: nx.DiGraph) -> str:
    """Graphviz DOT text (pydot), with plain node ids and the readable label as an attribute."""
    ids = {node: f"n{i}" for i, node in enumerate(g.nodes)}
    plain = nx.DiGraph()
    shapes = {"fact": "note", "rule": "box", "principle": "ellipse", "area": "ellipse",
              "commitment": "hexagon", "framework": "component", "policy": "diamond",
              "outcome": "doubleoctagon"}
    for node, data in g.nodes(data=True):
        plain.add_node(ids[node], label=_quote(data["label"]), shape=shapes[data["kind"]])
    for a, b, data in g.edges(data=True):
        plain.add_edge(ids[a], ids[b], label=_quote(data.get("relation", "")))
    dot = nx.nx_pydot.to_pydot(plain)
    dot.set_rankdir("LR")
    text: str = dot.to_string()  # pydot, reached through networkx: no type information
    return text


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_svg(g: nx.DiGraph, path: str) -> None:
    """A layered drawing (questions -> rules -> principles -> policy -> outcomes) with matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"fact": "#d9e7f5", "rule": "#ffe7b3", "principle": "#c8e6c9", "area": "#c8e6c9",
               "commitment": "#e1d5f0", "framework": "#f2d0d0", "policy": "#cfd8dc",
               "outcome": "#90a4ae"}
    pos = nx.multipartite_layout(g, subset_key="layer", align="vertical", scale=1.0)
    tallest = max(sum(1 for _, d in g.nodes(data=True) if d["layer"] == layer) for layer in LAYERS.values())
    fig, ax = plt.subplots(figsize=(22, max(8, tallest * 0.16)))
    nx.draw_networkx_edges(g, pos, ax=ax, alpha=0.15, arrows=False, width=0.5)
    for kind, colour in colours.items():
        nodes = [n for n, d in g.nodes(data=True) if d["kind"] == kind]
        nx.draw_networkx_nodes(g, pos, nodelist=nodes, ax=ax, node_color=colour, node_size=60,
                               edgecolors="#555555", linewidths=0.3, label=kind)
    labels = {n: d["label"][:60] for n, d in g.nodes(data=True)}
    nx.draw_networkx_labels(g, pos, labels, ax=ax, font_size=5)
    ax.set_title(g.graph.get("name", "DTPA traceability"))
    ax.legend(loc="upper left", fontsize=7)
    ax.axis("off")
    fig.savefig(path, format="svg", bbox_inches="tight")
    plt.close(fig)
