"""The formula pane: the op's definition, SymPy's derivative or chain product,
the same with the current numbers, the result and, for a parameter's
gradient, the finite-difference check; in three views (``t`` cycles).  One-line
steps too wide for the pane go on continuation lines, broken at their operators."""

from __future__ import annotations

import re
import textwrap
from typing import TYPE_CHECKING

from rich.text import Text
from textual.binding import Binding
from textual.content import Content
from textual.geometry import Size

from nnstep.gradcheck import AGREE, DIFFER

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
#: A pane narrower than this shows no captions, no blank line under the op and a short check.
NARROW = 44
#: Where a one-line formula too wide for the pane breaks, loosest first: before a sum's
#: ``+``/``-``, then before a product's ``⋅`` (the program's ``*`` and ``/`` in its code
#: line), outside parentheses, then one level in, and so on.
_SUMS = (" + ", " - ")
_PRODUCTS = ("⋅", " * ", " / ")
BREAKS = tuple((ops, depth) for depth in range(8) for ops in (_SUMS, _PRODUCTS))
#: Continuation lines of the op's code line are indented this much (under the right-hand
#: side would cost a line more in a narrow pane).
HANG = 4
#: ... and lines that break a term (a factor, a parenthesis) inside that, this much more.
NEST = 2
_ASSIGN = re.compile(r"\S+ [-+*/]?= ")


def _cuts(text: str, ops: tuple[str, ...], depth: int, level: int = 0) -> list[int]:
    """Where a new line may start in ``text`` (which begins ``level`` parentheses deep):
    at an operator of ``ops`` (after its leading space) ``depth`` parentheses deep."""
    out = []
    for i, ch in enumerate(text):
        if ch in "([{":
            level += 1
        elif ch in ")]}":
            level -= 1
        elif level == depth and i > 0:
            for op in ops:
                if text.startswith(op, i):
                    out.append(i + 1 if op[0] == " " else i)
                    break
    return out


def _level(text: str, level: int) -> int:
    """How many parentheses deep the end of ``text`` is, its start ``level`` deep."""
    for ch in text:
        level += (ch in "([{") - (ch in ")]}")
    return level


def _wrap_body(body: str, first: int, rest: int, levels: tuple, level: int = 0) -> list[str]:
    """``body`` (beginning ``level`` parentheses deep) in lines of at most ``first`` (the
    first line) and ``rest`` columns, packed greedily at the loosest breaks there are;
    a line still too wide is broken at the next level's breaks, its continuation lines
    indented :data:`NEST` more; a line that no break shortens stays as it is."""
    if len(body) <= first or not levels:
        return [body]
    ops, depth = levels[0]
    cuts = _cuts(body, ops, depth, level)
    if not cuts:
        return _wrap_body(body, first, rest, levels[1:], level)
    spans = [[0, cuts[0]]]
    for a, b in zip(cuts, [*cuts[1:], len(body)]):
        if len(body[spans[-1][0]:b].rstrip()) <= (first if len(spans) == 1 else rest):
            spans[-1][1] = b
        else:
            spans.append([a, b])
    out: list[str] = []
    step = NEST if rest - NEST >= 16 else 0
    for k, (a, b) in enumerate(spans):
        line = body[a:b].rstrip()
        head, *more = _wrap_body(line, first if k == 0 else rest, rest - step, levels[1:], _level(body[:a], level))
        out.append(head)
        out.extend(" " * step + part for part in more)
    return out


def wrap_formula(line: str, start: int, indent: int, width: int) -> list[str]:
    """A one-line formula in lines of at most ``width`` columns where it can be broken
    (see :data:`BREAKS`): ``line[:start]`` (``lhs = ``) begins the first line, the
    continuation lines are indented by ``indent``, each beginning with its operator."""
    if len(line) <= width:
        return [line]
    parts = _wrap_body(line[start:], width - start, width - indent, BREAKS)
    return [line[:start] + parts[0]] + [" " * indent + part for part in parts[1:]]


