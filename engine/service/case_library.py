"""The case-study library (case_studies/*.yaml), read through the `CaseStudy` model: the web pages,
seeding and the golden tests all see the same validated files, and a file with a misspelt or
unknown field is refused with its name, line and field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engine.errors import InputInvalid, Problem, RecordNotFound
from engine.knowledge.validation import problems_from
from engine.knowledge.yamlio import YamlProblem, read_document
from engine.models import dates
from engine.models.case_study import CaseStudy

CASE_STUDIES = Path(__file__).resolve().parent.parent.parent / "case_studies"


def read_case_study(path: Path) -> CaseStudy:
    """One case-study file, validated; InputInvalid names the file, line and field."""
    try:
        doc = read_document(Path(path))
    except YamlProblem as exc:
        raise InputInvalid(f"The case study {Path(path).name} cannot be read.", [exc.problem]) from None
    if not isinstance(doc.data, dict):
        raise InputInvalid(f"The case study {Path(path).name} is not a case study.",
                           [Problem(doc.path, doc.line_of(()), "expected `expected:` and `assessment:`")])
    try:
        return CaseStudy.model_validate(doc.data)
    except ValidationError as exc:
        problems = problems_from(exc, doc)
        raise InputInvalid(f"The case study {Path(path).name} has {len(problems)} invalid field(s).",
                           problems) from None


def case_studies(context: str | None = None, folder: Path = CASE_STUDIES) -> dict[str, CaseStudy]:
    """Every case study by name (the file's stem), optionally those of one context."""
    found = {p.stem: read_case_study(p) for p in sorted(folder.glob("*.yaml"))}
    return {name: cs for name, cs in found.items() if context in (None, cs.context)}


def case_study(name: str, folder: Path = CASE_STUDIES) -> CaseStudy:
    return read_case_study(_path(name, folder))


def moved_to_today(study: CaseStudy, today: dt.date | None = None) -> CaseStudy:
    """The case study assessed today: every date moved by the days from its assessment date to
    today, so the intervals the rules judge are kept (a review a week after the start, a
    certificate expired a month before) and a review meant to be ahead is ahead. For the web
    pages and `dtpa seed`'s demonstration store: the golden tests decide the files as written."""
    today = today or dates.today()
    assessment = study.assessment
    moved = _moved(assessment.model_dump(), today - assessment.assessed_on)
    with dates.today_is(today):
        return study.model_copy(update={"assessment": type(assessment).model_validate(moved)})


def _moved(value: Any, by: dt.timedelta) -> Any:
    if isinstance(value, dt.date):
        return value + by
    if isinstance(value, dict):
        return {k: _moved(v, by) for k, v in value.items()}
    if isinstance(value, list):
        return [_moved(v, by) for v in value]
    return value


def case_study_story(name: str, folder: Path = CASE_STUDIES) -> str:
    """The comment at the top of the file, which tells the story in plain words."""
    lines = []
    for line in _path(name, folder).read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    return " ".join(line for line in lines if line)


def _path(name: str, folder: Path) -> Path:
    # A name, never a path: a case study is only ever one of the library's own files.
    path = folder / f"{name}.yaml"
    if "/" in name or "\\" in name or name.startswith(".") or not path.is_file():
        raise RecordNotFound(f"no case study called {name!r}")
    return path
