"""From what durable_rules produced to a justified decision record.

durable_rules decides which rules fired, which could not be decided, which verdicts the policy
gave and which outcomes it proposed. This module only assembles: it orders what was decided by
the policy's own precedence lists, words it, resolves citations and computes the review date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from engine import __version__
from engine.decide.wording import NOT_JUDGED, legal_route
from engine.errors import EngineFailure
from engine.facts.schema import NA_PREFIX, FactView, fact_specs
from engine.hashing import digest
from engine.knowledge.pack import LoadedRule, RulePack
from engine.knowledge.rulespec import severity_rank
from engine.models.assessment import AnyAssessment
from engine.models.record import (
    SCHEME,
    Citation,
    Condition,
    CrosswalkEntry,
    DecisionRecord,
    Finding,
    NotApplicableAnswer,
    OpenQuestion,
    PackStamp,
    Subject,
    TargetVerdict,
    Trace,
    seal,
)
from engine.models.vocab import Context, Outcome, Role, Verdict
from engine.runtime.host import Raw


def build_record(pack: RulePack, assessment: AnyAssessment, view: FactView, raw: Raw,
                 ruleset: str, now: dt.datetime) -> DecisionRecord:
    context: str = assessment.context
    rules = {r.rule.id: r for r in pack.rules_for(context)}
    fired = sorted(set(raw.fired), key=lambda rid: (severity_rank(rules[rid].rule.severity), rid))
    unknown = sorted(set(raw.unknown))
    findings = [_finding(pack, rules[rid]) for rid in fired]
    outcome, outcome_reason = _outcome(pack, raw)
    scope_note = None
    if outcome == "out_of_scope":
        scope = pack.catalogue.scope
        scope_note = f"{scope.out_of_scope_note.strip()} Still worth applying: " + ", ".join(
            f"{t} {pack.catalogue.targets[t]}" for t in scope.still_worth_applying) + "."
    review_date, review_basis = _review(pack, assessment, context)
    tech = assessment.technology
    patient = getattr(assessment, "patient", None)
    product = getattr(assessment, "product", None)
    record = DecisionRecord(
        record_type=Context(context),
        title=assessment.title,
        subject=Subject(product=tech.name, vendor=tech.vendor, version=tech.version,
                        category=tech.category,
                        patient_reference=patient.reference if patient else None,
                        ward=patient.ward if patient else None),
        relies_on=product.record_id if product else None,
        legal_route=legal_route(assessment),
        assessed_on=assessment.assessed_on,
        evaluated_at=now,
        outcome=Outcome(outcome),
        outcome_reason=outcome_reason,
        verdicts=_verdicts(pack, rules, raw, view),
        findings=findings,
        conditions=_conditions(pack, findings, now),
        open_questions=_open_questions(rules, unknown, view, context),
        not_applicable=[NotApplicableAnswer(fact=path, question=fact_specs(context)[path].question,
                                            reason=reason)
                        for path, reason in view.not_applicable.items()],
        crosswalk=_crosswalk(rules, fired, unknown),
        scope_note=scope_note,
        review_date=review_date,
        review_basis=review_basis,
        rule_pack=PackStamp(name=pack.header.name, version=pack.header.version, hash=pack.hash,
                            profile=pack.profile.name, profile_hash=pack.profile_hash),
        engine_version=__version__,
        trace=Trace(ruleset=ruleset, rules_fired=fired, rules_unknown=unknown,
                    rules_evaluated=len(rules),
                    policy_fired=sorted({v["by"] for v in raw.verdicts} | {o["by"] for o in raw.outcomes}),
                    facts_read=sorted({f for r in rules.values() for f in r.facts(context)
                                       if _answered(view, f, context)})),
        not_judged=list(NOT_JUDGED),
        input_hash=digest(assessment.model_dump(mode="json"), SCHEME),
        hash_scheme=SCHEME,
    )
    return seal(record)


def _answered(view: FactView, path: str, context: str) -> bool:
    keys = fact_specs(context)[path].keys()
    return keys[0] in view.fact or NA_PREFIX + path in view.fact


def _citations(pack: RulePack, loaded: LoadedRule) -> list[Citation]:
    cat = pack.catalogue
    out = []
    for c in loaded.rule.citations:
        url = cat.sources[c.ref].url if c.ref in cat.sources else None
        out.append(Citation(ref=c.ref, title=cat.name_of(c.ref), section=c.section, url=url))
    return out


def _finding(pack: RulePack, loaded: LoadedRule) -> Finding:
    r = loaded.rule
    return Finding(rule_id=r.id, title=r.title, severity=r.severity, principles=list(r.principles),
                   areas=list(r.areas), finding=r.finding, remedy=r.remedy,
                   citations=_citations(pack, loaded),
                   basis=r.basis + (f": {r.basis_note}" if r.basis_note else ""))


def _conditions(pack: RulePack, findings: list[Finding], now: dt.datetime) -> list[Condition]:
    """Each condition with its owner and due date from the profile deciding it: sealed into the
    record, so exports show what was agreed then, whatever the profile says later."""
    profile = pack.profile
    due = now.date() + dt.timedelta(days=profile.condition_due_days)
    out = []
    for f in findings:
        if f.severity != "condition":
            continue
        target = next(iter([*f.principles, *f.areas]), "")
        owner = profile.condition_owners.get(target, Role.panel_chair)
        out.append(Condition(**f.model_dump(), owner=owner, due=due))
    return out


def outcome_of(pack: RulePack, raw: Raw) -> dict[str, str]:
    """The policy's winning outcome proposal (the worst, by the policy's own order)."""
    order = list(pack.policy.outcome_order)
    if not raw.outcomes:  # the policy's default rule always fires; this guards a broken policy
        raise EngineFailure("the decision policy proposed no outcome (is its default rule missing?)")
    return min(raw.outcomes, key=lambda o: order.index(Outcome(o["outcome"])))


def _outcome(pack: RulePack, raw: Raw) -> tuple[str, str]:
    best = outcome_of(pack, raw)
    reason = next(p.rule.reason for p in pack.policy_rules if p.rule.id == best["by"])
    same = sorted({o["target"] for o in raw.outcomes
                   if o["outcome"] == best["outcome"] and o["target"]})
    if same:
        reason = f"{reason} ({', '.join(same)})"
    return best["outcome"], reason


def verdict_map(pack: RulePack, raw: Raw, view: FactView) -> dict[str, tuple[str, list[str], str]]:
    """Principle or area -> (verdict, the rules behind it, the policy rule that gave it, or "")."""
    context = view.fact["kind"]
    rules = {r.rule.id: r for r in pack.rules_for(context)}
    order = [str(v) for v in pack.policy.verdict_order]
    out: dict[str, tuple[str, list[str], str]] = {}
    for target in pack.catalogue.targets:
        given = [v for v in raw.verdicts if v["target"] == target]
        mine = [r for r in rules.values() if target in r.rule.targets]
        if given:
            worst = min(order.index(v["verdict"]) for v in given)
            ids = sorted({rid for v in given if order.index(v["verdict"]) == worst
                          for rid in raw.sources[_source_key(v["source"])]})
            by = next(v["by"] for v in given if order.index(v["verdict"]) == worst)
            out[target] = (order[worst], ids, by)
        elif mine and all(_not_applicable(r, view, context) for r in mine):
            out[target] = ("not_applicable", [], "")
        else:
            out[target] = (str(pack.policy.default_verdict), sorted(
                r.rule.id for r in mine if r.rule.id in raw.fired or r.rule.id in raw.unknown), "")
    return out


def _source_key(source: str) -> tuple[str, str, str]:
    """The runtime joins (kind, rule or target, severity) with "|" in a fact's `source`."""
    kind, name, severity = source.split("|")
    return kind, name, severity