def _code_lines(code: str, width: int) -> list[str]:
    """The op's code line, broken at its operators to fit ``width``."""
    m = _ASSIGN.match(code)
    start = m.end() if m else 0
    lines = wrap_formula(code, start, min(start, HANG), width)
    if len(lines[0]) > width and start > HANG:  # no break fits: the right-hand side below
        lines = [code[:start].rstrip(), *wrap_formula(" " * HANG + code[start:], HANG, HANG, width)]
    return lines


def _pack(pieces: list[str], sep: str, width: int) -> list[str]:
    """``sep.join(pieces)`` in lines of at most ``width`` columns, broken at a ``sep``
    (which is then left out), a piece wider than that between its words."""
    lines = [pieces[0]]
    for piece in pieces[1:]:
        if len(lines[-1]) + len(sep) + len(piece) <= width:
            lines[-1] += sep + piece
        else:
            lines.append(piece)
    return [part for line in lines for part in (textwrap.wrap(line, width) if len(line) > width else [line])]


def _prose(text: str, width: int, style: str) -> list[Text]:
    """A sentence in lines of at most ``width`` columns, broken between words."""
    return [Text(line, style=style, no_wrap=True)
            for line in textwrap.wrap(text, max(width, 20), break_on_hyphens=False) or [""]]


def formula_value(dbg: Debugger, name: str, old: dict[str, float]) -> float | None:
    """The value a formula's name had when the op ran: within a sample every op
    reads the parameters as they were at the sample's start."""
    if name in old:
        return old[name]
    return dbg.value(name)


def _place(rows: list[tuple[Form, str]], width: int, indent: int) -> list[Text]:
    """Chain blocks with captions: to the right when they fit, else above.  A one-line
    block too wide for the pane goes on continuation lines indented by ``indent`` (under
    the right-hand side); a taller (2-D) one stays as it is, the pane scrolls sideways."""
    out: list[Text] = []
    block_w = max((f.width for f, _ in rows), default=0)
    beside = all(block_w + 3 + len(c) <= width for _, c in rows)
    above = not beside and width >= NARROW  # a narrow pane keeps its rows for the formula
    for form, caption in rows:
        if caption and above:
            out.append(Text(caption, style="dim italic"))
        lines = form.lines
        if not beside and len(lines) == 1:
            lines = tuple(wrap_formula(lines[0], indent, indent, width))
        for r, line in enumerate(lines):
            t = Text(line, no_wrap=True)
            if caption and beside and r == form.baseline:
                t.append(" " * (block_w - len(line) + 3))
                t.append(caption, style="dim italic")
            out.append(t)
    return out


