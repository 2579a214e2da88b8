"""Reading a PDF's tags as assistive technology would: the structure tree (pikepdf), what each
element says (pdfplumber's text, by marked-content id), and what on each page is left unmarked."""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field

import pdfplumber
import pikepdf

# Operators that put something on the page: painting a path, showing text, drawing an XObject
# or an inline image. Everything else (colours, fonts, path construction, clipping) shows
# nothing by itself.
DRAWING = {"S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "sh", "Tj", "TJ", "'", '"', "Do",
           "INLINE IMAGE", "BI"}
HEADINGS = {f"/H{n}": n for n in range(1, 7)}


@dataclass
class Element:
    role: str  # "/P", "/H1", "/Table" ...
    obj: pikepdf.Dictionary
    kids: list[Element] = field(default_factory=list)
    marks: list[tuple[int, int]] = field(default_factory=list)  # (page index, MCID)
    text: str = ""

    def walk(self):
        yield self
        for kid in self.kids:
            yield from kid.walk()

    @property
    def alt(self) -> str | None:
        return str(self.obj["/Alt"]) if "/Alt" in self.obj else None

    def attribute(self, name: str) -> str | None:
        attributes = self.obj.get("/A")
        if isinstance(attributes, pikepdf.Array):
            attributes = attributes[0]
        return str(attributes[name]) if attributes is not None and name in attributes else None

    def all_text(self) -> str:
        return " ".join(t for t in (e.text for e in self.walk()) if t)


@dataclass
class Tagged:
    pdf: pikepdf.Pdf
    root: Element  # the /Document element
    page_marks: dict[int, list[int]]  # page index -> MCIDs in its content, in drawing order
    unmarked: list[str]  # drawing operators outside marked content, "page N: op"
    images_outside_figures: list[str]
    artifact_text: dict[int, str]  # page index -> text drawn as artifacts

    def elements(self, role: str | None = None) -> list[Element]:
        return [e for e in self.root.walk() if role is None or e.role == role]

    def headings(self) -> list[tuple[int, str]]:
        return [(HEADINGS[e.role], e.text) for e in self.root.walk() if e.role in HEADINGS]


def read(data: bytes) -> Tagged:
    pdf = pikepdf.open(io.BytesIO(data))
    pages = {page.obj.objgen: i for i, page in enumerate(pdf.pages)}
    texts, artifact_text = _texts(data)
    page_marks, unmarked, images = _content(pdf)

    def element(obj: pikepdf.Dictionary) -> Element:
        node = Element(str(obj["/S"]), obj)
        home = pages.get(obj["/Pg"].objgen) if "/Pg" in obj else None
        kids = obj.get("/K")
        kids = kids if isinstance(kids, pikepdf.Array) else [] if kids is None else [kids]
        for kid in kids:
            if isinstance(kid, int):
                node.marks.append((home, int(kid)))
            elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
                node.marks.append((pages[kid["/Pg"].objgen], int(kid["/MCID"])))
            elif isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                node.kids.append(element(kid))
            else:
                raise AssertionError(f"unexpected kid in {node.role}: {kid!r}")
        node.text = " ".join(" ".join(texts.get(m, "").split()) for m in node.marks).strip()
        return node

    root = element(pdf.Root.StructTreeRoot.K)
    return Tagged(pdf, root, page_marks, unmarked, images, artifact_text)


def _texts(data: bytes) -> tuple[dict[tuple[int, int], str], dict[int, str]]:
    """The text of each marked-content sequence, and of the artifacts on each page."""
    marked: dict[tuple[int, int], list[str]] = defaultdict(list)
    artifacts: dict[int, list[str]] = defaultdict(list)
    with pdfplumber.open(io.BytesIO(data)) as doc:
        for i, page in enumerate(doc.pages):
            for words in page.extract_words(extra_attrs=["mcid", "tag"], keep_blank_chars=False):
                if words.get("mcid") is not None:
                    marked[(i, words["mcid"])].append(words["text"])
                elif words.get("tag") == "Artifact":
                    artifacts[i].append(words["text"])
    return ({k: " ".join(v).replace("\u200b", "") for k, v in marked.items()},
            {k: " ".join(v) for k, v in artifacts.items()})