def _verdicts(pack: RulePack, rules: dict[str, LoadedRule], raw: Raw,
              view: FactView) -> list[TargetVerdict]:
    reasons = {p.rule.id: p.rule.reason for p in pack.policy_rules}
    out = []
    for target, (verdict, ids, by) in verdict_map(pack, raw, view).items():
        if by:
            reason = f"{reasons[by]}: " + "; ".join(f"{i} {rules[i].rule.title}" for i in ids)
        elif verdict == "not_applicable":
            reason = pack.policy.not_applicable_reason
        else:
            mine = sum(1 for r in rules.values() if target in r.rule.targets)
            reason = f"{pack.policy.default_reason} ({mine} rules checked)"
        out.append(TargetVerdict(target=target, name=pack.catalogue.targets[target],
                                 verdict=Verdict(verdict), reason=reason, rule_ids=ids))
    return out


def _not_applicable(loaded: LoadedRule, view: FactView, context: str) -> bool:
    return any(NA_PREFIX + f in view.fact for f in loaded.facts(context))


def _open_questions(rules: dict[str, LoadedRule], unknown: list[str], view: FactView,
                    context: str) -> list[OpenQuestion]:
    specs = fact_specs(context)
    needed: dict[str, list[str]] = {}
    for rid in unknown:
        for path in rules[rid].facts(context):
            if not _answered(view, path, context):
                # a derived fact is open because the question it comes from is
                needed.setdefault(specs[path].source or path, []).append(rid)
    order = list(specs)
    return [OpenQuestion(fact=path, question=specs[path].question, rule_ids=sorted(ids),
                         targets=sorted({t for i in ids for t in rules[i].rule.targets}))
            for path, ids in sorted(needed.items(), key=lambda kv: order.index(kv[0]))]


