"""The status bar: where the run is, the sample's loss and a sparkline of epoch losses."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from nnstep.text import visible

from ..fmt import num, short
from .strips import text_key, text_strip

if TYPE_CHECKING:
    from nnstep.debugger import Debugger


#: Layouts from the roomiest down: labels spelled out?, the current op's name?, the
#: op position?, the phase?, the message in full (else its short form)?, and the
#: fewest columns the scenario name may be cut to before the next layout is tried.
LAYOUTS = (
    (True, True, True, True, True, 24),
    (True, False, True, True, True, 16),
    (False, False, True, True, True, 12),
    (False, False, False, True, True, 10),
    (False, False, True, True, False, 12),
    (False, False, False, True, False, 10),
    (False, False, False, False, False, 6),
)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)].rstrip() + "…"


def status_text(dbg: Debugger, width: int, extra: str = "", short_extra: str | None = None) -> Text:
    """``scenario │ epoch i/N │ sample j/M Bob │ phase │ op k/K name │ L 0.25``,
    made to fit ``width``: the op name goes first, then the labels get shorter,
    the op position goes, ``extra`` becomes ``short_extra`` and the phase goes;
    the scenario name is cut to the room left (with an ellipsis) and dropped
    only when not even a few letters of it fit."""
    op = dbg.current_op
    phase = dbg.phase if not dbg.at_end else "finished"
    sample = dbg.sample
    loss = dbg.sample_loss()
    epoch = f"{dbg.epoch + 1}/{dbg.epochs}"
    where = f"{dbg.sample_index + 1}/{dbg.sample_count}"
    ops = f"{dbg.op_index + 1}/{dbg.op_count}"
    loss_label = f"{dbg.program.loss} "
    loss_text = num(loss, 4) if loss is not None else "·"
    name = visible(dbg.scenario.name)  # text from the file: control characters escaped
    sample_name = visible(sample.name)

    def build(long: bool, op_name: bool, show_op: bool, show_phase: bool, full: bool, name_w: int) -> Text:
        sep = " │ " if long else " · "
        parts: list[tuple[str, str, bool]] = []  # label, value, bold
        if name_w:
            parts.append(("", _cut(name, name_w), True))
        parts.append(("epoch " if long else "ep ", epoch, False))
        parts.append(("sample " if long else "", f"{where} {sample_name}" if long else f"{sample_name} {where}",
                      False))
        if show_phase:
            parts.append(("", phase, True))
        if show_op:
            parts.append(("op ", ops + (f" {op.name}" if op_name and op else ""), False))
        parts.append((loss_label, loss_text, True))
        if dbg.edits:  # what-if edits (issue #14): this is not the file's run
            parts.append(("", f"✎ {len(dbg.edits)} edit{'s' * (len(dbg.edits) != 1)}" if long
                          else f"✎{len(dbg.edits)}", True))
        t = Text(no_wrap=True, overflow="ellipsis")
        for k, (label, value, bold) in enumerate(parts):
            if k:
                t.append(sep, style="dim")
            if label:
                t.append(label, style="dim")
            t.append(value, style="bold" if bold else "")
        more = extra if full or short_extra is None else short_extra
        if more:
            t.append(sep, style="dim")
            t.append(more, style="bold yellow")
        return t

    for *layout, least in LAYOUTS:
        room = width - build(*layout, 0).cell_len - 3
        if room >= min(len(name), least):
            return build(*layout, min(room, 60))
    t = build(*LAYOUTS[-1][:-1], 0)  # no room for the name at all: cropped with an ellipsis
    t.truncate(width, overflow="ellipsis")
    return t


class StatusLine(Widget):
    """The status text: one line drawn straight from its Rich ``Text`` when it changes (a
    ``Static`` would parse and lay it out again on every step, about half a ms)."""

    DEFAULT_CSS = """
    StatusLine { height: 1; }
    """

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.content = Text()
        self._strip = Strip([])
        self._drawn_for: tuple[int, Style] | None = None  # the width and base style _strip is drawn for

    def update(self, text: Text) -> None:
        self.content = text
        self._drawn_for = None
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        base = self.visual_style.rich_style
        if y or width <= 0:
            return Strip.blank(width, base)
        if self._drawn_for != (width, base):  # new text, a new width or theme: drawn again
            text = self.content.copy()
            text.truncate(width, overflow="ellipsis")
            self._strip, self._drawn_for = text_strip(text, self.app.console, base, width), (width, base)
        return self._strip


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
        self._text_shown: object = None
        self.line = StatusLine(id="status-text")  # kept at hand: updated on every step
        self.text_width = 80  # the room the status text had last time
        self._last: tuple[Text | Callable[[int], Text], list[float] | None] | None = None

    def compose(self) -> ComposeResult:
        yield self.line
        yield Static(id="status-loss")
        yield Sparkline([], id="sparkline")

    def show(self, text: Text | Callable[[int], Text], losses: list[float] | None) -> None:
        """Show ``text`` (or ``text(width)``, made to fit what the loss part leaves);
        ``losses`` None: no scenario, no loss part.  Made again for a new width."""
        self._last = (text, losses)
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
            # 1 column of padding, 2 of the loss part's and 2 more to keep the two apart
            self.text_width = max(20, self.size.width - len(label) - 5 - spark_w)
            text = text(self.text_width)
        shown = text_key(text) if isinstance(text, Text) else text
        if shown != self._text_shown:  # repaint only when the text changes
            self._text_shown = shown
            self.line.update(text)

    def on_resize(self) -> None:
        if self._last is not None:
            self.show(*self._last)

    @property
    def plain(self) -> str:
        text = self.line.content
        loss = self.query_one("#status-loss", Static).content
        return f"{text.plain} {loss}"
