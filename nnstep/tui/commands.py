"""Command palette (ctrl+p): every key's command, plus jump to op <name>,
jump to sample <name>, open scenario <name> and a few without keys."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Matcher, Provider
from textual.content import Content

from nnstep.text import visible

from .keys import KEYS

if TYPE_CHECKING:
    from .host import Host

#: Command names for the key actions, as the palette lists them.
TITLES = {
    "step": "Next op",
    "back": "Previous op (step back)",
    "finish('phase')": "Finish phase",
    "finish('sample')": "Finish sample",
    "finish('epoch')": "Finish epoch",
    "finish('continue')": "Continue to next breakpoint or the end",
    "play": "Play / pause",
    "speed(1)": "Play faster",
    "speed(-1)": "Play slower",
    "toggle_breakpoint": "Toggle breakpoint on selected op",
    "conditions": "Conditional breakpoints…",
    "goto": "Go to epoch / sample / op…",
    "restart": "Restart",
    "open": "Open scenario…",
    "cycle_view": "Cycle formula view (symbols / expanded / LaTeX)",
    "help": "Help: keys and panes",
    "quit": "Quit",
    "interrupt": "Interrupt the running command",
    "toggle_values": "Show values / network (narrow screens)",
    "zoom": "Zoom the focused pane",
    "reload": "Reload the scenario file",
    "edit": "Set a value (what if)…",
    "watches": "Watch expressions…",
    "save_session": "Save session",
    "show_view('predictions')": "Show predictions and accuracy (or the network)",
    "show_view('health')": "Show network health: saturated, dead, vanishing (or the network)",
    "export('markdown')": "Export this step…",
    "show_view('matrix')": "Matrix view of the current layer (s = W·x + b, ∂L/∂W = δ·xᵀ)",
    "show_view('loss')": "Loss curve",
    "show_view('boundary')": "Decision boundary",
}
EXTRA = (
    ("clear_breakpoints", "Clear all breakpoints", "Remove every breakpoint and condition"),
    ("toggle_heatmap", "Network pane: circuit / table, drawing / heat map",
     "Switch the network pane between a formula graph's circuit and its table, a network's drawing and its heat map"),
    ("clear_edits", "Remove all what-if edits", "Undo every edit: the run as the scenario file describes it"),
    ("export('latex')", "Export this step as LaTeX…", "The current sample's worked example as a LaTeX document"),
    ("export('html')", "Export this step as HTML…", "The current sample's worked example as a web page (MathML)"),
    ("loss_log", "Loss curve: log scale", "Show the loss curve with its loss axis on a log scale (again: linear)"),
)
#: Copying and saving what is shown (tested in tests/test_tui_copy.py; no key).
COPY = (
    ("copy_formula('text')", "Copy formula as text",
     "Copy the shown op's formula in the one-line notation of nnstep trace (OSC 52 clipboard)"),
    ("copy_formula('latex')", "Copy formula as LaTeX", "Copy the shown op's formula as LaTeX (OSC 52 clipboard)"),
    ("save_slot_svg", "Save the slot view as SVG",
     "Save an SVG of the network (or the view shown in its place), or of the zoomed pane, in the working directory"),
)


class NNStepCommands(Provider):
    """Commands for the debugger; each runs only if its key could act now."""

    @property
    def nn(self) -> Host:
        return self.app  # type: ignore[return-value]  # the app is a Host

    def _main(self) -> Iterator[tuple[str, Callable[[], object], str]]:
        app = self.nn
        for k in KEYS:
            yield TITLES.get(k.action, k.help), partial(app.palette_action, k.action), f"{k.shown}: {k.help}"
        for action, title, text in EXTRA:
            yield title, partial(app.palette_action, action), text
        for action, title, text in COPY:
            yield title, partial(app.palette_action, action), text

    def _more(self) -> Iterator[tuple[str, Callable[[], object], str]]:
        app = self.nn
        dbg = app.dbg
        if dbg is not None:
            for op in dbg.ops:
                yield f"Jump to op {op.name}", partial(app.palette_jump_op, op.index), op.code
            for i, s in enumerate(dbg.scenario.samples):
                yield (f"Jump to sample {visible(s.name)}", partial(app.palette_jump_sample, i),
                       f"sample {i + 1}: x = {list(s.x)}, y = {list(s.y)}")
            for op in dbg.ops:
                yield f"Breakpoint on op {op.name}", partial(app.palette_breakpoint, op.name), op.code
        for stem in app.bundled_names():
            yield f"Open scenario {stem}", partial(app.open_bundled, stem), "a bundled scenario"

    async def discover(self) -> Hits:
        for title, callback, text in self._main():
            yield DiscoveryHit(Content(title), callback, text=title, help=_text(text))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        if (assignment := _assignment(query)) is not None:  # "set w1 = 0.5": the edit itself
            name, text = assignment
            title = f"Set {name} = {text}"
            yield Hit(1.0, Content(title), partial(self.nn.palette_edit, name, text), text=title,
                      help=_text("what if: from the start of this sample; p right after undoes it"))
        for source in (self._main(), self._more()):
            for title, callback, text in source:
                score = matcher.match(title)
                if score > 0:
                    yield Hit(score, highlight(matcher, title), callback, text=title, help=_text(text))


def _assignment(query: str) -> tuple[str, str] | None:
    """``set w1 = 0.5`` (or ``w1 = 0.5``) typed in the palette: (name, formula), else None."""
    from .screens.edit import split_assignment

    if "=" not in query:
        return None
    try:
        return split_assignment(query)
    except ValueError:
        return None


def _text(text: str) -> str:
    """Help text for a hit as plain text: the palette parses a ``str`` as markup but
    takes ``Content`` as it is (sample names come from the file)."""
    return Content(visible(text))  # type: ignore[return-value]


def highlight(matcher: Matcher, title: str) -> Content:
    """``title`` with the matched letters styled, as plain text (``Matcher.highlight``
    would parse it as markup)."""
    content = Content(title)
    score, offsets = matcher.fuzzy_search.match(matcher.query, title)
    if score:
        for offset in offsets:
            if not title[offset].isspace():
                content = content.stylize(matcher.match_style, offset, offset + 1)
    return content
