"""The footer: as many keys as fit the terminal's width, whole words only, and
always ``? help`` and ``^p palette`` (every key is in both)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from ..keys import KEYS

#: action -> the fewest columns at which the footer shows its key
MIN_WIDTH = {k.action: k.min_width for k in KEYS}


def footer_tier(width: int) -> int:
    """The widest of the widths in :data:`MIN_WIDTH` that ``width`` reaches (what
    changes the footer's set of keys)."""
    return max((w for w in MIN_WIDTH.values() if w <= width), default=0)


class KeyFooter(Footer):
    """Textual's footer, leaving out the keys the width has no room for."""

    def compose(self) -> ComposeResult:
        width = getattr(self.app, "term_width", self.app.size.width)
        for widget in super().compose():
            if isinstance(widget, FooterKey) and MIN_WIDTH.get(widget.action, 0) > width:
                continue
            yield widget
