"""The frame every dialog shares: one box centred on the dimmed app."""

from __future__ import annotations

from textual.screen import ModalScreen, ScreenResultType


class Dialog(ModalScreen[ScreenResultType]):
    """A modal screen whose one child (a ``Vertical`` or ``VerticalScroll``) is the dialog's
    framed box; a dialog's own CSS says how wide and tall the box may grow."""

    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > Vertical, Dialog > VerticalScroll {
        width: 90%; height: auto;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    """
