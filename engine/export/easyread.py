"""The easy-read summary as a tagged PDF: large type (16 pt, headings 20 and 26 pt), one
sentence to a line, and a picture beside each point, drawn before its text so that a screen
reader meets the picture's alternative text first. What it says is in easyread_words.py; the
web page of the same summary is easyread_html.py.
"""

from __future__ import annotations

from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable

from engine.export.easyread_words import Point, Summary, sentences, summary
from engine.export.pdf import (
    ATTACHMENT,
    HASH_KEY,
    ID_KEY,
    attach,
    build,
    heading,
    p,
    record_json_bytes,
)
from engine.export.pictures import CREDIT, picture
from engine.export.tagged import Picture, bullet_list
from engine.export.text import BOLD, FONT, para, register_fonts
from engine.models.record import DecisionRecord

PICTURE = 20 * mm  # each picture's width and height
GAP = 6 * mm  # between a picture and its text
BODY_SIZE = 16  # points: easy-read guidance asks for at least 14


def _styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    body = ParagraphStyle("er", fontName=FONT, fontSize=BODY_SIZE, leading=23, spaceAfter=4)
    return {"body": body,
            "item": ParagraphStyle("item", parent=body, spaceAfter=2),
            "credit": ParagraphStyle("credit", parent=body, fontSize=14, leading=20,
                                     spaceBefore=14),
            "h1": ParagraphStyle("h1", parent=body, fontName=BOLD, fontSize=26, leading=32,
                                 spaceAfter=12),
            "h2": ParagraphStyle("h2", parent=body, fontName=BOLD, fontSize=20, leading=26,
                                 spaceBefore=12, spaceAfter=8, keepWithNext=1)}


class PointRow(Flowable):  # type: ignore[misc]  # reportlab ships no type information
    """A picture on the left and its point's sentences on the right, kept together on a page."""

    def __init__(self, image: Picture, body: list[Flowable]) -> None:
        super().__init__()
        self.image, self.body = image, body
        self._placed: list[tuple[Flowable, float]] = []

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        text_width = availWidth - PICTURE - GAP
        y, self._placed = 0.0, []
        for i, flowable in enumerate(self.body):
            _, height = flowable.wrap(text_width, availHeight)
            y += (flowable.getSpaceBefore() if i else 0) + height
            self._placed.append((flowable, y))
            y += flowable.getSpaceAfter() if i < len(self.body) - 1 else 0
        self.width, self.height = availWidth, max(y, PICTURE)
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:  # noqa: N803
        return []  # never split a point from its picture: it moves to the next page whole

    def getSpaceAfter(self) -> float:  # noqa: N802 - reportlab's name
        return 12.0

    def draw(self) -> None:
        self.image.drawOn(self.canv, 0, self.height - PICTURE)
        for flowable, bottom in self._placed:
            flowable.drawOn(self.canv, PICTURE + GAP, self.height - bottom)


def _row(point: Point, s: dict[str, ParagraphStyle]) -> PointRow:
    chosen = picture(point.picture)
    body: list[Flowable] = [p(para(sentence), s["body"]) for sentence in sentences(point.text)]
    if point.items:
        body += bullet_list([para(item) for item in point.items], s["item"], 8 * mm)
    return PointRow(Picture(chosen.path, PICTURE, PICTURE, chosen.alt), body)


def story(words: Summary, s: dict[str, ParagraphStyle]) -> list[Flowable]:
    out: list[Flowable] = [heading(para(words.title), s["h1"], 1)]
    for section in words.sections:
        out.append(heading(para(section.heading), s["h2"], 2))
        out += [_row(point, s) for point in section.points]
    out.append(p(para(CREDIT), s["credit"]))
    return out


def easy_read_pdf(record: DecisionRecord, assessment: dict[str, Any], invariant: bool = False,
                  record_id: str | None = None) -> bytes:
    words = summary(record, assessment)
    drawn = build(story(words, _styles()), title=f"Easy read: {words.product}", author="DTPA",
                  subject="Easy-read summary of a decision about your care",
                  footer=f"Easy read · {words.patient_reference or ''}", invariant=invariant,
                  footer_size=14)
    return attach(drawn, {ATTACHMENT: record_json_bytes(record)},
                  {HASH_KEY: record.record_hash, ID_KEY: record_id or ""})
