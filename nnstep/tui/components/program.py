"""The program pane: one training step's ops as the lines a learner would write."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message

from nnstep.program import PHASES

from ..fmt import fit
from .rows import RowList, style_of

if TYPE_CHECKING:
    from nnstep.debugger import Debugger

PHASE_TITLES = {
    "forward": "forward: compute each neuron's sum and activation",
    "loss": "loss: compare the prediction with the target",
    "backward": "backward: local partials, then the chain rule",
    "update": "update: gradient descent, one parameter at a time",
}
#: A formula graph has no neurons and no target: its last formula is what training makes smaller.
GRAPH_PHASE_TITLES = {
    **PHASE_TITLES,
    "forward": "forward: each formula from its inputs",
    "loss": "output: the formula that training makes smaller",
}
#: Columns the value takes at least (one of them a space); the code is cut with … to leave them.
VALUE_W = 10
#: Zoomed, at least this many: room for the formula pane's 9 significant digits of any number.
PRECISE_VALUE_W = 17
#: Significant digits of a value at most: as many as the formula pane shows.
VALUE_DIGITS = 9


class ProgramView(RowList, can_focus=True):
    """Ops grouped under phase headings; the current op highlighted and kept in
    view, executed ops with their value, breakpoints in the gutter, and a
    selection that moves without moving the execution point."""

    COMPONENT_CLASSES = {
        "program--heading",
        "program--current",
        "program--selected",
        "program--pending",
        "program--value",
        "program--breakpoint",
        "program--arrow",
        "program--nonfinite",
    }
    DEFAULT_CSS = """
    ProgramView > .program--heading { color: $text-accent; text-style: bold; }
    ProgramView > .program--current { background: $accent 40%; text-style: bold; }
    ProgramView > .program--selected { background: $foreground 12%; }
    ProgramView:focus > .program--selected { background: $primary 35%; }
    ProgramView > .program--pending { color: $text-muted; }
    ProgramView > .program--value { color: $text-success; }
    ProgramView > .program--breakpoint { color: $text-error; text-style: bold; }
    ProgramView > .program--arrow { color: $text-warning; text-style: bold; }
    ProgramView > .program--nonfinite { color: $text-error; text-style: bold reverse; }
    """
    BINDINGS = [
        Binding("up,k", "move(-1)", "select up", show=False),
        Binding("down,j", "move(1)", "select down", show=False),
        Binding("pageup", "move(-10)", "page up", show=False),
        Binding("pagedown", "move(10)", "page down", show=False),
        Binding("home", "move_to('first')", "first op", show=False),
        Binding("end", "move_to('last')", "last op", show=False),
        Binding("enter", "jump", "jump to selected", show=False),
    ]

    class Selected(Message):
        """The selection moved to op ``index``."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    class Jump(Message):
        """Enter on op ``index``: move the execution point there (this sample)."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.dbg: Debugger | None = None
        self.row_of: dict[int, int] = {}
        self.current = -1  # op index of the last executed op
        self.selected = 0
        self.titles = PHASE_TITLES

    def load(self, dbg: Debugger | None) -> None:
        self.dbg = dbg
        rows: list[tuple[str, object]] = []
        self.row_of = {}
        self.titles = PHASE_TITLES
        if dbg is not None:
            if dbg.scenario.form == "graph":
                self.titles = GRAPH_PHASE_TITLES
            for phase in PHASES:
                ops = [op for op in dbg.program.ops if op.phase == phase]
                if not ops:
                    continue
                rows.append(("heading", phase))
                for op in ops:
                    self.row_of[op.index] = len(rows)
                    rows.append(("op", op.index))
        self.current = -1
        self.selected = 0
        self.set_rows(rows)

    # ------------------------------------------------------------------ state

    def sync(self) -> None:
        """Follow the debugger: the selection goes to the current op (or the first
        op before any has run), kept in view (centred when it nears an edge), and
        only the rows that changed are repainted."""
        if self.dbg is None:
            return
        self.current = self.dbg.op_index
        self.selected = max(0, self.current)
        if self.rows:
            self.keep_row_in_view(self.row_of[self.selected])
        self.refresh_rows()

    def on_resize(self) -> None:
        # the selected op stays in sight at the pane's new height (the app's own resize
        # handler runs before the panes are laid out for the new size)
        if self.dbg is not None and self.rows:
            self.keep_row_in_view(self.row_of[self.selected])

    def select(self, index: int, *, announce: bool = True) -> None:
        if self.dbg is None or not self.rows:
            return
        index = max(0, min(index, self.dbg.op_count - 1))
        self.selected = index
        self.scroll_row_into_view(self.row_of[index])
        self.refresh_rows()
        if announce:
            self.post_message(self.Selected(index))

    def action_move(self, delta: int) -> None:
        self.select(self.selected + delta)

    def action_move_to(self, where: str) -> None:
        if self.dbg is not None:
            self.select(0 if where == "first" else self.dbg.op_count - 1)

    def action_jump(self) -> None:
        if self.dbg is not None:
            self.post_message(self.Jump(self.selected))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        row = offset.y + round(self.scroll_offset.y)
        if 0 <= row < len(self.rows) and self.rows[row][0] == "op":
            index = int(self.rows[row][1])  # type: ignore[call-overload]
            if getattr(event, "chain", 1) >= 2:
                self.post_message(self.Jump(index))
            else:
                self.select(index)

    # ------------------------------------------------------------------ drawing

    def row_key(self, index: int, width: int) -> tuple:
        kind, what = self.rows[index]
        if kind == "heading":
            return (kind, self.titles.get(str(what), str(what)))
        dbg = self.dbg
        assert dbg is not None
        op = dbg.ops[int(what)]  # type: ignore[call-overload]
        executed = op.index <= self.current
        return (op.code, executed, op.index == self.current, op.index == self.selected,
                op.name in dbg.breakpoints, dbg.value(op.name) if executed else None)

    def row_text(self, index: int, width: int) -> Text:
        kind, what = self.rows[index]
        if kind == "heading":
            title = self.titles.get(str(what), str(what))
            return Text(f"── {title} ".ljust(width, "─")[:width], style=style_of(self, "program--heading"))
        dbg = self.dbg
        assert dbg is not None
        op = dbg.ops[int(what)]  # type: ignore[call-overload]
        executed = op.index <= self.current
        is_current = op.index == self.current
        bp = op.name in dbg.breakpoints
        least = PRECISE_VALUE_W if self.is_maximized else VALUE_W
        code_w = max(8, width - 3 - least)
        code = op.code if len(op.code) <= code_w else op.code[: code_w - 1] + "…"
        value_w = max(least, width - 3 - len(code))  # the room this row has
        t = Text()
        t.append("●" if bp else " ", style_of(self, "program--breakpoint"))
        t.append("▶" if is_current else " ", style_of(self, "program--arrow"))
        t.append(" ")
        t.append(code, None if executed else style_of(self, "program--pending"))
        x = dbg.value(op.name) if executed else None
        value = fit(x, value_w - 1, VALUE_DIGITS) if executed else ""
        bad = x is not None and not math.isfinite(x)
        t.append(" " * (value_w - len(value)))
        t.append(value, style_of(self, "program--nonfinite" if bad else "program--value"))
        if is_current:
            t.stylize(style_of(self, "program--current"))
        elif op.index == self.selected:
            t.stylize(style_of(self, "program--selected"))
        return t
