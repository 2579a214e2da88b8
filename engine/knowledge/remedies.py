"""Remedies as answers: what the assessment would say once a rule's remedy is carried out."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable
from functools import cache
from typing import Any

from engine.facts.schema import fact_specs
from engine.knowledge.pack import LoadedRule
from engine.knowledge.rulespec import is_relative_date

# The assessment date is when the assessment was made, not something a remedy can change.
NOT_REMEDIABLE = {"assessed_on"}


@cache
def _fixed_in(context: str) -> frozenset[str]:
    return frozenset(p for p, spec in fact_specs(context).items()
                     if spec.fact_of_case or not spec.asked)


def fixed_paths(contexts: Iterable[str]) -> frozenset[str]:
    """Answers no remedy may set in these contexts: the facts of the case (what the product is,
    who the patient is, what they said) are the case itself, and derived facts follow from other
    answers. A remedy that "changes" them describes a different case, not an action."""
    out = frozenset(NOT_REMEDIABLE)
    for ctx in contexts:
        out |= _fixed_in(ctx)
    return out


def fix_of(loaded: LoadedRule) -> dict[str, Any]:
    """A rule's remedy as answers: its `fix:`, or else the answers of its first passing case,
    never a fact of the case (in a passing case those are its context, not a change)."""
    answers: dict[str, Any] = {}
    if loaded.rule.fix is not None:  # `{}` means no change of answers remedies it
        answers = loaded.rule.fix
    else:
        answers = first_passing(loaded.rule)
    fixed = fixed_paths(loaded.rule.context)
    return {k: v for k, v in answers.items() if k not in fixed}


def first_passing(rule: Any) -> dict[str, Any]:
    return next((c.facts for c in rule.cases if c.expect == "passes"), {})


def _resolve(value: Any, lookup: Any) -> Any:
    if not is_relative_date(value):
        return value
    base = lookup(value["from"])
    if base is None:
        return None
    day = base if isinstance(base, dt.date) else dt.date.fromisoformat(str(base))
    return (day + dt.timedelta(days=value.get("plus_days", 0))).isoformat()


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
        out[path] = _merge(out.get(path), _resolve(change, answers.get))
    return {k: v for k, v in out.items() if v is not None}


def apply_to_assessment(data: dict[str, Any], fix: dict[str, Any]) -> dict[str, Any]:
    """An assessment (as a JSON-ready dict) with the fix applied at each dotted path."""
    out = copy.deepcopy(data)
    for path, change in fix.items():
        change = _resolve(change, lambda p: _lookup(data, p))
        if change is None:
            continue
        *parents, leaf = path.split(".")
        node = out
        for part in parents:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[leaf] = _merge(node.get(leaf), change)
    return out


def _lookup(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node
