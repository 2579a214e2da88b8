"""The conventions a rule and a profile must follow beyond their shape: an id that names the
rule's principle and context, principles and areas the catalogue defines, citations it knows,
conditions that compile, cases that both fire and pass, fixes that are real answers, and condition
owners and review sources that exist. Each problem is collected with its file and line."""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.errors import Problem
from engine.facts.conditions import ConditionError, Node, and_, compile_node, parse, split_for_durable
from engine.facts.schema import FactSpec, encode_answer, fact_specs
from engine.knowledge.catalog import Catalogue
from engine.knowledge.rulespec import CONTEXT_CODES, Profile, Rule, context_code, is_relative_date
from engine.knowledge.yamlio import Loc, YamlDocument


def rule_nodes(rule: Rule, doc: YamlDocument, loc: Loc, catalogue: Catalogue,
               params: dict[str, Any], problems: list[Problem]) -> dict[str, Node] | None:
    """The rule's condition parsed for each of its contexts, or None when it breaks a convention
    (each problem appended to `problems`)."""
    line = doc.line_of(loc)
    before = len(problems)

    def bad(message: str, where: Loc = ()) -> None:
        problems.append(Problem(doc.path, doc.line_of((*loc, *where)) or line, message, rule.id))

    for field, defined, what in (("principles", list(catalogue.principles), "principle"),
                                 ("areas", list(catalogue.areas), "practice area")):
        for j, ref in enumerate(getattr(rule, field)):
            if ref not in defined:
                bad(f"{field}: {ref!r} is not a {what} in the catalogue (known: "
                    f"{', '.join(defined)})", (field, j))
    if not rule.targets:
        bad("names no principle or practice area")
    prefix = rule.id.split("-")[0]
    if prefix != "SCOPE" and rule.targets and prefix not in rule.targets:
        bad(f"id prefix {prefix} must be one of the rule's principles or areas", ("id",))
    if tuple(sorted(rule.context)) != tuple(sorted(CONTEXT_CODES[context_code(rule.id)])):
        bad(f"id says {context_code(rule.id)} but context is {', '.join(rule.context)}", ("context",))
    if rule.severity == "out_of_scope" and prefix != "SCOPE":
        bad("only SCOPE rules may have severity out_of_scope", ("severity",))
    for ref in rule.commitments:
        if ref not in catalogue.commitments:
            bad(f"unknown Culture of Care commitment {ref!r}", ("commitments",))
    known = catalogue.all_ids()
    for j, cite in enumerate(rule.citations):
        if cite.ref not in known:
            bad(f"citation {cite.ref!r} is not in the catalogue", ("citations", j))
    if not any(c.ref in catalogue.sources for c in rule.citations):
        bad("needs at least one citation of an external source", ("citations",))

    nodes: dict[str, Node] = {}
    for ctx in rule.context:
        try:
            nodes[ctx] = parse(rule.when, fact_specs(ctx), params)
            compiled = compile_node(nodes[ctx])
            for expr in (compiled.holds, compiled.unknown):
                split_for_durable(and_({"kind": ctx}, expr))
        except ConditionError as exc:
            bad(f"condition ({ctx}): {exc}", exc.loc)
    if len(nodes) == len(rule.context):
        _check_cases(rule, doc, loc, problems)
    return None if len(problems) > before else nodes


def profile_problems(profile: Profile, doc: YamlDocument, catalogue: Catalogue) -> list[Problem]:
    """Condition owners name principles or areas of the catalogue; review sources are dates."""
    out = []
    for target in profile.condition_owners:
        if target not in catalogue.targets:
            out.append(Problem(doc.path, doc.line_of(("profile", "condition_owners", target)),
                               f"condition_owners: {target!r} is not a principle or area"))
    for ctx, review in profile.review.items():
        specs = fact_specs(ctx)
        for path in [*review.from_facts, *review.plus_days]:
            if path not in specs or specs[path].kind != "date":
                out.append(Problem(doc.path, doc.line_of(("profile", "review", ctx)),
                                   f"review source {path!r} is not a date question in {ctx}"))
    return out


def _check_cases(rule: Rule, doc: YamlDocument, loc: Loc, problems: list[Problem]) -> None:
    expects = {c.expect for c in rule.cases}
    if "fires" not in expects or not expects - {"fires"}:
        problems.append(Problem(doc.path, doc.line_of((*loc, "cases")), "cases need at least one "
                                "that fires and one that does not", rule.id))
    if rule.fix is not None:
        for ctx in rule.context:
            try:
                _check_relative_dates(ctx, rule.fix)
                case_fact(ctx, {p: v for p, v in rule.fix.items()
                                if not _is_list_change(v) and not is_relative_date(v)})
            except ValueError as exc:
                problems.append(Problem(doc.path, doc.line_of((*loc, "fix")), f"fix ({ctx}): {exc}",
                                        rule.id))
    for k, case in enumerate(rule.cases):
        for context in case_contexts(rule, case):
            try:
                case_fact(context, case.facts)
            except ValueError as exc:
                problems.append(Problem(doc.path, doc.line_of((*loc, "cases", k)),
                                        f"case {case.name or k + 1} ({context}): {exc}", rule.id))


def _check_relative_dates(context: str, fix: dict[str, Any]) -> None:
    specs = fact_specs(context)
    for path, value in fix.items():
        if not is_relative_date(value):
            continue
        for p in (path, value["from"]):
            if p not in specs or specs[p].kind != "date":
                raise ValueError(f"{p!r} is not a date question; `from:` needs two dates")
        if not isinstance(value.get("plus_days", 0), int):
            raise ValueError(f"{path}: plus_days must be a whole number")


def _is_list_change(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and set(value) <= {"add", "remove"}


def case_contexts(rule: Rule, case: Any) -> list[str]:
    return [case.context] if case.context else list(rule.context)


def case_fact(context: str, answers: dict[str, Any]) -> dict[str, Any]:
    """The durable fact for a rule case: only the answers given, checked against the schema."""
    specs = fact_specs(context)
    fact: dict[str, Any] = {"kind": context}
    for path, value in answers.items():
        if path not in specs:
            raise ValueError(f"unknown fact {path!r}")
        spec = specs[path]
        _check_case_value(spec, value)
        fact.update(encode_answer(spec, value))
    return fact


def _check_case_value(spec: FactSpec, value: Any) -> None:
    if isinstance(value, dict):
        if set(value) != {"not_applicable"} or not spec.allows_na:
            raise ValueError(f"{spec.path}: only `{{not_applicable: reason}}` is allowed as a mapping")
        return
    ok = {
        "bool": isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "enum": value in spec.members,
        "enum_list": isinstance(value, list) and all(v in spec.members for v in value),
        "count": isinstance(value, list),
        "text": isinstance(value, str),
        "date": isinstance(value, str) and _iso(value),
    }[spec.kind]
    if not ok:
        raise ValueError(f"{spec.path}: {value!r} is not a valid {spec.kind} answer")


def _iso(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
        return True
    except ValueError:
        return False
