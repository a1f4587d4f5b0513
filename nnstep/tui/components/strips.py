"""One line of Rich ``Text`` as a Textual ``Strip``: how the line-API panes draw a row."""

from __future__ import annotations

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip


def text_strip(text: Text, console: Console, base: Style, width: int, left: int = 0) -> Strip:
    """``text`` on one line over ``base`` (the widget's style), columns ``left`` to
    ``left + width`` of it, cut or padded to exactly that.

    The text's own style counts even when it has no spans (Rich's ``Text.render``
    leaves it out then: a heading made as ``Text(title, style=...)`` came out plain)."""
    own = console.get_style(text.style) if text.style else None
    if own is not None and not text.spans:
        segments = [Segment(text.plain, base + own)] if text.plain else []
    else:
        segments = [Segment(s.text, base + s.style if s.style else base)
                    for s in text.render(console, end="") if s.text]
    return Strip(segments).crop_extend(left, left + width, base)
