"""What an assessment says: the technology, and the facts each principle and practice area needs.

Two contexts share the vocabulary: a procurement panel assessing a product for a service, and a
clinician checking one patient's use of an approved product. Every question is optional here:
an unanswered question a rule needs becomes an open question, never a pass. Field descriptions
are the questions' wording and are shown by the CLI and the UI.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from engine.models import dates
from engine.models import vocab as v
from engine.models.answers import (
    Day,
    NotApplicable,
    OptionalShortText,
    Section,
    ShortText,
    Text,
)

YesNo = bool | NotApplicable | None
Date = Day | NotApplicable | None


def q(question: str) -> Any:
    """A question: unanswered by default, worded for the person filling it in."""
    return Field(default=None, description=question)


FACT_OF_CASE = "fact_of_case"


def fact(question: str, **kwargs: Any) -> Any:
    """A question whose answer is a fact of the case (what the product is, the patient's age,
    capacity, legal status, what they said, the product decision's outcome): a remedy may never
    change it, and "what would change this decision" never proposes another answer."""
    return Field(description=question, json_schema_extra={FACT_OF_CASE: True}, **kwargs)


class Technology(Section):
    """The product being assessed or used."""

    name: ShortText = fact("Product name")
    vendor: OptionalShortText = fact("Who supplies it", default=None)
    version: OptionalShortText = fact("Product or software version assessed", default=None)
    category: v.Category = fact("What kind of technology it is")
    functions: list[v.Function] | NotApplicable | None = fact(
        "What it can do (clear video, blurred video, infrared vital signs, audio, location ...)",
        default=None)
    operates_in: list[v.Place] | NotApplicable | None = fact("Where on the ward it operates",
                                                             default=None)
    data_kept: list[v.DataKind] | NotApplicable | None = fact("What data it keeps", default=None)
    patient_facing: YesNo = fact("Do patients use it themselves (an app, a tablet, a kiosk)?",
                                 default=None)
    medical_device_class: v.DeviceClass | None = fact(
        "UK medical device class of the function that is regulated, if any", default=None
    )


class Service(Section):
    organisation: OptionalShortText = q("Trust or provider")
    service_types: list[v.ServiceType] | None = fact("Which inpatient services will use it",
                                                     default=None)
    wards: list[ShortText] | None = q("Wards in scope")
    admits_informal_patients: YesNo = fact(
        "Do these services admit informal (voluntary) patients?", default=None)


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
    clear_images_off_by_default: YesNo = q(
        "Are clear images off by default (blurred or no image unless a clear one is needed)?"
    )
    clear_images_individually_justified: YesNo = q(
        "On children's wards and mother and baby units: does every use of clear images need an "
        "individual, recorded justification for the patient concerned?"
    )
    same_sex_viewing: YesNo = q(
        "In women's or other single-sex services where clear images exist: are they viewed only "
        "by staff of the same sex as the patients?"
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
    monitoring_by_group: YesNo = q(
        "Is there a plan to monitor who is put under it by sex, ethnicity, age, disability and "
        "legal status, and to act on differences?"
    )
    group_differences_addressed: YesNo = q(
        "Where accuracy or use differs between groups: is each difference justified or put right?"
    )
    accessible_information_standard: YesNo = q(
        "Does the service identify, record, flag, share and meet each patient's information and "
        "communication needs for what it tells them about the technology (DCB1605)?"
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
    changes_reported_back: YesNo = q(
        "Are patients told what changed (or why nothing did) after their feedback?"
    )


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
    observation_policy_excludes_technology: YesNo = q(
        "Does the observation policy say that the technology never counts as carrying out an "
        "observation?"
    )
    clinician_decides_on_ai_output: YesNo = q(
        "Where it scores, predicts or flags patients: does a clinician decide every change to "
        "care, with the output as one input among others?"
    )


class Evidence(Section):
    appraisal_completed: YesNo = q("Has the evidence been appraised before buying?")
    strongest_evidence: v.EvidenceStrength | None = q(
        "The strongest evidence of effectiveness and safety in mental health inpatient settings"
    )
    regulatory_status_recorded: YesNo = q(
        "Is the regulatory status of each function recorded (medical device or not, class)?"
    )
    local_evaluation_plan: YesNo = q("Is there a plan to evaluate it locally?")


class ClinicalSafety(Section):
    """Clinical risk management: the supplier's (DCB0129) and the trust's (DCB0160)."""

    supplier_safety_case: YesNo = q(
        "Has the supplier given its clinical safety case report and hazard log for this version "
        "(DCB0129), signed by its clinical safety officer?"
    )
    deployment_hazard_log: YesNo = q(
        "Does the trust keep its own hazard log for this deployment (DCB0160)?"
    )
    deployment_safety_case_signed: YesNo = q(
        "Has the trust's clinical safety officer signed a safety case report for this deployment "
        "before first use (DCB0160)?"
    )
    incident_reporting: YesNo = q(
        "Does the policy say how incidents and near misses involving it are reported through the "
        "Learn from Patient Safety Events service?"
    )
    device_problems_to_mhra: YesNo = q(
        "For medical-device functions: are faults, missed alerts and false alerts reported to "
        "the MHRA through Yellow Card?"
    )
    conformity_marking: YesNo = q(
        "Do its medical-device functions carry UKCA or CE marking for the use intended here?"
    )


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
    solely_automated_decisions: YesNo = q(
        "Could a decision with a significant effect on a patient (observation level, leave, "
        "restrictions) follow from its output without a person deciding?"
    )
    automated_decision_safeguards: YesNo = q(
        "Where it could: are patients told, and able to make representations, get a person to "
        "reconsider and contest the decision?"
    )
    dpia_covers_children_and_infants: YesNo = q(
        "Where children or babies (e.g. on a mother and baby unit) could be recorded: does the "
        "DPIA cover them?"
    )



class DataHandling(Section):
    """What it collects, how long it keeps it, who else it reaches, and the patients' rights over it."""

    objection_process: YesNo = q(
        "Where the lawful basis is public task or legitimate interests: is there a process to "
        "weigh and answer a patient's objection to the processing (Article 21)?"
    )
    protection_by_design: YesNo = q(
        "Is it set up so that only what the purpose needs is collected: features off or blurred "
        "unless needed (Article 25)?"
    )
    audio_justified: YesNo = q(
        "Where it captures sound: does the DPIA justify what is captured, analysed or kept, and "
        "cover everyone who may be heard?"
    )
    derived_data_retention_set: YesNo = q(
        "Is a retention period set and applied for what it derives (alerts, vital-sign series, "
        "scores), not only video?"
    )
    disclosure_procedure: YesNo = q(
        "Is there a procedure for requests from police, coroners and complaints or claims: who "
        "decides, on what basis, and a log of what was disclosed?"
    )
    subject_access_covers_all: YesNo = q(
        "Can the trust find and give a patient everything it keeps about them (clips, alerts, "
        "vital-sign series, scores, viewing logs) when they ask?"
    )
    transfers_outside_uk: v.Transfer | NotApplicable | None = q(
        "Does any data (including supplier support or cloud hosting) go outside the UK, and on "
        "what footing?"
    )


class Policy(Section):
    local_policy: v.Status | None = q("Local policy for this technology")
    policy_coproduced: YesNo = q("Was the policy co-produced with people with lived experience?")
    policy_review_due: Date = q("When the policy is next due for review")
    accountable_owner: YesNo = q("Does the policy name an accountable owner for the technology?")
    escalation_and_override_route: YesNo = q(
        "Does the policy set out how staff escalate concerns and how a clinician overrides or "
        "stops its use for a patient?"
    )
    legal_advice_recorded: YesNo = q(
        "Is the legal advice the policy rests on (human rights, Mental Health Act, Mental "
        "Capacity Act, data protection) recorded?"
    )
    blanket_restriction_board_review: YesNo = q(
        "Where the policy puts it on for everyone on a ward (a blanket restriction): has the "
        "board reviewed and agreed it, with a review date?"
    )


class Training(Section):
    training_before_go_live: YesNo = q("Are staff trained before they use it?")
    topics: list[v.TrainingTopic] | NotApplicable | None = q("What the training covers")
    refresher_months: PositiveInt | NotApplicable | None = q(
        "How often staff repeat the training, in months")
    records_kept: YesNo = q(
        "Are training records kept, showing who is trained and when their training lapses?"
    )


class Recording(Section):
    care_plan_template: YesNo = q(
        "Does the care-plan template record the rationale, decision route, preferences and review?"
    )
    overrides_and_reviews_in_care_plan: YesNo = q(
        "Does the template have a place for an override of a refusal and for each review's "
        "outcome, so they are in the care plan and not only in DTPA?"
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

    assessed_on: Day = Field(
        default_factory=dates.today,
        description="Date of the assessment; date-based rules are judged against it",
    )
    title: OptionalShortText = q("A short title for this assessment")
    technology: Technology

    @model_validator(mode="after")
    def _dates_make_sense(self, info: ValidationInfo) -> _AssessmentBase:
        """Impossible orders of dates (engine/models/dates.py) are refused in new input."""
        dates.refuse_impossible_dates(self, info)
        return self


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
    clinical_safety: ClinicalSafety = Field(default_factory=ClinicalSafety)
    outcomes: Outcomes = Field(default_factory=Outcomes)
    data_protection: DataProtection = Field(default_factory=DataProtection)
    data_handling: DataHandling = Field(default_factory=DataHandling)
    policy: Policy = Field(default_factory=Policy)
    training: Training = Field(default_factory=Training)
    recording: Recording = Field(default_factory=Recording)
    assurance: Assurance = Field(default_factory=Assurance)


# --- individual use ---------------------------------------------------------------------------

# A local pseudonymous reference only. Ten digits in a row look like an NHS number: refused.
_NHS_NUMBER = re.compile(r"\d{3}[\s-]?\d{3}[\s-]?\d{4}")


class ProductRecord(Section):
    """The product decision this individual use relies on."""

    record_id: OptionalShortText = q("Identifier of the product decision record")
    outcome: v.Outcome | None = fact("Outcome of the product decision", default=None)
    version: OptionalShortText = fact("Product version the product decision covers", default=None)
    valid_until: Day | None = fact("Date the product decision must be reviewed by", default=None)
    approved: YesNo = fact("Has everyone the local policy requires signed off the product decision?",
                           default=None)
    covers_this_service: YesNo = fact("Does the product decision cover this patient's type of service?",
                                      default=None)
    covers_this_version: YesNo = fact(
        "Is the product in use the version the product decision covers?", default=None)


class Patient(Section):
    reference: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{2,31}$")] = fact(
        "Local pseudonymous reference (never a name or NHS number)"
    )
    age_band: v.AgeBand | None = fact("Age band", default=None)
    legal_status: v.LegalStatus | None = fact(
        "Legal status (for the Mental Health Act: the section the patient is held under)",
        default=None)
    ward: OptionalShortText = fact("Ward", default=None)
    service_type: v.ServiceType | None = fact("Type of service", default=None)
    communication_needs: list[v.CommunicationNeed] | NotApplicable | None = fact(
        "Communication needs (easy read, interpreter, BSL ...)", default=None
    )
    trauma_history_relevant: YesNo = fact(
        "Is there a history (e.g. abuse) that makes being watched likely to re-traumatise?",
        default=None
    )

    @field_validator("reference")
    @classmethod
    def _not_an_nhs_number(cls, value: str) -> str:
        if _NHS_NUMBER.search(value):
            raise ValueError("looks like an NHS number; use the local pseudonymous reference")
        return value


class Capacity(Section):
    status: v.CapacityStatus | None = fact("Capacity for this decision", default=None)
    decision_specific_assessment: YesNo = q(
        "Was capacity assessed for this specific decision (not a general judgement), and recorded?"
    )
    assessed_on: Day | None = q("When capacity was assessed")
    gillick_competent: YesNo = fact("For under-16s: is the young person Gillick competent?",
                                    default=None)
    reassessment_planned: YesNo = q(
        "Where capacity fluctuates: is reassessment planned for when the patient may regain it?"
    )


class DecisionMaking(Section):
    route: v.DecisionRoute | None = q("Who made the decision")
    patient_response: v.PatientResponse | None = fact(
        "What the patient said or did about it (agrees, refuses, resists by covering the sensor "
        "or asking for it off ...)", default=None)
    parental_view: v.ParentView | None = fact(
        "For under-18s: what a person with parental responsibility said", default=None)
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



class PatientData(Section):
    """What this patient was told is kept about them, and any objection they made to it."""

    told_what_is_kept: YesNo = q(
        "Was the patient told what it keeps about them, for how long, and who can see it?"
    )
    objected_to_data_use: YesNo = fact(
        "Has the patient objected to the processing of their data by it (UK GDPR Article 21)?",
        default=None)
    objection_answered: YesNo = q(
        "Was the objection weighed and answered, with the compelling reasons recorded if "
        "processing continues?"
    )


class RefusalOverride(Section):
    """Only when the technology would be used although a detained patient with capacity refuses:
    every element is recorded as an answer, never as a free-text basis."""

    legal_basis: v.OverrideBasis | None = q(
        "The legal basis relied on (each is contested for safety monitoring)")
    legal_basis_named: OptionalShortText = q("If 'other': the power relied on, by name and section")
    responsible_clinician: OptionalShortText = q(
        "The responsible clinician who decided to override the refusal (name or post)")
    decided_on: Day | None = q("When the responsible clinician decided")
    patient_views: Text = q("The patient's views about it, in their words where possible")
    imha_informed: YesNo = q(
        "Was the patient told about an Independent Mental Health Advocate (IMHA), or one offered?")
    legal_advice: Text = q("The legal advice taken: who advised, when, and what they said")
    review_within_hours: PositiveInt | None = q(
        "Within how many hours the override will be reviewed")
    rationale: Text = q("Why it is necessary despite the refusal")


class LibertySafeguards(Section):
    """For a patient who lacks capacity and objects or resists: best interests alone is not
    enough; what authorises any deprivation of liberty is recorded."""

    deprivation_of_liberty: v.LibertyFinding | None = q(
        "Do the arrangements, with this technology, amount to a deprivation of liberty "
        "(continuous supervision and control, not free to leave)?")
    authorised_by: v.LibertyAuthority | None = q("What authorises the deprivation of liberty")
    within_scope_of_mha: YesNo = fact(
        "Is the patient within the scope of the Mental Health Act (could be detained under it)?",
        default=None)
    imca_instructed: YesNo = q(
        "Was an Independent Mental Capacity Advocate (IMCA) instructed?")
    wishes_and_feelings: Text = q(
        "The person's past and present wishes, feelings, beliefs and values about it")
    advance_statement_checked: YesNo = q(
        "Was it checked whether the person made an advance statement or decision that bears on it?")


class Alternative(Section):
    option: ShortText = Field(description="The less restrictive option considered")
    why_not_enough: Text = q("Why it was not enough for this patient")


class ProposedUse(Section):
    functions: list[v.Function] | None = q("Which functions will be used")
    places: list[v.Place] | None = q("Where")
    period: v.Period | None = q("When")
    start: Day | None = q("Start date")
    duration_days: Annotated[int, Field(ge=1, le=3650)] | None = q("For how many days")
    switched_on_by_ward_default: YesNo = q("Is it on for this patient only because the ward default is on?")
    covert: YesNo = q("Would it be used without the patient knowing?")
    others_in_view_considered: YesNo = q(
        "Could others be recorded (a baby, a visitor, another patient), and has that been considered?"
    )


class Justification(Section):
    purpose: v.UsePurpose | None = fact(
        "Why it is used for this patient: their own clinical need, or honestly, a staffing "
        "shortfall, to replace observations, or ward routine", default=None)
    observation_policy_counts_technology: YesNo = q(
        "Does the trust's observation policy count the technology as carrying out an observation?")
    therapeutic_engagement_maintained: YesNo = q(
        "Is therapeutic engagement with the patient kept up as it would be without it?")
    clinician_decides_on_ai_output: YesNo = q(
        "Where it gives a score or flag: does a clinician decide each change to this patient's care?")
    viewed_by_same_sex_staff_only: YesNo = q(
        "In a women's or single-sex service where clear images exist: do only staff of the "
        "patient's sex view them?")
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
    override_in_care_plan: YesNo = q(
        "Where a refusal is overridden: is the override, its basis and its review written into "
        "the care plan, not only into DTPA?"
    )
    review_outcome_in_care_plan: YesNo = q(
        "Is the last review's outcome and its reasons written into the care plan?"
    )


class Review(Section):
    review_date: Day | None = q("When the use will be reviewed (the next scheduled review)")
    multidisciplinary: YesNo = q("Will the review be by the multidisciplinary team?")
    stop_criteria: Text = q("What would make the team stop using it for this patient")
    last_review_held: YesNo = q(
        "Was the last scheduled review held? (Not applicable for a first check)")
    last_review_on: Day | None = q("When the last review was held")
    last_review_by: OptionalShortText = q("Who held the last review")
    last_review_outcome: v.ReviewOutcome | None = fact(
        "What the last review decided: continue, change or stop", default=None)
    last_review_reasons: Text = q("Why the last review decided that")


class Staff(Section):
    trained: YesNo = q("Are the staff who will respond to it trained in its use and limits?")
    training_in_date: YesNo = q(
        "Is their training in date (refreshed within the trust's interval, with a record)?"
    )


class IndividualUseCheck(_AssessmentBase):
    """A clinician's check of one patient's use of an approved product."""

    context: Literal["individual_use"] = "individual_use"
    product: ProductRecord = Field(default_factory=ProductRecord)
    patient: Patient
    capacity: Capacity = Field(default_factory=Capacity)
    decision: DecisionMaking = Field(default_factory=DecisionMaking)
    patient_data: PatientData = Field(default_factory=PatientData)
    override_of_refusal: RefusalOverride = Field(default_factory=RefusalOverride)
    liberty: LibertySafeguards = Field(default_factory=LibertySafeguards)
    proposed_use: ProposedUse = Field(default_factory=ProposedUse)
    justification: Justification = Field(default_factory=Justification)
    alternatives: list[Alternative] | None = q("Less restrictive options considered")
    care_plan: CarePlan = Field(default_factory=CarePlan)
    review: Review = Field(default_factory=Review)
    staff: Staff = Field(default_factory=Staff)

    @model_validator(mode="before")
    @classmethod
    def _free_text_override_retired(cls, data: Any) -> Any:
        """Checks saved before the structured override typed its legal basis as free text. Such a
        basis is kept as a named `other` basis, which still needs every element and legal advice:
        free text never passes as a basis again."""
        decision = data.get("decision") if isinstance(data, dict) else None
        if not isinstance(decision, dict) or not ({"override_legal_basis", "override_rationale"}
                                                  & set(decision)):
            return data
        decision = dict(decision)
        basis = decision.pop("override_legal_basis", None)
        rationale = decision.pop("override_rationale", None)
        override = dict(data.get("override_of_refusal") or {})
        if isinstance(basis, str) and basis.strip():
            override.setdefault("legal_basis", "other")
            override.setdefault("legal_basis_named", basis.strip()[:200])
        if isinstance(rationale, str) and rationale.strip():
            override.setdefault("rationale", rationale)
        return {**data, "decision": decision, "override_of_refusal": override}


Assessment = Annotated[
    ProcurementAssessment | IndividualUseCheck, Field(discriminator="context")
]

AnyAssessment = ProcurementAssessment | IndividualUseCheck
