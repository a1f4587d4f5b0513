"""The watches dialog (``w``): pin expressions such as ``d_L_d_w1 / w1`` or
``h1 * (1 - h1)``, shown with their values in the values pane after every op."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from nnstep.errors import NNStepError
from nnstep.text import visible

from ..components.dialog import Dialog
from .breakpoints import NameSuggester

if TYPE_CHECKING:
    from nnstep.debugger import Debugger

#: Watches at most (each is evaluated after every op).
MAX_WATCHES = 32


class WatchesScreen(Dialog["list[str]"]):
    """Add a watch with enter, remove the highlighted one with delete/x; esc closes
    and dismisses with the watches' texts."""

    DEFAULT_CSS = """
    WatchesScreen > Vertical { max-width: 90; max-height: 90%; }
    WatchesScreen OptionList { height: auto; min-height: 3; max-height: 12; }
    WatchesScreen #watch-error { color: $text-error; height: auto; }
    WatchesScreen .hint { color: $text-muted; }
    WatchesScreen Vertical > Label { width: 100%; }
    """
    BINDINGS = [
        Binding("escape", "close", "close"),
        Binding("delete,backspace,x", "remove", "remove selected", show=False),
    ]

    def __init__(self, dbg: Debugger, texts: list[str]) -> None:
        super().__init__()
        self.dbg = dbg
        self.texts = list(texts)

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Watches"
            yield Label("Show an expression's value after every op, e.g. h1 * (1 - h1) or d_L_d_w1 / w1 "
                        "(· while a name it reads is not computed yet):")
            yield Input(placeholder="expression, then enter (→ completes a name)",
                        suggester=NameSuggester(sorted(self.dbg.program.slot)), id="watch-input")
            yield Static("", id="watch-error")
            yield OptionList(id="watch-list")
            yield Label("enter: add · delete/x on the list: remove · esc: close", classes="hint")

    def on_mount(self) -> None:
        self.refresh_list()
        self.query_one(Input).focus()

    def refresh_list(self) -> None:
        ol = self.query_one("#watch-list", OptionList)
        ol.clear_options()
        for i, text in enumerate(self.texts):
            ol.add_option(Option(Text.assemble(("◇ ", "cyan"), visible(text)), id=f"w{i}"))
        if not self.texts:
            ol.add_option(Option(Text("no watches yet", style="dim"), id="none", disabled=True))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        error = self.query_one("#watch-error", Static)
        if not text:
            return
        if len(self.texts) >= MAX_WATCHES:
            error.update(Text(f"✗ at most {MAX_WATCHES} watches"))
            return
        try:
            watch = self.dbg.watch(text)
        except NNStepError as exc:
            error.update(Text("✗ " + visible(exc.reason)))  # may quote what was typed
            return
        if watch.text not in self.texts:
            self.texts.append(watch.text)
        error.update("")
        event.input.value = ""
        self.refresh_list()

    def action_remove(self) -> None:
        ol = self.query_one("#watch-list", OptionList)
        if not ol.has_focus or ol.highlighted is None:
            return
        oid = ol.get_option_at_index(ol.highlighted).id or ""
        if oid.startswith("w"):
            del self.texts[int(oid[1:])]
        self.refresh_list()

    def action_close(self) -> None:
        self.dismiss(self.texts)
