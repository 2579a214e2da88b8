"""The audit PDF of one decision record (reportlab), tagged, with the record attached as JSON.

Sections (each bookmarked and a heading in the structure tree): cover, verdicts, findings,
conditions, open questions, answers marked not applicable, what would change this decision,
sign-offs and overrides, audit trail, verification. Fonts are embedded DejaVu; every page is
numbered and carries the record id (a running footer, tagged as an artifact). Tables are real
tables (header cells with their scope); lists are lists (engine/export/tagged.py).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypedDict

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)

from engine import __version__
from engine.decide.wording import (
    CONTEXT_WORDS,
    OUTCOME_WORDS,
    VERDICT_WORDS,
    outcome_line,
    product_conditions_heading,
    product_source_words,
)
from engine.export.checkpoint_text import checkpoint_lines
from engine.export.structure import finish
from engine.export.tagged import (
    Node,
    TaggedCanvas,
    TaggedParagraph,
    TaggedTable,
    artifact,
    bullet_list,
    tagged_table,
)
from engine.export.text import BOLD, FONT, MONO, para, register_fonts
from engine.models.record import DecisionRecord

# Streams (pages, fonts, the easy read's pictures) written as binary Flate, not ASCII85 text on
# top: a quarter smaller, and reportlab's pure-Python ASCII85 encoder was most of the time an easy
# read took to draw its pictures.
rl_config.useA85 = 0

ATTACHMENT = "decision_record.json"
GOVERNANCE = "governance.json"
HASH_KEY = "/DTPARecordSHA256"
ID_KEY = "/DTPARecordId"


# A record decided before owners and due dates were sealed (schema 1.2) does not carry them;
# they are not made up from today's profile.
NOT_RECORDED = "not recorded"


class SignoffEntry(TypedDict):
    name: str
    role: str
    signed_at: str  # ISO 8601, UTC
    attestations: dict[str, bool]
    comment: str | None


class OverrideEntry(TypedDict):
    target: str  # a principle or area id, or "outcome"
    engine: str  # what the engine decided
    to: str  # what it was overridden to
    by: str
    role: str
    reason: str
    at: str  # ISO 8601, UTC


class EventEntry(TypedDict):
    seq: int
    at: str  # ISO 8601, UTC
    action: str
    actor: str
    role: str
    hash: str


class ConditionEntry(TypedDict):
    """A condition's owner and due date as sealed into the record (or NOT_RECORDED)."""

    rule: str
    owner: str
    due: str
    target: str
    remedy: str


@dataclass
class Governance:
    """What the store knows about a record beyond the record itself (all optional)."""

    record_id: str | None = None
    decided_by: str | None = None
    status: str | None = None
    effective_outcome: str | None = None
    signoffs: list[SignoffEntry] = field(default_factory=list)
    overrides: list[OverrideEntry] = field(default_factory=list)
    events: list[EventEntry] = field(default_factory=list)
    conditions: list[ConditionEntry] = field(default_factory=list)  # rule, owner, due (sealed)

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    base = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=13, alignment=TA_LEFT,
                          splitLongWords=True)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10),
        "mono": ParagraphStyle("mono", parent=base, fontName=MONO, fontSize=7.5, leading=9.5),
        "h1": ParagraphStyle("h1", parent=base, fontName=BOLD, fontSize=15, leading=19,
                             spaceBefore=6, spaceAfter=6, textColor=colors.HexColor("#005eb8")),
        "h2": ParagraphStyle("h2", parent=base, fontName=BOLD, fontSize=10.5, leading=14,
                             spaceBefore=8, spaceAfter=2),
        "outcome": ParagraphStyle("outcome", parent=base, fontName=BOLD, fontSize=13, leading=17,
                                  spaceBefore=6, spaceAfter=6),
    }


# reportlab ships no type stubs, so SimpleDocTemplate is Any to mypy.
class _Doc(SimpleDocTemplate):  # type: ignore[misc]
    """Adds a bookmark (outline entry) for every heading as it is laid out."""

    def afterFlowable(self, flowable: Flowable) -> None:  # noqa: N802 - reportlab's hook name
        if isinstance(flowable, Paragraph) and flowable.style.name in ("h1", "h2"):
            level = 0 if flowable.style.name == "h1" else 1
            key = f"h{id(flowable)}"
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(flowable.getPlainText()[:120], key, level=level, closed=True)


