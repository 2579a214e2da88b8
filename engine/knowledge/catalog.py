"""The principles catalogue (`principles/*.yaml`): principles, practice areas, Culture of Care
commitments, scope and sources, each in the project's own words with citations and an honest
provenance flag. Loaded and validated with pydantic; problems are reported as `file:line`.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from engine.errors import Problem, RulesInvalid
from engine.hashing import sha256_bytes
from engine.knowledge.validation import problems_from
from engine.knowledge.yamlio import YamlDocument, YamlProblem, read_document

# Where a statement comes from, said honestly.
#   nhse_stated:   the NHS England principles document says it (text we could read)
#   nhse_reported: a named secondary source reports the NHS England document says it
#   statute:       an Act or regulation (HRA 1998, MCA 2005, UK GDPR, Equality Act 2010 ...)
#   regulator_guidance: CQC, ICO, NICE or NHS England guidance other than the principles
#   good_practice: professional or trust practice; a reasoned reading, not a requirement
Provenance = Literal["nhse_stated", "nhse_reported", "statute", "regulator_guidance", "good_practice"]
# The catalogue files define which principles and practice areas exist; rules, profiles and
# verdicts take them from the loaded catalogue. Only the Culture of Care's twelve are fixed here.
COMMITMENT_IDS = tuple(f"CoC{i}" for i in range(1, 13))

Prose = Annotated[str, StringConstraints(strip_whitespace=True, min_length=10)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Citation(_Strict):
    ref: str = Field(description="Id of a source, principle, practice area or commitment")
    section: str | None = None


class Statement(_Strict):
    text: Prose
    provenance: Provenance
    citations: list[Citation] = Field(min_length=1)


class Source(_Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]+$")]
    title: Prose
    publisher: str
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")]
    date: str | None = Field(default=None, description="Publication date (ISO, or year)")
    kind: Literal["nhse", "statute", "regulator", "secondary", "campaign", "vendor", "trust", "research"]
    note: str | None = None


class Principle(_Strict):
    id: Annotated[str, StringConstraints(pattern=r"^P[1-9][0-9]*$")]
    title: str
    summary: Prose
    provenance: Provenance
    citations: list[Citation] = Field(min_length=1)
    expectations: list[Statement] = Field(min_length=1)
    commitments: list[str] = Field(default_factory=list)


class PracticeArea(_Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,5}$")]
    title: str
    summary: Prose
    provenance: Provenance
    citations: list[Citation] = Field(min_length=1)
    expectations: list[Statement] = Field(min_length=1)


class Commitment(_Strict):
    id: str
    number: int = Field(ge=1, le=12)
    title: str
    summary: Prose
    provenance: Provenance
    citations: list[Citation] = Field(min_length=1)


class Scope(_Strict):
    summary: Prose
    settings: list[Statement] = Field(min_length=1)
    covered: list[Statement] = Field(min_length=1)
    excluded: list[Statement] = Field(min_length=1)
    excluded_categories: list[str] = Field(min_length=1)
    still_worth_applying: list[str] = Field(
        description="Principles worth applying even to out-of-scope tools"
    )
    out_of_scope_note: Prose


class CatalogueHeader(_Strict):
    name: str
    version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+$")]
    description: Prose
    limitations: list[Prose] = Field(default_factory=list)


class Catalogue(_Strict):
    header: CatalogueHeader
    sources: dict[str, Source]
    principles: dict[str, Principle]
    areas: dict[str, PracticeArea]
    commitments: dict[str, Commitment]
    scope: Scope
    content_hash: str

    def name_of(self, ref: str) -> str:
        for table in (self.principles, self.areas, self.commitments):
            if ref in table:
                return table[ref].title
        if ref in self.sources:
            return self.sources[ref].title
        raise KeyError(ref)

    @cached_property
    def targets(self) -> dict[str, str]:
        """Principles and practice areas in order, id -> title: what verdicts are given on.
        (Computed once: decisions read it for every principle of every evaluation.)"""
        return {**{k: p.title for k, p in self.principles.items()},
                **{k: a.title for k, a in self.areas.items()}}

    def all_ids(self) -> set[str]:
        return set(self.sources) | set(self.principles) | set(self.areas) | set(self.commitments)


M = TypeVar("M", bound=BaseModel)


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


E = TypeVar("E", bound=_HasId)


class _Reader:
    """Reads the catalogue files one after another, collecting every problem and the digest of
    the files' content."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.problems: list[Problem] = []
        self.digest: list[str] = []

    def one(self, filename: str, key: str, model: type[M]) -> M | None:
        """A file whose top-level `key` is one mapping (the catalogue header, the scope)."""
        before = len(self.problems)
        found = self._read(filename, key, model)
        if found is None:
            return None
        doc, value = found
        if not isinstance(value, list):
            return value
        if len(self.problems) == before:  # a list of valid entries where one mapping belongs
            self._misshapen(doc, key, "a mapping")
        return None

    def many(self, filename: str, key: str, model: type[M]) -> list[M] | None:
        """A file whose top-level `key` is a list of entries (sources, principles ...)."""
        found = self._read(filename, key, model)
        if found is None:
            return None
        doc, value = found
        if isinstance(value, list):
            return value
        self._misshapen(doc, key, "a list")  # one valid entry where a list belongs
        return None

    def _read(self, filename: str, key: str,
              model: type[M]) -> tuple[YamlDocument, M | list[M]] | None:
        """The file's `key` validated: a list item by item, anything else as one `model`;
        None when the file cannot be read or the value is not valid (the problems are kept)."""
        path = self.folder / filename
        try:
            doc = read_document(path)
        except YamlProblem as exc:
            self.problems.append(exc.problem)
            return None
        self.digest.append(filename + ":" + sha256_bytes(path.read_bytes()))
        data = doc.data if isinstance(doc.data, dict) else {}
        if key not in data:
            self.problems.append(Problem(doc.path, 1, f"expected a top-level `{key}:`"))
            return None
        if isinstance(data[key], list):
            items: list[M] = []
            for i, raw in enumerate(data[key]):
                try:
                    items.append(model.model_validate(raw))
                except ValidationError as exc:
                    self.problems.extend(problems_from(exc, doc, (key, i)))
            return doc, items
        try:
            return doc, model.model_validate(data[key])
        except ValidationError as exc:
            self.problems.extend(problems_from(exc, doc, (key,)))
            return None

    def _misshapen(self, doc: YamlDocument, key: str, shape: str) -> None:
        self.problems.append(Problem(doc.path, doc.line_of((key,)), f"`{key}:` must be {shape}"))


