"""The formula pane's renderings, made once per scenario off the UI thread.

Everything here that touches SymPy runs in :meth:`FormulaBook.run`, a worker
thread started after the first frame; a keypress only looks results up.  The
renderings themselves (each op's pretty print, LaTeX and number *template*, as
plain data) are made by :mod:`nnstep.symbolic.views`; this module only schedules
them and keeps the results.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from nnstep.program import PerProgram
from nnstep.symbolic.views import (  # plain data and string work: no SymPy imported here
    MAX_PRETTY_WIDTH,
    SLOT,
    Expanded,
    Form,
    OpFormulas,
    Renderer,
    Step,
    Template,
    chain,
    fill_placeholders,
)

from .fmt import boxed

if TYPE_CHECKING:
    from nnstep.program import Program
    from nnstep.symbolic import Symbolic

__all__ = [
    "AHEAD", "EAGER", "MAX_PRETTY_WIDTH", "PRE_EXPAND", "SLOT", "Expanded", "Form", "FormulaBook", "OpFormulas",
    "Renderer", "Step", "Template", "chain", "fill_placeholders", "pane_renderer",
]

#: Pre-render the expanded view of every op for programs up to this size.
PRE_EXPAND = 200
#: Pre-render every op's formulas for programs up to this size; bigger programs get
#: the requested op and the next :data:`AHEAD` ops (where stepping goes next).
EAGER = 5000
AHEAD = 24


#: Renderings are plain data and depend only on the program's ops and the network's
#: definitions (:attr:`~nnstep.program.Program.fingerprint`), so every book of an equal
#: program fills the same (formulas, expanded) dicts, in the worker: reopening or
#: reloading an unchanged scenario (or a second app in this process) renders nothing twice.
shared_renderings: PerProgram[tuple[dict[int, OpFormulas], dict[int, Expanded]]] = PerProgram(lambda _: ({}, {}))


def pane_renderer(sy: Symbolic) -> Renderer:
    """The renderer the pane uses: numbers in placeholders as :func:`~nnstep.tui.fmt.boxed` writes them."""
    return Renderer(sy, boxed)


_Renderer = pane_renderer  # the name the TUI's tests use


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
        self.wake()

    def wake(self) -> None:
        """Wake the worker now (it checks whether it is cancelled, e.g. because the book
        is no longer the app's, each time it wakes)."""
        self._wake.set()

    # ------------------------------------------------------------------ worker side

    def run(self, cancelled: Callable[[], bool], ready: Callable[[int], None]) -> None:
        """Import SymPy, then render every op (requested ones first) until cancelled.

        ``ready(index)`` is called after a requested op is rendered, ``ready(-1)``
        once SymPy is loaded and once everything is done."""
        try:
            from nnstep.symbolic import shared_symbolic

            formulas, expanded = shared_renderings(self.program)
            formulas.update(self._formulas)
            expanded.update(self._expanded)
            self._formulas, self._expanded = formulas, expanded
            made: list[Renderer] = []

            def renderer() -> Renderer:  # made when an op is not rendered yet
                if not made:
                    made.append(pane_renderer(shared_symbolic(self.program)))
                return made[0]

            if len(formulas) < len(self.ops):
                renderer()  # SymPy's own errors show here, before any op
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

    def _render(self, renderer: Callable[[], Renderer], index: int) -> None:
        if index in self._formulas:
            return
        op = self.ops[index]
        try:
            self._formulas[index] = renderer().formulas(op)
        except Exception as exc:  # pragma: no cover - a SymPy corner case; show, don't crash
            self._formulas[index] = OpFormulas(op.name, (), None, "", op.code, error=f"{type(exc).__name__}: {exc}")

    def _render_expanded(self, renderer: Callable[[], Renderer], index: int) -> None:
        if index in self._expanded:
            return
        try:
            self._expanded[index] = renderer().expanded(self.ops[index])
        except Exception:  # pragma: no cover
            self._expanded[index] = Expanded(None, "")
