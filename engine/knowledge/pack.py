"""Loading the rule pack: rule files, decision policy and local profile, checked against the
catalogue and the fact schema (conventions.py) and hashed. Every problem is collected and reported
as `file:line rule-id: message`. The version lock is in lock.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from engine.errors import Problem, RulesInvalid
from engine.facts.conditions import Compiled, ConditionError, Node, compile_node, parse
from engine.facts.schema import FactSpec
from engine.hashing import sha256_bytes
from engine.knowledge.catalog import Catalogue, load_catalogue
from engine.knowledge.conventions import case_contexts, case_fact, profile_problems, rule_nodes
from engine.knowledge.lock import LOCK_FILE, lock_problem, locked_versions
from engine.knowledge.rulespec import DecisionPolicy, PackHeader, PolicyRule, Profile, Rule, RuleFile
from engine.knowledge.validation import problems_from
from engine.knowledge.yamlio import Loc, YamlDocument, YamlProblem, read_document
from engine.models.vocab import Severity, Verdict
from engine.settings import ROOT, settings

# Re-exported while engine/cli moves to the new modules (conventions.py, lock.py).
__all__ = ["LOCK_FILE", "ROOT", "LoadedRule", "RulePack", "case_contexts", "case_fact",
           "load_pack", "lock_problem", "locked_versions"]

PACK_FILE = "pack.yaml"
POLICY_FILE = "decision_policy.yaml"
PROFILE_DIR = "profiles"

M = TypeVar("M", bound=BaseModel)


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


def _model(model: type[M], data: Any, doc: YamlDocument, loc: Loc, problems: list[Problem],
           rule_id: str | None = None) -> M | None:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems.extend(problems_from(exc, doc, loc, rule_id))
        return None


def profile_path(rules_dir: Path, profile: str | Path | None = None) -> Path:
    """A profile given as a path, a name in rules/profiles/, $DTPA_PROFILE, or the default."""
    chosen = profile or settings().profile
    path = Path(chosen)
    if path.suffix in (".yaml", ".yml"):
        return path
    return rules_dir / PROFILE_DIR / f"{chosen}.yaml"


def load_pack(rules_dir: Path | None = None, principles_dir: Path | None = None,
              profile: str | Path | None = None) -> RulePack:
    config = settings()
    rules_dir = Path(rules_dir or config.rules_dir)
    principles_dir = Path(principles_dir or config.principles_dir)
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
            nodes = rule_nodes(rule, doc, ("rules", i), catalogue, params, problems)
            if nodes is None:
                continue
            loaded = LoadedRule(rule, doc.path, doc.line_of(("rules", i)), nodes)
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
        problems.extend(profile_problems(prof, profile_doc, catalogue))

    if problems or not (header and policy and prof):
        raise RulesInvalid("The rule pack is invalid.", problems)
    profile_hash = sha256_bytes(prof_path.read_bytes())
    national = sha256_bytes("\n".join(digest).encode())  # rules, policy, catalogue: no profile
    digest.append(f"profile:{profile_hash}")
    return RulePack(header, catalogue, rules, policy, policy_rules, prof, profile_hash,
                    sha256_bytes("\n".join(digest).encode()), [str(p) for p in rule_files],
                    national)


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