def _content(pdf: pikepdf.Pdf) -> tuple[dict[int, list[int]], list[str], list[str]]:
    """Each page's MCIDs, and anything drawn outside marked content (or an image drawn outside
    a Figure)."""
    marks: dict[int, list[int]] = {}
    unmarked, images = [], []
    for i, page in enumerate(pdf.pages):
        stack: list[tuple[str, int | None]] = []  # (tag, MCID or None)
        marks[i] = []
        for operands, operator in pikepdf.parse_content_stream(page):
            op = str(operator)
            if op in ("BDC", "BMC"):
                tag = str(operands[0])
                props = operands[1] if op == "BDC" else None
                mcid = int(props["/MCID"]) if isinstance(props, pikepdf.Dictionary) and \
                    "/MCID" in props else None
                if mcid is not None:
                    if any(m is not None for _, m in stack):
                        unmarked.append(f"page {i + 1}: MCID {mcid} inside another MCID")
                    marks[i].append(mcid)
                stack.append((tag, mcid))
            elif op == "EMC":
                if not stack:
                    unmarked.append(f"page {i + 1}: EMC without BDC")
                else:
                    stack.pop()
            elif op in DRAWING:
                inside = [(t, m) for t, m in stack if t == "/Artifact" or m is not None]
                if not inside:
                    unmarked.append(f"page {i + 1}: {op}")
                if op in ("Do", "INLINE IMAGE", "BI") and not any(t == "/Figure" and m is not None
                                                                for t, m in stack):
                    images.append(f"page {i + 1}: {op} {operands[:1]}")
        if stack:
            unmarked.append(f"page {i + 1}: {len(stack)} marked-content sequence(s) left open")
    return marks, unmarked, images


def parent_tree_problems(tagged: Tagged) -> list[str]:
    """Each page's MCIDs are 0..n-1, each belongs to exactly one element, and the ParentTree maps
    each back to that element."""
    problems = []
    owner: dict[tuple[int, int], Element] = {}
    for e in tagged.root.walk():
        for mark in e.marks:
            if mark in owner:
                problems.append(f"MCID {mark} belongs to {owner[mark].role} and {e.role}")
            owner[mark] = e
    nums = list(tagged.pdf.Root.StructTreeRoot.ParentTree.Nums)
    tree = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
    for index, page in enumerate(tagged.pdf.pages):
        mcids = tagged.page_marks[index]
        if sorted(mcids) != list(range(len(mcids))):
            problems.append(f"page {index + 1}: MCIDs are not 0..{len(mcids) - 1}")
        if not mcids:
            continue
        if "/StructParents" not in page.obj:
            problems.append(f"page {index + 1}: no /StructParents")
            continue
        parents = tree.get(int(page.obj.StructParents))
        for mcid in mcids:
            element = owner.get((index, mcid))
            if element is None:
                problems.append(f"page {index + 1}: MCID {mcid} belongs to no element")
            elif parents is None or mcid >= len(parents) or \
                    parents[mcid].objgen != element.obj.objgen:
                problems.append(f"page {index + 1}: the ParentTree does not map MCID {mcid} to "
                                f"its {element.role}")
    drawn = {(i, m) for i, ms in tagged.page_marks.items() for m in ms}
    problems += [f"{owner[m].role} names MCID {m}, which no page draws" for m in owner
                 if m not in drawn]
    return problems


def heading_problems(headings: list[tuple[int, str]]) -> list[str]:
    """Headings start at H1 and never skip a level on the way down."""
    problems = []
    previous = 0
    for level, text in headings:
        if level > previous + 1:
            problems.append(f"H{level} {text!r} follows H{previous}")
        previous = level
    if headings and headings[0][0] != 1:
        problems.append(f"the first heading is H{headings[0][0]}, not H1")
    return problems


def table_problems(table: Element) -> list[str]:
    """Rows of the same width, header cells (TH) with a scope, data cells (TD)."""
    problems = []
    rows = [k for k in table.kids if k.role == "/TR"]
    if not rows or len(rows) != len(table.kids):
        problems.append("a table's children are not all rows (TR)")
    widths = {len(r.kids) for r in rows}
    if len(widths) > 1:
        problems.append(f"rows of different widths: {sorted(widths)}")
    for r in rows:
        for cell in r.kids:
            if cell.role not in ("/TH", "/TD"):
                problems.append(f"a {cell.role} in a row")
            if cell.role == "/TH" and cell.attribute("/Scope") not in ("/Column", "/Row", "/Both"):
                problems.append(f"header cell {cell.text!r} has no scope")
    if not any(c.role == "/TH" for r in rows for c in r.kids):
        problems.append("a table without header cells")
    return problems
