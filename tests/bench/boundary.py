"""The decision boundary's cost: evaluating and drawing the input plane.

Prints the median time to evaluate the plane (``boundary.evaluate``, in the view's
worker) for two-moons at 200 x 50 cells (200 x 100 points) and for the softmax
scenario (evaluated row by row, so within the smaller budget).  The view does this
in a thread worker, never on the UI thread."""

from __future__ import annotations

from nnstep import Debugger
from nnstep.tui.components import boundary as bd

from _common import machine, median_time

print(machine())
for name in ("two-moons", "xor", "relu-softmax"):
    dbg = Debugger(name)
    program, params = dbg.program, tuple(dbg.parameters().values())
    classes = bd.classes_for(program)
    t = median_time(lambda p=program, q=params, c=classes: bd.evaluate(p, q, c, 200, 50))
    print(f"{name:14s} evaluate 200x50 cells: {t * 1000:7.1f} ms (budget {bd.budget(program):,} points)")
