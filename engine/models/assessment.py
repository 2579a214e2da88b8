"""What an assessment says: the technology, and the facts each principle and practice area needs.

Two contexts share the vocabulary: a procurement panel assessing a product for a service, and a
clinician checking one patient's use of an approved product. Every question is optional here:
an unanswered question a rule needs becomes an open question, never a pass. Field descriptions
are the questions' wording and are shown by the CLI and the UI.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, field_validator

from engine.models import vocab as v
from engine.models.answers import NotApplicable, OptionalShortText, Section, ShortText, Text

YesNo = bool | NotApplicable | None
Date = dt.date | NotApplicable | None


def q(question: str) -> object:
    """A question: unanswered by default, worded for the person filling it in."""
    return Field(default=None, description=question)


class Technology(Section):
    """The product being assessed or used."""

    name: ShortText = Field(description="Product name")
    vendor: OptionalShortText = q("Who supplies it")
    version: OptionalShortText = q("Product or software version assessed")
    category: v.Category = Field(description="What kind of technology it is")
    functions: list[v.Function] | NotApplicable | None = q(
        "What it can do (clear video, blurred video, infrared vital signs, audio, location ...)"
    )
    operates_in: list[v.Place] | NotApplicable | None = q("Where on the ward it operates")
    data_kept: list[v.DataKind] | NotApplicable | None = q("What data it keeps")
    patient_facing: YesNo = q("Do patients use it themselves (an app, a tablet, a kiosk)?")
    medical_device_class: v.DeviceClass | None = q(
        "UK medical device class of the function that is regulated, if any"
    )


class Service(Section):
    organisation: OptionalShortText = q("Trust or provider")
    service_types: list[v.ServiceType] | None = q("Which inpatient services will use it")
    wards: list[ShortText] | None = q("Wards in scope")


class Deployment(Section):
    activation: v.Activation | None = q(
        "How is it switched on for a patient: by an individual decision, opt-out, on by default, "
        "or always on?"
    )
    covert_use_possible: YesNo = q("Could it be used without the patient knowing?")
    time_limited_by_design: YesNo = q("Does each individual use have an end date or review point?")


class HumanRights(Section):
    rights_assessment_completed: YesNo = q(
        "Has a human rights assessment recorded which Convention rights the use engages?"
    )
    rights_engaged: list[v.Right] | NotApplicable | None = q("Which rights are engaged")
    purpose_protects_patients: YesNo = q(
        "Is the stated purpose the protection of patients' rights (life, safety), "
        "not only staff convenience?"
    )
    less_restrictive_options_considered: YesNo = q(
        "Were less restrictive options considered, and recorded with why they were not enough?"
    )
    clear_images_in_private_spaces: v.ClearImageUse | NotApplicable | None = q(
        "When can staff see a clear image where patients may be undressed (bedrooms, bathrooms)?"
    )


class ConsentPolicy(Section):
    individual_consent_process: YesNo = q(
        "Does the service seek each patient's consent for this technology and this data?"
    )
    capacity_pathway_documented: YesNo = q(
        "Does the policy set out the route when a patient lacks capacity "
        "(attorney, deputy, best-interests decision)?"
    )
    accessible_information: YesNo = q(
        "Is patient information available in accessible formats (easy read, languages, BSL)?"
    )
    withdrawal_honoured: YesNo = q(
        "Can a patient ask for it to be switched off at any time, and is that honoured?"
    )


class Equity(Section):
    equality_impact_assessment: v.ImpactAssessment | NotApplicable | None = q(
        "Equality (and health inequalities) impact assessment"
    )
    performance_across_groups: v.GroupPerformance | NotApplicable | None = q(
        "What is known about accuracy across groups (skin tone, disability, age)?"
    )
    declining_does_not_reduce_care: YesNo = q(
        "Do patients who decline it get the same level of care and attention?"
    )
    digital_inclusion_support: YesNo = q(
        "For patient-facing tools: is there support or an alternative for patients without the "
        "skills, language or device?"
    )


class CoProduction(Section):
    patients_involved_in_procurement: YesNo = q(
        "Were patients or lived-experience representatives involved in the procurement decision?"
    )
    carers_involved: YesNo = q("Were families and carers involved?")
    coproduced_patient_information: YesNo = q(
        "Were the policy and patient information written with people with lived experience?"
    )
    feedback_route: YesNo = q("Is there a route for patients to give feedback about it?")


class Therapeutic(Section):
    replaces_staff_contact: YesNo = q(
        "Will it be used to reduce staffing, therapeutic contact or observations?"
    )
    trauma_informed_review: YesNo = q(
        "Has its use been reviewed for trauma (e.g. patients with a history of abuse, women's wards)?"
    )
    individualised_use: YesNo = q("Is each use individualised and written into the care plan?")


class SafetyPlanning(Section):
    individual_risk_assessment_required: YesNo = q(
        "Must each use rest on an individual risk assessment and safety plan, not ward risk?"
    )
    alert_response_protocol: YesNo = q("Is there a written protocol for what staff do on each alert?")
    observations_unchanged: YesNo = q("Are in-person observations kept as they would be without it?")
    over_reliance_mitigation: YesNo = q("Are there measures against staff over-reliance on it?")


class Evidence(Section):
    appraisal_completed: YesNo = q("Has the evidence been appraised before buying?")
    strongest_evidence: v.EvidenceStrength | None = q(
        "The strongest evidence of effectiveness and safety in mental health inpatient settings"
    )
    regulatory_status_recorded: YesNo = q(
        "Is the regulatory status of each function recorded (medical device or not, class)?"
    )
    local_evaluation_plan: YesNo = q("Is there a plan to evaluate it locally?")


class Outcomes(Section):
    service_outcomes_defined: YesNo = q("Are the intended outcomes for the service defined?")
    measures: list[v.Measure] | NotApplicable | None = q("Which outcome and harm measures are collected")
    stop_criteria_defined: YesNo = q("Is it defined when use will stop if the benefit is not achieved?")


class DataProtection(Section):
    dpia_status: v.Status | NotApplicable | None = q("Data protection impact assessment (DPIA)")
    dpia_dpo_advice_recorded: YesNo = q("Is the DPO's advice on the DPIA recorded?")
    dpia_review_due: Date = q("When the DPIA is next due for review")
    lawful_basis: v.LawfulBasis | NotApplicable | None = q("UK GDPR Article 6 lawful basis")
    special_category_condition: v.SpecialCategoryCondition | NotApplicable | None = q(
        "UK GDPR Article 9 condition for health data"
    )
    video_retention_hours: NonNegativeInt | NotApplicable | None = q(
        "How long video or images are kept, in hours"
    )
    viewing_logged: YesNo = q("Is every viewing of live or recorded images logged?")
    vendor_access_controlled: YesNo = q(
        "Is any vendor access to identifiable data authorised, purpose-limited and time-limited?"
    )
    privacy_information: YesNo = q(
        "Are patients told (privacy notice, signage, admission information in accessible formats)?"
    )
    dpia_covers_children_and_infants: YesNo = q(
        "Where children or babies (e.g. on a mother and baby unit) could be recorded: does the "
        "DPIA cover them?"
    )


class Policy(Section):
    local_policy: v.Status | None = q("Local policy for this technology")
    policy_coproduced: YesNo = q("Was the policy co-produced with people with lived experience?")
    policy_review_due: Date = q("When the policy is next due for review")


class Training(Section):
    training_before_go_live: YesNo = q("Are staff trained before they use it?")
    topics: list[v.TrainingTopic] | NotApplicable | None = q("What the training covers")


class Recording(Section):
    care_plan_template: YesNo = q(
        "Does the care-plan template record the rationale, decision route, preferences and review?"
    )


class Assurance(Section):
    """Evidence that expires: these dates feed the review date."""

    dtac_completed: YesNo = q("Has the supplier's DTAC been completed for this version?")
    dspt_status: v.DsptStatus | NotApplicable | None = q(
        "Supplier's Data Security and Protection Toolkit status"
    )
    cyber_essentials_expires: Date = q("Cyber Essentials certificate expiry")
    penetration_test_date: Date = q("Date of the last penetration test")
    ico_registration_expires: Date = q("Supplier's ICO registration expiry")


class _AssessmentBase(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    assessed_on: dt.date = Field(
        default_factory=dt.date.today,
        description="Date of the assessment; date-based rules are judged against it",
    )
    title: OptionalShortText = q("A short title for this assessment")
    technology: Technology


class ProcurementAssessment(_AssessmentBase):
    """A procurement panel's assessment of a product for a service."""

    context: Literal["procurement"] = "procurement"
    service: Service = Field(default_factory=Service)
    deployment: Deployment = Field(default_factory=Deployment)
    human_rights: HumanRights = Field(default_factory=HumanRights)
    consent: ConsentPolicy = Field(default_factory=ConsentPolicy)
    equity: Equity = Field(default_factory=Equity)
    coproduction: CoProduction = Field(default_factory=CoProduction)
    therapeutic: Therapeutic = Field(default_factory=Therapeutic)
    safety: SafetyPlanning = Field(default_factory=SafetyPlanning)
    evidence: Evidence = Field(default_factory=Evidence)
    outcomes: Outcomes = Field(default_factory=Outcomes)
    data_protection: DataProtection = Field(default_factory=DataProtection)
    policy: Policy = Field(default_factory=Policy)
    training: Training = Field(default_factory=Training)
    recording: Recording = Field(default_factory=Recording)
    assurance: Assurance = Field(default_factory=Assurance)


