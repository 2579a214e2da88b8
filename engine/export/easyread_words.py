"""What the easy-read summary says: the key facts first, in plain words and short sentences,
one idea to a sentence, each point with the kind of picture that goes beside it. What is being
used, why, what it sees and keeps, who can look, whether they can say no (and, if the team would
use it although they said no, why), what was decided and why, when it will be looked at again,
who can help them (advocates: IMHA, IMCA) and how to complain.

Every sentence is written here and chosen from structured answers. Free text typed by staff
(rationale, the patient's views as recorded, legal advice, review reasons) is never copied in: it
is written in the third person for colleagues, not to the patient, and may say things the team
has not yet said to them in person. The PDF (engine/export/easyread.py) and the web page
(engine/export/easyread_html.py) draw the same `Summary`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from engine.errors import InputInvalid
from engine.models.assessment import IndividualUseCheck
from engine.models.record import DecisionRecord
from engine.models.vocab import OUTSIDE_PART_4

SEES = {
    "clear_video": "a clear video picture of you", "blurred_video": "a blurred video picture",
    "infrared_vital_signs": "your breathing and pulse, measured from a distance",
    "radar_presence": "whether you are in bed or moving (no picture)", "audio": "sound",
    "location": "where you are", "biometrics": "measurements of your body",
    "ai_inference": "a computer's guess about risk", "activity_alerts": "when you get up or fall",
    "messaging": "messages you send", "therapy_content": "what you do in the therapy program",
    "feedback_collection": "what you tell us",
}
PLACES = {"bedroom": "your bedroom", "bathroom": "the bathroom", "seclusion_room": "the seclusion room",
          "communal_area": "shared areas of the ward", "outdoor_ward_area": "the garden",
          "off_ward": "when you are away from the ward"}
WHEN = {"night_only": "at night", "day_only": "in the day", "continuous": "all day and night"}
# Never "lawful": the rules cannot say that, and a patient would read it as settled.
DECIDED = {
    "supported": "The team checked the plan against a set of rules. "
                 "The rules found no reason not to use it.",
    "supported_with_conditions": "The team can use it only after they have done some things first. "
                                 "The rules say what these things are.",
    "insufficient_information": "The team cannot decide yet. They need to find out more first.",
    "not_supported": "The team must not use it like this. The rules found a problem with the plan.",
    "out_of_scope": "These rules do not cover this kind of technology.",
}
ROUTE = {
    "patient_consent": "You decide. You can say yes or no.",
    "gillick_competent_child": "You decide. You can say yes or no.",
    "best_interests": "You could not decide about this. So the team must decide what is best for "
                      "you. They must think about what you would want. They must ask people close "
                      "to you what they think.",
    "health_and_welfare_attorney": "Your attorney decides for you. This is a person you chose to "
                                   "decide for you. They must think about what you would want.",
    "court_appointed_deputy": "Your deputy decides for you. A court chose this person to decide "
                              "for you. They must think about what you would want.",
    "parental_responsibility": "A person with parental responsibility decides with you. This is "
                               "usually a parent. They must listen to what you want.",
    "relative_or_carer_without_authority": "A relative or carer cannot decide this for you. They "
                                           "can only do that if they have legal power to. So the "
                                           "team must decide what is best for you. They must ask "
                                           "your relative what they think.",
    "ward_default": "It must not be switched on just because it is on for the ward. It must be "
                    "decided for you alone.",
}
PURPOSE = {
    "patient_clinical_need": "The team thinks it could help keep you safe and well.",
    "staffing_shortfall": "The reason written down is that the ward is short of staff. That is "
                          "not a good enough reason. It must not be used for that.",
    "replaces_observations": "The reason written down is to check on you instead of staff "
                             "coming to see you. That is not allowed. Staff must still come to "
                             "see you.",
    "ward_routine": "The reason written down is that it is used for everyone on the ward. That "
                    "is not a good enough reason. It must be decided for you alone.",
}
# Where the patient stands under the Mental Health Act, in the patient's words.
STATUS = {
    "detained_mental_health_act": "You are detained under the Mental Health Act.",
    "holding_power_s4": "You are held under section 4 of the Mental Health Act. "
                        "This is for a short time only.",
    "holding_power_s5_2": "You are held under section 5(2) of the Mental Health Act. "
                          "This is for a short time only.",
    "holding_power_s5_4": "You are held under section 5(4) of the Mental Health Act. "
                          "This is for a short time only.",
    "place_of_safety_s135": "You were taken to a place of safety under section 135 of the "
                            "Mental Health Act.",
    "place_of_safety_s136": "You were taken to a place of safety under section 136 of the "
                            "Mental Health Act.",
    "community_treatment_order": "You are on a community treatment order (CTO).",
    "community_treatment_order_recalled": "You have been recalled to hospital from a community "
                                          "treatment order (CTO).",
}
HOLDING = {"holding_power_s4", "holding_power_s5_2", "holding_power_s5_4",
           "place_of_safety_s135", "place_of_safety_s136"}
# Qualifying patients for an IMHA (MHA 1983 s130C): the short holding powers are excluded.
IMHA_RIGHT = {"detained_mental_health_act", "community_treatment_order",
              "community_treatment_order_recalled"}
BASIS = {
    "mha_s63": "They say it is part of your treatment for your mental health. "
               "This is section 63 of the Mental Health Act.",
    "incidental_to_detention": "They say it is part of keeping you in hospital under the "
                               "Mental Health Act.",
    "other": "They say another law allows it. You can ask them which law.",  # named text not copied
}
LIBERTY_AUTHORITY = {
    "mha_detention": "the Mental Health Act",
    "dols_authorisation": "a Deprivation of Liberty Safeguards (DoLS) authorisation",
    "court_of_protection": "the Court of Protection",
    "high_court": "the High Court",
}
CAPACITY = {"has_capacity": True, "lacks_capacity": False}
LAST_REVIEW = {"continue": "The team decided to keep using it.",
               "change": "The team decided to change how it is used.",
               "stop": "The team decided to stop using it."}




@dataclass
class Point:
    """One point: a few short sentences (and perhaps a list), with the kind of picture beside
    it (a key of engine/export/pictures/pictures.yaml)."""

    picture: str
    text: str  # one or more sentences, one idea each
    items: list[str] = field(default_factory=list)


@dataclass
class Section:
    heading: str
    points: list[Point]


@dataclass
class Summary:
    title: str  # the heading at the top
    product: str
    patient_reference: str | None
    sections: list[Section]


def _list(items: list[str]) -> str:
    return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + items[-1] if items else ""


def _date(value: Any) -> str:
    if isinstance(value, str):  # a partial mapping keeps dates as ISO text
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            return ""
    return f"{value.day} {value:%B %Y}" if isinstance(value, dt.date) else ""


def _normalised(assessment: dict[str, Any]) -> dict[str, Any]:
    """The check as the current model reads it, so that a check saved before the structured
    override is read the same way as a new one; a partial mapping is used as it is."""
    try:
        return IndividualUseCheck.model_validate(assessment).model_dump()
    except (ValidationError, TypeError, AttributeError):
        return assessment


class _Case:
    """The structured answers the summary is built from (only answers, never free text)."""

    def __init__(self, a: dict[str, Any]) -> None:
        def section(name: str) -> dict[str, Any]:
            value = a.get(name)
            return value if isinstance(value, dict) else {}

        self.use, self.decision = section("proposed_use"), section("decision")
        self.override, self.liberty = section("override_of_refusal"), section("liberty")
        self.review, self.justification = section("review"), section("justification")
        self.category: str | None = section("technology").get("category")
        patient, capacity = section("patient"), section("capacity")
        self.status: str | None = patient.get("legal_status")
        self.age: str | None = patient.get("age_band")
        self.said_no = self.decision.get("patient_response") in ("refuses", "resists")
        self.resists = self.decision.get("patient_response") == "resists"
        self.route: str | None = self.decision.get("route")
        self.parent: str | None = self.decision.get("parental_view")
        # Able to decide: True, False, or None while not known (fluctuating, not assessed).
        gillick = capacity.get("gillick_competent")
        cap: str | None = capacity.get("status")
        if self.age == "under_16" and gillick in (True, False):
            self.able: bool | None = gillick
        else:
            self.able = None if cap is None else CAPACITY.get(cap)
        self.child = self.age in ("under_16", "age_16_17")
        self.part_4 = self.status is not None and self.status not in OUTSIDE_PART_4

    @property
    def mha(self) -> bool:
        return self.status in STATUS


def _where_and_when(use: dict[str, Any]) -> str:
    """Where it will be used, and when: a sentence each (together they grow too long)."""
    where = (f" It will be used in {_list([PLACES.get(p, p) for p in use.get('places') or []])}."
             if use.get("places") else "")
    when = [WHEN.get(use.get("period") or "", ""),
            f"for {use['duration_days']} days" if use.get("duration_days") else ""]
    when = [w for w in when if w]
    return where + (f" It will be on {', '.join(when)}." if when else "")


def _why(c: _Case) -> list[Point]:
    chosen = c.justification.get("purpose") or ""
    purpose = PURPOSE.get(chosen)
    if purpose is None:
        return [Point("ask-why", "Ask your named nurse to explain why.")]
    if chosen == "patient_clinical_need":
        reason = Point("why", purpose)
    else:  # staffing, instead of observations, ward routine: not a reason, and it says so
        reason = Point("why-not-a-reason", purpose)
    return [reason, Point("ask-why", "Your named nurse can tell you more.")]


def _said(c: _Case) -> str:
    return "You showed us you do not want it." if c.resists else "You said no."


def _parent_cannot_overrule(c: _Case) -> list[Point]:
    if c.child and (c.parent == "consents" or c.route == "parental_responsibility"):
        return [Point("parent", "A person with parental responsibility cannot say yes for you "
                                "when you have said no.")]
    return []


def _refusal_able(c: _Case) -> list[Point]:
    """The patient can decide and said no."""
    out = [Point("said-no", _said(c)), *_parent_cannot_overrule(c)]
    if c.part_4:
        return out + _override(c)
    if c.status in STATUS:  # c.mha
        out.append(Point("detained", STATUS[c.status]
                         + " This does not let the team use it when you say no."))
    out.append(Point("staff-check", "The team must not use it while you say no. If they are "
                     "worried about your safety, staff can check on you in person instead."))
    if c.status in (None, "informal"):
        out.append(Point("doctor", "They may think your life is at serious risk. Then they can "
                         "ask doctors to assess you under the Mental Health Act."))
    return out


def _override(c: _Case) -> list[Point]:
    """A detained patient who can decide said no: who decided to use it anyway, and on what
    basis, from the structured override only."""
    o = c.override
    because = ("you have been recalled to hospital under the Mental Health Act"
               if c.status == "community_treatment_order_recalled"
               else "you are detained under the Mental Health Act")
    if o.get("responsible_clinician") or o.get("decided_on"):
        out = [Point("doctor", "Your doctor in charge of your care decided to use it anyway. This "
                     "doctor is called the responsible clinician. They decided this because "
                     f"{because}." + (f" This was on {_date(o['decided_on'])}."
                                      if o.get("decided_on") else ""))]
    else:
        out = [Point("doctor", "The team would still like to use it. Only your doctor in charge "
                     "of your care can decide that. This doctor is called the responsible "
                     "clinician.")]
    out.append(Point("law", BASIS.get(o.get("legal_basis") or "", "They have not written down "
                                      "which law allows it. They must do that.")))
    out.append(Point("law", "People who know the law do not all agree that this is allowed. "
                     + ("The team has asked for legal advice." if o.get("legal_advice") else
                        "The team must ask for legal advice.")))
    out.append(Point("written-down", "They must write down why other ways are not enough. One of "
                     "these ways is staff checking on you in person."))
    out.append(Point("written-down", "Your views have been written down. You can ask to read "
                     "them." if o.get("patient_views") else
                     "They must write down what you think about it."))
    return out


def _refusal_unable(c: _Case) -> list[Point]:
    """The patient cannot decide and objects, in words or by what they do."""
    out = [Point("could-not-decide", "You could not decide about this. "
                 + ("You showed us you do not want it." if c.resists else
                    "You told us you do not want it."))]
    if c.status in STATUS:  # c.mha
        out.append(Point("detained", STATUS[c.status]))
    out.append(Point("law", "The team must check it is allowed by law. They must think about what "
                     "you want now and what you wanted before. They must ask people close to you "
                     "what they think."))
    out.append(Point("written-down", "They have checked if you wrote down your wishes before."
                     if c.liberty.get("advance_statement_checked") is True else
                     "They must check if you wrote down your wishes before."))
    found = c.liberty.get("deprivation_of_liberty")
    authority = LIBERTY_AUTHORITY.get(c.liberty.get("authorised_by") or "")
    if found == "amounts_to_deprivation":
        text = "The team thinks your care takes away some of your freedom. " + (
            f"They say {authority} allows this." if authority else
            "Nothing allows this by law yet. The law must allow it first.")
    elif found == "does_not_amount":
        text = ("The team thinks your care does not take away your freedom. "
                "You can ask them to check again.")
    else:
        text = ("The team must check if your care takes away your freedom. "
                "If it does, the law must allow it first.")
    return [*out, Point("freedom", text)]


def _refusal_unknown(c: _Case) -> list[Point]:
    """The patient said no and it is not yet known whether they can decide."""
    out = [Point("said-no", _said(c)),
           Point("could-not-decide", "The team must first check if you can make this decision "
                 "yourself.")]
    if c.part_4:
        out.append(Point("doctor", "If you can, only your doctor in charge of your care could "
                         "decide to use it anyway. This doctor is called the responsible "
                         "clinician."))
    else:
        out.append(Point("said-no", "If you can, they must not use it while you say no."))
    out.append(Point("ask-you", "If you cannot, they must think about what you want."))
    return out


ROUTE_PICTURE = {"patient_consent": "you-decide", "gillick_competent_child": "you-decide",
                 "parental_responsibility": "parent", "ward_default": "law"}


def _can_i_say_no(c: _Case) -> list[Point]:
    if c.said_no:
        return {True: _refusal_able, False: _refusal_unable, None: _refusal_unknown}[c.able](c)
    route = c.route or ""
    out = [Point(ROUTE_PICTURE.get(route, "others-decide"), ROUTE[route]) if route in ROUTE
           else Point("ask-why", "Ask your named nurse who decides.")]
    if c.child and c.able and c.parent == "objects":
        out.append(Point("parent", "A person with parental responsibility does not agree. You can "
                         "decide this yourself. Their view does not overrule yours."))
    if c.route == "parental_responsibility" and c.age == "age_16_17":
        out.append(Point("law", "At 16 or 17, a parent cannot agree to everything for you. The "
                         "team must check the law allows it."))
    if c.decision.get("patient_response") == "not_asked":
        out.append(Point("ask-you", "The team must ask you what you think."))
    out.append(Point("change-mind", "You can change your mind at any time. Tell any member of "
                     "staff. Saying no will not change the care you get." if c.able is not False
                     else "If you do not want it, tell any member of staff. The team must think "
                     "again."))
    return out


def _advocate(c: _Case) -> list[Point]:
    out = []
    if c.status in IMHA_RIGHT:
        out.append(Point("advocate", "You have the right to an IMHA. An IMHA is an Independent "
                         "Mental Health Advocate. They are not part of the ward team. They can "
                         "help you understand your rights and say what you want."
                         + (" Staff should have told you about this."
                            if c.said_no and c.part_4 and c.override.get("imha_informed") is False
                            else "")))
        out.append(Point("ask-staff", "Ask any member of staff to contact an IMHA for you. The "
                         "Patient Advice and Liaison Service (PALS) can do this too."))
    elif c.status in HOLDING:
        out.append(Point("advocate", "The right to an IMHA does not cover a short hold like this. "
                         "An IMHA is an Independent Mental Health Advocate. You can still ask "
                         "staff for an advocate."))
    if c.able is False and c.age != "under_16":
        out.append(Point("advocate", f"An IMCA can help you{' too' if out else ''}. An IMCA is an "
                         "Independent Mental Capacity Advocate. They speak up for people who "
                         "cannot decide something for themselves. "
                         + ("The team has asked an IMCA to help you."
                            if c.liberty.get("imca_instructed") is True else
                            "You or people close to you can ask the team for one.")))
    if c.status in IMHA_RIGHT:
        return out
    if not out:
        out.append(Point("advocate", "You can ask for an advocate. An advocate is someone on your "
                         "side. They help you say what you want."))
    return out + [Point("ask-staff", "Any member of staff can help you get an advocate. So can "
                        "the Patient Advice and Liaison Service (PALS).")]


def _complain(c: _Case) -> list[Point]:
    out = [Point("tell-someone", "You can tell the nurse in charge of your ward. You can talk to "
                 "PALS."),
           Point("complain", "You can make a complaint to the hospital. Staff must tell you how. "
                 "An advocate can help you.")]
    if c.mha:
        out.append(Point("regulator", "You can also complain to the Care Quality Commission "
                         "(CQC). The CQC looks at complaints about how the Mental Health Act is "
                         "used."))
    out.append(Point("regulator", "You may not be happy with the hospital's answer. Then you can "
                     "ask the Parliamentary and Health Service Ombudsman to look at it."))
    out.append(Point("care-stays-the-same", "Complaining must not change the care you get."))
    return out


def _when_again(c: _Case, record: DecisionRecord) -> list[Point]:
    out = []
    hours = c.override.get("review_within_hours")
    if c.said_no and c.able and c.part_4:
        out.append(Point("look-again-soon",
                         f"Because you said no, the team must look at it again within {hours} "
                         "hours." if isinstance(hours, int) else
                         "Because you said no, the team must look at it again soon. They must "
                         "tell you when."))
    out.append(Point("look-again", f"The team will look at it again by "
                     f"{_date(record.review_date)}. You can ask for it to be looked at sooner."
                     if record.review_date else
                     "Ask your named nurse when it will be looked at again."))
    held = c.review.get("last_review_held")
    if held is True:
        on = _date(c.review.get("last_review_on"))
        text = ((f"It was last looked at on {on}. " if on else "")
                + LAST_REVIEW.get(c.review.get("last_review_outcome") or "", "")).strip()
        if text:
            out.append(Point("look-again", text))
    elif held is False:
        out.append(Point("look-again-soon", "The last check did not happen on time. The team "
                         "must look at it again now."))
    return out


def sentences(text: str) -> list[str]:
    """A point's sentences, each shown on a line of its own."""
    return [part for part in re.split(r"(?<=[.?!])\s+(?=[A-Z])", text.strip()) if part]


