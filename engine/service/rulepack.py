"""The rule pack as its authors work on it: the checks `dtpa rules check` runs, each rule's own
cases, the traceability graph, the version lock, and the reference documents generated from the
models and the pack. Thin: each function hands over to the module that does the work."""

from __future__ import annotations

from pathlib import Path

import yaml

from engine.errors import RulesInvalid
from engine.export.schemas import write_schemas
from engine.knowledge.coverage import coverage
from engine.knowledge.graph import build_graph, graph_problems, to_dot, to_svg, unused_questions
from engine.knowledge.lock import LOCK_FILE, lock_problem, locked_versions
from engine.knowledge.pack import RulePack
from engine.knowledge.questions_doc import DEFAULT_PATH
from engine.knowledge.questions_doc import render as questions_reference
from engine.knowledge.remedy_checks import remedy_problems
from engine.runtime.cases import CaseResult, run_rule_cases
from engine.settings import ROOT, settings

__all__ = ["QUESTIONS_PATH", "CaseResult", "coverage", "lock", "problems", "questions_reference",
           "run_rule_cases", "unused_questions", "write_graph", "write_schemas"]

QUESTIONS_PATH = ROOT / DEFAULT_PATH  # the repository's copy, whatever the working directory


def problems(pack: RulePack) -> list[str]:
    """Everything `dtpa rules check` refuses: coverage gaps, traceability, remedies that change
    the facts of the case, and content that no longer matches its locked version."""
    found = graph_problems(pack) + remedy_problems(pack)
    version = lock_problem(pack)
    return found + ([version] if version else [])


def write_graph(pack: RulePack, folder: Path) -> tuple[list[Path], int, int]:
    """The traceability graph as Graphviz DOT and an SVG drawing: the files, nodes and edges."""
    graph = build_graph(pack)
    folder.mkdir(parents=True, exist_ok=True)
    dot, svg = folder / "dtpa-rules.dot", folder / "dtpa-rules.svg"
    dot.write_text(to_dot(graph), encoding="utf-8")
    to_svg(graph, str(svg))
    return [dot, svg], graph.number_of_nodes(), graph.number_of_edges()


def lock(pack: RulePack) -> str:
    """Record the pack version's national content hash in the lock file that the checks read;
    a released version is never changed."""
    versions = locked_versions()
    version = pack.header.version
    if versions.get(version) not in (None, pack.national_hash):
        raise RulesInvalid(f"version {version} is already locked to other content: bump the "
                           "version in rules/pack.yaml (rule-pack changes change decisions)")
    versions[version] = pack.national_hash
    path = Path(settings().rules_dir) / LOCK_FILE
    path.write_text("# Rule-pack versions and the SHA-256 of their national content (rules, "
                    "decision policy,\n# catalogue; not the local profile). Written by "
                    "`dtpa rules lock`; never edit a released line.\n"
                    + yaml.safe_dump({"versions": versions}, sort_keys=True), encoding="utf-8")
    return pack.national_hash
