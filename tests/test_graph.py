"""The traceability graph: structure, checks that can fail, DOT/SVG output, and `explain`."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
from typer.testing import CliRunner

from engine.cli import app
from engine.knowledge.graph import build_graph, graph_problems, to_dot
from engine.knowledge.pack import load_pack

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def test_graph_links_facts_rules_principles_policy_and_outcomes(pack):
    g = build_graph(pack)
    assert g.has_edge("fact:deployment.activation", "rule:P2-PRO-001")
    assert g.has_edge("rule:P2-PRO-001", "principle:P2")
    assert g.has_edge("rule:P2-PRO-001", "policy:POLICY-VERDICT-BLOCKER")
    assert g.has_edge("policy:POLICY-VERDICT-BLOCKER", "policy:POLICY-OUTCOME-NOT-MET")
    assert g.has_edge("policy:POLICY-OUTCOME-NOT-MET", "outcome:not_supported")
    # every fired finding can reach an outcome through the policy
    assert nx.has_path(g, "rule:DP-PRO-001", "outcome:not_supported")
    assert graph_problems(pack, g) == []


def test_a_chaining_cycle_is_reported(pack):
    g = build_graph(pack)
    g.add_edge("outcome:not_supported", "rule:P2-PRO-001", relation="chains into")
    problems = graph_problems(pack, g)
    assert any(p.startswith("chaining cycle:") for p in problems)


def test_a_rule_serving_nothing_and_an_unasked_fact_are_reported(pack):
    g = build_graph(pack)
    g.remove_edge("rule:P2-PRO-001", "principle:P2")
    g.add_node("fact:deployment.teleport", kind="fact", label="x", layer=0)
    problems = graph_problems(pack, g)
    assert "P2-PRO-001 serves no principle or practice area" in problems
    assert "fact deployment.teleport is read by a rule but no question asks it" in problems


def test_dot_output_is_valid_graphviz(pack):
    import pydot

    (parsed,) = pydot.graph_from_dot_data(to_dot(build_graph(pack)))
    labels = {n.get_label() for n in parsed.get_nodes()}
    title = "The technology is switched on only by an individual decision, never by default"
    assert f'"P2-PRO-001 {title}"' in labels


def test_rules_graph_writes_dot_and_svg(tmp_path):
    result = runner.invoke(app, ["rules", "graph", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "dtpa-rules.dot").read_text().startswith("strict digraph")
    svg = (tmp_path / "dtpa-rules.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "P2-PRO-001" in svg


def test_explain_prints_the_chain():
    result = runner.invoke(app, ["explain", str(ROOT / "case_studies" / "vbm-patient-refuses.yaml")])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "P2 Consent and capacity: not met" in out
    assert "<- FIRED P2-IND-019 [blocker]" in out
    assert "decision.patient_response = refuses" in out
    assert "patient.legal_status = informal" in out
    assert "chains into POLICY-VERDICT-BLOCKER" in out


def test_rule_check_refuses_a_pack_with_a_gap(pack_copy):
    rules, principles = pack_copy
    for path in rules.glob("*.yaml"):  # take the TRN area out of every rule that serves it
        text = path.read_text()
        path.write_text(text.replace("areas: [TRN]", "areas: [POL]").replace(", TRN]", "]")
                        .replace("[TRN, ", "["))
    (rules / "trn_training.yaml").unlink()
    problems = graph_problems(load_pack(rules, principles))
    assert "TRN has no rule in procurement" in problems
    assert "TRN has no rule in individual_use" in problems
