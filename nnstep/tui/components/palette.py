"""The network pane's colours: blue for +, orange for −, brighter for larger."""

from __future__ import annotations

import math
from functools import lru_cache

from rich.color import Color
from rich.style import Style

POSITIVE = Color.parse("#5fafff")
NEGATIVE = Color.parse("#ff8f4f")
FAINT = Color.parse("#5a5a5a")
HIGHLIGHT = Color.parse("#ffd75f")


def tint(v: float | None, vmax: float, *, strong: bool = True) -> Color:
    """Blue for positive, orange for negative, brighter for bigger magnitude."""
    if v is None or v != v or vmax <= 0:
        return FAINT
    t = min(1.0, math.sqrt(abs(v) / vmax)) if math.isfinite(v) else 1.0
    lo = 0.30 if strong else 0.15
    hi = 1.0 if strong else 0.6
    return _blend(FAINT, POSITIVE if v >= 0 else NEGATIVE, lo + (hi - lo) * t)


def _blend(a: Color, b: Color, t: float) -> Color:
    ra, ga, ba = a.get_truecolor()
    rb, gb, bb = b.get_truecolor()
    return Color.from_rgb(ra + (rb - ra) * t, ga + (gb - ga) * t, ba + (bb - ba) * t)


@lru_cache(maxsize=4096)
def colored(color: Color, bold: bool | None = None) -> Style:
    """The style of ``color`` (``bold``: True, False, or None for not said): one object per
    colour, so a drawing's equal styles are the same object and runs of them are found
    by identity."""
    return Style(color=color, bold=bold)
