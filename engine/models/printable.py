"""Printable text: the one rule for what a person may type into DTPA, whether an assessment's
answers (answers.py) or anything else they type that is stored: names, usernames, wards, draft
and token names, override reasons, sign-off comments (`check_text`, called by the service layer
and the models it uses). Only new input is checked: text stored before a rule existed is never
refused when it is read (answers.py, LENIENT).

Refused everywhere:
- control characters: C0 but tab and line breaks, DEL and C1 (ESC starts a sequence a terminal
  acts on, PostgreSQL cannot store NUL, NEL is a line break in disguise), and lone surrogates
  (not text: no UTF-8 encodes them);
- bidirectional embeddings, overrides and isolates, U+202A-U+202E and U+2066-U+2069: they reorder
  the text after them, so what a reader sees is not what is stored ("Trojan Source");
- invisible characters typed text has no use for: zero width space U+200B, word joiner and
  invisible operators U+2060-U+2065, the deprecated format characters U+206A-U+206F, zero width
  no-break space (byte order mark) U+FEFF, Mongolian vowel separator U+180E, interlinear
  annotation U+FFF9-U+FFFB, and tags U+E0000-U+E007F (invisible copies of ASCII that can carry
  hidden text; the price is the flags of England, Scotland and Wales, which are spelt with them).
Kept: zero width joiner and non-joiner (Arabic and Indic scripts, emoji), the implicit direction
marks LRM, RLM and ALM (right-to-left text; they move no text beyond their neighbours), variation
selectors and the soft hyphen.
Refused in one-line text only: line breaks (LF, CR, U+2028, U+2029) and tabs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from engine.errors import InputInvalid

_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff"
_BIDI = "\u202a-\u202e\u2066-\u2069"
_INVISIBLE = "\u200b\u2060-\u2065\u206a-\u206f\ufeff\u180e\ufff9-\ufffb\U000e0000-\U000e007f"
_LINES = "\t\n\r\u2028\u2029"

MULTI_LINE = re.compile(f"[{_CONTROLS}{_BIDI}{_INVISIBLE}]")
ONE_LINE = re.compile(f"[{_CONTROLS}{_BIDI}{_INVISIBLE}{_LINES}]")

# What a screen shows other than as stored: controls a terminal acts on (but tab and line feed),
# lone surrogates, and the bidi and invisible characters above. Stored text read back (kept from
# before a rule, or written outside DTPA) is shown with these as escapes (the command line).
UNSHOWABLE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff{_BIDI}{_INVISIBLE}]")

MULTI_LINE_ACCEPTED = "only printable text, line breaks and tabs are accepted"
ONE_LINE_ACCEPTED = "only one line of printable text is accepted"


def character(char: str) -> str:
    """A refused character as a person can find it: what it is and its code point."""
    code = ord(char)
    if char in "\n\r\u2028\u2029":
        kind = "a line break"
    elif char == "\t":
        kind = "a tab"
    elif char == "\x00":
        kind = "a NUL character"
    elif 0xD800 <= code <= 0xDFFF:
        kind = "a lone surrogate"
    elif code <= 0x9F:
        kind = "a control character"
    elif 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
        kind = "a bidirectional formatting character"
    else:
        kind = "an invisible formatting character"
    return f"{kind} (U+{code:04X})"


def unprintable(value: str, multi_line: bool) -> str | None:
    """What is wrong with typed text, `contains ... at character N` (the first refused
    character, counted from 1), or None when it is printable."""
    found = (MULTI_LINE if multi_line else ONE_LINE).search(value)
    if found is None:
        return None
    return f"contains {character(found.group())} at character {found.start() + 1}"


def one_kind_of_line_break(value: Any) -> Any:
    """Windows and old Mac line breaks (CR LF, CR) become LF: the same text however typed."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


def check_text(value: str, field: str, *, multi_line: bool = False) -> str:
    """New text a person typed into `field` (a name as they see it, e.g. "Override reason"), or
    InputInvalid in one line naming the field, the character and where it is. Multi-line text
    (reasons, comments) may hold line breaks and tabs, and comes back with CR LF and CR as LF;
    one-line text (names, wards) comes back as given."""
    if not isinstance(value, str):
        raise InputInvalid(f"{field}: expected text, not {type(value).__name__}")
    problem = unprintable(value, multi_line)
    if problem is not None:
        raise InputInvalid(f"{field}: {problem}; "
                           f"{MULTI_LINE_ACCEPTED if multi_line else ONE_LINE_ACCEPTED}")
    return one_kind_of_line_break(value) if multi_line else value


def check_texts(data: Any, field: str) -> None:
    """Every piece of text in nested mappings and lists (a draft's answers, not yet an
    assessment): keys one line, values multi-line; InputInvalid names the first refused one by
    its path, e.g. `Draft answer technology.name` (a key by where it is: `Draft answer key in
    technology`, never by the refused text itself)."""
    for where, value, multi_line in _texts(data, field):
        check_text(value, where, multi_line=multi_line)


def _texts(data: Any, field: str) -> Iterator[tuple[str, str, bool]]:
    stack: list[tuple[str, Any]] = [("", data)]  # no recursion: any depth is walked
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            yield (f"{field} {path}" if path else field), value, True
        elif isinstance(value, dict):
            keys = [k for k in value if isinstance(k, str)]
            for key in keys:  # all keys first: a path never shows a refused key
                yield (f"{field} key in {path}" if path else f"{field} key"), key, False
            for key, item in reversed(list(value.items())):
                stack.append((f"{path}.{key}" if path else str(key), item))
        elif isinstance(value, (list, tuple)):
            stack.extend((f"{path}.{i}" if path else str(i), item)
                         for i, item in reversed(list(enumerate(value))))
