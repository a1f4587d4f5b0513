"""LaTeX for a worked example: an op's formula with this sample's numbers in place of
its names (``\\mathrm{sum}_{h_{1}} = 0.15 \\cdot 0.05 + 0.2 \\cdot 0.1 + 0.35``), for
:mod:`nnstep.export`.

The numbers are written by the caller (``number(value)`` gives their LaTeX); they stand
in the expression as placeholder symbols, so SymPy neither folds them together nor
reorders them, and the expression keeps the shape the formula pane shows.  A number that
is negative or in scientific notation is put in parentheses (``(-0.5)^{2}``, never
``-0.5^{2}``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import sympy as sp

from .printing import latex, latex_name, leibniz_latex

if TYPE_CHECKING:
    from ..program import Op
    from .formulas import Symbolic

__all__ = ["lhs_latex", "numbers_latex"]

_PLAIN = re.compile(r"\d+(\.\d+)?")


def lhs_latex(sy: Symbolic, op: Op) -> str:
    r"""What the op computes, as maths: ``h_{1}``, ``\frac{\partial L}{\partial w_{1}}``; for an
    update, the parameter (the new value is written ``w_{1} \leftarrow ...``)."""
    if op.kind in ("partial", "total"):
        return leibniz_latex(op.of, op.wrt, sy.direct(op))
    return latex_name(op.name)


def numbers_latex(sy: Symbolic, op: Op, values: Mapping[str, float | None],
                  number: Callable[[float], str]) -> str:
    """The right-hand side of the op's formula with ``values`` in place of the names: for
    a partial, its derivative; for a chain-rule product, its factors' values; for an
    update, the parameter's old value (``values`` must hold it).  A name without a value
    stays a name."""
    f = sy.formula(op)
    if op.kind == "total":
        terms = [sp.Mul(*[sy.sym(n) for n in term], evaluate=False) for term in op.terms]
        expr = terms[0] if len(terms) == 1 else sp.Add(*terms, evaluate=False)
    else:
        expr = f.shown if op.kind == "partial" else f.shown_definition
    holders: dict[Any, Any] = {}
    names: dict[Any, str] = {}
    for i, s in enumerate(sorted(expr.free_symbols, key=lambda s: s.name)):
        x = values.get(s.name)
        if x is None:
            continue
        holder = sp.Symbol(f"\ue000{i}")
        holders[s] = holder
        text = number(x)
        names[holder] = text if _PLAIN.fullmatch(text) else rf"\left({text}\right)"
    with sp.evaluate(False):
        shown = expr.xreplace(holders)
    text = latex(shown, {**f.latex_names, **names})
    for wrapped in {t for t in names.values() if t.startswith(r"\left(")}:  # a function's argument: one pair
        text = text.replace(rf"\left({wrapped}\right)", wrapped)
    if text in names.values() and text.startswith(r"\left("):  # a lone number
        return text[len(r"\left(") : -len(r"\right)")]
    return text
