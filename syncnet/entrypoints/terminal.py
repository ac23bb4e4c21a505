"""Text as a terminal shows it: control characters escaped, so that a note holding a
newline stays on its line, and the display width of a cell, so that columns holding
CJK text (two columns a character) or combining marks (none) stay aligned.

Pure ASCII text, by far the most common, is answered by one C-level check.

And the keys a walk reads (`keystrokes`: sort, review, pocket --event).
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# Characters that move the cursor or break the line: C0, DEL, C1 (category Cc) and
# the Unicode line and paragraph separators (str.splitlines breaks on both); and the
# bidirectional controls (embeddings, overrides, isolates, marks), which reorder what
# follows them on the line, so a name could show as another text ("Trojan Source").
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROLS = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}]")
# What a JSON document may still hold raw after json.dumps(ensure_ascii=False), which
# escapes only C0: DEL, C1, the separators and the bidi controls (see json_safe).
_JSON_UNSAFE = re.compile(f"[\x7f-\x9f\u2028\u2029{_BIDI}]")
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
    """`text` on one line, inert on a terminal: newlines, tabs, other control characters
    and bidi controls escaped (\\n, \\t, \\x1b, \\x9b, \\u2028, \\u202e); everything else
    as it is."""
    return text if text.isprintable() else _CONTROLS.sub(_escape, text)


def json_safe(document: str) -> str:
    """A JSON text from json.dumps(ensure_ascii=False) with the characters a terminal
    would act on written as \\uXXXX escapes: the same document to a JSON parser (such
    characters can only stand inside its strings), inert on a terminal."""
    if document.isascii():  # the common case, and then DEL is the only one: two C-level scans
        return document.replace("\x7f", "\\u007f") if "\x7f" in document else document
    if document.isprintable():  # compact JSON of ordinary text
        return document
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", document)


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


@contextmanager
def keystrokes() -> Iterator[Callable[[], str]]:
    """One key at a time from the terminal, in lower case. Unlike click.getchar, keys typed
    ahead are kept (the mode is set once, without flushing input), and Ctrl-C still stops."""
    import signal
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    # SIGTERM ends the process without `finally`: made an exit here, the terminal is restored
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    tty.setcbreak(fd, termios.TCSANOW)
    try:
        # end of input, or Ctrl-D (a byte of its own in this mode): quit
        yield lambda: os.read(fd, 1).decode("utf-8", "replace").lower().replace("\x04", "") or "q"
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        signal.signal(signal.SIGTERM, previous)
