"""Text typed by people goes into PDFs: make it render literally, never as markup.

reportlab's Paragraph reads a small XML markup, so `<b>`, `<font>`, `<para>` and `&` in a field
would format or break the document. Everything is escaped; control characters are dropped;
characters the embedded font cannot draw, and emoji beyond the Basic Multilingual Plane, are
replaced by their code point, e.g. [U+1F600], instead of an empty box; very long words get break
opportunities.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
ITALIC = "DejaVuSans-Oblique"
MONO = "DejaVuSansMono"
LONG_WORD = 40
ZWSP = "\u200b"


def _font_dir() -> Path:
    # matplotlib (a dependency) ships the DejaVu fonts; no system font package is needed.
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@cache
def register_fonts() -> None:
    folder = _font_dir()
    for name, file in ((FONT, "DejaVuSans.ttf"), (BOLD, "DejaVuSans-Bold.ttf"),
                       (ITALIC, "DejaVuSans-Oblique.ttf"), (MONO, "DejaVuSansMono.ttf")):
        pdfmetrics.registerFont(TTFont(name, str(folder / file)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=ITALIC, boldItalic=BOLD)


@cache
def _drawable() -> frozenset[int]:
    register_fonts()
    face = pdfmetrics.getFont(FONT).face
    return frozenset(face.charToGlyph)


def clean(text: object, max_length: int | None = None, break_words: bool = True) -> str:
    """Plain text safe to draw: no control characters, undrawable characters named, long words
    breakable. Not yet escaped for markup (see `para`)."""
    value = "" if text is None else str(text)
    if max_length is not None and len(value) > max_length:
        value = value[:max_length] + " [...]"
    drawable = _drawable()
    out = []
    run = 0
    for ch in value:
        if ch in "\n\t":
            out.append(" " if ch == "\t" else "\n")
            run = 0
            continue
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") and ch != ZWSP:
            continue  # control, format, surrogate, private-use and unassigned characters
        if ord(ch) > 0xFFFF or ord(ch) not in drawable:
            # Outside the font, or beyond the BMP (most emoji), where reportlab writes a broken
            # ToUnicode entry that PDF readers cannot extract: name the character instead.
            out.append(f"[U+{ord(ch):04X}]")
            run = 0
            continue
        out.append(ch)
        run = 0 if ch.isspace() else run + 1
        if break_words and run >= LONG_WORD:
            out.append(ZWSP)  # lets reportlab wrap a 20,000-character "word"
            run = 0
    return "".join(out)


def para(text: object, max_length: int | None = None, break_words: bool = True) -> str:
    """Text for a reportlab Paragraph: cleaned, then every markup character escaped."""
    return escape(clean(text, max_length, break_words)).replace("\n", "<br/>")