def technology_picture(category: str | None) -> str:
    """The picture for the technology: by its category, else a computer."""
    return f"technology.{category}" if category in TECHNOLOGY_PICTURES else "technology.other"


TECHNOLOGY_PICTURES = {"vision_based_monitoring", "body_worn_camera", "wearable_sensor",
                       "location_tracking", "patient_app", "communication_device",
                       "virtual_reality_therapy", "feedback_kiosk"}


def summary(record: DecisionRecord, assessment: dict[str, Any]) -> Summary:
    """What the easy-read summary of an individual-use decision says, key facts first."""
    if record.record_type != "individual_use":
        raise InputInvalid("an easy-read summary is for a decision about one patient's use")
    c = _Case(_normalised(assessment))
    product = record.subject.product
    # One item a line: a list of functions in one sentence grows past easy-read length.
    sees = [SEES.get(f, f) for f in c.use.get("functions") or []]
    sections = [
        Section("What is it?", [Point(technology_picture(c.category),
                                      f"The team would like to use the {product}."
                                      + _where_and_when(c.use))]),
        Section("Why?", _why(c)),
        Section("What does it see and keep?", [
            Point("sees", "It picks up:", sees) if sees else
            Point("sees", "Ask your named nurse what it picks up."),
            Point("kept", "Ask us how long anything is kept. You can ask to see what is kept "
                          "about you.")]),
        Section("Who can look?", [Point("who-can-look", "Only staff who look after you can look, "
                                        "when they need to. They must not use it instead of "
                                        "coming to see you.")]),
        Section("Can I say no?", _can_i_say_no(c)),
        Section("What did the team decide?", [
            Point(f"decided.{record.outcome}", DECIDED[record.outcome]),
            Point("care-team-thinks", "The rules do not check everything. Your care team must "
                                      "still think about what is right for you.")]),
        Section("When will we look at it again?", _when_again(c, record)),
        Section("Who can help me?", _advocate(c)),
        Section("How can I complain?", _complain(c)),
    ]
    return Summary(f"About the {product}", product, record.subject.patient_reference, sections)
