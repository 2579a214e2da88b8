"""The questions of each context, worded by the models and grouped by the principle or practice
area they mostly serve (from the rules that read them), for forms such as the web front end."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from engine.facts.schema import FactSpec, fact_specs
from engine.knowledge.pack import RulePack
from engine.knowledge.question_help import question_help

ABOUT = ("title", "assessed_on", "technology.", "service.", "patient.", "product.", "proposed_use.")


@dataclass(frozen=True)
class Question:
    spec: FactSpec
    targets: tuple[str, ...]  # principles and areas whose rules read this answer
    group: str  # "about" or the principle/area it mostly serves, or "other"
    # What the question means and why it matters, in one plain sentence
    # (principles/question_help.yaml); "" if the help file has none for it.
    explain: str = ""

    @property
    def path(self) -> str:
        return self.spec.path


def questions(pack: RulePack, context: str) -> list[Question]:
    readers: dict[str, Counter[str]] = {}
    for loaded in pack.rules_for(context):
        if loaded.rule.severity == "out_of_scope":
            continue
        for path in loaded.facts(context):
            readers.setdefault(path, Counter()).update(loaded.rule.targets)
    order = list(pack.catalogue.targets)
    explain = question_help().explain
    out = []
    for path, spec in fact_specs(context).items():
        if not spec.asked:
            continue
        counts = readers.get(path, Counter())
        targets = tuple(t for t in order if t in counts)
        if path == "assessed_on" or path.startswith(ABOUT):
            group = "about"
        elif counts:
            group = max(targets, key=lambda t: (counts[t], -order.index(t)))
        else:
            group = "other"
        out.append(Question(spec, targets, group, explain.get(path, "")))
    return out


def nest(answers: dict[str, Any]) -> dict[str, Any]:
    """Dotted answers -> the nested mapping the models validate."""
    out: dict[str, Any] = {}
    for path, value in answers.items():
        *parents, leaf = path.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def flatten(data: dict[str, Any], context: str) -> dict[str, Any]:
    """A nested assessment -> dotted answers for the context's questions."""
    out = {}
    for path, spec in fact_specs(context).items():
        if not spec.asked:
            continue
        node: Any = data
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            out[path] = node
    return out