# --- individual use ---------------------------------------------------------------------------

# A local pseudonymous reference only. Ten digits in a row look like an NHS number: refused.
_NHS_NUMBER = re.compile(r"\d{3}\s?\d{3}\s?\d{4}")


class ProductRecord(Section):
    """The product decision this individual use relies on."""

    record_id: OptionalShortText = q("Identifier of the product decision record")
    outcome: v.Outcome | None = q("Outcome of the product decision")
    version: OptionalShortText = q("Product version the product decision covers")
    valid_until: dt.date | None = q("Date the product decision must be reviewed by")
    approved: YesNo = q("Has everyone the local policy requires signed off the product decision?")
    covers_this_service: YesNo = q("Does the product decision cover this patient's type of service?")
    covers_this_version: YesNo = q("Is the product in use the version the product decision covers?")


class Patient(Section):
    reference: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{2,31}$")] = Field(
        description="Local pseudonymous reference (never a name or NHS number)"
    )
    age_band: v.AgeBand | None = q("Age band")
    legal_status: v.LegalStatus | None = q("Legal status")
    ward: OptionalShortText = q("Ward")
    service_type: v.ServiceType | None = q("Type of service")
    communication_needs: list[v.CommunicationNeed] | NotApplicable | None = q(
        "Communication needs (easy read, interpreter, BSL ...)"
    )
    trauma_history_relevant: YesNo = q(
        "Is there a history (e.g. abuse) that makes being watched likely to re-traumatise?"
    )

    @field_validator("reference")
    @classmethod
    def _not_an_nhs_number(cls, value: str) -> str:
        if _NHS_NUMBER.search(value):
            raise ValueError("looks like an NHS number; use the local pseudonymous reference")
        return value


