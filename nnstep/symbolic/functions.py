"""The SymPy functions nnstep's formulas call beyond SymPy's own: ``sigmoid``, ``relu``
and the Iverson bracket ``[a > b]`` (what nnstep shows for a step function), and
:data:`FUNCTIONS`, every function a formula may call by the name it is written with."""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.printing.pretty.stringpict import prettyForm


class sigmoid(sp.Function):  # noqa: N801 - the learner's spelling
    """σ(x) = 1 / (1 + e^-x), with the derivative σ(x)·(1 - σ(x))."""

    @classmethod
    def eval(cls, x: Any) -> Any:
        if x.is_Number:
            return 1 / (1 + sp.exp(-x))
        return None

    def fdiff(self, argindex: int = 1) -> Any:
        s = sigmoid(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, x: Any, **kwargs: Any) -> Any:
        return 1 / (1 + sp.exp(-x))

    def _eval_evalf(self, prec: int) -> Any:
        return (1 / (1 + sp.exp(-self.args[0])))._eval_evalf(prec)

    def _latex(self, printer: Any, exp: Any = None) -> str:
        body = rf"\sigma\left({printer._print(self.args[0])}\right)"
        return body if exp is None else rf"{body}^{{{exp}}}"

    def _sympystr(self, printer: Any) -> str:
        return f"σ({printer._print(self.args[0])})"

    def _pretty(self, printer: Any) -> Any:
        arg = printer._print(self.args[0])
        return prettyForm(*prettyForm(*arg.parens()).left("σ"))


class relu(sp.Function):  # noqa: N801
    """max(x, 0); its derivative is the step θ(x) with θ(0) = 0, as PyTorch takes it."""

    @classmethod
    def eval(cls, x: Any) -> Any:
        if x.is_Number:
            return sp.Max(x, 0)
        return None

    def fdiff(self, argindex: int = 1) -> Any:
        return sp.Heaviside(self.args[0], 0)

    def _eval_rewrite_as_Max(self, x: Any, **kwargs: Any) -> Any:
        return sp.Max(x, 0)


class Iverson(sp.Function):
    """The Iverson bracket ``[a > b]``: 1 when a > b, 0 when a < b and ``tie`` when they
    are equal (½ for SymPy's step of ``max``/``min``, 0 for ReLU's, as PyTorch takes it).
    What nnstep shows for a step function instead of SymPy's ``Heaviside``/``θ``."""

    nargs = 3

    @classmethod
    def eval(cls, a: Any, b: Any, tie: Any) -> Any:
        d = a - b
        if d.is_Number:
            return sp.S.One if d > 0 else sp.S.Zero if d < 0 else tie
        return None

    def fdiff(self, argindex: int = 1) -> Any:
        return sp.S.Zero  # almost everywhere

    def _eval_evalf(self, prec: int) -> Any:
        a, b, tie = self.args
        d = (a - b).evalf(prec)
        if not d.is_Number:
            return None
        return sp.Float(1 if d > 0 else 0, prec) if d != 0 else sp.Float(tie, prec)

    def _eval_rewrite_as_Heaviside(self, a: Any, b: Any, tie: Any, **kwargs: Any) -> Any:
        return sp.Heaviside(a - b, tie)


#: The functions a formula may call, by the name it is written with.
FUNCTIONS: dict[str, Any] = {
    "exp": sp.exp,
    "log": sp.log,
    "tanh": sp.tanh,
    "sigmoid": sigmoid,
    "relu": relu,
    "sqrt": sp.sqrt,
    "abs": sp.Abs,
    "max": sp.Max,
    "min": sp.Min,
}


class LowerMaxMin:
    """Printer mixin: ``max(a, b)`` and ``min(a, b)`` as a learner writes them in Python
    (SymPy's own printers say ``Max``/``Min``)."""

    def _print_Max(self, expr: Any) -> str:
        return f"max({', '.join(self._print(a) for a in expr.args)})"  # type: ignore[attr-defined]

    def _print_Min(self, expr: Any) -> str:
        return f"min({', '.join(self._print(a) for a in expr.args)})"  # type: ignore[attr-defined]
