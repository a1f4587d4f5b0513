"""The formula pane: the op's definition, SymPy's derivative or chain product,
the same with the current numbers, the result and, for a parameter's
gradient, the finite-difference check; in three views (``t`` cycles)."""

from __future__ import annotations

import math
import textwrap
from typing import TYPE_CHECKING

from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size

from ..fmt import num
from ..formulas import Form, FormulaBook, chain
from .rows import SCROLL_BINDINGS, RowList

if TYPE_CHECKING:
    from nnstep.debugger import Debugger

VIEWS = ("symbols", "expanded", "latex")
VIEW_TITLES = {
    "symbols": "node symbols",
    "expanded": "expanded in inputs & parameters",
    "latex": "LaTeX source",
}
KIND_TEXT = {
    "sum": "weighted sum",
    "activation": "activation",
    "alias": "the prediction",
    "loss": "loss",
    "partial": "local partial derivative",
    "total": "chain rule",
    "update": "gradient descent",
}
#: The formula pane scrolls this many lines whatever it shows (see FormulaView.show).
TALL = 40
WIDE = 48
#: A gradient agrees with its finite difference when they differ by less than this (relative).
FD_AGREES = 1e-5


def formula_value(dbg: Debugger, name: str, old: dict[str, float]) -> float | None:
    """The value a formula's name had when the op ran: within a sample every op
    reads the parameters as they were at the sample's start."""
    if name in old:
        return old[name]
    return dbg.value(name)


def _place(rows: list[tuple[Form, str]], width: int) -> list[Text]:
    """Chain blocks with captions: to the right when they fit, else above."""
    out: list[Text] = []
    block_w = max((f.width for f, _ in rows), default=0)
    beside = all(block_w + 3 + len(c) <= width for _, c in rows)
    above = not beside and width >= 44  # a narrow pane keeps its rows for the formula
    for form, caption in rows:
        if caption and above:
            out.append(Text(caption, style="dim italic"))
        for r, line in enumerate(form.lines):
            t = Text(line, no_wrap=True)
            if caption and beside and r == form.baseline:
                t.append(" " * (block_w - len(line) + 3))
                t.append(caption, style="dim italic")
            out.append(t)
    return out


def formula_text(dbg: Debugger, book: FormulaBook | None, index: int, view: str, width: int) -> tuple[Text, bool]:
    """The pane's text for op ``index`` and whether it waits for the worker."""
    op = dbg.ops[index]
    executed = index <= dbg.op_index
    lines: list[Text] = []
    head = Text(op.code, style="bold", no_wrap=True)
    lines.append(head)
    kind = KIND_TEXT.get(op.kind, op.kind)
    if op.phase == "loss" and dbg.scenario.form == "graph":
        kind = "the output that training makes smaller"
    lines.append(Text(f"{op.phase} · {kind} · op {index + 1}/{dbg.op_count}", style="dim"))
    lines.append(Text(""))
    waiting = False
    value = dbg.value(op.name) if executed else None
    f = book.get(index) if book is not None else None
    if book is not None and book.failed:
        lines.append(Text(f"SymPy is not available, so no formulas: {book.failed}", style="bold red"))
    elif f is None:
        lines.append(Text("deriving the formula with SymPy…", style="dim italic"))
        waiting = True
    elif f.error:
        lines.append(Text(f"SymPy could not render this op: {f.error}", style="red"))
    elif view == "symbols":
        rows: list[tuple[Form, str]] = []
        forms = [s.form for s in f.steps]
        captions = [s.caption for s in f.steps]
        if executed and f.numbers is not None:
            old = dbg.old_parameters()
            forms.append(f.numbers.fill({n: formula_value(dbg, n, old) for n in f.numbers.names}))
            captions.append("with this sample's numbers")
        if executed:
            forms.append(Form((num(value, 9),)))
            captions.append("value")
        for (_, form), caption in zip(chain(f.lhs, forms), captions):
            rows.append((form, caption))
        lines.extend(_place(rows, width))
        if not executed:
            lines.append(Text(""))
            lines.append(Text("not run yet: enter in the program jumps here", style="dim italic"))
    elif view == "expanded":
        e = book.get_expanded(index) if book is not None else None
        if e is None:
            lines.append(Text("expanding with SymPy…", style="dim italic"))
            waiting = True
        elif e.form is None and not e.text:
            lines.append(Text(f"{f.lhs}: too large to expand in inputs and parameters", style="yellow"))
            lines.append(Text("(press t for the LaTeX source, t again for node symbols)", style="dim"))
        else:
            forms = [e.form] if e.form is not None else []
            if e.form is None:
                wrapped = textwrap.wrap(e.text, max(20, width - len(f.lhs) - 3), break_on_hyphens=False)
                forms = [Form(tuple(wrapped), 0)]
            rows = [(form, "") for _, form in chain(f.lhs, forms)]
            if executed:
                rows.append((chain(f.lhs, [Form(("",)), Form((num(value, 9),))])[1][1], "value"))
            lines.extend(_place(rows, width))
            lines.append(Text(""))
            lines.append(Text("SymPy's formula with every node replaced by its own formula", style="dim italic"))
    else:
        lines.append(Text("LaTeX (from SymPy):", style="dim"))
        for chunk in textwrap.wrap(f.latex, max(20, width), break_on_hyphens=False) or [""]:
            lines.append(Text(chunk, no_wrap=True))
    if executed and f is not None and not f.error and view != "latex":
        lines.extend(_finite_difference(dbg, op, value, width))
    return Text("\n").join(lines), waiting


