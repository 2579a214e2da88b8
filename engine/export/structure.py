"""Tagged PDF, the pikepdf half: the structure tree reportlab's marked content belongs to, the
document's language and title, and the files and metadata every export carries.

One pass over the drawn PDF, before it is signed (draw tagged -> attach the record -> sign):
- the structure tree (StructTreeRoot, one StructElem per node in reading order, the ParentTree
  from each page's MCIDs back to their elements, /StructParents and /Tabs /S on every page);
- /MarkInfo << /Marked true >>, /Lang (en-GB), /ViewerPreferences << /DisplayDocTitle true >>,
  the title in the XMP metadata as well as the document information;
- the attachments (the decision record as JSON, ...) and DTPA's own metadata keys.

DTPA does not claim PDF/UA (no pdfuaid in the XMP): no PDF/UA validator has checked these files,
and the signature's form field is not tagged (docs/adr/0004-tagged-pdf.md).
"""

from __future__ import annotations

import io
from collections import defaultdict

import pikepdf
from pikepdf import Array, Dictionary, Name, String

from engine.export.tagged import Mark, Node

LANGUAGE = "en-GB"
_XMP_FIELDS = ("/Title", "/Author", "/Subject", "/Keywords", "/Creator", "/Producer",
               "/CreationDate", "/ModDate")


def finish(pdf: bytes, structure: Node, title: str, files: dict[str, bytes],
           metadata: dict[str, str], language: str = LANGUAGE) -> bytes:
    """The drawn PDF with its structure tree, language, title, attachments and metadata."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        _structure_tree(doc, structure)
        root = doc.Root
        root.MarkInfo = Dictionary(Marked=True)
        root.Lang = String(language)
        root.ViewerPreferences = Dictionary(DisplayDocTitle=True)
        root.PageMode = Name.UseOutlines
        for name, data in files.items():
            doc.attachments[name] = pikepdf.AttachedFileSpec(
                doc, data, filename=name, description=name, mime_type="application/json")
        for key, value in metadata.items():
            doc.docinfo[Name(key)] = String(value)
        with doc.open_metadata(set_pikepdf_as_editor=False) as xmp:
            # only the standard fields have an XMP equivalent (DTPA's own keys stay in the Info)
            xmp.load_from_docinfo({k: v for k, v in doc.docinfo.items() if k in _XMP_FIELDS})
            xmp["dc:title"] = title
        _simple_filters(doc)
        out = io.BytesIO()
        # reportlab's streams stay as it compressed them; the attachments and the small objects
        # (the structure tree's most of all, in object streams) are compressed here.
        doc.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate,
                 stream_decode_level=pikepdf.StreamDecodeLevel.none)
        return out.getvalue()


def _simple_filters(doc: pikepdf.Pdf) -> None:
    """`/Filter [/FlateDecode]` (how reportlab writes it) as `/Filter /FlateDecode`, which means
    the same: qpdf inflates and deflates again every stream whose filter is an array, and for
    the easy read's pictures that took longer than everything else here."""
    for obj in doc.objects:
        if isinstance(obj, pikepdf.Stream):
            filters = obj.get("/Filter")
            if isinstance(filters, pikepdf.Array) and len(filters) == 1:
                obj.Filter = filters[0]


def _structure_tree(doc: pikepdf.Pdf, structure: Node) -> None:
    pages = [page.obj for page in doc.pages]
    owners: dict[int, dict[int, pikepdf.Object]] = defaultdict(dict)  # page -> MCID -> element
    tree_root = doc.make_indirect(Dictionary(Type=Name.StructTreeRoot))

    def element(node: Node, parent: pikepdf.Object) -> pikepdf.Object:
        elem = doc.make_indirect(Dictionary(Type=Name.StructElem, S=Name("/" + node.role),
                                            P=parent))
        marks = [k for k in node.kids if isinstance(k, Mark)]
        home = marks[0].page if marks else None
        if home is not None:
            elem.Pg = pages[home]
        kids = Array()
        for kid in node.kids:
            if isinstance(kid, Mark):
                owners[kid.page][kid.mcid] = elem
                kids.append(kid.mcid if kid.page == home else
                            Dictionary(Type=Name.MCR, Pg=pages[kid.page], MCID=kid.mcid))
            else:
                kids.append(element(kid, elem))
        elem.K = kids
        if node.alt is not None:
            elem.Alt = String(node.alt)
        if node.scope:
            elem.A = Dictionary(O=Name.Table, Scope=Name("/" + node.scope))
        elif node.bbox:
            elem.A = Dictionary(O=Name.Layout, BBox=Array([round(v, 2) for v in node.bbox]))
        return elem

    tree_root.K = element(structure, tree_root)
    nums = Array()
    for index in sorted(owners):
        marked = owners[index]
        if sorted(marked) != list(range(len(marked))):
            raise ValueError(f"page {index + 1}: marked content is not numbered 0..n")
        nums.append(index)
        nums.append(Array([marked[m] for m in range(len(marked))]))
    for index, page in enumerate(pages):
        page.Tabs = Name.S
        if index in owners:
            page.StructParents = index
    tree_root.ParentTree = doc.make_indirect(Dictionary(Nums=nums))
    tree_root.ParentTreeNextKey = len(pages)
    doc.Root.StructTreeRoot = tree_root
