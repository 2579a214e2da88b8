"""An easy-read summary of an individual-use decision for the patient: plain words, large type,
one or two pages. What is being used, why, what it sees and keeps, who can look, how to say no
or change your mind, and when it will be looked at again."""

from __future__ import annotations

from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph, Spacer

from engine.errors import InputInvalid
from engine.export.pdf import ATTACHMENT, HASH_KEY, attach, build, record_json_bytes
from engine.export.text import BOLD, FONT, para, register_fonts
from engine.models.record import DecisionRecord

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
DECIDED = {
    "supported": "The team can use it, as planned.",
    "supported_with_conditions": "The team can use it only after they have done some things first.",
    "insufficient_information": "The team cannot decide yet. They need to find out more first.",
    "not_supported": "The team must not use it like this.",
    "out_of_scope": "These rules do not cover this kind of technology.",
}
ROUTE = {
    "patient_consent": "You decide. You can say yes or no.",
    "best_interests": "You could not decide this time, so the team decided what is best for you. "
                      "They must think about what you would want and talk to people close to you.",
    "health_and_welfare_attorney": "Your attorney decides for you, thinking about what you would want.",
    "court_appointed_deputy": "Your deputy decides for you, thinking about what you would want.",
    "gillick_competent_child": "You decide. You can say yes or no.",
    "parental_responsibility": "Your parent or carer decides with you.",
}


def _styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    body = ParagraphStyle("er", fontName=FONT, fontSize=16, leading=23, spaceAfter=8)
    return {"body": body,
            "h1": ParagraphStyle("h1", parent=body, fontName=BOLD, fontSize=24, leading=30,
                                 spaceAfter=12),
            "h2": ParagraphStyle("h2", parent=body, fontName=BOLD, fontSize=18, leading=24,
                                 spaceBefore=10, spaceAfter=4)}


def _list(items: list[str]) -> str:
    return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + items[-1] if items else ""


def easy_read_pdf(record: DecisionRecord, assessment: dict[str, Any], invariant: bool = False) -> bytes:
    if record.record_type != "individual_use":
        raise InputInvalid("an easy-read summary is for a decision about one patient's use")
    s = _styles()
    use = assessment.get("proposed_use") or {}
    decision = assessment.get("decision") or {}
    why = (assessment.get("justification") or {}).get("rationale")
    sees = [SEES.get(f, f) for f in use.get("functions") or []]
    places = [PLACES.get(p, p) for p in use.get("places") or []]
    story = [
        Paragraph(para(f"About the {record.subject.product}"), s["h1"]),
        Paragraph("What is it?", s["h2"]),
        Paragraph(para(f"The team would like to use the {record.subject.product}."
                       + (f" It is used in {_list(places)}" if places else "")
                       + (f", {WHEN[use['period']]}" if use.get("period") in WHEN else "")
                       + (f", for {use['duration_days']} days." if use.get("duration_days") else ".")),
                  s["body"]),
        Paragraph("Why?", s["h2"]),
        Paragraph(para(why or "Ask your named nurse to explain why."), s["body"]),
        Paragraph("What does it see and keep?", s["h2"]),
        Paragraph(para(f"It picks up {_list(sees)}." if sees else
                       "Ask your named nurse what it picks up."), s["body"]),
        Paragraph("Ask us how long anything is kept. You can ask to see what is kept about you.",
                  s["body"]),
        Paragraph("Who can look?", s["h2"]),
        Paragraph("Only staff who look after you, when they need to. They must not use it instead "
                  "of coming to see you.", s["body"]),
        Paragraph("Can I say no?", s["h2"]),
        Paragraph(para(ROUTE.get(decision.get("route") or "", "Ask your named nurse who decides.")),
                  s["body"]),
        Paragraph("You can change your mind at any time. Tell any member of staff. Saying no will "
                  "not change the care you get.", s["body"]),
        Paragraph("What did the team decide?", s["h2"]),
        Paragraph(para(DECIDED[record.outcome]), s["body"]),
        Paragraph("When will we look at it again?", s["h2"]),
        Paragraph(para(f"By {record.review_date:%d %B %Y}. You can ask for it to be looked at "
                       "sooner." if record.review_date else "Ask your named nurse."), s["body"]),
        Spacer(1, 6),
    ]
    pdf = build(story, title=f"Easy read: {record.subject.product}", author="DTPA",
                subject="Easy-read summary of a decision about your care",
                footer=f"Easy read · {record.subject.patient_reference or ''}", invariant=invariant)
    return attach(pdf, {ATTACHMENT: record_json_bytes(record)}, {HASH_KEY: record.record_hash})