class Capacity(Section):
    status: v.CapacityStatus | None = q("Capacity for this decision")
    decision_specific_assessment: YesNo = q(
        "Was capacity assessed for this specific decision (not a general judgement), and recorded?"
    )
    assessed_on: dt.date | None = q("When capacity was assessed")
    gillick_competent: YesNo = q("For under-16s: is the young person Gillick competent?")
    reassessment_planned: YesNo = q(
        "Where capacity fluctuates: is reassessment planned for when the patient may regain it?"
    )


class DecisionMaking(Section):
    route: v.DecisionRoute | None = q("Who made the decision")
    patient_response: v.PatientResponse | None = q("What the patient said")
    consent_covers_this_technology_and_data: YesNo = q(
        "Was consent (or the decision) sought for this technology and the data it keeps?"
    )
    information_fits_needs: YesNo = q(
        "Was information given in a form that fits the patient's communication needs?"
    )
    withdrawal_explained: YesNo = q("Was the patient told how to say no or change their mind?")
    family_and_carers_consulted: YesNo = q("For best-interests decisions: were family and carers consulted?")
    attorney_or_deputy_authority_checked: YesNo = q(
        "For an attorney or deputy: was it checked that their authority covers this decision?"
    )
    within_parental_responsibility: YesNo = q(
        "For a parent deciding for an under-16: is this decision within the scope of parental "
        "responsibility?"
    )
    advocate_involved: YesNo = q(
        "Was an advocate (e.g. an Independent Mental Health Advocate for a detained patient) "
        "offered or involved?"
    )
    override_legal_basis: Text = q(
        "If used against the patient's refusal: the legal basis relied on"
    )
    override_rationale: Text = q("If used against the patient's refusal: why")


