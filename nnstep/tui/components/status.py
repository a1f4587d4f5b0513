"""The status bar: where the run is, the sample's loss and a sparkline of epoch losses."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Sparkline, Static

from ..fmt import num, short

if TYPE_CHECKING:
    from nnstep.debugger import Debugger


def status_text(dbg: Debugger, width: int, extra: str = "") -> Text:
    """``scenario │ epoch i/N │ sample j/M Bob │ phase │ op k/K name │ L 0.25``,
    shortened (op name, then scenario name, then labels) to fit ``width``."""
    op = dbg.current_op
    phase = dbg.phase if not dbg.at_end else "finished"
    sample = dbg.sample
    loss = dbg.sample_loss()
    epoch = f"{dbg.epoch + 1}/{dbg.epochs}"
    where = f"{dbg.sample_index + 1}/{dbg.sample_count}"
    ops = f"{dbg.op_index + 1}/{dbg.op_count}"
    loss_text = num(loss, 4) if loss is not None else "·"
    name = dbg.scenario.name
    variants = []
    for name_w, op_name, long in ((60, True, True), (60, False, True), (24, False, True), (16, False, True),
                                  (16, False, False), (0, False, False)):
        parts: list[tuple[str, str]] = []
        if name_w:
            parts.append(("", name if len(name) <= name_w else name[: name_w - 1] + "…"))
        parts.append(("epoch " if long else "ep ", epoch))
        parts.append(("sample " if long else "", f"{where} {sample.name}" if long else f"{sample.name} {where}"))
        parts.append(("", phase))
        parts.append(("op ", ops + (f" {op.name}" if op_name and op else "")))
        parts.append(("L ", loss_text))
        variants.append((parts, " │ " if long else " · "))
    t = Text()
    for parts, sep in variants:
        t = Text(no_wrap=True, overflow="ellipsis")
        for k, (label, value) in enumerate(parts):
            if k:
                t.append(sep, style="dim")
            if label:
                t.append(label, style="dim")
            t.append(value, style="bold" if k == 0 or label == "L " or value == phase else "")
        if extra:
            t.append(sep, style="dim")
            t.append(extra, style="bold yellow")
        if t.cell_len <= width:
            return t
    return t


class StatusBar(Horizontal):
    """One line at the top of the screen."""

    DEFAULT_CSS = """
    StatusBar { height: 1; dock: top; background: $panel; }
    StatusBar > #status-text { width: 1fr; height: 1; padding: 0 0 0 1; }
    StatusBar > #status-loss { width: auto; height: 1; color: $text-muted; padding: 0 1; }
    StatusBar > Sparkline { width: 16; height: 1; margin: 0 1 0 0; }
    StatusBar.-narrow > Sparkline { width: 8; }
    """

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self._shown: tuple = ()

    def compose(self) -> ComposeResult:
        yield Static(id="status-text")
        yield Static(id="status-loss")
        yield Sparkline([], id="sparkline")

    def show(self, text: Text | Callable[[int], Text], losses: list[float] | None) -> None:
        """Show ``text`` (or ``text(width)``, made to fit what the loss part leaves);
        ``losses`` None: no scenario, no loss part."""
        narrow = self.size.width < 100
        self.set_class(narrow, "-narrow")
        if losses is None:
            label, losses = "", []
        elif losses:
            label = f"{'' if narrow else 'epoch '}loss {short(losses[-1], 6)}"
        else:
            label = "no epoch done" if narrow else "epoch loss: none yet"
        finite = [x for x in losses if math.isfinite(x)]
        if (label, losses) != self._shown:  # layout only when the loss part changes
            self._shown = (label, list(losses))
            self.query_one("#status-loss", Static).update(label)
            spark = self.query_one(Sparkline)
            top = max(finite, default=0.0)
            # the Sparkline widget cannot draw inf or nan: those show as the tallest bar
            spark.data = [x if math.isfinite(x) else top for x in losses] if finite else []
            spark.display = bool(finite)
        if callable(text):
            spark_w = ((8 if narrow else 16) + 1) if finite else 0
            text = text(max(20, self.size.width - len(label) - 3 - spark_w))
        self.query_one("#status-text", Static).update(text, layout=False)

    @property
    def plain(self) -> str:
        text = self.query_one("#status-text", Static).content
        loss = self.query_one("#status-loss", Static).content
        return f"{text.plain if isinstance(text, Text) else text} {loss}"
