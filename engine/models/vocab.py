"""Controlled vocabularies shared by the assessment models, the rules and the record."""

from __future__ import annotations

from enum import StrEnum


class Context(StrEnum):
    procurement = "procurement"
    individual_use = "individual_use"


class Category(StrEnum):
    vision_based_monitoring = "vision_based_monitoring"
    body_worn_camera = "body_worn_camera"
    wearable_sensor = "wearable_sensor"
    location_tracking = "location_tracking"
    patient_app = "patient_app"
    virtual_reality_therapy = "virtual_reality_therapy"
    ai_risk_prediction = "ai_risk_prediction"
    communication_device = "communication_device"
    feedback_kiosk = "feedback_kiosk"
    electronic_patient_record = "electronic_patient_record"
    e_prescribing = "e_prescribing"
    administrative_tool = "administrative_tool"
    other = "other"


class Function(StrEnum):
    clear_video = "clear_video"
    blurred_video = "blurred_video"
    infrared_vital_signs = "infrared_vital_signs"
    radar_presence = "radar_presence"
    audio = "audio"
    location = "location"
    biometrics = "biometrics"
    ai_inference = "ai_inference"
    activity_alerts = "activity_alerts"
    messaging = "messaging"
    therapy_content = "therapy_content"
    feedback_collection = "feedback_collection"


class Place(StrEnum):
    bedroom = "bedroom"
    bathroom = "bathroom"
    seclusion_room = "seclusion_room"
    communal_area = "communal_area"
    outdoor_ward_area = "outdoor_ward_area"
    off_ward = "off_ward"


class DataKind(StrEnum):
    video_clips = "video_clips"
    still_images = "still_images"
    vital_signs = "vital_signs"
    location_history = "location_history"
    audio_recordings = "audio_recordings"
    alerts_and_events = "alerts_and_events"
    derived_risk_scores = "derived_risk_scores"
    free_text = "free_text"


class DeviceClass(StrEnum):
    not_a_medical_device = "not_a_medical_device"
    class_i = "class_i"
    class_iia = "class_iia"
    class_iib = "class_iib"
    class_iii = "class_iii"
    unknown = "unknown"


class ServiceType(StrEnum):
    adult_acute = "adult_acute"
    psychiatric_intensive_care = "psychiatric_intensive_care"
    children_and_young_people = "children_and_young_people"
    learning_disability_and_autism = "learning_disability_and_autism"
    older_adults = "older_adults"
    mother_and_baby = "mother_and_baby"
    secure = "secure"
    rehabilitation = "rehabilitation"
    eating_disorders = "eating_disorders"
    womens_service = "womens_service"  # a women-only ward or service (Equality Act 2010 Sch 3)


class Activation(StrEnum):
    """How the technology comes to be switched on for a patient."""

    individual_decision = "individual_decision"  # off unless switched on for one patient
    opt_out = "opt_out"  # on unless the patient objects: still a blanket approach
    on_by_default = "on_by_default"  # on for everyone on the ward
    always_on = "always_on"  # cannot be switched off per patient


class Right(StrEnum):
    """Convention rights in Schedule 1 of the Human Rights Act 1998."""

    art2_life = "art2_life"
    art3_degrading_treatment = "art3_degrading_treatment"
    art5_liberty = "art5_liberty"
    art8_private_life = "art8_private_life"
    art14_discrimination = "art14_discrimination"


class ClearImageUse(StrEnum):
    """When staff can see a clear (not blurred) image where patients may be undressed."""

    never = "never"
    time_limited_check = "time_limited_check"  # e.g. a 15-second view during a vital-signs check
    on_alert = "on_alert"
    continuous = "continuous"


class Status(StrEnum):
    not_started = "not_started"
    draft = "draft"
    approved = "approved"


class ImpactAssessment(StrEnum):
    not_done = "not_done"
    in_progress = "in_progress"
    completed = "completed"


class GroupPerformance(StrEnum):
    """What is known about how the technology performs across groups (skin tone, disability, age)."""

    independent_evidence = "independent_evidence"
    vendor_claim_only = "vendor_claim_only"
    not_assessed = "not_assessed"


