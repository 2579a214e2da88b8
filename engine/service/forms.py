"""What a front end needs to build an assessment form: the questions the models ask, grouped into
short steps (one topic or principle each), the conversion between the form's flat answers and the
nested assessment, the problems in a set of answers in plain words, each typed answer's length
limit, and the hash that binds a decision to the exact answers it was made from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.hashing import digest
from engine.knowledge.questions import Question, flatten, nest, questions
from engine.service.form_problems import (
    FormProblem,
    form_problems,
    needs_answer,
    reason_limit,
    text_limit,
)

__all__ = ["FormProblem", "Question", "Step", "answers_hash", "flatten", "form_problems",
           "needs_answer", "nest", "questions", "reason_limit", "steps", "text_limit"]

# The "about" questions, split by topic: (step name, title, the paths it holds).
ABOUT_STEPS = [
    ("about", "About this assessment", ("title", "assessed_on")),
    ("technology", "The product", ("technology.",)),
    ("product", "The product decision", ("product.",)),
    ("service", "The service", ("service.",)),
    ("patient", "The patient", ("patient.",)),
    ("proposed_use", "The proposed use", ("proposed_use.",)),
]


MAX_STEP = 10  # questions on one step before a principle's step is split by section


# A section of the assessment in words, where its name alone does not read well.
SECTION_WORDS = {"override_of_refusal": "overriding a refusal", "liberty": "deprivation of liberty",
                 "alternatives": "less restrictive options", "decision": "the decision",
                 "justification": "why it is used", "assurance": "supplier assurance",
                 "data_protection": "the impact assessment and data",
                 "data_handling": "what it collects, keeps and shares",
                 "clinical_safety": "clinical safety", "human_rights": "rights",
                 "review": "review", "capacity": "capacity", "deployment": "deployment"}


@dataclass(frozen=True)
class Step:
    """One step of a form: a topic or a principle, with its questions in the models' order."""

    name: str
    title: str
    questions: tuple[Question, ...]


# A topic of a patient's check, as the step that asks about it is called.
TOPICS = {"capacity": "Capacity", "decision": "The decision and who made it",
          "patient_data": "What is kept about the patient",
          "override_of_refusal": "Overriding a refusal", "liberty": "Deprivation of liberty",
          "justification": "Why it is used for this patient",
          "alternatives": "Less restrictive options", "care_plan": "The care plan",
          "review": "Review", "staff": "Staff"}


def steps(qs: list[Question], names: dict[str, str], skip: tuple[str, ...] = (),
          by_topic: bool = False) -> list[Step]:
    """The questions (those not under a `skip` prefix) in short steps: what is assessed first,
    then one step per principle or practice area (`names`: its code -> its name), then anything
    no rule reads; or, `by_topic` (a clinician's check, where one topic such as capacity serves
    several principles), one step per topic in the order a check is made. A step with no
    question is left out."""
    asked = [q for q in qs if not q.path.startswith(skip)] if skip else list(qs)
    out = []
    for name, title, prefixes in ABOUT_STEPS:
        held = tuple(q for q in asked if q.group == "about" and
                     (q.path in prefixes or q.path.startswith(tuple(p for p in prefixes
                                                                    if p.endswith(".")))))
        out.append(Step(name, title, held))
    placed = {q.path for s in out for q in s.questions}
    leftover = tuple(q for q in asked if q.group == "about" and q.path not in placed)
    out.append(Step("about_more", "More about it", leftover))
    if by_topic:
        topics: dict[str, list[Question]] = {}
        for q in asked:
            if q.group != "about":
                topics.setdefault(q.path.split(".")[0], []).append(q)
        out.extend(Step(t, TOPICS.get(t, t.replace("_", " ").capitalize()), tuple(held))
                   for t, held in topics.items())
        return [s for s in out if s.questions]
    for code, title in names.items():
        out.extend(_short(code, title, tuple(q for q in asked if q.group == code)))
    out.append(Step("other", "Other details", tuple(q for q in asked if q.group == "other")))
    return [s for s in out if s.questions]


def _short(code: str, title: str, held: tuple[Question, ...]) -> list[Step]:
    """A principle's questions as one step, or, when they are many, one step per section of the
    assessment they come from (capacity, the decision, liberty ...), in the models' order."""
    if len(held) <= MAX_STEP:
        return [Step(code, title, held)]
    sections: dict[str, list[Question]] = {}
    for q in held:
        sections.setdefault(q.path.split(".")[0], []).append(q)
    return [Step(f"{code}.{section}", f"{title}: {SECTION_WORDS.get(section, section)}", tuple(part))
            for section, part in sections.items()]


def answers_hash(data: dict[str, Any]) -> str:
    """The hash of a form's answers (canonical JSON, RFC 8785, SHA-256): a decision keeps the
    hash of the answers it was made from, so a changed form is never saved under it."""
    return digest(data)