def _crosswalk(rules: dict[str, LoadedRule], fired: list[str],
               unknown: list[str]) -> list[CrosswalkEntry]:
    """What this assessment also evidences for other frameworks (DTAC, NICE ESF, ICO DPIA ...)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for rid, loaded in sorted(rules.items()):
        for framework, refs in loaded.rule.crosswalk.items():
            for ref in refs:
                groups.setdefault((framework, ref), []).append(rid)
    out = []
    for (name, ref), ids in sorted(groups.items()):
        failing = [r for r in ids if r in fired and rules[r].rule.severity in ("blocker", "condition")]
        status: Literal["met", "not_met", "open"] = (
            "not_met" if failing else "open" if any(r in unknown for r in ids) else "met")
        out.append(CrosswalkEntry(framework=name, reference=ref, status=status, rule_ids=ids))
    return out


def _get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _review(pack: RulePack, assessment: AnyAssessment,
            context: str) -> tuple[dt.date | None, str | None]:
    """The earliest date anything in the record falls due, per the local profile."""
    sources = pack.profile.review.get(Context(context))
    if sources is None:
        return None, None
    assessed_on: dt.date = assessment.assessed_on
    profile = pack.profile.name
    candidates = [(assessed_on + dt.timedelta(days=sources.default_days),
                   f"{sources.default_days} days after assessment ({profile} profile)")]
    category = assessment.technology.category
    if category in sources.by_category:
        days = sources.by_category[category]
        candidates.append((assessed_on + dt.timedelta(days=days),
                           f"{days} days after assessment for {category} ({profile} profile)"))
    services = _get(assessment, "service.service_types") or [_get(assessment, "patient.service_type")]
    for service in services:
        if service in sources.by_service_type:
            days = sources.by_service_type[service]
            candidates.append((assessed_on + dt.timedelta(days=days),
                               f"{days} days after assessment for {service} ({profile} profile)"))
    for path in sources.from_facts:
        value = _get(assessment, path)
        if isinstance(value, dt.date):
            candidates.append((value, path))
    for path, days in sources.plus_days.items():
        value = _get(assessment, path)
        if isinstance(value, dt.date):
            candidates.append((value + dt.timedelta(days=days), f"{path} + {days} days"))
    when, why = min(candidates, key=lambda c: c[0])
    if when < assessed_on:
        why = f"{why}; overdue on {assessed_on}"
    return when, why
