"""``nnstep compare PROGRAM.py`` on a terminal: the debugger opened at the first
difference, with the learner's own source in a pane beside the program pane.

The comparison has already run (see :mod:`nnstep.compare`); the debugger replays
nnstep's reference from the learner's parameters, learning rate and data.  The
source pane follows the op shown in the formula pane: it highlights the learner's
line that assigned that quantity and puts their value beside nnstep's."""

from __future__ import annotations

import math
from pathlib import Path

from rich.text import Text
from textual.content import Content

from nnstep.compare import CompareResult, values_agree
from nnstep.debugger import Debugger
from nnstep.text import visible

from . import app as app_module
from .app import NNStepApp
from .components.network import NetworkModel
from .components.rows import RowList, style_of


def _num(x: float | None) -> str:
    return "·" if x is None else f"{x:.10g}"


def _num6(x: float | None) -> str:
    return "·" if x is None else f"{x:.6g}"


class SourceView(RowList, can_focus=True):
    """The learner's program, line by line, one line highlighted."""

    COMPONENT_CLASSES = {"source--current", "source--differs", "source--number", "source--value"}
    DEFAULT_CSS = """
    SourceView > .source--current { background: $accent 40%; text-style: bold; }
    SourceView > .source--differs { background: $error 45%; text-style: bold; }
    SourceView > .source--number { color: $text-muted; }
    SourceView > .source--value { color: $text-warning; }
    """

    def __init__(self, source: str, **kw) -> None:
        super().__init__(**kw)
        self.lines = [visible(line.expandtabs(4)) for line in source.splitlines()]
        self.current: int | None = None  # 1-based line highlighted
        self.differs = False
        self.note = ""  # shown at the end of the highlighted line
        self.set_rows([("line", k) for k in range(len(self.lines))])

    def show(self, line: int | None, note: str, differs: bool) -> None:
        self.current, self.note, self.differs = line, note, differs
        if line is not None:
            self.scroll_row_to_center(line - 1)
        self.refresh()

    def row_text(self, index: int, width: int) -> Text:
        number = index + 1
        digits = len(str(len(self.lines)))
        text = Text(f"{number:>{digits}} ", style=style_of(self, "source--number"))
        text.append(self.lines[index])
        if number == self.current:
            if self.note and width - len(text) >= len(self.note) + 2:  # else the border shows it
                text.append(" " * (width - len(text) - len(self.note)))
                text.append(self.note, style=style_of(self, "source--value"))
            text.stylize(style_of(self, "source--differs" if self.differs else "source--current"))
        return text


class CompareApp(NNStepApp):
    """The debugger on nnstep's reference for a compared program, at its first difference."""

    CSS_PATH = Path(app_module.__file__).parent / NNStepApp.CSS_PATH  # relative to the app's module

    def __init__(self, result: CompareResult) -> None:
        super().__init__(result.reference)
        self.result = result

    def on_mount(self) -> None:
        # the source pane goes beside the program pane; then the app opens the scenario
        source = SourceView(self.result.source, id="source")
        source.styles.width = "40fr"
        source.styles.border = ("round", "grey")
        source.border_title = Content(f"Your program · {visible(Path(self.result.program).name)}")
        self.query_one("#top").mount(source, after="#program")
        super().on_mount()

    def open_scenario(self, arg, **flags) -> bool:  # type: ignore[override]
        if arg is None or self.result.reference is None:
            return super().open_scenario(arg, **flags)
        # the reference is the learner's own small network: built here, at once
        dbg = Debugger(self.result.reference)
        self.use_debugger(dbg, NetworkModel(dbg))
        d = self.result.first_difference
        if dbg is not None and d is not None:
            op = dbg.program.by_name.get(d.name)
            dbg.goto_position(d.epoch - 1, d.sample - 1, op.index if op is not None else 0)
            self.message = self.message_short = (
                f"first difference: {d.name} at line {d.line}" if d.line is not None
                else f"first difference: {d.name}")
            self.refresh_panes()
        elif dbg is not None:
            self.message = self.message_short = f"all {self.result.compared} values agree"
            self.refresh_panes()
        return True

    def update_formula(self, *, reset: bool) -> None:
        super().update_formula(reset=reset)
        self.sync_source()

    def source_state(self) -> tuple[int | None, float | None, float | None]:
        """(learner's line, their value, nnstep's value) for the op the formula pane shows."""
        dbg = self.dbg
        if dbg is None or not dbg.ops:
            return None, None, None
        op = dbg.ops[min(self.shown_op, len(dbg.ops) - 1)]
        recorded = self.result.yours.get(dbg.sample_global, {})
        yours, line = recorded.get(op.name, (None, None))
        if line is None:
            line = self.result.lines.get(op.name)
        return line, yours, dbg.value(op.name)

    def sync_source(self) -> None:
        try:
            view = self.query_one(SourceView)
        except Exception:  # noqa: BLE001 - not mounted yet
            return
        dbg = self.dbg
        if dbg is None:
            return
        line, yours, ours = self.source_state()
        differs = yours is not None and ours is not None and not values_agree(yours, ours)
        note = "" if yours is None and ours is None else f"yours {_num(yours)} · nnstep {_num(ours)}"
        if differs:
            note = "✗ " + note
        view.show(line, note, differs)
        name = dbg.ops[min(self.shown_op, len(dbg.ops) - 1)].name if dbg.ops else ""
        if line is None:
            view.border_subtitle = f"no line of yours assigned {name} before the comparison stopped"
        elif yours is None:
            view.border_subtitle = f"line {line}: {name} (not yet in this sample)"
        else:
            mark = "✗ " if differs else ""
            view.border_subtitle = f"line {line}: {mark}yours {yours:.6g} · nnstep {_num6(ours)}"
        if yours is not None and ours is not None and math.isfinite(yours) and math.isfinite(ours):
            view.border_title = (f"Your program · {visible(Path(self.result.program).name)}"
                                 + (" · differs here" if differs else ""))
