"""The formula pane's renderings as plain data: SymPy's results turned into 2-D text.

:class:`Renderer` turns what :class:`~nnstep.symbolic.Symbolic` derived into
:class:`OpFormulas` (each step's Unicode pretty print, the LaTeX source and a
*template*: the same pretty print with fixed-width placeholders where the current
numbers go, so "with this sample's numbers" is filled in with plain string work) and
:class:`Expanded`.  The dataclasses and the string work need no SymPy, so a view can
import this module at start-up; SymPy is imported when a :class:`Renderer` is made.
No Textual here: the TUI's worker (:mod:`nnstep.tui.formulas`) calls it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..program import Op
    from .formulas import Symbolic

#: How a number is written into a placeholder: ``number(value, SLOT)`` (None: not known yet).
NumberText = Callable[[float | None, int], str]

#: Placeholder width: every substituted number fits in it.
SLOT = 12
#: First character of the placeholders (Unicode private use area).
_BASE = 0xE000
#: A pretty print wider than this is shown as one wrapped line instead.
MAX_PRETTY_WIDTH = 160


@dataclass(frozen=True)
class Form:
    """A block of pretty-printed text and the row its '=' belongs on."""

    lines: tuple[str, ...]
    baseline: int = 0

    @property
    def width(self) -> int:
        return max((len(line) for line in self.lines), default=0)


@dataclass(frozen=True)
class Step:
    """One '= ...' step of a formula chain with a caption saying what it is."""

    caption: str
    form: Form


@dataclass(frozen=True)
class Template:
    """A pretty print with placeholder ``i`` standing for the value of ``names[i]``."""

    form: Form
    names: tuple[str, ...]
    number: NumberText = field(compare=False, repr=False)

    def fill(self, values: Mapping[str, float | None]) -> Form:
        texts = [self.number(values.get(n), SLOT) for n in self.names]
        return Form(tuple(fill_placeholders(self.form.lines, texts)), self.form.baseline)


@dataclass(frozen=True)
class OpFormulas:
    """Everything the formula pane shows for one op, except live numbers."""

    lhs: str
    steps: tuple[Step, ...]
    numbers: Template | None
    latex: str
    text: str
    error: str = ""
    legend: str = ""  # what [a > b] means, when the formulas use it


@dataclass(frozen=True)
class Expanded:
    """The op's formula in inputs, targets and parameters only (None: too large)."""

    form: Form | None
    text: str = ""
    legend: str = ""  # what [a > b] means, when the expansion uses it


def fill_placeholders(lines: Sequence[str], texts: Sequence[str]) -> list[str]:
    """Put ``texts[i]`` where placeholder ``i`` is, closing up the spare columns
    wherever every other row has only blanks or a fraction bar there."""
    grid = [list(line) for line in lines]
    found = []
    for r, line in enumerate(lines):
        c = 0
        while c < len(line):
            i = ord(line[c]) - _BASE
            if 0 <= i < len(texts) and line[c : c + SLOT] == line[c] * SLOT:
                found.append((c, r, i))
                c += SLOT
            else:
                c += 1
    for c, r, i in sorted(found, reverse=True):
        text = texts[i][:SLOT]
        row = grid[r]
        if text.startswith("(") and c > 0 and row[c - 1] == "(" and c + SLOT < len(row) and row[c + SLOT] == ")":
            text = text[1:-1]  # already in parentheses, as a function's argument
        grid[r][c : c + SLOT] = list(text.ljust(SLOT))
        for j in range(c + SLOT - 1, c + len(text) - 1, -1):
            if all(j >= len(row) or row[j] in " ─" for k, row in enumerate(grid) if k != r):
                for row in grid:
                    if j < len(row):
                        del row[j]
    return ["".join(row).rstrip() for row in grid]


def chain(lhs: str, steps: Sequence[Form]) -> list[tuple[int, Form]]:
    """Lay ``lhs = step1 = step2 ...`` out one step per block, the '=' signs aligned.

    Returns (step index, form with the prefix added) pairs."""
    out = []
    pad = " " * len(lhs)
    for k, form in enumerate(steps):
        head = f"{lhs} = " if k == 0 else f"{pad} = "
        blank = " " * len(head)
        lines = tuple((head if r == form.baseline else blank) + line for r, line in enumerate(form.lines))
        out.append((k, Form(lines, form.baseline)))
    return out


class Renderer:
    """Turns :class:`~nnstep.symbolic.Symbolic` results into pane text (a worker thread
    calls it; ``number`` writes a value into a :class:`Template`'s placeholder)."""

    def __init__(self, sy: Symbolic, number: NumberText) -> None:
        import sympy as sp

        from nnstep import symbolic
        from nnstep.symbolic import one_line

        self.sp = sp
        # the one way nnstep switches SymPy's global Unicode flag (under one lock)
        self.unicode_printing = symbolic.unicode_printing
        self.sy = sy
        self.number = number
        self.one_line = one_line
        # names as the program writes them (no sub/superscripts), y_pred as ŷ, |x|, max, [x > y]
        self.printer = symbolic.pretty_printer()

    def form(self, expr: Any) -> Form:
        # SymPy's box-drawing helpers read a global flag (set from sys.stdout's encoding
        # at import; inside a Textual app stdout is captured), whatever the printer's own
        # use_unicode says
        with self.unicode_printing():
            pf = self.printer._print(expr)
        return Form(tuple(line.rstrip() for line in pf.picture), pf.baseline)

    def template(self, expr: Any) -> Template:
        sp = self.sp
        names = sorted(s.name for s in expr.free_symbols)
        holders = {self.sy.sym(n): sp.Symbol(chr(_BASE + i) * SLOT) for i, n in enumerate(names)}
        with sp.evaluate(False):
            shown = expr.xreplace(holders)
        return Template(self.form(shown), tuple(names), self.number)

    def formulas(self, op: Op) -> OpFormulas:
        sp = self.sp
        f = self.sy.formula(op)
        steps: list[Step] = []
        if op.kind == "partial":
            wrt = self.sy.sym("y_pred" if op.wrt == "ypred" else op.wrt)
            steps.append(Step("differentiate the op's expression",
                              self.form(sp.Derivative(f.shown_definition, wrt, evaluate=False))))
            steps.append(Step("its derivative, in node names", self.form(f.shown)))
            numbers = self.template(f.shown)
            lhs = f.lhs
        elif op.kind == "total":
            steps.append(Step("chain rule", self.form(f.factors)))
            names = [sp.Mul(*[self.sy.sym(x) for x in term], evaluate=False) for term in op.terms]
            named = names[0] if len(names) == 1 else sp.Add(*names, evaluate=False)
            steps.append(Step("the program's names", self.form(named)))
            numbers = self.template(named)
            lhs = f.lhs
        else:
            caption = "gradient descent step" if op.kind == "update" else "definition"
            steps.append(Step(caption, self.form(f.shown_definition)))
            numbers = self.template(f.shown_definition)
            lhs = f"new {op.name}" if op.kind == "update" else f.lhs
        return OpFormulas(lhs, tuple(steps), numbers, f.latex, f.text, legend=f.legend)

    def expanded(self, op: Op) -> Expanded:
        from nnstep.symbolic import legend

        expr = self.sy.expanded(op)
        if expr is None:
            return Expanded(None, "")
        form = self.form(expr)
        text = self.one_line(expr)
        if form.width > MAX_PRETTY_WIDTH:
            return Expanded(None, text, legend(expr))
        return Expanded(form, text, legend(expr))
