"""Loading the rule pack: rule files, decision policy and local profile, checked against the
catalogue and the fact schema. Every problem is collected and reported as `file:line rule-id: message`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engine.errors import Problem, RulesInvalid
from engine.facts.conditions import (
    Compiled,
    ConditionError,
    Node,
    and_,
    compile_node,
    parse,
    split_for_durable,
)
from engine.facts.schema import FactSpec, encode_answer, fact_specs
from engine.hashing import sha256_bytes
from engine.knowledge.catalog import AREA_IDS, PRINCIPLE_IDS, Catalogue, load_catalogue
from engine.knowledge.rulespec import (
    CONTEXT_CODES,
    DecisionPolicy,
    PackHeader,
    PolicyRule,
    Profile,
    Rule,
    RuleFile,
    context_code,
    is_relative_date,
)
from engine.knowledge.validation import problems_from
from engine.knowledge.yamlio import YamlDocument, YamlProblem, read_document
from engine.models.vocab import Severity, Verdict

ROOT = Path(__file__).resolve().parent.parent.parent
PACK_FILE = "pack.yaml"
POLICY_FILE = "decision_policy.yaml"
PROFILE_DIR = "profiles"
DEFAULT_PROFILE = "national-default"


@dataclass(frozen=True)
class LoadedRule:
    rule: Rule
    file: str
    line: int | None
    nodes: dict[str, Node]  # per context

    @cached_property
    def compiled(self) -> dict[str, Compiled]:
        return {ctx: compile_node(node) for ctx, node in self.nodes.items()}

    def facts(self, context: str) -> set[str]:
        return self.nodes[context].facts()


@dataclass(frozen=True)
class LoadedPolicyRule:
    rule: PolicyRule
    node: Node | None

    @cached_property
    def compiled(self) -> Compiled | None:
        return compile_node(self.node) if self.node else None


@dataclass(frozen=True)
class RulePack:
    header: PackHeader
    catalogue: Catalogue
    rules: dict[str, LoadedRule]
    policy: DecisionPolicy
    policy_rules: list[LoadedPolicyRule]
    profile: Profile
    profile_hash: str
    hash: str
    files: list[str] = field(default_factory=list)
    national_hash: str = ""  # the national content alone, which its version number must follow

    def rules_for(self, context: str) -> list[LoadedRule]:
        return self._by_context[context]

    @cached_property
    def _by_context(self) -> dict[str, list[LoadedRule]]:
        """Built once: every evaluation asks for its context's rules several times."""
        return {ctx: [r for r in self.rules.values() if ctx in r.rule.context]
                for ctx in ("procurement", "individual_use")}


def _policy_specs(catalogue: Catalogue) -> dict[str, dict[str, FactSpec]]:
    targets = tuple(catalogue.targets)
    severity = FactSpec("severity", "enum", "severity", tuple(s.value for s in Severity))
    target = FactSpec("target", "enum", "principle or area", targets)
    verdict = FactSpec("verdict", "enum", "verdict", tuple(v.value for v in Verdict))
    return {"finding": {"severity": severity, "target": target},
            "open_question": {"severity": severity, "target": target},
            "verdict": {"verdict": verdict, "target": target},
            "assessment": {}}


def _read(path: Path, problems: list[Problem]) -> YamlDocument | None:
    try:
        return read_document(path)
    except YamlProblem as exc:
        problems.append(exc.problem)
        return None


def _model(model: type, data: Any, doc: YamlDocument, loc: tuple, problems: list[Problem],
           rule_id: str | None = None) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems.extend(problems_from(exc, doc, loc, rule_id))
        return None


def profile_path(rules_dir: Path, profile: str | Path | None = None) -> Path:
    """A profile given as a path, a name in rules/profiles/, $DTPA_PROFILE, or the default."""
    chosen = profile or os.environ.get("DTPA_PROFILE") or DEFAULT_PROFILE
    path = Path(chosen)
    if path.suffix in (".yaml", ".yml"):
        return path
    return rules_dir / PROFILE_DIR / f"{chosen}.yaml"