class EvidenceStrength(StrEnum):
    comparative_independent = "comparative_independent"
    independent_non_comparative = "independent_non_comparative"
    vendor_funded_only = "vendor_funded_only"
    none = "none"


class Measure(StrEnum):
    self_harm_incidents = "self_harm_incidents"
    restrictive_practice = "restrictive_practice"
    falls = "falls"
    sleep = "sleep"
    patient_reported_experience = "patient_reported_experience"
    staff_experience = "staff_experience"


class LawfulBasis(StrEnum):
    """UK GDPR Article 6(1)."""

    public_task = "public_task"
    legal_obligation = "legal_obligation"
    vital_interests = "vital_interests"
    consent = "consent"
    legitimate_interests = "legitimate_interests"
    contract = "contract"


class SpecialCategoryCondition(StrEnum):
    """UK GDPR Article 9(2)."""

    health_or_social_care = "health_or_social_care"  # 9(2)(h)
    explicit_consent = "explicit_consent"  # 9(2)(a)
    vital_interests = "vital_interests"  # 9(2)(c)
    public_health = "public_health"  # 9(2)(i)
    none_identified = "none_identified"


class DsptStatus(StrEnum):
    standards_exceeded = "standards_exceeded"
    standards_met = "standards_met"
    approaching_standards = "approaching_standards"
    standards_not_met = "standards_not_met"


class TrainingTopic(StrEnum):
    technology_limits = "technology_limits"
    consent_and_capacity = "consent_and_capacity"
    human_rights = "human_rights"
    data_protection = "data_protection"
    alert_response = "alert_response"
    trauma_informed_communication = "trauma_informed_communication"
    autism_informed_communication = "autism_informed_communication"


class Transfer(StrEnum):
    """Whether data leaves the UK, and the footing under UK GDPR Chapter V."""

    stays_in_uk = "stays_in_uk"
    adequacy_regulations = "adequacy_regulations"  # Art 45A: UK adequacy regulations
    appropriate_safeguards = "appropriate_safeguards"  # Art 46: IDTA, addendum, BCRs
    no_safeguard = "no_safeguard"
    unknown = "unknown"


class AgeBand(StrEnum):
    under_16 = "under_16"
    age_16_17 = "age_16_17"
    adult = "adult"
    older_adult = "older_adult"


class LegalStatus(StrEnum):
    """The patient's legal status. Part 4 of the Mental Health Act 1983 (consent to treatment)
    covers most detained patients, but not those held under the short holding powers or on a
    community treatment order who have not been recalled (s56): their refusal is treated as that
    of a patient outside Part 4."""

    informal = "informal"
    detained_mental_health_act = "detained_mental_health_act"  # e.g. s2, s3, s37: within Part 4
    holding_power_s4 = "holding_power_s4"
    holding_power_s5_2 = "holding_power_s5_2"
    holding_power_s5_4 = "holding_power_s5_4"
    place_of_safety_s135 = "place_of_safety_s135"
    place_of_safety_s136 = "place_of_safety_s136"
    community_treatment_order = "community_treatment_order"  # not recalled to hospital
    community_treatment_order_recalled = "community_treatment_order_recalled"
    deprivation_of_liberty_authorised = "deprivation_of_liberty_authorised"


# Statuses whose refusal no Part 4 power can override (MHA 1983 s56).
OUTSIDE_PART_4 = ("informal", "holding_power_s4", "holding_power_s5_2", "holding_power_s5_4",
                  "place_of_safety_s135", "place_of_safety_s136", "community_treatment_order",
                  "deprivation_of_liberty_authorised")


class CapacityStatus(StrEnum):
    has_capacity = "has_capacity"
    lacks_capacity = "lacks_capacity"
    fluctuating = "fluctuating"
    not_assessed = "not_assessed"


class DecisionRoute(StrEnum):
    """Who makes the decision about this use for this patient."""

    patient_consent = "patient_consent"
    health_and_welfare_attorney = "health_and_welfare_attorney"
    court_appointed_deputy = "court_appointed_deputy"
    best_interests = "best_interests"
    gillick_competent_child = "gillick_competent_child"
    parental_responsibility = "parental_responsibility"
    # Recorded as what happened so the rules can say why they are not routes:
    relative_or_carer_without_authority = "relative_or_carer_without_authority"  # no LPA, no deputy
    ward_default = "ward_default"