def formula_text(dbg: Debugger, book: FormulaBook | None, index: int, view: str, width: int
                 ) -> tuple[list[Text], bool]:
    """The pane's lines for op ``index`` and whether it waits for the worker."""
    op = dbg.ops[index]
    executed = index <= dbg.op_index
    lines: list[Text] = [Text(line, style="bold", no_wrap=True) for line in _code_lines(op.code, width)]
    kind = KIND_TEXT.get(op.kind, op.kind)
    if op.phase == "loss" and dbg.scenario.form == "graph":
        kind = "the output that training makes smaller"
    where = f"op {index + 1}/{dbg.op_count}"
    about = [op.phase, kind, where]
    if len(" · ".join(about)) > width:  # two lines: where it is, then what it is
        about = [op.phase, where, kind]
    for line in _pack(about, " · ", width):
        lines.append(Text(line, style="dim", no_wrap=True))
    if width >= NARROW:  # a narrow pane keeps its rows for the formula
        lines.append(Text(""))
    waiting = False
    value = dbg.value(op.name) if executed else None
    f = book.get(index) if book is not None else None
    if book is not None and book.failed:
        lines.extend(_prose(f"SymPy is not available, so no formulas: {book.failed}", width, "bold red"))
    elif f is None:
        lines.append(Text("deriving the formula with SymPy…", style="dim italic"))
        waiting = True
    elif f.error:
        lines.extend(_prose(f"SymPy could not render this op: {f.error}", width, "red"))
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
        lines.extend(_place(rows, width, len(f.lhs) + 3))
        if f.legend:
            lines.extend(_prose(f.legend, width, "dim"))
        if not executed:
            lines.append(Text(""))
            lines.extend(_prose("not run yet: enter in the program jumps here", width, "dim italic"))
    elif view == "expanded":
        e = book.get_expanded(index) if book is not None else None
        if e is None:
            lines.append(Text("expanding with SymPy…", style="dim italic"))
            waiting = True
        elif e.form is None and not e.text:
            lines.extend(_prose(f"{f.lhs}: too large to expand in inputs and parameters", width, "yellow"))
            lines.extend(_prose("(press t for the LaTeX source, t again for node symbols)", width, "dim"))
        else:
            forms = [e.form] if e.form is not None else []
            if e.form is None:
                wrapped = textwrap.wrap(e.text, max(20, width - len(f.lhs) - 3), break_on_hyphens=False)
                forms = [Form(tuple(wrapped), 0)]
            rows = [(form, "") for _, form in chain(f.lhs, forms)]
            if executed:
                rows.append((chain(f.lhs, [Form(("",)), Form((num(value, 9),))])[1][1], "value"))
            lines.extend(_place(rows, width, len(f.lhs) + 3))
            if e.legend:
                lines.extend(_prose(e.legend, width, "dim"))
            lines.append(Text(""))
            lines.extend(_prose("SymPy's canonical form, every node replaced by its own formula", width,
                                "dim italic"))
    else:
        lines.append(Text("LaTeX (from SymPy):", style="dim"))
        for chunk in textwrap.wrap(f.latex, max(20, width), break_on_hyphens=False) or [""]:
            lines.append(Text(chunk, no_wrap=True))
    if executed and f is not None and not f.error and view != "latex":
        lines.extend(_finite_difference(dbg, op, value, width))
    return lines, waiting


def _finite_difference(dbg: Debugger, op, value: float | None, width: int) -> list[Text]:
    """The gradient check (nnstep.gradcheck): the difference, then agree / differ /
    cannot be measured, with the reason in words when it cannot."""
    if op.kind != "total" or op.wrt not in dbg.program.parameters or value is None:
        return []
    check = dbg.finite_difference(op.wrt, value)
    wide = width >= NARROW
    head = Text.assemble(("check ", "bold"), "central finite difference" if wide else "f.d.")
    out = _beside(head, Text(num(check.estimate, 9)), width)
    verdict = {AGREE: Text("✓ agree", style="bold green"), DIFFER: Text("✗ differ", style="bold red")}.get(
        check.verdict, Text("? cannot be measured", style="bold yellow"))
    out += _beside(Text(f"      chain rule − f.d. = {num(check.difference, 2)}" if wide
                        else f"      diff {num(check.difference, 2)}"), verdict, width)
    if check.verdict != AGREE:
        _, _, reason = check.words.partition(": ")
        out.extend(_prose(reason, width, "dim"))
    return out


def _beside(head: Text, tail: Text, width: int) -> list[Text]:
    """``tail`` after ``head`` on one line when both fit in ``width``, else on the next
    line, indented: a line wider than the pane would have to be scrolled to."""
    if head.cell_len + 1 + tail.cell_len <= width:
        return [Text.assemble(head, " ", tail)]
    return [head, Text.assemble("      ", tail)]