def load_pack(rules_dir: Path | None = None, principles_dir: Path | None = None,
              profile: str | Path | None = None) -> RulePack:
    rules_dir = Path(rules_dir or os.environ.get("DTPA_RULES_DIR") or ROOT / "rules")
    principles_dir = Path(principles_dir or os.environ.get("DTPA_PRINCIPLES_DIR")
                          or ROOT / "principles")
    catalogue = load_catalogue(principles_dir)
    problems: list[Problem] = []
    digest: list[str] = [f"catalogue:{catalogue.content_hash}"]

    header_doc = _read(rules_dir / PACK_FILE, problems)
    header = header_doc and _model(PackHeader, (header_doc.data or {}).get("pack"), header_doc,
                                   ("pack",), problems)
    policy_doc = _read(rules_dir / POLICY_FILE, problems)
    policy = policy_doc and _model(DecisionPolicy, (policy_doc.data or {}).get("policy"),
                                   policy_doc, ("policy",), problems)
    prof_path = profile_path(rules_dir, profile)
    profile_doc = _read(prof_path, problems)
    prof = profile_doc and _model(Profile, (profile_doc.data or {}).get("profile"), profile_doc,
                                  ("profile",), problems)
    params = dict(prof.parameters) if prof else {}

    rule_files = sorted(p for p in rules_dir.glob("*.yaml")
                        if p.name not in (PACK_FILE, POLICY_FILE, LOCK_FILE))
    if not rule_files:
        problems.append(Problem(str(rules_dir), None, "no rule files (*.yaml) found"))
    for path in [rules_dir / PACK_FILE, rules_dir / POLICY_FILE, *rule_files]:
        if path.exists():
            digest.append(f"{path.name}:{sha256_bytes(path.read_bytes())}")

    rules: dict[str, LoadedRule] = {}
    retired: dict[str, str] = {}
    for path in rule_files:
        doc = _read(path, problems)
        if doc is None:
            continue
        rule_file = _model(RuleFile, doc.data, doc, (), problems)
        if rule_file is None:
            continue
        for i, raw in enumerate(rule_file.rules):
            rid = raw.get("id") if isinstance(raw, dict) else None
            rule = _model(Rule, raw, doc, ("rules", i), problems, rid)
            if rule is None:
                continue
            loaded = _check_rule(rule, doc, ("rules", i), catalogue, params, problems)
            if loaded is None:
                continue
            if rule.id in rules:
                first = rules[rule.id]
                problems.append(Problem(doc.path, loaded.line,
                                        f"duplicate rule id (first defined at {first.file}:{first.line})",
                                        rule.id))
                continue
            rules[rule.id] = loaded
            for old in rule.replaces:
                retired[old] = rule.id
    for old, new in retired.items():
        if old in rules:
            problems.append(Problem(rules[old].file, rules[old].line,
                                    f"id was retired by {new} and must not be reused", old))

    policy_rules: list[LoadedPolicyRule] = []
    if policy and policy_doc:
        policy_rules = _check_policy(policy, policy_doc, catalogue, params, problems)
    if prof and profile_doc:
        _check_profile(prof, profile_doc, problems)

    if problems or not (header and policy and prof):
        raise RulesInvalid("The rule pack is invalid.", problems)
    profile_hash = sha256_bytes(prof_path.read_bytes())
    national = sha256_bytes("\n".join(digest).encode())  # rules, policy, catalogue: no profile
    digest.append(f"profile:{profile_hash}")
    return RulePack(header, catalogue, rules, policy, policy_rules, prof, profile_hash,
                    sha256_bytes("\n".join(digest).encode()), [str(p) for p in rule_files],
                    national)


def _check_rule(rule: Rule, doc: YamlDocument, loc: tuple, catalogue: Catalogue,
                params: dict[str, Any], problems: list[Problem]) -> LoadedRule | None:
    line = doc.line_of(loc)
    before = len(problems)

    def bad(message: str, where: tuple = ()) -> None:
        problems.append(Problem(doc.path, doc.line_of((*loc, *where)) or line, message, rule.id))

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
    if len(problems) > before:
        return None
    return LoadedRule(rule, doc.path, line, nodes)


def _check_cases(rule: Rule, doc: YamlDocument, loc: tuple, problems: list[Problem]) -> None:
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
        for ctx in case_contexts(rule, case):
            try:
                case_fact(ctx, case.facts)
            except ValueError as exc:
                problems.append(Problem(doc.path, doc.line_of((*loc, "cases", k)),
                                        f"case {case.name or k + 1} ({ctx}): {exc}", rule.id))


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
    import datetime as dt

    try:
        dt.date.fromisoformat(value)
        return True
    except ValueError:
        return False


def _check_policy(policy: DecisionPolicy, doc: YamlDocument, catalogue: Catalogue,
                  params: dict[str, Any], problems: list[Problem]) -> list[LoadedPolicyRule]:
    specs = _policy_specs(catalogue)
    out = []
    for group in ("verdicts", "outcomes"):
        for i, prule in enumerate(getattr(policy, group)):
            loc = ("policy", group, i)
            want = "verdict" if group == "verdicts" else "outcome"
            if getattr(prule, want) is None:
                problems.append(Problem(doc.path, doc.line_of(loc), f"needs `{want}:`", prule.id))
                continue
            node = None
            if prule.when is not None:
                try:
                    node = parse(prule.when, specs[prule.on], params, (*loc, "when"))
                except ConditionError as exc:
                    problems.append(Problem(doc.path, doc.line_of(exc.loc), str(exc), prule.id))
                    continue
            out.append(LoadedPolicyRule(prule, node))
    return out


def _check_profile(profile: Profile, doc: YamlDocument, problems: list[Problem]) -> None:
    for target in profile.condition_owners:
        if target not in (*PRINCIPLE_IDS, *AREA_IDS):
            problems.append(Problem(doc.path, doc.line_of(("profile", "condition_owners", target)),
                                    f"condition_owners: {target!r} is not a principle or area"))
    for ctx, review in profile.review.items():
        specs = fact_specs(ctx)
        for path in [*review.from_facts, *review.plus_days]:
            if path not in specs or specs[path].kind != "date":
                problems.append(Problem(doc.path, doc.line_of(("profile", "review", ctx)),
                                        f"review source {path!r} is not a date question in {ctx}"))


LOCK_FILE = "pack.lock.yaml"


def locked_versions(rules_dir: Path | None = None) -> dict[str, str]:
    """Version -> national content hash, as released (rules/pack.lock.yaml)."""
    path = Path(rules_dir or os.environ.get("DTPA_RULES_DIR") or ROOT / "rules") / LOCK_FILE
    if not path.exists():
        return {}
    return dict((read_document(path).data or {}).get("versions") or {})


def lock_problem(pack: RulePack, rules_dir: Path | None = None) -> str | None:
    """Why the pack's version does not match its content, or None when it does."""
    locked = locked_versions(rules_dir).get(pack.header.version)
    if locked is None:
        return (f"rule pack version {pack.header.version} is not in {LOCK_FILE}: run "
                "`dtpa rules lock` after reviewing the changes")
    if locked != pack.national_hash:
        return (f"the rule pack's content changed but its version is still {pack.header.version}: "
                f"bump the version in rules/{PACK_FILE}, add a CHANGELOG entry, then run "
                "`dtpa rules lock`")
    return None