class PatientResponse(StrEnum):
    agrees = "agrees"
    refuses = "refuses"
    resists = "resists"  # objects by what they do: covers the sensor, asks for it to be off
    no_view_expressed = "no_view_expressed"
    not_asked = "not_asked"


class ParentView(StrEnum):
    """For under-18s: what a person with parental responsibility said about this use."""

    consents = "consents"
    objects = "objects"
    not_consulted = "not_consulted"


class OverrideBasis(StrEnum):
    """The legal basis relied on to use the technology although a detained patient with capacity
    refuses. Each is contested for safety monitoring; none is accepted without legal advice."""

    mha_s63 = "mha_s63"  # treatment for mental disorder under an approved clinician's direction
    incidental_to_detention = "incidental_to_detention"  # powers said to be implied by detention
    other = "other"  # named in legal_basis_named


class LibertyFinding(StrEnum):
    """Whether the arrangements amount to a deprivation of liberty (Cheshire West, 2014)."""

    amounts_to_deprivation = "amounts_to_deprivation"
    does_not_amount = "does_not_amount"
    not_considered = "not_considered"


class LibertyAuthority(StrEnum):
    """What authorises a deprivation of liberty."""

    mha_detention = "mha_detention"
    dols_authorisation = "dols_authorisation"  # MCA Sch A1: 18 and over, not ineligible (Sch 1A)
    court_of_protection = "court_of_protection"  # 16 and over
    high_court = "high_court"  # inherent jurisdiction, e.g. for under-16s
    none = "none"


class UsePurpose(StrEnum):
    """Why the technology is used for this patient; the honest options are recorded too."""

    patient_clinical_need = "patient_clinical_need"
    staffing_shortfall = "staffing_shortfall"
    replaces_observations = "replaces_observations"
    ward_routine = "ward_routine"


class ReviewOutcome(StrEnum):
    continue_use = "continue"
    change = "change"
    stop = "stop"


class CommunicationNeed(StrEnum):
    easy_read = "easy_read"
    interpreter = "interpreter"
    british_sign_language = "british_sign_language"
    sensory_support = "sensory_support"
    autism_adjustments = "autism_adjustments"
    repeated_over_time = "repeated_over_time"


class Period(StrEnum):
    night_only = "night_only"
    day_only = "day_only"
    continuous = "continuous"


class CarePlanItem(StrEnum):
    rationale = "rationale"
    decision_route = "decision_route"
    patient_preferences = "patient_preferences"
    review_date = "review_date"
    alternatives = "alternatives"


class Role(StrEnum):
    """Who may sign or override a decision (the local profile says which roles must sign)."""

    panel_chair = "panel_chair"
    dpo = "dpo"
    clinical_safety_officer = "clinical_safety_officer"
    clinician = "clinician"
    nurse_in_charge = "nurse_in_charge"
    lived_experience_representative = "lived_experience_representative"
    chief_nursing_information_officer = "chief_nursing_information_officer"
    estates_it_lead = "estates_it_lead"
    auditor = "auditor"
    administrator = "administrator"


class Attestation(StrEnum):
    """What a signatory confirms, after the ICO DPIA step 7 and CNIL PIA validation patterns."""

    context_accurate = "context_accurate"
    risks_understood = "risks_understood"
    action_plan_agreed = "action_plan_agreed"
    actions_will_be_done = "actions_will_be_done"


class Outcome(StrEnum):
    supported = "supported"
    supported_with_conditions = "supported_with_conditions"
    insufficient_information = "insufficient_information"
    not_supported = "not_supported"
    out_of_scope = "out_of_scope"


class Verdict(StrEnum):
    met = "met"
    met_with_conditions = "met_with_conditions"
    not_met = "not_met"
    unknown = "unknown"
    not_applicable = "not_applicable"


class Severity(StrEnum):
    blocker = "blocker"
    # DTPA cannot settle the question (e.g. a contested legal basis): the verdict stays unknown
    # until a person with the authority to settle it has (legal advice, a court)
    unresolved = "unresolved"
    condition = "condition"
    advisory = "advisory"
    out_of_scope = "out_of_scope"  # only for scope rules: the principles do not cover this product
