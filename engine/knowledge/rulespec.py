"""The shape of rule files, the decision policy and the local policy profile (pydantic).

A rule is data: id, title (the state it asks for), the principles and/or practice areas it
serves, its context, a structured condition, severity, the finding and remedy a panel reads,
citations, an honest basis, an optional crosswalk to other frameworks, and a table of cases.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from engine.knowledge.catalog import Citation
from engine.models.people import CLINICAL, NEVER_DECIDE, PATIENT_ACCESS, RoleRules
from engine.models.vocab import Category, Context, Outcome, Role, ServiceType, Severity, Verdict

# <principle or area of the catalogue, or SCOPE>-<context>-<number>; conventions.py checks the
# first part against the catalogue and the rule's own principles and areas.
RULE_ID = r"^([A-Z][A-Z0-9]*)-(PRO|IND|ALL)-\d{3}$"
CONTEXT_CODES = {"PRO": ("procurement",), "IND": ("individual_use",),
                 "ALL": ("procurement", "individual_use")}

# Where a rule comes from, said honestly (see principles/catalogue.yaml limitations).
Basis = Literal["nhse_principle", "statute", "regulator_guidance", "good_practice"]
CrosswalkKey = Literal["dtac", "nice_esf", "ico_dpia", "cqc_brief", "mha_code", "culture_of_care"]
Prose = Annotated[str, StringConstraints(strip_whitespace=True, min_length=10)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True)


class RuleCase(_Strict):
    """One row of a rule's own test table: answers (dotted paths) and what the rule must do."""

    name: str | None = None
    facts: dict[str, Any] = Field(default_factory=dict)
    expect: Literal["fires", "passes", "open_question", "not_applicable"]
    context: Context | None = Field(
        default=None, description="For rules in both contexts: which one this case runs in"
    )


