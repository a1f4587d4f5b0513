"""SymPy's derivatives of parsed formulas, turned back into numeric trees and kernels.

A formula graph's local partials (:mod:`nnstep.graph`) and a custom activation's
derivative (:mod:`nnstep.layered`) are derived here with SymPy's ``diff`` and then
turned into the same numeric tree every op has (:func:`numeric_tree`; no
``lambdify``, no string parsing), from which :mod:`nnstep.kernels` and
:mod:`nnstep.codegen` compute, as for every other op.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from functools import cache
from typing import Any

import sympy as sp
from sympy.printing.str import StrPrinter

from ..errors import FormulaError
from ..expr import Binary, Call, Name, Node, Num, Unary, names_in
from ..kernels import Kernel, compile_kernels
from ..scenario import Graph
from .bridge import symbol, to_sympy, to_sympy_sized
from .functions import FUNCTIONS, LowerMaxMin, relu, sigmoid


class GraphError(ValueError):
    """SymPy produced something nnstep cannot compute numerically."""


def _constant(e: Any) -> float:
    if e is sp.S.NaN or e is sp.S.ComplexInfinity:
        return math.nan
    if e is sp.S.Infinity:
        return math.inf
    if e is sp.S.NegativeInfinity:
        return -math.inf
    try:
        return float(e)
    except (TypeError, ValueError):
        raise GraphError(f"the constant {e} is not a real number") from None


def numeric_tree(expr: Any, names: Collection[str]) -> Node:
    """A SymPy expression as a numeric tree (see :mod:`nnstep.codegen`) over ``names``.

    Only the shapes SymPy's derivatives of nnstep formulas take are accepted:
    numbers, symbols, + * **, exp, log, tanh, sigmoid, relu, abs, sign,
    Heaviside, max and min.  Anything else raises :class:`GraphError`.  Sums and
    products run left to right in SymPy's order of terms; a quotient is one safe
    division; ``1 - σ(a)`` is taken as ``σ(-a)`` and ``1 - tanh(a)²`` without
    cancellation."""
    one = {sp.exp: "exp", sp.log: "log", sp.tanh: "tanh", sigmoid: "sigmoid", relu: "relu", sp.Abs: "abs",
           functions()["abs"]: "abs", sp.sign: "sign"}

    def chain(op: str, parts: list[Node]) -> Node:
        out = parts[0]
        for p in parts[1:]:
            out = Binary(op, out, p)
        return out

    def comp(e: Any) -> Node:
        if e.is_Symbol:
            if e.name not in names:
                raise GraphError(f"no value for {e.name!r}")
            return Name(e.name)
        if e.is_Number or e.is_NumberSymbol or e in (sp.S.ComplexInfinity, sp.S.NaN):
            return Num(_constant(e))
        if e.is_Add:
            stable = stable_difference(e)
            return stable if stable is not None else chain("+", [comp(a) for a in e.args])
        if e.is_Mul:
            num, den = [], []
            for f in e.args:
                if f.is_Pow and f.exp.is_Integer and f.exp < 0:
                    den.append(comp(sp.Pow(f.base, -f.exp)))
                elif f.is_Rational and not f.is_Integer:
                    num.append(Num(float(f.p)))
                    den.append(Num(float(f.q)))
                else:
                    num.append(comp(f))
            top = chain("*", num) if num else Num(1.0)
            return Call("safe_div", (top, chain("*", den))) if den else top
        if e.is_Pow:
            base, ex = comp(e.base), e.exp
            if ex == sp.S.Half:
                return Call("sqrt", (base,))
            if ex == -sp.S.Half:
                return Call("safe_div", (Num(1.0), Call("sqrt", (base,))))
            if ex.is_Integer:
                n = int(ex)
                if n == 2:
                    return Binary("*", base, base)
                if n < 0:
                    return Call("safe_div", (Num(1.0), Call("power", (base, Num(float(-n))))))
                return Call("power", (base, Num(float(n))))
            return Call("power", (base, comp(ex)))
        if e.func in one and len(e.args) == 1:
            return Call(one[e.func], (comp(e.args[0]),))
        if e.func is sp.Heaviside:
            h0 = _constant(e.args[1]) if len(e.args) > 1 else 0.5
            return Call("heaviside", (comp(e.args[0]), Num(h0)))
        if e.func in (sp.Max, sp.Min):
            return Call("max" if e.func is sp.Max else "min", tuple(comp(a) for a in e.args))
        raise GraphError(f"SymPy's result contains {type(e).__name__}, which nnstep cannot compute")

    def stable_difference(e: Any) -> Node | None:
        if len(e.args) != 2 or sp.S.One not in e.args:
            return None
        other = e.args[0] if e.args[1] is sp.S.One else e.args[1]
        if not (other.is_Mul and len(other.args) == 2 and other.args[0] is sp.S.NegativeOne):
            return None
        x = other.args[1]
        if x.func is sigmoid:
            return Call("sigmoid", (Unary("-", comp(x.args[0])),))
        if x.is_Pow and x.exp == 2 and x.base.func is sp.tanh:
            return Call("tanh_deriv", (comp(x.base.args[0]),))
        return None

    return comp(expr)


def compile_sympy(expr: Any, slot: Mapping[str, int]) -> Kernel:
    """A kernel computing a SymPy expression on ``values[slot[name]]``; never raises."""
    ((_, kernel),) = compile_kernels([(0, numeric_tree(expr, slot))], slot)
    return kernel


def code_text(expr: Any) -> str:
    """A SymPy expression as a plain Python-style line: ``x0*exp(-s)/(exp(-s) + 1)**2``."""
    class _Code(LowerMaxMin, StrPrinter):
        printmethod = "_nnstep_code"  # not the σ(x) display of nnstep.symbolic

        def _print_Symbol(self, e: Any) -> str:
            return e.name

        def _print_Float(self, e: Any) -> str:
            return repr(float(e))

        def _print_Abs(self, e: Any) -> str:
            return f"abs({self._print(e.args[0])})"

        # steps as comparisons a learner writes in Python (True is 1), never SymPy's names
        def _print_Heaviside(self, e: Any) -> str:
            a = self._print(e.args[0])
            h0 = float(e.args[1]) if len(e.args) > 1 else 0.5
            if h0 == 0:
                return f"({a} > 0)"
            if h0 == 1:
                return f"({a} >= 0)"
            return f"(({a} > 0) + ({a} >= 0)) / 2" if h0 == 0.5 else f"(({a} > 0) + {h0:g} * ({a} == 0))"

        def _print_sign(self, e: Any) -> str:
            a = self._print(e.args[0])
            return f"(({a} > 0) - ({a} < 0))"

        def _print_Exp1(self, e: Any) -> str:
            return "exp(1)"

    return _Code().doprint(expr)


@cache
def functions() -> dict[str, Any]:
    """The SymPy function table of :mod:`nnstep.symbolic` (with the real symbols user
    formulas get, what :class:`~nnstep.symbolic.Symbolic` derives with too), with ``abs``
    replaced by the absolute value of a real number should that table's ever
    differentiate into ``re``/``im``/``Derivative`` terms instead of ``sign``."""
    table = dict(FUNCTIONS)
    u = sp.Symbol("u", real=True)
    if sp.diff(table["abs"](u), u) != sp.sign(u):
        table["abs"] = _real_abs()
    return table


def _real_abs() -> Any:
    class Abs(sp.Function):  # named like SymPy's, so every printer shows it the same way
        """|x| of a real x: its derivative is sign(x)."""

        @classmethod
        def eval(cls, x: Any) -> Any:
            if x.is_Number:
                return sp.Abs(x)
            if x.could_extract_minus_sign():
                return cls(-x)
            return None

        def fdiff(self, argindex: int = 1) -> Any:
            return sp.sign(self.args[0])

        def _eval_evalf(self, prec: int) -> Any:
            return sp.Abs(self.args[0])._eval_evalf(prec)

    return Abs


def derivative(node: Node, wrt: str) -> Any:
    """SymPy's derivative of a parsed formula with respect to one of its names, over
    real symbols: the very expression :class:`~nnstep.symbolic.Symbolic` shows for it."""
    symbols = {n: symbol(n, True) for n in names_in(node) | {wrt}}
    return sp.diff(to_sympy(node, symbols, functions()), symbols[wrt])


def derivative_kernel(node: Node, wrt: str, slot: Mapping[str, int]) -> Kernel:
    """A closure for d(node)/d(wrt), derived by SymPy, on ``values[slot[name]]``."""
    return compile_sympy(derivative(node, wrt), slot)


def check_exact(graph: Graph) -> tuple[str, str] | None:
    """(key, reason) if putting a formula into the ones that use it would make SymPy build
    an exact number past :data:`nnstep.expr.MAX_EXACT_BITS` (``q = x - x + 10`` and
    ``f = q**(q**q)``), as the expanded view does.  Formulas that are exact numbers are put
    in; the others stand for themselves, carrying the size of their exact numbers (a float
    constant computes as floats do, to inf at worst)."""
    values: dict[str, Any] = {n: symbol(n, True) for n in (*graph.inputs, *graph.parameters)}
    sizes: dict[str, int] = {}
    for node in graph.nodes:
        try:
            value, size = to_sympy_sized(node.expr, values, functions(), sizes)
        except FormulaError as exc:
            return f"graph.nodes.{node.name}", exc.reason
        if value.is_Rational:
            values[node.name] = value  # an exact number: SymPy computes with it where it is used
        else:
            values[node.name], sizes[node.name] = symbol(node.name, True), size
    return None
