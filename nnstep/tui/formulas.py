"""The formula pane's renderings, made once per scenario off the UI thread.

Everything here that touches SymPy runs in :meth:`FormulaBook.run`, a worker
thread started after the first frame; a keypress only looks results up.  Each
op gets its symbolic renderings (SymPy's Unicode pretty print of what
:class:`nnstep.symbolic.Symbolic` derived), its LaTeX source and a *template*:
the same pretty print with fixed-width placeholders where the current numbers
go, so "with this sample's numbers" is filled in with plain string work.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .fmt import boxed

if TYPE_CHECKING:
    from nnstep.program import Op, Program

#: Placeholder width: every substituted number fits in it.
SLOT = 12
#: First character of the placeholders (Unicode private use area).
_BASE = 0xE000
#: A pretty print wider than this is shown as one wrapped line instead.
MAX_PRETTY_WIDTH = 160
#: Pre-render the expanded view of every op for programs up to this size.
PRE_EXPAND = 200
#: Pre-render every op's formulas for programs up to this size; bigger programs get
#: the requested op and the next :data:`AHEAD` ops (where stepping goes next).
EAGER = 5000
AHEAD = 24


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

    def fill(self, values: Mapping[str, float | None]) -> Form:
        texts = [boxed(values.get(n), SLOT) for n in self.names]
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


class FormulaBook:
    """Per-op renderings, filled in by a worker thread; reads are lock-free lookups."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.ops = program.ops
        self._formulas: dict[int, OpFormulas] = {}
        self._expanded: dict[int, Expanded] = {}
        self._wanted: list[tuple[int, bool]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self.sympy_ready = False
        self.idle = False  # the worker has nothing left to do
        self.failed = ""

    # ------------------------------------------------------------------ UI side

    def get(self, index: int) -> OpFormulas | None:
        return self._formulas.get(index)

    def get_expanded(self, index: int) -> Expanded | None:
        return self._expanded.get(index)

    @property
    def rendered(self) -> int:
        return len(self._formulas)

    @property
    def complete(self) -> bool:
        """Every op rendered (for a program too big to render eagerly: nothing left to do)."""
        return len(self._formulas) == len(self.ops) or (len(self.ops) > EAGER and self.idle)

    def request(self, index: int, expanded: bool = False) -> None:
        """Ask the worker to render ``index`` (its expanded view too) next."""
        with self._lock:
            self._wanted.append((index, expanded))
        self._wake.set()

    # ------------------------------------------------------------------ worker side

    def run(self, cancelled: Callable[[], bool], ready: Callable[[int], None]) -> None:
        """Import SymPy, then render every op (requested ones first) until cancelled.

        ``ready(index)`` is called after a requested op is rendered, ``ready(-1)``
        once SymPy is loaded and once everything is done."""
        try:
            from nnstep.symbolic import Symbolic

            renderer = _Renderer(Symbolic(self.program))
        except Exception as exc:  # SymPy missing or broken: say so, keep stepping
            self.failed = f"{type(exc).__name__}: {exc}"
            ready(-1)
            return
        self.sympy_ready = True
        ready(-1)
        n = len(self.ops)
        queue = list(range(n)) if n <= EAGER else []
        if n <= PRE_EXPAND:
            queue += [-1 - i for i in range(n)]  # negative: expanded view of op -1 - i
        pos = 0
        announced = False
        while not cancelled():
            with self._lock:
                wanted, self._wanted = self._wanted, []
            requested = set()
            for index, expanded in wanted:
                self._render(renderer, index)
                if expanded:
                    self._render_expanded(renderer, index)
                requested.add(index)
            for index in requested:
                ready(index)
            if wanted:
                if n > EAGER:  # then the ops stepping reaches next
                    ahead = [i for i in range(max(requested) + 1, min(n, max(requested) + 1 + AHEAD))
                             if i not in self._formulas]
                    queue[pos:pos] = ahead
                continue
            if pos < len(queue):
                job = queue[pos]
                pos += 1
                if job >= 0:
                    self._render(renderer, job)
                else:
                    self._render_expanded(renderer, -1 - job)
                continue
            self.idle = True
            if not announced:
                announced = True
                ready(-1)
            self._wake.wait(0.25)
            self._wake.clear()
            self.idle = not self._wanted

    def _render(self, renderer: _Renderer, index: int) -> None:
        if index in self._formulas:
            return
        op = self.ops[index]
        try:
            self._formulas[index] = renderer.formulas(op)
        except Exception as exc:  # pragma: no cover - a SymPy corner case; show, don't crash
            self._formulas[index] = OpFormulas(op.name, (), None, "", op.code, error=f"{type(exc).__name__}: {exc}")

    def _render_expanded(self, renderer: _Renderer, index: int) -> None:
        if index in self._expanded:
            return
        try:
            self._expanded[index] = renderer.expanded(self.ops[index])
        except Exception:  # pragma: no cover
            self._expanded[index] = Expanded(None, "")


class _Renderer:
    """Turns :class:`~nnstep.symbolic.Symbolic` results into pane text (worker thread only)."""

    def __init__(self, sy: Any) -> None:
        import sympy as sp

        from nnstep import symbolic
        from nnstep.symbolic import one_line

        self.sp = sp
        # the one way nnstep switches SymPy's global Unicode flag (under one lock)
        self.unicode_printing = symbolic.unicode_printing
        self.sy = sy
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
        return Template(self.form(shown), tuple(names))

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
