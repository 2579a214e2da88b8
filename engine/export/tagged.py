"""Tagged PDF, the reportlab half: marked content written while each page is drawn.

Open-source reportlab writes no structure, and tags cannot be added to a finished page (nothing
in a content stream says which words form a heading or a table cell). So every flowable DTPA
draws brackets its drawing operators in a marked-content sequence, `/P <</MCID n>> BDC ... EMC`,
that belongs to a structure element (a `Node`), and everything else on a page (running footers,
table rules and shading) is drawn as an `/Artifact`. The nodes form the document's structure
tree, in reading order: a node joins its parent the first time something of it is drawn, and
reportlab draws in story order. `engine/export/structure.py` then writes the tree into the file
with pikepdf (docs/adr/0004-tagged-pdf.md).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, Table


@dataclass(frozen=True)
class Mark:
    """One marked-content sequence: page index (0-based) and its MCID on that page."""

    page: int
    mcid: int


@dataclass(eq=False)
class Node:
    """A structure element: its standard type (P, H1, Table, TH, Figure ...), its parent (None:
    the document), attributes (`Scope` of a header cell), alternative text (a figure), and its
    kids (nodes and marked content) in reading order, filled in as it is drawn."""

    role: str
    parent: Node | None = None
    alt: str | None = None
    scope: str | None = None  # TH: "Column" or "Row"
    once: bool = False  # a table cell: drawn again (a header repeated on the next page) = artifact
    kids: list[Node | Mark] = field(default_factory=list)
    bbox: tuple[float, float, float, float] | None = None  # a figure's, in page space
    attached: bool = False


class TaggedCanvas(Canvas):  # type: ignore[misc]  # reportlab ships no type information
    """A canvas that numbers marked content per page and holds the document's structure root."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.structure = Node("Document", attached=True)
        self._next_mcid = 0
        self._depth = 0

    def showPage(self) -> None:  # noqa: N802 - reportlab's name
        if self._depth:
            raise RuntimeError("a marked-content sequence was left open at the end of a page")
        super().showPage()
        self._next_mcid = 0

    def attach(self, node: Node) -> None:
        if node.attached:
            return
        if node.parent is None:
            node.parent = self.structure
        self.attach(node.parent)
        node.parent.kids.append(node)
        node.attached = True

    def begin(self, node: Node) -> None:
        self.attach(node)
        mark = Mark(self.getPageNumber() - 1, self._next_mcid)
        self._next_mcid += 1
        node.kids.append(mark)
        self.addLiteral(f"/{node.role} <</MCID {mark.mcid}>> BDC")
        self._depth += 1

    def begin_artifact(self, kind: str) -> None:
        self.addLiteral(f"/Artifact <</Type /{kind}>> BDC")
        self._depth += 1

    def end(self) -> None:
        self.addLiteral("EMC")
        self._depth -= 1


@contextlib.contextmanager
def marked(canvas: Canvas, node: Node) -> Iterator[None]:
    """What is drawn inside belongs to `node` (a repeated table header: an artifact). On a plain
    canvas (not tagged) this does nothing."""
    if not isinstance(canvas, TaggedCanvas):
        yield
        return
    if node.once and node.kids:
        canvas.begin_artifact("Pagination")
    else:
        canvas.begin(node)
    try:
        yield
    finally:
        canvas.end()


@contextlib.contextmanager
def artifact(canvas: Canvas, kind: str = "Layout") -> Iterator[None]:
    """What is drawn inside is not content: a running footer ("Pagination"), a rule, shading."""
    if not isinstance(canvas, TaggedCanvas):
        yield
        return
    canvas.begin_artifact(kind)
    try:
        yield
    finally:
        canvas.end()


class TaggedParagraph(Paragraph):  # type: ignore[misc]
    """A paragraph that is one structure element (P, H1 ... H6, TH, TD, LBody), whichever pages it
    is split over."""

    def __init__(self, text: str | None, style: ParagraphStyle | None = None,
                 bulletText: str | None = None, frags: Any = None,  # noqa: N803 - reportlab's
                 caseSensitive: int = 1, encoding: str = "utf8", *,  # noqa: N803
                 role: str = "P", node: Node | None = None) -> None:
        super().__init__(text, style, bulletText, frags, caseSensitive, encoding)
        self.node = node or Node(role)

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:  # noqa: N803
        parts: list[Flowable] = super().split(availWidth, availHeight)
        for part in parts:  # reportlab makes the parts with this class: the same element
            part.node = self.node
        return parts

    def draw(self) -> None:
        with marked(self.canv, self.node):
            super().draw()


