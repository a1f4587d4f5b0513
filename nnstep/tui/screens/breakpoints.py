"""The breakpoints dialog (``B``): conditions, op breakpoints and stop on NaN/inf."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.suggester import Suggester
from textual.widgets import Input, Label, OptionList, Static, Switch
from textual.widgets.option_list import Option

from nnstep.errors import NNStepError
from nnstep.text import visible

from ..components.dialog import Dialog

if TYPE_CHECKING:
    from nnstep.debugger import Debugger


class NameSuggester(Suggester):
    """Completes the name being typed at the end of a condition: ``abs(d_L_d_w`` → ``abs(d_L_d_w1``."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.names = sorted(names)

    async def get_suggestion(self, value: str) -> str | None:
        m = re.search(r"[A-Za-z_][A-Za-z0-9_]*$", value)
        if not m:
            return None
        stem = m.group(0)
        for name in self.names:
            if name.startswith(stem) and name != stem:
                return value + name[len(stem):]
        return None


def example_names(dbg: Debugger) -> tuple[str, str]:
    """A parameter's gradient and the loss, as this program names them (for the examples)."""
    prog = dbg.program
    loss = prog.loss
    gradients = [f"d_{loss}_d_{p}" for p in prog.parameters if f"d_{loss}_d_{p}" in prog.by_name]
    return (gradients[0] if gradients else prog.ops[-1].name), loss


class BreakpointsScreen(Dialog[None]):
    """Add a condition such as ``abs(d_L_d_w1) > 0.04`` or ``L < 0.01`` (or an op
    name for a plain breakpoint), remove one with delete, switch stop-on-NaN/inf.
    Changes apply to the debugger at once."""

    DEFAULT_CSS = """
    BreakpointsScreen > Vertical { max-width: 90; max-height: 90%; }
    BreakpointsScreen OptionList { height: auto; min-height: 3; max-height: 12; }
    BreakpointsScreen #bp-error { color: $text-error; height: auto; }
    BreakpointsScreen Horizontal { height: auto; }
    BreakpointsScreen Switch { margin: 0 1 0 0; }
    BreakpointsScreen #bp-nonfinite-label { padding: 1 0 0 0; }
    BreakpointsScreen .hint { color: $text-muted; }
    BreakpointsScreen Vertical > Label { width: 100%; }
    """
    BINDINGS = [
        Binding("escape", "close", "close"),
        Binding("delete,backspace,x", "remove", "remove selected", show=False),
    ]

    def __init__(self, dbg: Debugger) -> None:
        super().__init__()
        self.dbg = dbg

    def compose(self) -> ComposeResult:
        names = sorted(self.dbg.program.slot)
        gradient, loss = example_names(self.dbg)
        with Vertical() as box:
            box.border_title = "Breakpoints"
            yield Label(Text(f"Stop when a condition becomes true, e.g. abs({gradient}) > 0.04 or {loss} < 0.01"))
            yield Label(Text(f"(an op name such as {gradient} adds a plain breakpoint on that op):"), classes="hint")
            yield Input(placeholder="condition or op name, then enter (→ completes a name)",
                        suggester=NameSuggester(names), id="bp-input")
            yield Static("", id="bp-error")
            yield OptionList(id="bp-list")
            with Horizontal():
                yield Switch(value=self.dbg.stop_on_nonfinite, id="bp-nonfinite")
                yield Label("stop on any NaN or inf value", id="bp-nonfinite-label")
            yield Label("enter: add · delete/x on the list: remove · esc: close", classes="hint")

    def on_mount(self) -> None:
        self.refresh_list()
        self.query_one(Input).focus()

    def refresh_list(self) -> None:
        ol = self.query_one("#bp-list", OptionList)
        ol.clear_options()
        for name in sorted(self.dbg.breakpoints, key=lambda n: self.dbg.program.by_name[n].index):
            ol.add_option(Option(Text.assemble(("● ", "red"), ("op ", "dim"), name), id=f"op:{name}"))
        for cond in self.dbg.conditions:
            ol.add_option(Option(Text.assemble(("◆ ", "yellow"), ("when ", "dim"), cond.text), id=f"if:{cond.text}"))
        if not self.dbg.breakpoints and not self.dbg.conditions:
            ol.add_option(Option(Text("no breakpoints yet", style="dim"), id="none", disabled=True))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        error = self.query_one("#bp-error", Static)
        if not text:
            return
        try:
            if text in self.dbg.program.by_name:
                if text not in self.dbg.breakpoints:
                    self.dbg.toggle_breakpoint(text)
            else:
                self.dbg.add_condition(text)
        except NNStepError as exc:
            error.update(Text("✗ " + visible(exc.reason)))  # may quote what was typed
            return
        error.update("")
        event.input.value = ""
        self.refresh_list()

    def on_switch_changed(self, event: Switch.Changed) -> None:
        self.dbg.stop_on_nonfinite = event.value

    def action_remove(self) -> None:
        ol = self.query_one("#bp-list", OptionList)
        if not ol.has_focus or ol.highlighted is None:
            return
        option = ol.get_option_at_index(ol.highlighted)
        oid = option.id or ""
        if oid.startswith("op:"):
            self.dbg.toggle_breakpoint(oid[3:])
        elif oid.startswith("if:"):
            self.dbg.remove_condition(oid[3:])
        self.refresh_list()

    def action_close(self) -> None:
        self.dismiss(None)
