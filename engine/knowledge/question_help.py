"""Plain-English help for each question the forms ask (principles/question_help.yaml): one
sentence saying what the question means and why it matters, with the sources of any fact of law
or guidance it states. Wording only: the rules never read it, so it is not part of the rule
pack's hash. A missing or broken file is an error naming the file and line, like any other
knowledge file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.errors import Problem, RulesInvalid
from engine.knowledge.yamlio import YamlProblem, read_document
from engine.settings import settings

HELP_FILE = "question_help.yaml"
MAX_WORDS = 35  # one sentence a person reads in a tooltip


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HelpSource(_Strict):
    """A source cited by help text that the catalogue's sources.yaml does not hold."""

    id: str
    title: str
    publisher: str
    url: str
    note: str | None = None


class HelpEntry(_Strict):
    explain: str = Field(min_length=10)
    sources: tuple[str, ...] = ()


class HelpFile(_Strict):
    sources: list[HelpSource] = Field(default_factory=list)
    questions: dict[str, HelpEntry]


@dataclass(frozen=True)
class QuestionHelp:
    explain: dict[str, str]  # question path -> its help sentence
    sources: dict[str, tuple[str, ...]]  # question path -> the source ids it cites
    own_sources: dict[str, HelpSource]  # sources listed in the help file itself


def help_path(folder: Path | None = None) -> Path:
    return Path(folder or settings().principles_dir) / HELP_FILE


def question_help(folder: Path | None = None) -> QuestionHelp:
    """The help of every question, read once per file version (a changed file is read again)."""
    path = help_path(folder)
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError:
        raise RulesInvalid(f"{path}: the questions' help file is missing",
                           [Problem(str(path), None, "file not found")]) from None
    return _read(str(path), stamp)


@lru_cache(maxsize=4)
def _read(path: str, stamp: int) -> QuestionHelp:
    try:
        document = read_document(Path(path))
        parsed = HelpFile.model_validate(document.data)
    except YamlProblem as exc:
        raise RulesInvalid(str(exc.problem), [exc.problem]) from None
    except ValidationError as exc:
        problems = [Problem(path, document.line_of(tuple(e["loc"])), e["msg"]) for e in exc.errors()]
        raise RulesInvalid(f"{path}: {len(problems)} problem(s) in the questions' help",
                           problems) from None
    return QuestionHelp(
        explain={p: " ".join(e.explain.split()) for p, e in parsed.questions.items()},
        sources={p: e.sources for p, e in parsed.questions.items()},
        own_sources={s.id: s for s in parsed.sources})
