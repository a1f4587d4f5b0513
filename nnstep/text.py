"""Text from files, made safe to show: one place for every sink.

Names, descriptions and sample names come from scenario files that strangers
write.  Before any of it reaches a terminal, a clipboard, a CSV cell or a
Markdown table it goes through one of these functions:

- :func:`visible` replaces control characters (C0, DEL, C1), bidirectional
  overrides and other invisible format characters with visible escapes
  (``\\x1b``, ``\\u202e``), so no escape sequence reaches a terminal raw and no
  text can hide or reorder what is around it;
- :func:`csv_cell` additionally neutralises spreadsheet formulas (a cell that
  starts with ``=``, ``+``, ``-``, ``@``, tab or CR is prefixed with ``'``),
  except plain numbers;
- :func:`markdown_cell` additionally escapes what Markdown and HTML would
  interpret (``|``, backticks, ``*``, ``_``, ``<``, ``>``, ``&``, ``[``, ``]``, …).

Textual markup is a different matter: widgets are given ``rich.text.Text`` or
``textual.content.Content`` objects built from plain strings (never markup
strings), see :mod:`nnstep.tui`.  This module is a leaf: it imports nothing
from nnstep.
"""

from __future__ import annotations

import math
import re

__all__ = ["csv_cell", "is_visible", "markdown_cell", "visible"]

# C0 controls, DEL, C1 controls; the bidi embeddings/overrides/isolates and marks;
# zero-width and other invisible format characters; line/paragraph separators.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f"
    "\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\u206a-\u206f\ufeff"
    "\u2028\u2029\ufff9-\ufffb]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group(0)
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: object, *, keep_newlines: bool = False) -> str:
    """``text`` with every control or invisible format character shown as an escape.

    ``keep_newlines`` leaves ``\\n`` alone (for multi-line descriptions shown in a
    scrolling view); everything else that is unsafe is still escaped.
    """
    s = text if isinstance(text, str) else str(text)
    # Unassigned/private-use code points are harmless to terminals; surrogates
    # (from a lone escape in a decoded string) are not printable anywhere.
    if keep_newlines:
        return "\n".join(_UNSAFE.sub(_escape, part) for part in s.split("\n")).encode(
            "utf-8", "backslashreplace").decode("utf-8")
    return _UNSAFE.sub(_escape, s).encode("utf-8", "backslashreplace").decode("utf-8")


def is_visible(text: str) -> bool:
    """True when :func:`visible` would leave ``text`` unchanged."""
    return visible(text) == text


def _looks_numeric(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def csv_cell(text: object) -> str:
    """A CSV cell that no spreadsheet will run as a formula (numbers kept as they are)."""
    s = visible(text)
    if s and s[0] in "=+-@\t\r" and not _looks_numeric(s):
        return "'" + s
    return s


# Inside a table cell only these mean something: the cell's end, code, emphasis,
# links, strikethrough, HTML and entities (# + - ! ( ) only at a line's start or after ]).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")


def markdown_cell(text: object) -> str:
    """Text for a Markdown table cell: no table breaks, no emphasis, no raw HTML."""
    s = visible(text)
    s = _MD_SPECIAL.sub(r"\\\1", s)
    return s


def json_number(x: float) -> float | str:
    """A number for JSON: itself when finite, else ``"inf"``/``"-inf"``/``"nan"`` (JSON has
    no non-finite numbers)."""
    return x if math.isfinite(x) else str(x)
