"""Text as a terminal shows it: control characters escaped, so that a note holding a
newline stays on its line, and the display width of a cell, so that columns holding
CJK text (two columns a character) or combining marks (none) stay aligned.

Pure ASCII text, by far the most common, is answered by one C-level check.
"""

from __future__ import annotations

import re
import unicodedata

# Characters that move the cursor or break the line: C0, DEL, C1 (category Cc) and
# the Unicode line and paragraph separators (str.splitlines breaks on both).
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ZERO_WIDTH = frozenset(("Mn", "Me", "Cf"))  # combining marks, joiners, direction marks


def _escape(m: re.Match[str]) -> str:
    ch = m.group()
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` on one line: newlines, tabs and other control characters escaped
    (\\n, \\t, \\x1b, \\u2028); everything else as it is."""
    return text if text.isprintable() else _CONTROLS.sub(_escape, text)


def width(text: str) -> int:
    """The columns `text` takes on a terminal: East Asian wide and fullwidth characters
    two, combining marks and other zero-width characters none, the rest one."""
    if text.isascii():
        return len(text)
    columns = 0
    for ch in text:
        if unicodedata.category(ch) in _ZERO_WIDTH:
            continue
        columns += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return columns
