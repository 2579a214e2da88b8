"""The easy-read summary as one web page, for screens and for printing: the same words and
pictures as the PDF (easyread_words.py), in semantic HTML (lang="en-GB", one h1, a section and
h2 for each key fact, a picture with its alternative text beside each point, real lists), with
its pictures inside the file (no network), large type on screen and on paper, and a print style
that keeps each point beside its picture.

The page is not signed (a web page cannot carry a PAdES signature): the signed easy-read PDF is
the copy to keep and verify.
"""

from __future__ import annotations

import unicodedata
from html import escape
from typing import Any

from engine.export.easyread_words import Point, sentences, summary
from engine.export.pictures import CREDIT, picture
from engine.models.record import DecisionRecord

STYLE = """
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", Verdana, Arial, sans-serif; font-size: 1.25rem;
       line-height: 1.5; color: #0b0c0c; background: #fff; margin: 0; }
main { max-width: 46rem; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 2rem; line-height: 1.25; margin: 0 0 1.5rem; }
h2 { font-size: 1.6rem; line-height: 1.3; margin: 2rem 0 1rem; }
.point { display: flex; gap: 1.25rem; align-items: flex-start; margin: 0 0 1.25rem; }
.point img { flex: 0 0 auto; width: 5rem; height: 5rem; }
.point p { margin: 0 0 0.4rem; }
.point ul { margin: 0.2rem 0 0; padding-left: 1.5rem; }
footer { margin-top: 2.5rem; border-top: 2px solid #0b0c0c; padding-top: 1rem; }
@media print {
  @page { size: A4; margin: 15mm; }
  body { font-size: 16pt; }
  main { max-width: none; padding: 0; }
  h1 { font-size: 26pt; }
  h2 { font-size: 20pt; break-after: avoid; page-break-after: avoid; }
  .point { break-inside: avoid; page-break-inside: avoid; }
  .point img { width: 20mm; height: 20mm; }
}
"""


def _text(value: object) -> str:
    """Typed text made safe for HTML: control and format characters dropped, markup escaped."""
    kept = "".join(ch for ch in str(value) if ch == "\n" or unicodedata.category(ch)
                   not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    return escape(kept, quote=True)


def _point(point: Point) -> str:
    chosen = picture(point.picture)
    body = "".join(f"<p>{_text(sentence)}</p>" for sentence in sentences(point.text))
    if point.items:
        body += "<ul>" + "".join(f"<li>{_text(item)}</li>" for item in point.items) + "</ul>"
    return (f'<div class="point"><img src="{chosen.data_uri()}" alt="{_text(chosen.alt)}" '
            f'width="80" height="80"><div>{body}</div></div>')


def easy_read_html(record: DecisionRecord, assessment: dict[str, Any],
                   record_id: str | None = None) -> bytes:
    words = summary(record, assessment)
    sections = []
    for n, section in enumerate(words.sections, 1):
        sections.append(f'<section aria-labelledby="s{n}"><h2 id="s{n}">{_text(section.heading)}'
                        "</h2>" + "".join(_point(point) for point in section.points)
                        + "</section>")
    reference = " · ".join(x for x in ("Easy read", words.patient_reference, record_id) if x)
    page = (
        '<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Easy read: {_text(words.product)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n<h1>{_text(words.title)}</h1>\n" + "\n".join(sections)
        + f"\n<footer><p>{_text(CREDIT)}</p><p>{_text(reference)}</p></footer>\n"
        "</main>\n</body>\n</html>\n")
    return page.encode("utf-8")
