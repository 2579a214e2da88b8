"""The condition vocabulary of rule files, and its compilation into durable_rules' JSON operators.

A rule's `when` is a small tree: `all`, `any`, `not`, and predicates on the assessment's answers.
Each predicate compiles to one durable_rules operator (equality, `$neq`, `$gt`/`$lt`/`$gte`/`$lte`,
`$ex`/`$nex`, `$or` for `one_of`, `$add` for date offsets); matching happens in durable_rules.

Missing information never counts as compliance, so every condition compiles three ways:
  holds    - the answers given make it true                     -> the rule fires (a finding)
  fails    - the answers given make it false                    -> nothing to report
  unknown  - it turns on a question nobody has answered yet     -> an open question
An answer of "not applicable" makes a predicate neither true, false nor unknown: the rule does
not apply. `not` swaps holds and fails, so a negation never turns a gap into a pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from engine.facts.schema import NA_PREFIX, FactSpec, day_number

Expr = dict[str, Any] | bool  # a durable_rules expression, or a constant
TRUE: Final = True
FALSE: Final = False

COMPOSITES = ("all", "any", "not")
PREDICATES = {
    "equals": "the answer is this value",
    "not_equals": "the answer is given and is not this value",
    "one_of": "the answer is one of these values",
    "is_true": "the answer is yes",
    "is_false": "the answer is no",
    "present": "the question is answered (a value or not applicable)",
    "missing": "the question is not answered",
    "greater_than": "a number above the value",
    "less_than": "a number below the value",
    "at_least": "a number at or above the value",
    "at_most": "a number at or below the value",
    "before": "a date before another date (plus optional days)",
    "after": "a date after another date (plus optional days)",
    "contains": "a list includes this item",
    "contains_any": "a list includes any of these items",
}
OPERATORS = (*COMPOSITES, *PREDICATES)
_NUMERIC = {"greater_than": ("$gt", "$lte"), "less_than": ("$lt", "$gte"),
            "at_least": ("$gte", "$lt"), "at_most": ("$lte", "$gt")}
_DATES = {"before": ("$lt", "$gte"), "after": ("$gt", "$lte")}


class ConditionError(ValueError):
    """A malformed condition; `loc` is its path inside the rule, for the line number."""

    def __init__(self, message: str, loc: tuple[str | int, ...]):
        super().__init__(message)
        self.loc = loc


# --- the tree ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    def facts(self) -> set[str]:
        raise NotImplementedError


@dataclass(frozen=True)
class Composite(Node):
    op: str
    children: tuple[Node, ...]

    def facts(self) -> set[str]:
        return set().union(*(c.facts() for c in self.children))


@dataclass(frozen=True)
class Predicate(Node):
    op: str
    fact: str
    spec: FactSpec
    values: tuple[Any, ...] = ()
    than: FactSpec | None = None
    plus_days: int = 0

    def facts(self) -> set[str]:
        return {self.fact} | ({self.than.path} if self.than else set())


# --- parsing and checking -------------------------------------------------------------------


Specs = dict[str, FactSpec]


def parse(raw: Any, specs: Specs, params: dict[str, Any], loc: tuple[str | int, ...] = ("when",)) -> Node:
    """Turn the YAML condition into a checked tree, or raise ConditionError naming the fault."""
    if not isinstance(raw, dict) or len(raw) != 1:
        raise ConditionError(
            "a condition is a mapping with exactly one operator, e.g. `equals: {fact: ..., value: ...}`",
            loc,
        )
    ((op, arg),) = raw.items()
    here = (*loc, op)
    if op not in OPERATORS:
        raise ConditionError(
            f"unknown operator {op!r}; use one of: {', '.join(OPERATORS)}", here
        )
    if op in ("all", "any"):
        if not isinstance(arg, list) or not arg:
            raise ConditionError(f"`{op}` takes a non-empty list of conditions", here)
        return Composite(op, tuple(parse(c, specs, params, (*here, i)) for i, c in enumerate(arg)))
    if op == "not":
        return Composite("not", (parse(arg, specs, params, here),))
    if op in ("present", "missing", "is_true", "is_false"):
        spec = _fact(arg, specs, here)
        if op in ("is_true", "is_false") and spec.kind != "bool":
            raise ConditionError(f"`{op}` needs a yes/no question; {spec.path} is {spec.kind}", here)
        return Predicate(op, spec.path, spec)
    if not isinstance(arg, dict) or "fact" not in arg:
        raise ConditionError(f"`{op}` takes a mapping with `fact:` and its operands", here)
    spec = _fact(arg["fact"], specs, (*here, "fact"))
    allowed = {"equals": {"value"}, "not_equals": {"value"}, "one_of": {"values"},
               "contains": {"value"}, "contains_any": {"values"}}
    keys = set(arg) - {"fact"}
    if op in _NUMERIC:
        expected = {"value"}
    elif op in _DATES:
        expected = {"value", "than", "plus_days"}
    else:
        expected = allowed[op]
    if not keys <= expected:
        raise ConditionError(
            f"`{op}` does not take {', '.join(sorted(keys - expected))}; it takes fact, "
            + ", ".join(sorted(expected)), here)
    if op in _DATES:
        return _date_predicate(op, spec, arg, specs, params, here)
    if op in _NUMERIC:
        if spec.kind not in ("int", "count"):
            raise ConditionError(f"`{op}` needs a number; {spec.path} is {spec.kind}", here)
        value = _resolve(arg.get("value"), params, (*here, "value"))
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConditionError(f"`{op}` compares with a whole number, not {value!r}", here)
        return Predicate(op, spec.path, spec, (value,))
    if op in ("contains", "contains_any"):
        if spec.kind != "enum_list":
            raise ConditionError(f"`{op}` needs a list question; {spec.path} is {spec.kind}", here)
    elif spec.kind in ("enum_list", "text", "date"):
        raise ConditionError(f"`{op}` cannot test {spec.path} ({spec.kind}); "
                             "use contains, present/missing or before/after", here)
    values = [arg.get("value")] if "value" in arg else arg.get("values")
    if not isinstance(values, list) or not values:
        raise ConditionError(f"`{op}` needs `values:` as a non-empty list", here)
    values = [_resolve(x, params, (*here, "value")) for x in values]
    for value in values:
        _check_value(spec, value, here)
    return Predicate(op, spec.path, spec, tuple(values))


def _fact(path: Any, specs: Specs, loc: tuple[str | int, ...]) -> FactSpec:
    if not isinstance(path, str) or path not in specs:
        near = [p for p in specs if isinstance(path, str) and p.split(".")[-1] == path.split(".")[-1]]
        hint = f" (did you mean {near[0]}?)" if near else ""
        raise ConditionError(f"unknown fact {path!r}{hint}", loc)
    return specs[path]


def _resolve(value: Any, params: dict[str, Any], loc: tuple[str | int, ...]) -> Any:
    """A literal, or `{param: name}` taken from the local policy profile."""
    if isinstance(value, dict):
        if set(value) != {"param"}:
            raise ConditionError("a value is a literal or `{param: name}`", loc)
        name = value["param"]
        if name not in params:
            raise ConditionError(f"unknown profile parameter {name!r}", loc)
        return params[name]
    return value


def _check_value(spec: FactSpec, value: Any, loc: tuple[str | int, ...]) -> None:
    if spec.kind == "bool" and not isinstance(value, bool):
        raise ConditionError(f"{spec.path} is yes/no; compare with true or false, not {value!r}", loc)
    if spec.kind in ("enum", "enum_list") and value not in spec.members:
        raise ConditionError(
            f"{value!r} is not an answer to {spec.path}; expected one of: {', '.join(spec.members)}",
            loc)
    if spec.kind in ("int", "count") and (not isinstance(value, int) or isinstance(value, bool)):
        raise ConditionError(f"{spec.path} is a number; {value!r} is not", loc)


def _date_predicate(op: str, spec: FactSpec, arg: dict[str, Any], specs: Specs,
                    params: dict[str, Any], loc: tuple[str | int, ...]) -> Predicate:
    if spec.kind != "date":
        raise ConditionError(f"`{op}` needs a date; {spec.path} is {spec.kind}", loc)
    if ("value" in arg) == ("than" in arg):
        raise ConditionError(f"`{op}` takes either `value:` (an ISO date) or `than:` (a date fact)", loc)
    plus = _resolve(arg.get("plus_days", 0), params, (*loc, "plus_days"))
    if not isinstance(plus, int) or isinstance(plus, bool):
        raise ConditionError("`plus_days` is a whole number of days", loc)
    if "than" in arg:
        other = _fact(arg["than"], specs, (*loc, "than"))
        if other.kind != "date":
            raise ConditionError(f"`than:` must be a date fact; {other.path} is {other.kind}", loc)
        return Predicate(op, spec.path, spec, (), other, plus)
    import datetime as dt

    try:
        when = dt.date.fromisoformat(str(arg["value"]))
    except ValueError:
        raise ConditionError(f"{arg['value']!r} is not an ISO date (YYYY-MM-DD)", loc) from None
    return Predicate(op, spec.path, spec, (day_number(when) + plus,))


# --- compilation ----------------------------------------------------------------------------


def _join(op: str, absorbing: bool, parts: tuple[Expr, ...]) -> Expr:
    """`$and` / `$or` with constants folded and nested same-operator lists flattened (durable_rules
    allows at most 31 expression slots per rule, and every `$and`/`$or` takes two)."""
    items: list[Expr] = []
    for p in parts:
        if p is absorbing:
            return absorbing
        if p is (not absorbing):
            continue
        if isinstance(p, dict) and set(p) == {op}:
            items.extend(x for x in p[op] if x not in items)
        elif p not in items:
            items.append(p)
    if not items:
        return not absorbing
    return items[0] if len(items) == 1 else {op: items}


def and_(*parts: Expr) -> Expr:
    return _join("$and", FALSE, parts)


def or_(*parts: Expr) -> Expr:
    return _join("$or", TRUE, parts)


MAX_EXPRESSION_SLOTS = 31  # durable_rules' MAX_SEQUENCE_EXPRESSIONS (32) less one


def expression_slots(expr: Expr) -> int:
    """How many of durable_rules' per-rule expression slots a condition uses: two for each
    `$and`/`$or`, one for each comparison against another field (`$m`, arithmetic)."""
    if not isinstance(expr, dict):
        return 0
    total = 0
    for key, value in expr.items():
        if key in ("$and", "$or"):
            total += 2 + sum(expression_slots(v) for v in value)
        elif isinstance(value, dict):
            total += sum(1 for rhs in value.values() if isinstance(rhs, dict))
    return total


MAX_SPLIT = 64


def split_for_durable(expr: Expr) -> list[Expr]:
    """Rewrite a condition as alternatives that each fit durable_rules' expression slots:
    an `$or` becomes separate rules, and an `$or` inside an `$and` is distributed over it."""
    out = _split(expr)
    if len(out) > MAX_SPLIT:
        raise ConditionError(f"too complex for durable_rules even when split ({len(out)} parts); "
                             "simplify the condition or split the rule", ("when",))
    return out


def _split(expr: Expr) -> list[Expr]:
    if expression_slots(expr) <= MAX_EXPRESSION_SLOTS:
        return [expr]
    assert isinstance(expr, dict)
    if "$or" in expr:
        return [part for branch in expr["$or"] for part in _split(branch)]
    if "$and" in expr:
        items = expr["$and"]
        ors = [i for i, x in enumerate(items) if isinstance(x, dict) and "$or" in x]
        if ors:
            widest = max(ors, key=lambda i: expression_slots(items[i]))
            rest = items[:widest] + items[widest + 1:]
            return [part for branch in items[widest]["$or"] for part in _split(and_(*rest, branch))]
    raise ConditionError(f"uses {expression_slots(expr)} of durable_rules' "
                         f"{MAX_EXPRESSION_SLOTS} expression slots and cannot be split", ("when",))


def _answered(spec: FactSpec) -> Expr:
    """The question has an answer: a value or an explicit "not applicable"."""
    return or_({"$ex": {spec.keys()[0]: 1}}, {"$ex": {NA_PREFIX + spec.path: 1}})


def _unanswered(spec: FactSpec) -> Expr:
    return and_({"$nex": {spec.keys()[0]: 1}}, {"$nex": {NA_PREFIX + spec.path: 1}})


@dataclass(frozen=True)
class Compiled:
    holds: Expr
    fails: Expr
    unknown: Expr


def compile_node(node: Node) -> Compiled:
    if isinstance(node, Composite):
        parts = [compile_node(c) for c in node.children]
        if node.op == "not":
            (c,) = parts
            return Compiled(c.fails, c.holds, c.unknown)
        if node.op == "all":
            return Compiled(
                and_(*(p.holds for p in parts)),
                or_(*(p.fails for p in parts)),
                and_(*(or_(p.holds, p.unknown) for p in parts), or_(*(p.unknown for p in parts))),
            )
        return Compiled(
            or_(*(p.holds for p in parts)),
            and_(*(p.fails for p in parts)),
            and_(*(or_(p.fails, p.unknown) for p in parts), or_(*(p.unknown for p in parts))),
        )
    assert isinstance(node, Predicate)
    return _compile_predicate(node)


def _each(values: Iterable[Any], make: Callable[[Any], Expr], join: Callable[..., Expr]) -> Expr:
    return join(*(make(v) for v in values))


def _compile_predicate(p: Predicate) -> Compiled:
    key, op = p.fact, p.op
    unknown = _unanswered(p.spec)
    if op == "present":
        return Compiled(_answered(p.spec), _unanswered(p.spec), FALSE)
    if op == "missing":
        return Compiled(_unanswered(p.spec), _answered(p.spec), FALSE)
    if op in ("is_true", "is_false"):
        yes = op == "is_true"
        return Compiled({key: yes}, {key: not yes}, unknown)
    if op == "equals":
        (v,) = p.values
        return Compiled({key: v}, {"$neq": {key: v}}, unknown)
    if op == "not_equals":
        (v,) = p.values
        return Compiled({"$neq": {key: v}}, {key: v}, unknown)
    if op == "one_of":
        return Compiled(_each(p.values, lambda v: {key: v}, or_),
                        _each(p.values, lambda v: {"$neq": {key: v}}, and_), unknown)
    if op in ("contains", "contains_any"):
        return Compiled(_each(p.values, lambda v: {f"{key}.{v}": True}, or_),
                        _each(p.values, lambda v: {f"{key}.{v}": False}, and_), unknown)
    if op in _NUMERIC:
        hold_op, fail_op = _NUMERIC[op]
        (v,) = p.values
        return Compiled({hold_op: {key: v}}, {fail_op: {key: v}}, unknown)
    hold_op, fail_op = _DATES[op]
    if p.than is None:
        (v,) = p.values
        return Compiled({hold_op: {key: v}}, {fail_op: {key: v}}, unknown)
    other: Any = {"$m": p.than.path}
    if p.plus_days:
        other = {"$add": {"$l": other, "$r": p.plus_days}}
    # durable_rules compares against a missing `$m` field as if it were null, and that can match:
    # the other date must be present for the comparison to mean anything.
    there = {"$ex": {p.than.path: 1}}
    return Compiled(and_(there, {hold_op: {key: other}}), and_(there, {fail_op: {key: other}}),
                    or_(unknown, _unanswered(p.than)))