def load_catalogue(folder: Path) -> Catalogue:
    """Load and cross-check every catalogue file; raise RulesInvalid listing all problems."""
    reader = _Reader(folder)
    header = reader.one("catalogue.yaml", "catalogue", CatalogueHeader)
    sources = reader.many("sources.yaml", "sources", Source)
    principles = reader.many("principles.yaml", "principles", Principle)
    areas = reader.many("practice_areas.yaml", "areas", PracticeArea)
    commitments = reader.many("culture_of_care.yaml", "commitments", Commitment)
    scope = reader.one("scope.yaml", "scope", Scope)
    problems = reader.problems
    if (problems or header is None or sources is None or principles is None or areas is None
            or commitments is None or scope is None):  # each None comes with its problem
        raise RulesInvalid("The principles catalogue is invalid.", problems)

    def by_id(items: list[E], what: str, file: str) -> dict[str, E]:
        table: dict[str, E] = {}
        for item in items:
            if item.id in table:
                problems.append(Problem(str(folder / file), None, f"duplicate {what} id {item.id}"))
            table[item.id] = item
        return table

    cat = Catalogue(
        header=header,
        sources=by_id(sources, "source", "sources.yaml"),
        principles=by_id(principles, "principle", "principles.yaml"),
        areas=by_id(areas, "practice area", "practice_areas.yaml"),
        commitments=by_id(commitments, "commitment", "culture_of_care.yaml"),
        scope=scope,
        content_hash=sha256_bytes("\n".join(reader.digest).encode()),
    )
    problems.extend(_cross_check(cat, folder))
    if problems:
        raise RulesInvalid("The principles catalogue is invalid.", problems)
    return cat


def _cross_check(cat: Catalogue, folder: Path) -> list[Problem]:
    out: list[Problem] = []
    # Principles are numbered from P1 without gaps, in order; areas must not reuse an id.
    numbers = [int(p[1:]) for p in cat.principles]
    want_principles = tuple(f"P{i}" for i in range(1, max(numbers, default=0) + 1))
    if list(cat.principles) != list(want_principles) and not set(want_principles) - set(cat.principles):
        out.append(Problem(str(folder / "principles.yaml"), None,
                           "principles must be listed in order: " + ", ".join(want_principles)))
    for clash in sorted(set(cat.areas) & {*cat.principles, "SCOPE"}):
        out.append(Problem(str(folder / "practice_areas.yaml"), None,
                           f"practice area id {clash} is already used"))
    for want, have, file in ((want_principles, cat.principles, "principles.yaml"),
                             (COMMITMENT_IDS, cat.commitments, "culture_of_care.yaml")):
        missing = [i for i in want if i not in have]
        extra = [i for i in have if i not in want]
        if missing:
            out.append(Problem(str(folder / file), None, f"missing entries: {', '.join(missing)}"))
        if extra:
            out.append(Problem(str(folder / file), None, f"unexpected entries: {', '.join(extra)}"))
    known = cat.all_ids()
    entries: list[Principle | PracticeArea | Commitment] = [
        *cat.principles.values(), *cat.areas.values(), *cat.commitments.values()]
    for entry in entries:
        cites = list(entry.citations)
        for st in getattr(entry, "expectations", []):
            cites.extend(st.citations)
        for c in cites:
            if c.ref not in known:
                out.append(Problem(str(folder), None, f"{entry.id} cites unknown source {c.ref!r}"))
        for ref in getattr(entry, "commitments", []):
            if ref not in cat.commitments:
                out.append(Problem(str(folder), None, f"{entry.id} names unknown commitment {ref!r}"))
    for p in cat.scope.still_worth_applying:
        if p not in cat.targets:
            out.append(Problem(str(folder / "scope.yaml"), None, f"unknown principle {p!r}"))
    for st in [*cat.scope.settings, *cat.scope.covered, *cat.scope.excluded]:
        for c in st.citations:
            if c.ref not in known:
                out.append(Problem(str(folder / "scope.yaml"), None, f"cites unknown source {c.ref!r}"))
    return out

