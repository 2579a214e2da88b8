"""What `dtpa rules check` refuses about remedies: a remedy that would change the facts of the
case (what the product is, who the patient is, what they or their parents said, the product
decision). Reported by `rules check`, not by `load_pack`, so the pack keeps loading while rule
authors put their rules right."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from engine.errors import Problem
from engine.facts.schema import fact_specs
from engine.knowledge.pack import LoadedRule, RulePack
from engine.knowledge.remedies import NOT_REMEDIABLE, first_passing, fixed_paths
from engine.knowledge.yamlio import Loc, YamlDocument, YamlProblem, read_document


def remedy_problems(pack: RulePack) -> list[str]:
    """Each rule whose remedy sets a fact of the case or a derived fact, as `file:line id: why`."""
    docs: dict[str, YamlDocument | None] = {}
    out: list[str] = []
    for rid in sorted(pack.rules):
        out.extend(str(p) for p in rule_remedy_problems(pack.rules[rid], docs))
    return out


def rule_remedy_problems(loaded: LoadedRule,
                         docs: dict[str, YamlDocument | None] | None = None) -> list[Problem]:
    rule = loaded.rule
    # assessed_on is excluded from remedies silently (a case's date is its setting, not a fact).
    fixed = fixed_paths(rule.context) - NOT_REMEDIABLE
    where = _locator(loaded, {} if docs is None else docs)
    problems: list[Problem] = []
    if rule.fix is not None:
        for path in rule.fix:
            if path in fixed:
                problems.append(Problem(loaded.file, where(("fix", path)), (
                    f"fix changes {path}, {_kind(path, rule.context)}: propose an action in the remedy "
                    "and use `fix: {}`"), rule.id))
        return problems
    k = next((i for i, c in enumerate(rule.cases) if c.expect == "passes"), None)
    if k is None:  # no passing case, so no answers of one to check
        return problems
    passing = first_passing(rule)
    firing = next((c.facts for c in rule.cases if c.expect == "fires"), {})
    for path, value in passing.items():
        # A fact the passing case sets differently from (or where) the firing case: the case
        # passes because it describes another case, so its answers are no remedy.
        if path in fixed and (path not in firing or firing[path] != value):
            problems.append(Problem(loaded.file, where(("cases", k, "facts", path)), (
                f"its first passing case passes only because {path} is different: add a `fix:` "
                "with the answers the team can change, or `fix: {}` if only an action remedies "
                "it"), rule.id))
    return problems


def _kind(path: str, contexts: Sequence[str]) -> str:
    derived = any(path in fact_specs(c) and not fact_specs(c)[path].asked for c in contexts)
    return "a derived fact" if derived else "a fact of the case"


def _locator(loaded: LoadedRule,
             docs: dict[str, YamlDocument | None]) -> Callable[[Loc], int | None]:
    """Lines of a rule's parts, read again from its file (the loaded pack keeps only the rule's
    own line); the rule's line if the file cannot be read now."""
    if loaded.file not in docs:
        try:
            docs[loaded.file] = read_document(Path(loaded.file))
        except (OSError, YamlProblem):
            docs[loaded.file] = None
    doc = docs[loaded.file]
    index = None
    if doc is not None and isinstance(doc.data, dict):
        rules = doc.data.get("rules") or []
        index = next((i for i, r in enumerate(rules)
                      if isinstance(r, dict) and r.get("id") == loaded.rule.id), None)

    def where(loc: Loc) -> int | None:
        if doc is None or index is None:
            return loaded.line
        return doc.line_of(("rules", index, *loc)) or loaded.line

    return where
