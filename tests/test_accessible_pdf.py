"""Every document DTPA writes, read as a machine would (issue 14): the audit PDF, a bundle and
the easy-read summary are tagged PDFs whose structure tree marks all content, with headings in
order, tables with header cells, lists, figures with alternative text, the language and the
title; they still carry their record and verify once signed. The easy read keeps its sentences
short, its type large and a picture beside each point, in the PDF and in the web page."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pdfplumber
import pytest
import yaml
from pypdf import PdfReader
from typer.testing import CliRunner

from engine import service
from engine.cli import app
from engine.export import easyread_words
from engine.export.easyread_words import sentences, summary
from engine.export.pdf import ATTACHMENT, EventEntry, Governance, audit_pdf
from engine.export.pictures import FOLDER, MAPPING, points
from engine.export.verify import verify_pdf
from engine.store import Database, Store
from tests.conftest import ALL_ATTESTATIONS, load_case
from tests.tagged_pdf import heading_problems, parent_tree_problems, read, table_problems

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "accessible"
runner = CliRunner()
EASY_READ_SECTIONS = ["What is it?", "Why?", "What does it see and keep?", "Who can look?",
                      "Can I say no?", "What did the team decide?",
                      "When will we look at it again?", "Who can help me?", "How can I complain?"]
AUDIT_SECTIONS = ["Verdicts by principle and practice area", "Findings (", "Conditions (",
                  "Open questions (", "Answered not applicable (", "What would change this decision",
                  "Sign-offs and overrides", "Audit trail (", "Verification"]
INDIVIDUAL = [name for name in service.case_studies("individual_use")]
MAX_WORDS, MEAN_WORDS = 15, 10  # per sentence, over every individual-use case study


@dataclass
class Documents:
    pdfs: dict[str, Path]  # every kind of PDF DTPA writes, signed as exported
    store: Store
    keys: Path  # the key folder they were signed with (and the audit key)
    individual_id: str


@pytest.fixture(scope="module")
def documents(tmp_path_factory) -> Documents:
    """A store with the case studies, a signed-off product record, and each kind of PDF
    exported from it (signed as the DPO would get them)."""
    folder = tmp_path_factory.mktemp("accessible")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DTPA_KEY_DIR", str(folder / "keys"))
        for name in ("DTPA_CHECKPOINT_DIR", "DTPA_CHECKPOINT_EVERY", "DTPA_PDF_SIGNING_PKCS12",
                     "DTPA_PDF_SIGNING_KEY", "DTPA_PDF_SIGNING_CERT"):
            env.delenv(name, raising=False)
        pack = service.default_pack()
        store = Store(Database(f"sqlite:///{folder / 'dtpa.sqlite'}"),
                      required_roles=service.api.signoff_roles(pack),
                      role_rules=pack.profile.role_rules())
        views = dict(zip(service.case_studies(), service.seed_case_studies(store), strict=True))
        product = views["vbm-ward-wide-default"].row.id
        store.sign(product, "Sam Patel", "dpo", ALL_ATTESTATIONS, comment="Checked the DPIA")
        individual = views["detained-refusal-all-elements"].row.id
        exported = {
            "audit-pdf": service.export_stored(product, "pdf", "Sam Patel", "dpo", store)[0],
            "audit-pdf-individual": service.export_stored(individual, "pdf", "Sam Patel", "dpo",
                                                          store)[0],
            "easy-read": service.export_stored(individual, "easy-read", "Sam Patel", "dpo",
                                               store)[0],
            "bundle": service.export_bundle(store.latest(), "DTPA records: all current records",
                                            "Sam Patel", "dpo", store)[0],
            "audit-pdf-unstored": service.export_file(
                ROOT / "case_studies" / "feedback-kiosk.yaml", "pdf")[0],
        }
        pdfs = {}
        for name, data in exported.items():
            pdfs[name] = folder / f"{name}.pdf"
            pdfs[name].write_bytes(data)
        yield Documents(pdfs, store, folder / "keys", individual)
        store.db.dispose()


@pytest.fixture(scope="module")
def tagged(documents):
    return {name: read(path.read_bytes()) for name, path in documents.pdfs.items()}


def _pdftoppm() -> str:
    if not shutil.which("pdftoppm") or not shutil.which("pdfinfo"):
        if os.environ.get("CI") == "true":
            pytest.fail("poppler-utils is not installed: CI must read and render the PDFs")
        pytest.skip("poppler-utils (pdfinfo, pdftoppm) not installed")
    return "pdftoppm"


# --- every document: tagged, language, title --------------------------------------------------

def test_pdfinfo_says_every_document_dtpa_writes_is_tagged(documents):
    _pdftoppm()
    for name, path in documents.pdfs.items():
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
        assert re.search(r"^Tagged:\s+yes$", info.stdout, re.M), (name, info.stdout)


def test_language_title_and_marked_content_are_declared(tagged):
    for name, doc in tagged.items():
        root = doc.pdf.Root
        assert bool(root.MarkInfo.Marked) is True, name
        assert str(root.Lang) == "en-GB", name
        assert bool(root.ViewerPreferences.DisplayDocTitle) is True, name
        title = str(doc.pdf.docinfo["/Title"])
        assert title.startswith(("DTPA", "Easy read")), (name, title)
        assert doc.pdf.open_metadata()["dc:title"] == title, name
        assert "pdfuaid" not in str(doc.pdf.open_metadata()), "PDF/UA is not claimed (ADR 0004)"


def test_the_structure_tree_marks_all_content(tagged):
    for name, doc in tagged.items():
        assert doc.unmarked == [], (name, doc.unmarked[:10])
        assert parent_tree_problems(doc) == [], name
        assert doc.root.role == "/Document" and doc.root.kids, name
        for page, mcids in doc.page_marks.items():
            assert mcids, f"{name}: page {page + 1} has no tagged content"


def test_running_footers_are_artifacts_not_content(tagged):
    doc = tagged["audit-pdf"]
    for page in range(len(doc.pdf.pages)):
        assert f"page {page + 1}" in doc.artifact_text[page]
    assert not any(re.search(r"\bpage \d+\b", e.text) for e in doc.elements("/P"))


# --- headings, tables, lists, figures ------------------------------------------------------------

def test_headings_are_in_order_without_skipping_a_level(tagged, documents):
    for name, doc in tagged.items():
        headings = doc.headings()
        assert heading_problems(headings) == [], name
        assert all(text for _, text in headings), name
    audit = [text for level, text in tagged["audit-pdf"].headings() if level == 2]
    found = [next(i for i, t in enumerate(audit) if t.startswith(s)) for s in AUDIT_SECTIONS]
    assert found == sorted(found), audit
    assert [lvl for lvl, _ in tagged["audit-pdf"].headings()].count(1) == 1
    easy = tagged["easy-read"].headings()
    assert easy[0] == (1, "About the Contactless bedroom monitor")
    assert [t for lvl, t in easy if lvl == 2] == EASY_READ_SECTIONS
    bundle = tagged["bundle"].headings()
    assert bundle[0] == (1, "DTPA records: all current records")
    records = json.loads(PdfReader(documents.pdfs["bundle"]).attachments["bundle.json"][0])
    titles = [t for lvl, t in bundle if lvl == 2]  # each record one level below the bundle
    assert len(titles) == len(records) > 20
    assert {lvl for lvl, t in bundle if t.startswith("Verdicts by principle")} == {3}


def test_tables_have_header_cells_with_a_scope(tagged):
    for name, doc in tagged.items():
        tables = doc.elements("/Table")
        assert tables or name == "easy-read", name
        for table in tables:
            assert table_problems(table) == [], (name, table.all_text()[:80])
    audit = tagged["audit-pdf"]
    verdicts = next(t for t in audit.elements("/Table") if "Principle or practice area" in t.all_text())
    head = verdicts.kids[0].kids
    assert [c.role for c in head] == ["/TH"] * 4
    assert [c.text for c in head] == ["", "Principle or practice area", "Verdict", "Why"]
    assert {c.attribute("/Scope") for c in head} == {"/Column"}
    assert any(r.kids[0].text == "P2" and "not met" in r.kids[2].text for r in verdicts.kids[1:])
    cover = audit.elements("/Table")[0]  # label | value: each row's first cell is its header
    assert all(r.kids[0].role == "/TH" and r.kids[0].attribute("/Scope") == "/Row" and
               r.kids[1].role == "/TD" for r in cover.kids)
    assert "Record SHA-256" in [r.kids[0].text for r in cover.kids]


def test_a_table_over_several_pages_repeats_its_header_as_an_artifact():
    record = service.assess(load_case("vbm-ward-wide-default.yaml"))
    events: list[EventEntry] = [{"seq": i, "at": f"2026-01-01T00:{i % 60:02d}:00+00:00",
                                 "action": "exported", "actor": f"Person {i}", "role": "dpo",
                                 "hash": f"{i:064x}"} for i in range(1, 151)]
    doc = read(audit_pdf(record, Governance(record_id="PRO-1", events=events)))
    trail = next(t for t in doc.elements("/Table") if "Event hash" in t.all_text())
    pages = {page for e in trail.walk() for page, _ in e.marks}
    assert len(pages) >= 3
    assert len(trail.kids) == 151 and [c.role for c in trail.kids[0].kids] == ["/TH"] * 5
    assert table_problems(trail) == []
    for page in sorted(pages)[1:]:  # drawn again on each page, read once
        assert "Event hash" in doc.artifact_text[page]


def test_lists_are_lists(tagged):
    lists = tagged["audit-pdf"].elements("/L") + tagged["easy-read"].elements("/L")
    assert len(lists) >= 2
    for lst in lists:
        assert lst.kids and all(li.role == "/LI" for li in lst.kids)
        for li in lst.kids:
            assert [k.role for k in li.kids] == ["/Lbl", "/LBody"]
            assert li.kids[0].text == "•" and li.kids[1].text


def test_every_figure_has_alternative_text_and_every_image_is_a_figure(tagged):
    for name, doc in tagged.items():
        assert doc.images_outside_figures == [], name
        for figure in doc.elements("/Figure"):
            assert figure.alt and figure.alt.strip(), name
            assert figure.attribute("/BBox") is not None, name
    # DTPA's documents hold no charts: were one added, it would need a data table beside it.
    assert tagged["audit-pdf"].elements("/Figure") == []


# --- still the DPO's document: record attached, signed over the tagged file, verified ---------

def test_the_signed_tagged_pdfs_carry_their_record_and_pass_verify_pdf(documents, tagged,
                                                                       monkeypatch):
    monkeypatch.setenv("DTPA_KEY_DIR", str(documents.keys))  # the audit key they were made with
    for name in ("audit-pdf", "audit-pdf-individual", "easy-read", "bundle"):
        path = documents.pdfs[name]
        result = verify_pdf(path, documents.store)
        assert result.ok, (name, result.problems)
        assert any("covers the whole file" in c for c in result.checks), name
        assert tagged[name].pdf.Root.StructTreeRoot.K is not None
    record = json.loads(PdfReader(documents.pdfs["easy-read"]).attachments[ATTACHMENT][0])
    assert record["record_type"] == "individual_use"
    cli = runner.invoke(app, ["verify-pdf", str(documents.pdfs["audit-pdf"]), "--db",
                              str(documents.store.db.url)])
    assert cli.exit_code == 0, cli.output
    # the unstored export verifies on its own (no store has it)
    alone = verify_pdf(documents.pdfs["audit-pdf-unstored"], None)
    assert alone.ok, alone.problems


def test_every_page_of_every_document_is_rendered(documents):
    tool = _pdftoppm()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, path in documents.pdfs.items():
        for old in ARTIFACTS.glob(f"{name}-*.png"):
            old.unlink()
        pages = len(PdfReader(path).pages)
        subprocess.run([tool, "-png", "-r", "50", str(path), str(ARTIFACTS / name)], check=True)
        rendered = sorted(ARTIFACTS.glob(f"{name}-*.png"))
        assert len(rendered) == pages, name
        assert all(p.stat().st_size > 2_000 for p in rendered), name


# --- the easy read: short sentences, large type, a picture beside each point -------------------

def _points(name: str) -> tuple[object, dict]:
    assessment = load_case(f"{name}.yaml")
    record = service.assess(assessment)
    return record, assessment.model_dump(mode="json")


def test_easy_read_sentences_are_one_to_a_line_and_large(tagged, documents):
    doc = tagged["easy-read"]
    lines = [e.text for e in doc.elements("/P")]
    assert len(lines) > 20 and doc.elements("/LBody")
    with pdfplumber.open(documents.pdfs["easy-read"]) as pdf:
        sizes = {round(c["size"], 1) for page in pdf.pages for c in page.chars}
    assert min(sizes) >= 14, sizes  # easy-read guidance: at least 14 pt, footer included
    for line in lines[:-1]:  # the last is the pictures' credit
        assert len(sentences(line)) == 1, line  # one sentence, one idea, to a line


@pytest.mark.parametrize("name", INDIVIDUAL)
def test_easy_read_for_each_individual_use_case_study(name):
    """Rendered with its pictures and their alternative text, in the PDF and the web page, in
    short sentences; the first page kept as a PNG."""
    record, answers = _points(name)
    words = summary(record, answers)
    expected = [points()[p.picture].alt for s in words.sections for p in s.points]
    pdf = service.render_export(record, "easy-read", assessment=answers)
    doc = read(pdf)
    assert [f.alt for f in doc.elements("/Figure")] == expected
    assert doc.unmarked == [] and parent_tree_problems(doc) == []
    assert [t for lvl, t in doc.headings() if lvl == 2] == EASY_READ_SECTIONS

    plain = [s for sec in words.sections for p in sec.points for s in sentences(p.text)]
    items = [i for sec in words.sections for p in sec.points for i in p.items]
    lengths = [len(re.findall(r"[\w'()’-]+", s)) for s in plain + items]
    assert max(lengths) <= MAX_WORDS, max(zip(lengths, plain + items, strict=True))
    assert sum(lengths) / len(lengths) <= MEAN_WORDS, sum(lengths) / len(lengths)
    assert [e.text for e in doc.elements("/P")][:-1] == [" ".join(s.split()) for s in plain]
    assert [e.text for e in doc.elements("/LBody")] == items

    page = _Page()
    page.feed(service.render_export(record, "easy-read-html", assessment=answers).decode())
    assert page.lang == "en-GB" and page.title.startswith("Easy read: ")
    assert page.headings == [(1, words.title)] + [(2, h) for h in EASY_READ_SECTIONS]
    assert page.alts == expected and all(src.startswith("data:image/png;base64,")
                                         for src in page.srcs)
    assert page.paragraphs[:-2] == plain  # the same sentences; then the credit, the reference
    if shutil.which("pdftoppm"):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        source = ARTIFACTS / f"easy-read-{name}.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile",
                        str(source), str(ARTIFACTS / f"easy-read-{name}")], check=True)
        (ARTIFACTS / f"easy-read-{name}.html").write_bytes(
            service.render_export(record, "easy-read-html", assessment=answers))


class _Page(HTMLParser):
    """What a screen reader takes from the web page: language, title, headings, images' alt
    text, paragraphs."""

    def __init__(self) -> None:
        super().__init__()
        self.lang = self.title = ""
        self.headings: list[tuple[int, str]] = []
        self.alts: list[str] = []
        self.srcs: list[str] = []
        self.paragraphs: list[str] = []
        self._open: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang", "")
        elif tag == "img":
            assert values.get("alt"), "an image without alternative text"
            self.alts.append(values["alt"])
            self.srcs.append(values.get("src", ""))
        elif tag in ("title", "h1", "h2", "h3", "p"):
            self._open, self._text = tag, ""

    def handle_data(self, data):
        if self._open:
            self._text += data

    def handle_endtag(self, tag):
        if tag != self._open:
            return
        if tag == "title":
            self.title = self._text
        elif tag == "p":
            self.paragraphs.append(self._text)
        else:
            self.headings.append((int(tag[1]), self._text))
        self._open = None


def test_the_picture_mapping_covers_every_point_and_credits_every_picture():
    mapping = yaml.safe_load(MAPPING.read_text(encoding="utf-8"))
    source = Path(easyread_words.__file__).read_text(encoding="utf-8")
    kinds = set(re.findall(r'Point\(\s*"([a-z-]+)"', source))
    kinds |= set(easyread_words.ROUTE_PICTURE.values()) | {"others-decide"}
    kinds |= {f"technology.{c}" for c in easyread_words.TECHNOLOGY_PICTURES} | {"technology.other"}
    kinds |= {f"decided.{o}" for o in easyread_words.DECIDED}
    assert sorted(kinds - set(mapping["points"])) == []
    assert sorted(set(mapping["points"]) - kinds) == []  # no entry the summary never uses
    used = {entry["picture"] for entry in mapping["points"].values()}
    assert sorted(set(mapping["pictures"]) - used) == []
    files = {p.stem for p in FOLDER.glob("*.png")}
    assert files == set(mapping["pictures"])
    credits = (FOLDER / "CREDITS.md").read_text(encoding="utf-8")
    for name, picture in mapping["pictures"].items():
        assert f"| {name}.png | {picture['openmoji']} |" in credits, name
    assert "CC BY-SA 4.0" in credits and (FOLDER / "LICENSE.txt").is_file()
    assert all(p.alt for p in points().values())
    assert mapping["review"]["status"].startswith("draft")  # says honestly it is not reviewed


def test_typed_text_never_becomes_markup_in_the_web_page():
    data = load_case("vbm-adult-consents-night-use.yaml").model_dump(mode="json", exclude_none=True)
    data["technology"]["name"] = '<script>alert(1)</script> & <img src=x onerror="y"> "Monitor"'
    assessment = service.validate_assessment(data)
    html = service.render_export(service.assess(assessment), "easy-read-html",
                                 assessment=assessment.model_dump(mode="json")).decode()
    assert "<script>" not in html and "onerror=" not in html.replace("onerror=&quot;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img src=x" in html
    page = _Page()
    page.feed(html)
    assert page.title == 'Easy read: <script>alert(1)</script> & <img src=x onerror="y"> "Monitor"'
    assert len(page.alts) == len(page.srcs) and all(page.alts)
