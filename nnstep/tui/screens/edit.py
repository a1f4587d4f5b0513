"""The what-if dialog (``=``): ``set NAME = FORMULA`` for a parameter, an input or
target of the current sample, or the learning rate."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label, Static

from nnstep.errors import NNStepError
from nnstep.text import visible

from ..components.dialog import Dialog
from ..fmt import num
from .breakpoints import NameSuggester

if TYPE_CHECKING:
    from nnstep.debugger import Debugger, Edit
    from nnstep.program import Op

_ASSIGN = re.compile(r"^\s*(?:set\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)(.*)$", re.S)


def split_assignment(text: str) -> tuple[str, str]:
    """``"w1 = w1 * 2"`` (or ``"set w1 = …"``) → ``("w1", "w1 * 2")``; ValueError says what is wrong."""
    m = _ASSIGN.match(text)
    if not m:
        raise ValueError("write NAME = FORMULA, e.g. w1 = 0.5 or w1 = w1 * 2")
    if not m.group(2).strip():
        raise ValueError(f"{m.group(1)} = what? write a number or a formula after '='")
    return m.group(1), m.group(2).strip()


def suggested_name(dbg: Debugger, op: Op | None) -> str:
    """What the selected op suggests setting: the parameter it is about (``d_L_d_w5`` → w5),
    its node if that can be set, else the first name it reads that can; else the first parameter."""
    editable = dbg.editable()
    if op is not None:
        for name in (op.wrt, op.node, *op.reads):
            if name in editable:
                return name
    return dbg.program.parameters[0]


class EditScreen(Dialog["Edit | None"]):
    """Type ``NAME = FORMULA``; enter makes the edit (an error stays in the dialog,
    one line), esc cancels.  Dismisses with the :class:`~nnstep.debugger.Edit` made."""

    DEFAULT_CSS = """
    EditScreen > Vertical { max-width: 84; }
    EditScreen #edit-error { color: $text-error; height: auto; }
    EditScreen .hint { color: $text-muted; }
    EditScreen Vertical > Label { width: 100%; }
    """
    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, dbg: Debugger, name: str) -> None:
        super().__init__()
        self.dbg = dbg
        self.name_ = name

    def compose(self) -> ComposeResult:
        dbg = self.dbg
        value = dbg.value(self.name_)
        with Vertical() as box:
            box.border_title = "What if: set a value"
            yield Label(Text(f"{self.name_} is {num(value)} now. Set a parameter, an input or target of this "
                             "sample, or learn_rate; the formula may use the values on screen "
                             f"(e.g. {self.name_} * 2)."))
            yield Input(f"{self.name_} = ", id="edit-input", suggester=NameSuggester(sorted(dbg.program.slot)))
            yield Static("", id="edit-error")
            yield Label("It applies from the start of this sample: the ops already run here run again. "
                        "enter: set · esc: cancel · p after: undo", classes="hint")

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.focus()
        field.cursor_position = len(field.value)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        error = self.query_one("#edit-error", Static)
        try:
            name, text = split_assignment(event.value)
            made: Edit = self.dbg.edit(name, text)
        except (ValueError, NNStepError) as exc:
            reason = exc.reason if isinstance(exc, NNStepError) else str(exc)
            error.update(Text("✗ " + visible(reason).replace("\n", " ")))  # may quote what was typed
            return
        self.dismiss(made)
