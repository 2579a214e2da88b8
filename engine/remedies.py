"""Remedies as answers: what the assessment would say once a rule's remedy is carried out."""

from __future__ import annotations

import copy
from typing import Any

from engine.pack import LoadedRule

# The assessment date is when the assessment was made, not something a remedy can change.
NOT_REMEDIABLE = {"assessed_on"}


def fix_of(loaded: LoadedRule) -> dict[str, Any]:
    """A rule's remedy as answers: its `fix:`, or else the answers of its first passing case."""
    answers: dict[str, Any] = {}
    if loaded.rule.fix is not None:  # `{}` means no change of answers remedies it
        answers = loaded.rule.fix
    else:
        answers = next((c.facts for c in loaded.rule.cases if c.expect == "passes"), {})
    return {k: v for k, v in answers.items() if k not in NOT_REMEDIABLE}


def _merge(current: Any, change: Any) -> Any:
    if isinstance(change, dict) and set(change) <= {"add", "remove"} and change:
        items = list(current) if isinstance(current, list) else []
        items += [x for x in change.get("add", []) if x not in items]
        return [x for x in items if x not in change.get("remove", [])]
    return change


def apply_to_answers(answers: dict[str, Any], fix: dict[str, Any]) -> dict[str, Any]:
    """A rule case's dotted answers with the fix applied."""
    out = dict(answers)
    for path, change in fix.items():
        out[path] = _merge(out.get(path), change)
    return out


def apply_to_assessment(data: dict[str, Any], fix: dict[str, Any]) -> dict[str, Any]:
    """An assessment (as a JSON-ready dict) with the fix applied at each dotted path."""
    out = copy.deepcopy(data)
    for path, change in fix.items():
        *parents, leaf = path.split(".")
        node = out
        for part in parents:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[leaf] = _merge(node.get(leaf), change)
    return out
