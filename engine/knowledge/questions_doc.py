"""The questions reference (`docs/questions.md`): every fact a rule's `when:` can read, per
context and section, generated from the models and the loaded rule pack.

The text is deterministic (model order for sections and questions, sorted rule ids, no dates),
so a test can compare the committed file with a fresh rendering and fail when it is stale.
"""

from __future__ import annotations

from engine.facts.conditions import COMPOSITES, PREDICATES
from engine.facts.schema import MODELS, FactSpec, fact_specs
from engine.knowledge.pack import RulePack
from engine.knowledge.question_help import question_help

DEFAULT_PATH = "docs/questions.md"

# The words a governance lead reads in the "type" column, by FactSpec.kind.
TYPES = {"bool": "bool", "enum": "enum", "enum_list": "list of enum", "int": "number",
         "date": "date", "text": "text", "count": "count"}

# PREDICATES describes the predicates only; the composites' meanings are written here.
COMPOSITE_MEANINGS = {
    "all": "every condition in the list holds",
    "any": "at least one condition in the list holds",
    "not": "the condition does not hold (an unanswered question stays open, never a pass)",
}

INTRO = """\
# Questions reference

Generated from the assessment models and the rule pack by `.venv/bin/dtpa questions`; do not
edit by hand. `make test` fails when this file is out of date.

Use it to write a rule's `when:` without reading Python: each row is a *fact path* a condition
can name, with the question as the form asks it and what it means in plain words (the form's
help, from `principles/question_help.yaml`), its type, the values it accepts, and the rules that
already read it.

## How answers become facts

- A yes/no answer is `true` or `false`; an enum answer is one of its listed values; a number is a
  whole number.
- A date is kept as a day number, so `before` and `after` can compare two dates and add days
  (`plus_days`); in a condition you still write an ISO date (`2025-03-31`) or name another date fact.
- A list of enum values becomes one true/false flag per value (`path.value`): test it with
  `contains` or `contains_any`.
- Any other list becomes its length (a *count*); a list of items also gives a *derived count* of
  the items that leave an optional answer blank. Derived facts are computed, never asked.
- Free text can only be tested with `present` or `missing`.
- "Not applicable" (where allowed) is kept apart (`na.<path>`): a rule that turns on a question
  answered "not applicable" does not apply.
- An unanswered question is left out: a condition that turns on it is *unknown* and becomes an
  open question, never a pass.
- A *fact of the case* (what the product is, the patient's age, capacity, what they said, the
  product decision's outcome) is never changed by a remedy: "what would change this decision"
  does not propose another answer to it.

## Condition vocabulary

A condition is a mapping with exactly one operator, e.g.
`one_of: {fact: deployment.activation, values: [opt_out, always_on]}`,
`is_false: consent.withdrawal_honoured`, or
`after: {fact: assessed_on, than: assurance.penetration_test_date, plus_days: 365}`.
A value may be taken from the local policy profile with `{param: name}`.
"""


def _cell(text: str) -> str:
    """Markdown table cells cannot hold a pipe or a line break."""
    return " ".join(text.split()).replace("|", "\\|")


def _type(spec: FactSpec) -> str:
    if spec.source is not None:
        return "derived count"
    return TYPES[spec.kind]


def _values(spec: FactSpec) -> str:
    if spec.source is not None:
        return f"computed from `{spec.source}`; never asked"
    if spec.kind == "bool":
        return "yes (`true`) / no (`false`)"
    if spec.members:
        return ", ".join(f"`{m}`" for m in spec.members)
    return {"int": "whole number", "date": "ISO date", "text": "free text",
            "count": "number of items"}.get(spec.kind, "")


def readers(pack: RulePack, context: str) -> dict[str, list[str]]:
    """Fact path -> the sorted ids of the context's rules whose `when:` reads it."""
    out: dict[str, set[str]] = {}
    for loaded in pack.rules_for(context):
        for path in loaded.facts(context):
            out.setdefault(path, set()).add(loaded.rule.id)
    return {path: sorted(ids) for path, ids in out.items()}


def sections(context: str) -> dict[str, list[FactSpec]]:
    """The context's facts grouped by the model section they belong to, in model order.
    Top-level questions with no section of their own (the title, the date) go under ""."""
    specs = fact_specs(context)
    out: dict[str, list[FactSpec]] = {}
    for path, spec in specs.items():
        head = path.split(".")[0]
        nested = any(p.startswith(head + ".") for p in specs)
        out.setdefault(head if nested else "", []).append(spec)
    return out


def _heading(name: str) -> str:
    if not name:
        return "### The assessment"
    return f"### {name.replace('_', ' ').capitalize()} (`{name}`)"


def _context(pack: RulePack, context: str) -> list[str]:
    model = MODELS[context]
    doc = (model.__doc__ or "").strip().splitlines()
    lines = [f"## Context `{context}`", ""]
    if doc:
        lines += [doc[0], ""]
    read = readers(pack, context)
    explain = question_help().explain
    for name, specs in sections(context).items():
        lines += [_heading(name), "",
                  "| fact path | question | what it means | type | allowed values | "
                  "not applicable | fact of the case | read by rules |",
                  "|---|---|---|---|---|---|---|---|"]
        for spec in specs:
            rules = ", ".join(read.get(spec.path, [])) or "—"
            meaning = _cell(explain.get(spec.path, "")) if spec.asked else "—"
            lines.append(
                f"| `{spec.path}` | {_cell(spec.question)} | {meaning or '—'} | {_type(spec)} | "
                f"{_values(spec)} | "
                f"{'yes' if spec.allows_na else 'no'} | {'yes' if spec.fact_of_case else 'no'} | "
                f"{rules} |")
        lines.append("")
    return lines


def render(pack: RulePack) -> str:
    """The whole reference as markdown, ending in one newline."""
    lines = INTRO.splitlines()
    lines += ["", "| operator | meaning |", "|---|---|"]
    for name in COMPOSITES:
        lines.append(f"| `{name}` | {COMPOSITE_MEANINGS.get(name, '')} |")
    for name, meaning in PREDICATES.items():
        lines.append(f"| `{name}` | {_cell(meaning)} |")
    lines.append("")
    for context in MODELS:
        lines += _context(pack, context)
    return "\n".join(lines).rstrip("\n") + "\n"