def table(rows: list[list[Any]], widths: list[float], style: dict[str, ParagraphStyle],
           head: bool = True) -> TaggedTable:
    """A data table: with `head`, the first row names the columns (header cells, repeated on
    each page); without it, the first column names each row (a label | value table)."""
    table = tagged_table([[para(c, 600) for c in row] for row in rows], widths, style["small"],
                         header_row=head, header_column=not head)
    commands = [("GRID", (0, 0), (-1, -1), 0.3, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("FONTNAME", (0, 0), (-1, -1), FONT)]  # else the table sets up base-14 Helvetica
    commands.append(("BACKGROUND", (0, 0), (-1, 0) if head else (0, -1), colors.HexColor("#e8edee")))
    table.setStyle(TableStyle(commands))
    return table


def heading(text: str, style: ParagraphStyle, level: int) -> TaggedParagraph:
    """A heading (H1 ... H6) in the structure tree; `style` is how it looks."""
    return TaggedParagraph(text, style, role=f"H{min(level, 6)}")


def p(text: str, style: ParagraphStyle) -> TaggedParagraph:
    """A paragraph (P) of markup-safe text."""
    return TaggedParagraph(text, style)


def story(record: DecisionRecord, gov: Governance, s: dict[str, ParagraphStyle],
          depth: int = 0) -> list[Flowable]:
    """The flowables of one record (also used for each record of a bundle, one heading level
    down: depth 1). Its title is a heading of level 1 + depth, its sections 2 + depth."""
    out: list[Flowable] = []
    ctx = record.record_type
    sub = record.subject
    title, section, sub_section = 1 + depth, 2 + depth, 3 + depth
    out.append(heading(para(f"{CONTEXT_WORDS[ctx]}: {record.title or sub.product}"), s["h1"], title))
    out.append(p(para(outcome_line(record)), s["outcome"]))
    out.append(p(para(f"Because: {record.outcome_reason}"), s["body"]))
    if gov.effective_outcome and gov.effective_outcome != record.outcome:
        out.append(p(para(f"Outcome in force after override: {gov.effective_outcome} "
                          f"(the engine decided {record.outcome})"), s["body"]))
    subject = f"{sub.product}" + (f", version {sub.version}" if sub.version else "") + \
        (f" ({sub.vendor})" if sub.vendor else "")
    cover = [["Record", gov.record_id or "not stored"], ["Subject", subject]]
    if sub.patient_reference:
        cover.append(["Patient (pseudonymous)", f"{sub.patient_reference}"
                      + (f", {sub.ward}" if sub.ward else "")])
    if record.relies_on:
        cover.append(["Relies on product decision", record.relies_on])
    sentence, details = product_source_words(record)
    if sentence:
        cover.append(["Product facts", " ".join([sentence, *(f"{k}: {v}." for k, v in details)])])
    if ctx == "individual_use":
        cover.append(["Legal route recorded", record.legal_route or "none"])
    cover += [["Assessed on", str(record.assessed_on)],
              ["Evaluated at", record.evaluated_at.isoformat()],
              ["Review by", f"{record.review_date or '-'} ({record.review_basis or ''})"],
              ["Decided by", gov.decided_by or "-"],
              ["Status", gov.status or "not stored"],
              ["Signed by", "; ".join(f"{x['name']} ({x['role']}, {x['signed_at'][:10]})"
                                      for x in gov.signoffs) or "nobody yet"],
              ["Rule pack", f"{record.rule_pack.name} {record.rule_pack.version}, "
                            f"profile {record.rule_pack.profile}"],
              ["Rule pack SHA-256", record.rule_pack.hash],
              ["Input SHA-256", record.input_hash],
              ["Record SHA-256", record.record_hash]]
    out.append(Spacer(1, 4))
    out.append(table(cover, [45 * mm, 125 * mm], s, head=False))
    if record.scope_note:
        out += [Spacer(1, 4), p(para(record.scope_note), s["body"])]
    out += _product_conditions(record, s, section) + _not_judged(record, s, section)

    out.append(heading("Verdicts by principle and practice area", s["h1"], section))
    overridden = {o["target"]: o for o in gov.overrides}
    rows = [["", "Principle or practice area", "Verdict", "Why"]]
    for v in record.verdicts:
        verdict = VERDICT_WORDS[v.verdict]
        if v.target in overridden:
            o = overridden[v.target]
            verdict += f" (overridden to {VERDICT_WORDS.get(o['to'], o['to'])} by {o['by']})"
        rows.append([v.target, v.name, verdict, v.reason])
    out.append(table(rows, [12 * mm, 48 * mm, 35 * mm, 75 * mm], s))

    out.append(heading(f"Findings ({len(record.findings)})", s["h1"], section))
    if not record.findings:
        out.append(p("No rule found a problem.", s["body"]))
    for f in record.findings:
        out.append(heading(para(f"{f.rule_id}: {f.title}"), s["h2"], sub_section))
        out.append(p(para(f"Severity: {f.severity}. Serves: " + ", ".join([*f.principles, *f.areas])
                          + f". Basis: {f.basis}"), s["small"]))
        out.append(p(f"<b>Why.</b> {para(f.finding)}", s["body"]))
        out.append(p(f"<b>Remedy.</b> {para(f.remedy)}", s["body"]))
        for citation in f.citations:
            cite = citation.title + (f", {citation.section}" if citation.section else "") \
                + (f". {citation.url}" if citation.url else "")
            out.append(p("Cites: " + para(cite), s["small"]))

    out.append(heading(f"Conditions ({len(record.conditions)})", s["h1"], section))
    rows = [["Rule", "What must be done", "Owner", "Due"]]
    for c in record.conditions:  # owner and due date as sealed when it was decided
        rows.append([c.rule_id, c.remedy, c.owner or NOT_RECORDED, str(c.due or NOT_RECORDED)])
    out.append(table(rows, [22 * mm, 82 * mm, 42 * mm, 24 * mm], s) if record.conditions
               else p("None.", s["body"]))

    out.append(heading(f"Open questions ({len(record.open_questions)})", s["h1"], section))
    for q in record.open_questions:
        out.append(p(para(f"{q.question} ({q.fact}; needed by {', '.join(q.rule_ids)}; "
                          f"{', '.join(q.targets)})"), s["body"]))
    if not record.open_questions:
        out.append(p("None: every question the rules need was answered.", s["body"]))

    out.append(heading(f"Answered not applicable ({len(record.not_applicable)})", s["h1"], section))
    for na in record.not_applicable:
        out.append(p(para(f"{na.question} ({na.fact}): {na.reason}"), s["body"]))
    if not record.not_applicable:
        out.append(p("None.", s["body"]))

    out.append(heading("What would change this decision", s["h1"], section))
    for step in record.what_would_change:
        out.append(heading(para(f"From {step.from_outcome} to {step.to_outcome} (proven by "
                                f"re-evaluation, record {step.proof_record_hash[:16]}...):"),
                           s["h2"], sub_section))
        for r in step.remedies:
            out.append(p(para(f"{r.rule_id}: {r.remedy}"), s["body"]))
    if record.what_would_not_change:
        out.append(p(para(record.what_would_not_change), s["body"]))
    if not record.what_would_change and not record.what_would_not_change:
        out.append(p("Nothing: the decision is as favourable as it can be.", s["body"]))

    out.append(heading("Sign-offs and overrides", s["h1"], section))
    for x in gov.signoffs:
        out.append(p(para(f"{x['name']} ({x['role']}) signed on {x['signed_at']}, attesting: "
                          + ", ".join(k for k, v in x["attestations"].items() if v)
                          + (f". Comment: {x['comment']}" if x.get("comment") else "")), s["body"]))
    for o in gov.overrides:
        out.append(p(para(f"{o['by']} ({o['role']}) overrode {o['target']} on {o['at']}: "
                          f"the engine said {o['engine']}, now {o['to']}. Reason: "
                          f"{o['reason']}"), s["body"]))
    if not gov.signoffs and not gov.overrides:
        out.append(p("None recorded.", s["body"]))

    out.append(heading(f"Audit trail ({len(gov.events)} events)", s["h1"], section))
    rows = [["#", "When (UTC)", "Action", "Who", "Event hash"]]
    rows += [[str(e["seq"]), e["at"][:19], e["action"], f"{e['actor']} ({e['role']})",
              e["hash"][:16] + "..."] for e in gov.events]
    out.append(table(rows, [10 * mm, 36 * mm, 24 * mm, 60 * mm, 40 * mm], s) if gov.events
               else p("Not stored: no audit trail.", s["body"]))
    return out


def _product_conditions(record: DecisionRecord, s: dict[str, ParagraphStyle],
                        level: int) -> list[Flowable]:
    """The stored product decision's own conditions, by name (only when it was read)."""
    if record.product_source is None or record.product_source.kind != "store":
        return []
    out: list[Flowable] = [heading(para(product_conditions_heading(record)), s["h2"], level)]
    if record.product_conditions:
        out.append(table([["Rule", "Condition of the product decision"]]
                         + [[c.rule_id, c.title] for c in record.product_conditions],
                         [30 * mm, 140 * mm], s))
    return out


def _not_judged(record: DecisionRecord, s: dict[str, ParagraphStyle], level: int) -> list[Flowable]:
    if not record.not_judged:
        return []
    return [heading("What DTPA does not judge", s["h2"], level),
            *bullet_list([para(item) for item in record.not_judged], s["small"], 4 * mm)]


def verification_story(record: DecisionRecord, s: dict[str, ParagraphStyle],
                       depth: int = 0) -> list[Flowable]:
    return [
        heading("Verification", s["h1"], 2 + depth),
        p(para(
            f"The machine-readable decision record is attached to this PDF as {ATTACHMENT}. Its "
            "SHA-256 over the canonical JSON of every field except record_hash must equal the "
            "record hash below, which is also stored in this document's metadata "
            f"({HASH_KEY[1:]}). DTPA signs this PDF digitally (PAdES) with the deployment's "
            "certificate as the last step of the export, so a change to any page breaks the "
            "signature. Run `dtpa verify-pdf FILE` to check the signature and the hash and, with "
            "the store configured, to compare it with the stored record and audit chain."), s["body"]),
        p(para(f"Record SHA-256: {record.record_hash}", break_words=False), s["mono"]),
        p(para(f"Input SHA-256: {record.input_hash}", break_words=False), s["mono"]),
        p(para(f"Rule pack SHA-256: {record.rule_pack.hash}", break_words=False), s["mono"]),
        p(para(f"Profile SHA-256: {record.rule_pack.profile_hash}", break_words=False), s["mono"]),
        *(p(para(line, break_words=False), s["mono"]) for line in checkpoint_lines()),
    ]


def _footer(label: str, size: float) -> Callable[[Canvas, BaseDocTemplate], None]:
    def draw(canvas: Canvas, doc: BaseDocTemplate) -> None:
        with artifact(canvas, "Pagination"):  # a running footer is not content to read
            canvas.saveState()
            canvas.setFont(FONT, size)
            canvas.drawString(15 * mm, 10 * mm, label[:110])
            canvas.drawRightString(195 * mm, 10 * mm, f"page {doc.page}")
            canvas.restoreState()
    return draw


@dataclass
class Drawn:
    """A PDF as reportlab drew it, with the structure its marked content belongs to."""

    pdf: bytes
    structure: Node
    title: str


def build(flowables: list[Flowable], title: str, author: str, subject: str, footer: str,
          invariant: bool = False, footer_size: float = 7.5) -> Drawn:
    buffer = io.BytesIO()
    doc = _Doc(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
               bottomMargin=18 * mm, title=title, author=author, subject=subject,
               creator=f"DTPA {__version__}", keywords=["DTPA", "decision record", "NHS"],
               invariant=int(invariant), initialFontName=FONT)  # no base-14 Helvetica resource
    canvases: list[TaggedCanvas] = []

    def canvas(*args: Any, **kwargs: Any) -> TaggedCanvas:
        canvases.append(TaggedCanvas(*args, **kwargs))
        return canvases[-1]

    doc.build(flowables, onFirstPage=_footer(footer, footer_size),
              onLaterPages=_footer(footer, footer_size), canvasmaker=canvas)
    return Drawn(buffer.getvalue(), canvases[-1].structure, title)


def attach(drawn: Drawn, files: dict[str, bytes], metadata: dict[str, str]) -> bytes:
    """The drawn PDF with its structure tree, language and title, and `files` attached (the
    last step before it is signed)."""
    return finish(drawn.pdf, drawn.structure, drawn.title, files, metadata)


def audit_pdf(record: DecisionRecord, gov: Governance | None = None, invariant: bool = False) -> bytes:
    gov = gov or Governance()
    s = styles()
    flowables = story(record, gov, s) + [PageBreak()] + verification_story(record, s)
    label = f"DTPA decision record {gov.record_id or ''} · record SHA-256 {record.record_hash[:16]}…"
    pdf = build(flowables, title=f"DTPA decision record {gov.record_id or record.subject.product}",
                author=gov.decided_by or "DTPA", subject=OUTCOME_WORDS[record.record_type][record.outcome],
                footer=label, invariant=invariant)
    return attach(pdf, {ATTACHMENT: record_json_bytes(record),
                        GOVERNANCE: json.dumps(gov.as_json(), indent=2, ensure_ascii=False).encode()},
                  {HASH_KEY: record.record_hash, ID_KEY: gov.record_id or "",
                   "/DTPAExportedAt": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")})


def record_json_bytes(record: DecisionRecord) -> bytes:
    return json.dumps(record.model_dump(mode="json"), indent=2, ensure_ascii=False).encode("utf-8")