def _finite_difference(dbg: Debugger, op, value: float | None, width: int) -> list[Text]:
    if op.kind != "total" or op.wrt not in dbg.program.parameters or value is None:
        return []
    fd = dbg.finite_difference(op.wrt)
    diff = value - fd
    scale = max(abs(value), abs(fd), 1e-300)
    ok = math.isfinite(diff) and abs(diff) / scale < FD_AGREES
    wide = width >= 44
    t = Text("check ", style="bold")
    t.append(f"{'central finite difference' if wide else 'f.d.'} {num(fd, 9)}")
    out = [t]
    t = Text(f"      chain rule − f.d. = {num(diff, 2)} " if wide else f"      diff {num(diff, 2)} ")
    t.append("✓ agree" if ok else "✗ differ", style="bold green" if ok else "bold red")
    out.append(t)
    return out


class FormulaView(RowList, can_focus=True):
    """The formula text, drawn line by line (no relayout of the screen per step);
    scrolls both ways.  ← → stay the app's step keys."""

    ALLOW_MAXIMIZE = True
    DEFAULT_CSS = """
    FormulaView { overflow-x: scroll; overflow-y: scroll; scrollbar-size-horizontal: 1; }
    """
    BINDINGS = [
        *SCROLL_BINDINGS,
        Binding("shift+left,h", "scroll_left", "scroll left", show=False),
        Binding("shift+right,l", "scroll_right", "scroll right", show=False),
    ]

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.lines: list[Text] = []

    def show(self, text: Text, *, reset: bool) -> None:
        self.lines = text.split("\n", allow_blank=True)
        width = max((line.cell_len for line in self.lines), default=0)
        # A new virtual size relayouts the whole screen (tens of ms).  It is kept roomy
        # (TALL lines, WIDE columns more than the pane; both scrollbars always shown) and
        # grows in steps only for bigger text: most steps then only repaint this pane,
        # and the size is still a function of what is shown (stepping back restores it).
        region = self.scrollable_content_region
        w = region.width + WIDE if width <= region.width + WIDE else -(-width // 32) * 32
        n = len(self.lines)
        h = max(region.height, TALL) if n <= TALL else -(-n // 16) * 16
        self.rows = [("line", i) for i in range(n)]
        if (w, h) != (self.virtual_width, self.virtual_size.height):
            self.virtual_width = w
            self.virtual_size = Size(w, h)
        self.refresh()
        if reset:
            self.scroll_to(0, 0, animate=False, immediate=True)

    def row_text(self, index: int, width: int) -> Text:
        return self.lines[index].copy()

    @property
    def plain(self) -> str:
        return "\n".join(line.plain for line in self.lines)