class Alternative(Section):
    option: ShortText = Field(description="The less restrictive option considered")
    why_not_enough: Text = q("Why it was not enough for this patient")


class ProposedUse(Section):
    functions: list[v.Function] | None = q("Which functions will be used")
    places: list[v.Place] | None = q("Where")
    period: v.Period | None = q("When")
    start: dt.date | None = q("Start date")
    duration_days: Annotated[int, Field(ge=1, le=3650)] | None = q("For how many days")
    switched_on_by_ward_default: YesNo = q("Is it on for this patient only because the ward default is on?")
    covert: YesNo = q("Would it be used without the patient knowing?")
    others_in_view_considered: YesNo = q(
        "Could others be recorded (a baby, a visitor, another patient), and has that been considered?"
    )


class Justification(Section):
    individual_risk_assessment: YesNo = q("Is the use grounded in this patient's individual risk assessment?")
    safety_plan_updated: YesNo = q(
        "Does the safety plan say what the technology adds and what staff do on alerts?"
    )
    rationale: Text = q("Why this use is necessary for this patient")
    rights_engaged: list[v.Right] | NotApplicable | None = q("Convention rights engaged")
    necessity_and_proportionality_recorded: YesNo = q(
        "Is it recorded why the use is necessary and proportionate to the risk?"
    )
    observations_maintained: YesNo = q("Are in-person observations kept as the risk requires?")
    intended_outcomes: Text = q("What the use is meant to achieve for this patient")


class CarePlan(Section):
    entry_recorded: YesNo = q("Is the use recorded in the care and treatment plan?")
    includes: list[v.CarePlanItem] | None = q("What the care-plan entry contains")
    patient_preferences: Text = q("The patient's preferences about the technology")


class Review(Section):
    review_date: dt.date | None = q("When the use will be reviewed")
    multidisciplinary: YesNo = q("Will the review be by the multidisciplinary team?")
    stop_criteria: Text = q("What would make the team stop using it for this patient")


class Staff(Section):
    trained: YesNo = q("Are the staff who will respond to it trained in its use and limits?")


class IndividualUseCheck(_AssessmentBase):
    """A clinician's check of one patient's use of an approved product."""

    context: Literal["individual_use"] = "individual_use"
    product: ProductRecord = Field(default_factory=ProductRecord)
    patient: Patient
    capacity: Capacity = Field(default_factory=Capacity)
    decision: DecisionMaking = Field(default_factory=DecisionMaking)
    proposed_use: ProposedUse = Field(default_factory=ProposedUse)
    justification: Justification = Field(default_factory=Justification)
    alternatives: list[Alternative] | None = q("Less restrictive options considered")
    care_plan: CarePlan = Field(default_factory=CarePlan)
    review: Review = Field(default_factory=Review)
    staff: Staff = Field(default_factory=Staff)


Assessment = Annotated[
    ProcurementAssessment | IndividualUseCheck, Field(discriminator="context")
]