class TaggedTable(Table):  # type: ignore[misc]
    """A table whose cells are tagged paragraphs (TH, TD in TR in Table); its rules and shading
    are artifacts. reportlab makes the parts of a split table with this class too."""

    def _drawBkgrnd(self) -> None:  # noqa: N802 - reportlab's name
        with artifact(self.canv):
            super()._drawBkgrnd()

    def _drawLines(self) -> None:  # noqa: N802
        with artifact(self.canv):
            super()._drawLines()


def tagged_table(rows: list[list[str]], widths: list[float], style: ParagraphStyle,
                 header_row: bool = True, header_column: bool = False, **kwargs: Any) -> TaggedTable:
    """A data table: the first row holds column headers (TH, Scope Column) unless header_row is
    False; with header_column, the first cell of each other row is a row header (Scope Row).
    Cells are paragraphs of markup-safe text; the header row is repeated on each page."""
    table = Node("Table")
    cells: list[list[Flowable]] = []
    for r, row in enumerate(rows):
        tr = Node("TR", table)
        line = []
        for c, text in enumerate(row):
            column_head = header_row and r == 0
            row_head = header_column and c == 0 and not column_head
            node = Node("TH" if column_head or row_head else "TD", tr, once=True,
                        scope="Column" if column_head else "Row" if row_head else None)
            line.append(TaggedParagraph(text, style, node=node))
        cells.append(line)
    return TaggedTable(cells, colWidths=widths, repeatRows=1 if header_row else 0, **kwargs)


class ListItem(Flowable):  # type: ignore[misc]
    """One item of a list (LI): its label (Lbl, e.g. a bullet) drawn beside its body (LBody)."""

    def __init__(self, label: str | None, body: TaggedParagraph, indent: float, li: Node,
                 lbl: Node) -> None:
        super().__init__()
        self.label, self.body, self.indent, self.li, self.lbl = label, body, indent, li, lbl

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        _, height = self.body.wrap(availWidth - self.indent, availHeight)
        self.width, self.height = availWidth, height
        return availWidth, height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:  # noqa: N803
        parts = self.body.split(availWidth - self.indent, availHeight)
        return [ListItem(self.label if i == 0 else None, part, self.indent, self.li, self.lbl)
                for i, part in enumerate(parts)]

    def getSpaceBefore(self) -> float:  # noqa: N802 - reportlab's name
        return float(self.body.getSpaceBefore())

    def getSpaceAfter(self) -> float:  # noqa: N802
        return float(self.body.getSpaceAfter())

    def draw(self) -> None:
        style = self.body.style
        if self.label:
            with marked(self.canv, self.lbl):
                self.canv.setFont(style.fontName, style.fontSize)
                self.canv.drawString(self.indent * 0.3, self.height - style.fontSize, self.label)
        self.body.drawOn(self.canv, self.indent, 0)


def bullet_list(items: list[str], style: ParagraphStyle, indent: float, parent: Node | None = None,
                label: str = "•") -> list[Flowable]:
    """A list (L) of items, each a bullet (Lbl) and its text (LBody)."""
    lst = Node("L", parent)
    out: list[Flowable] = []
    for text in items:
        li = Node("LI", lst)
        out.append(ListItem(label, TaggedParagraph(text, style, node=Node("LBody", li)), indent,
                            li, Node("Lbl", li)))
    return out


class Picture(Flowable):  # type: ignore[misc]
    """An image (PNG) as a Figure with its alternative text."""

    def __init__(self, path: Path, width: float, height: float, alt: str,
                 parent: Node | None = None) -> None:
        super().__init__()
        self.path, self.width, self.height = path, width, height
        self.node = Node("Figure", parent, alt=alt)

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        return self.width, self.height

    def draw(self) -> None:
        with marked(self.canv, self.node):
            self.canv.drawImage(str(self.path), 0, 0, self.width, self.height, mask="auto")
        x0, y0 = self.canv.absolutePosition(0, 0)
        x1, y1 = self.canv.absolutePosition(self.width, self.height)
        self.node.bbox = (x0, y0, x1, y1)