class Rule(_Strict):
    id: Annotated[str, StringConstraints(pattern=RULE_ID)]
    title: Prose
    principles: list[str] = Field(default_factory=list, description="Principle ids (catalogue)")
    areas: list[str] = Field(default_factory=list, description="Practice area ids (catalogue)")
    commitments: list[str] = Field(default_factory=list)
    context: list[Context] = Field(min_length=1)
    when: dict[str, Any]
    severity: Severity
    finding: Prose
    remedy: Prose
    citations: list[Citation] = Field(min_length=1)
    basis: Basis
    basis_note: str | None = None
    crosswalk: dict[CrosswalkKey, list[str]] = Field(default_factory=dict)
    cases: list[RuleCase] = Field(min_length=2)
    fix: dict[str, Any] | None = Field(
        default=None,
        description="Answers that carry out the remedy (for 'what would change this decision'); "
        "a list answer may be `{add: [...]}` or `{remove: [...]}`. Default: the first passing case. "
        "`{}` says no change of answers is a remedy (e.g. respect a refusal: do not proceed)",
    )
    replaces: list[str] = Field(default_factory=list, description="Retired ids this rule took over")

    @field_validator("context", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if value == "both":
            return ["procurement", "individual_use"]
        return [value] if isinstance(value, str) else value

    @field_validator("crosswalk", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value

    @property
    def targets(self) -> list[str]:
        return [*self.principles, *self.areas]


class RuleFile(_Strict):
    description: str | None = None
    rules: list[dict[str, Any]] = Field(min_length=1)


class PolicyRule(_Strict):
    id: Annotated[str, StringConstraints(pattern=r"^POLICY-[A-Z0-9-]+$")]
    on: Literal["finding", "open_question", "verdict", "assessment"]
    when: dict[str, Any] | None = None
    verdict: Verdict | None = None
    outcome: Outcome | None = None
    reason: Prose


class DecisionPolicy(_Strict):
    """How findings become verdicts and an outcome; evaluated by durable_rules as chained rules."""

    description: Prose
    verdict_order: list[Verdict] = Field(description="Worst first; the worst verdict wins")
    outcome_order: list[Outcome] = Field(description="Worst first; the worst outcome wins")
    default_verdict: Verdict
    default_reason: Prose
    not_applicable_reason: Prose
    verdicts: list[PolicyRule] = Field(min_length=1)
    outcomes: list[PolicyRule] = Field(min_length=1)


class ReviewSources(_Strict):
    default_days: int = Field(ge=1, le=3650)
    by_category: dict[Category, int] = Field(
        default_factory=dict, description="Shorter intervals (days) for kinds of technology")
    by_service_type: dict[ServiceType, int] = Field(
        default_factory=dict, description="Shorter intervals (days) for types of service")
    from_facts: list[str] = Field(default_factory=list)
    plus_days: dict[str, int] = Field(
        default_factory=dict, description="Date facts that fall due a number of days later"
    )


class RetentionPeriods(_Strict):
    """How long the trust keeps patient-identifying payloads in DTPA (the NHS Records Management
    Code of Practice sets retention by record type; the trust chooses the figure)."""

    individual_use_years: int = Field(
        ge=1, le=200, description="Years after an individual use's last entry (its newest version, "
                                  "sign-off or override) when `dtpa records erase-expired` erases "
                                  "its patient reference, assessment and decision record")


class Profile(_Strict):
    """A trust's local parameters; the national rule pack refers to them by name."""

    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]+$")]
    description: Prose
    parameters: dict[str, int | str | bool]
    review: dict[Context, ReviewSources]
    required_signoff_roles: dict[Context, list[Role]] = Field(default_factory=dict)
    condition_owners: dict[str, Role] = Field(
        default_factory=dict, description="Who owns a condition, by principle or practice area")
    condition_due_days: int = Field(default=30, ge=1, le=365,
                                    description="Days after the decision by which a condition is due")
    retention: RetentionPeriods | None = Field(
        default=None, description="Retention of patient payloads; without it nothing is erased")
    signoff_roles: dict[Context, list[Role]] = Field(
        default_factory=dict,
        description="Who may sign a stored decision, by context. Default: the required roles "
                    "(and, for individual use, clinical staff). Clinical staff sign an individual "
                    "use only on the patient's ward")
    override_roles: dict[Context, list[Role]] = Field(
        default_factory=dict,
        description="Who may override a stored decision's verdict or outcome, by context. "
                    "Default: panel chair, clinical safety officer and DPO among the product "
                    "signers; the individual-use signers")
    min_reason_words: int = Field(default=5, ge=1, le=50,
                                  description="Words an override's reason needs at least")
    second_approval_for_patient_access: bool = Field(
        default=False, description="A role that can open patient records (clinician, nurse in "
                                   "charge, DPO, auditor) is granted only when a second "
                                   "administrator approves")
    patient_draft_hours: int = Field(
        default=72, ge=1, le=24 * 90,
        description="Hours after it was last saved when a draft of a patient's check (it holds "
                    "the patient's details) is no longer shown and is deleted")

    @model_validator(mode="after")
    def _who_decides(self) -> Profile:
        """Nobody who runs accounts or audits signs or overrides; every required signer may
        sign; whoever signs an individual use can open the patient's record."""
        problems = []
        for table in ("signoff_roles", "override_roles"):
            for ctx, roles in getattr(self, table).items():
                for role in roles:
                    if role in NEVER_DECIDE:
                        problems.append(f"{table}.{ctx}: a {role} never signs or overrides a "
                                        "decision (they run accounts or audit the records)")
                    elif ctx == "individual_use" and role not in PATIENT_ACCESS:
                        problems.append(f"{table}.{ctx}: a {role} cannot open a patient's record, "
                                        "so cannot sign or override one")
        for ctx, required in self.required_signoff_roles.items():
            signers = self.role_rules().roles("sign", ctx)
            for role in required:
                if role not in signers:
                    problems.append(f"required_signoff_roles.{ctx} names {role}, whom "
                                    f"signoff_roles.{ctx} does not let sign")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def role_rules(self) -> RoleRules:
        """Who signs and overrides what, the words an override's reason needs, and whether a
        grant of patient access needs a second administrator (engine/models/people.py)."""
        default = RoleRules()
        sign: dict[str, frozenset[Role]] = {}
        override: dict[str, frozenset[Role]] = {}
        for ctx in ("procurement", "individual_use"):
            required = {Role(r) for r in self.required_signoff_roles.get(Context(ctx), [])}
            fallback = required | (CLINICAL if ctx == "individual_use" else set())
            sign[ctx] = frozenset(Role(r) for r in self.signoff_roles.get(Context(ctx), [])) or \
                frozenset(fallback) or default.sign[ctx]
            chosen = self.override_roles.get(Context(ctx))
            if chosen:
                override[ctx] = frozenset(Role(r) for r in chosen)
            elif ctx == "procurement":
                override[ctx] = (sign[ctx] & default.override[ctx]) or sign[ctx]
            else:
                override[ctx] = sign[ctx]
        return RoleRules(sign, override, self.min_reason_words,
                         self.second_approval_for_patient_access)


class PackHeader(_Strict):
    name: str
    version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+$")]
    description: Prose


def context_code(rule_id: str) -> str:
    return rule_id.split("-")[1]


def severity_rank(severity: str) -> int:
    return ["out_of_scope", "blocker", "unresolved", "condition", "advisory"].index(severity)


def is_relative_date(value: Any) -> bool:
    """`{from: <date question>, plus_days: n}`: a date a remedy sets relative to another answer
    (e.g. reassess capacity on the day of the assessment), so remedies never go stale."""
    return isinstance(value, dict) and "from" in value and set(value) <= {"from", "plus_days"}
