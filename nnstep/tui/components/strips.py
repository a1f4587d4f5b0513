"""One line of Rich ``Text`` as a Textual ``Strip``: how the line-API panes draw a row."""

from __future__ import annotations

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text
from textual.strip import Strip


def text_strip(text: Text, console: Console, base: Style, width: int, left: int = 0) -> Strip:
    """``text`` on one line over ``base`` (the widget's style), columns ``left`` to
    ``left + width`` of it, cut or padded to exactly that.

    The text's own style counts even when it has no spans (Rich's ``Text.render``
    leaves it out then: a heading made as ``Text(title, style=...)`` came out plain).
    Spans that follow one another without overlapping (how rows are built, a span per
    piece appended) are cut straight from the text; others go through ``Text.render``."""
    own = console.get_style(text.style) if text.style else None
    outer = base + own if own is not None else base
    plain, spans = text.plain, text.spans
    if not spans:
        segments = [Segment(plain, outer)] if plain else []
    elif _in_order(spans):
        segments = _cut(plain, spans, outer, console)
    else:
        segments = [Segment(s.text, base + s.style if s.style else base)
                    for s in text.render(console, end="") if s.text]
    return Strip(segments).crop_extend(left, left + width, base)


def text_key(text: Text) -> tuple:
    """What ``text`` draws as: equal for two texts exactly when their strips are (how a
    pane tells whether a row it drew before needs drawing again)."""
    return (text.plain, str(text.style), tuple(text.spans))


NULL = Style.null()  # a style name Rich cannot read counts as none, as in Text.render


def _in_order(spans: list[Span]) -> bool:
    end = 0
    for span in spans:
        if span.start < end:
            return False
        end = span.end
    return True


def _cut(plain: str, spans: list[Span], outer: Style, console: Console) -> list[Segment]:
    """The segments of ``plain`` with ``spans`` (in order, none overlapping) over ``outer``."""
    get_style = console.get_style
    segments = []
    add = segments.append
    at = 0
    for start, end, style in spans:
        if start > at:
            add(Segment(plain[at:start], outer))
        if end > start and (piece := plain[start:end]):
            add(Segment(piece, outer + get_style(style, default=NULL) if style else outer))
        at = max(at, end)
    if at < len(plain):
        add(Segment(plain[at:], outer))
    return segments
