"""The go-to dialog (``g``): epoch, sample (number or name) and op (number or name)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Static

from nnstep.text import visible

from ..components.dialog import Dialog

if TYPE_CHECKING:
    from nnstep.debugger import Debugger


def parse_position(dbg: Debugger, epoch: str, sample: str, op: str) -> tuple[int, int, int]:
    """1-based numbers or names in, 0-based (epoch, sample, op index) out; ValueError says what is wrong."""

    def number(text: str, what: str, top: int) -> int:
        try:
            n = int(text)
        except ValueError:
            raise ValueError(f"{what}: '{text}' is not a number") from None
        if not 1 <= n <= top:
            raise ValueError(f"{what}: {n} is not between 1 and {top}")
        return n - 1

    e = number(epoch.strip() or str(dbg.epoch + 1), "epoch", dbg.epochs)
    s_text = sample.strip() or str(dbg.sample_index + 1)
    # a name as the file spells it, or as the app shows it (control characters escaped)
    names = [s.name.lower() for s in dbg.scenario.samples]
    shown = [visible(s.name).lower() for s in dbg.scenario.samples]
    if s_text.lower() in names:
        s = names.index(s_text.lower())
    elif s_text.lower() in shown:
        s = shown.index(s_text.lower())
    else:
        s = number(s_text, "sample", dbg.sample_count)
    o_text = op.strip() or str(max(1, dbg.op_index + 1))
    if o_text in dbg.program.by_name:
        o = dbg.program.by_name[o_text].index
    else:
        o = number(o_text, "op", dbg.op_count)
    return e, s, o


class GotoScreen(Dialog["tuple[int, int, int] | None"]):
    DEFAULT_CSS = """
    GotoScreen > Vertical { max-width: 80; }
    GotoScreen Horizontal { height: auto; }
    GotoScreen Horizontal > Vertical { width: 1fr; height: auto; }
    GotoScreen #goto-error { color: $text-error; height: auto; }
    GotoScreen .hint { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, dbg: Debugger) -> None:
        super().__init__()
        self.dbg = dbg

    def compose(self) -> ComposeResult:
        dbg = self.dbg
        samples = [visible(s.name) for s in dbg.scenario.samples]
        ops = [op.name for op in dbg.ops]
        with Vertical() as box:
            box.border_title = "Go to"
            with Horizontal():
                with Vertical():
                    yield Label(f"epoch (1–{dbg.epochs})")
                    yield Input(str(dbg.epoch + 1), id="goto-epoch", type="integer")
                with Vertical():
                    yield Label(f"sample (1–{dbg.sample_count} or name)")
                    yield Input(str(dbg.sample_index + 1), id="goto-sample", suggester=SuggestFromList(samples))
                with Vertical():
                    yield Label(f"op (1–{dbg.op_count} or name)")
                    yield Input(str(max(1, dbg.op_index + 1)), id="goto-op",
                                suggester=SuggestFromList(ops, case_sensitive=True))
            yield Static("", id="goto-error")
            yield Label("enter: go · tab: next field · esc: cancel", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#goto-epoch", Input).focus()  # what a user types first (its text selected)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            got = parse_position(
                self.dbg,
                self.query_one("#goto-epoch", Input).value,
                self.query_one("#goto-sample", Input).value,
                self.query_one("#goto-op", Input).value,
            )
        except ValueError as exc:
            # what was typed is text, never markup
            self.query_one("#goto-error", Static).update(Text("✗ " + visible(str(exc))))
            return
        self.dismiss(got)