class FormulaView(RowList, can_focus=True):
    """The formula text, drawn line by line; scrolls both ways as far as the text goes,
    with no scrollbars: the border says what is out of sight (``↓ 3 more``, ``→ more``).
    A scrollbar that comes and goes relayouts the screen (tens of ms), and one always
    shown would scroll into emptiness.  ← → stay the app's step keys."""

    ALLOW_MAXIMIZE = True
    DEFAULT_CSS = """
    FormulaView { overflow-x: hidden; overflow-y: hidden; }
    """
    BINDINGS = [
        *SCROLL_BINDINGS,
        Binding("shift+left,h", "scroll_left", "scroll left", show=False),
        Binding("shift+right,l", "scroll_right", "scroll right", show=False),
    ]

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.lines: list[Text] = []
        self.laid_out_for = 0  # the width the text was broken for
        self.hint = ""  # the app's part of the border's subtitle

    # the keys and the mouse wheel scroll it (no scrollbar: Textual's default says no)
    @property
    def allow_vertical_scroll(self) -> bool:
        return not self.disabled and self.max_scroll_y > 0

    @property
    def allow_horizontal_scroll(self) -> bool:
        return not self.disabled and self.max_scroll_x > 0

    def on_resize(self) -> None:
        # the text is broken into lines for the pane's width: a new width (the screen's
        # resize, a zoom) asks the app for it again; stepping never resizes the pane
        update = getattr(self.app, "update_formula", None)
        if self.lines and self.scrollable_content_region.width != self.laid_out_for and update is not None:
            update(reset=False)
        else:
            self._fit()

    def show(self, lines: list[Text], *, reset: bool, hint: str | None = None) -> None:
        """Show ``lines``, scrolled home with ``reset``; ``hint`` (the app's words for the
        border, e.g. ``t: view``) is kept for the next time when None."""
        self.laid_out_for = self.scrollable_content_region.width
        if hint is not None:
            self.hint = hint
        # one Text per line (a line with a newline in it is split)
        self.lines = [part for line in lines
                      for part in (line.split("\n", allow_blank=True) if "\n" in line.plain else (line,))]
        self.rows = [("line", i) for i in range(len(self.lines))]
        if reset and (self.scroll_x or self.scroll_y):
            self.scroll_to(0, 0, animate=False, immediate=True)
        self._fit()
        self.refresh_rows()  # only the lines whose text or styles changed (a scroll repaints them all)

    def _fit(self) -> None:
        """The scrolling extent: exactly the text (no scrollbar, so no layout of the screen
        when it changes), then the border's words for what is out of sight."""
        region = self.scrollable_content_region
        width = max((line.cell_len for line in self.lines), default=0)
        size = Size(max(width, region.width), max(len(self.lines), region.height))
        self.virtual_width = size.width
        if size != self.virtual_size:
            self.set_reactive(FormulaView.virtual_size, size)
            if self.scroll_x > self.max_scroll_x or self.scroll_y > self.max_scroll_y:
                self.scroll_to(min(self.scroll_x, self.max_scroll_x), min(self.scroll_y, self.max_scroll_y),
                               animate=False, immediate=True)
        self._mark()

    def watch_scroll_x(self, old: float, new: float) -> None:
        super().watch_scroll_x(old, new)
        self._mark()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._mark()

    def out_of_sight(self) -> str:
        """What the pane does not show: ``↑ 2 · ↓ 3 more · ← · → more`` (parts left out)."""
        above, below = round(self.scroll_y), round(self.max_scroll_y - self.scroll_y)
        parts = [f"↑ {above}" if above > 0 else "", f"↓ {below} more" if below > 0 else "",
                 "←" if self.scroll_x > 0 else "", "→ more" if self.scroll_x < self.max_scroll_x else ""]
        return " · ".join(part for part in parts if part)

    def _mark(self) -> None:
        subtitle = " · ".join(part for part in (self.out_of_sight(), self.hint) if part)
        if str(self.border_subtitle or "") != subtitle:  # a new subtitle repaints the pane
            self.border_subtitle = Content(subtitle)

    def row_text(self, index: int, width: int) -> Text:
        return self.lines[index].copy()

    @property
    def plain(self) -> str:
        return "\n".join(line.plain for line in self.lines)
