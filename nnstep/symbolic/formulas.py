"""SymPy side of the program: each op's definition, derived formula and renderings.

This is the only engine module that imports SymPy, and only when first asked
for a formula.  Every local partial is SymPy's own ``diff`` of the op's
defining expression (never of the whole loss), folded back into node names
(``x1·σ(sum_h1)·(1 - σ(sum_h1))``); every total is the product of its factors.
Results are cached per op.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import sympy as sp
from sympy.printing.conventions import split_super_sub
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pretty.pretty import PrettyPrinter
from sympy.printing.pretty.pretty_symbology import pretty_use_unicode
from sympy.printing.pretty.stringpict import prettyForm
from sympy.printing.str import StrPrinter

from .bridge import symbol as _symbol
from .bridge import to_sympy

if TYPE_CHECKING:
    from ..program import Op, Program

#: Operation count above which the expanded view is declined.
EXPAND_LIMIT = 600


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


# --------------------------------------------------------------------------- printing


def leibniz(of: str, wrt: str) -> str:
    return f"∂{_hat(of)}/∂{_hat(wrt)}"


def _hat(name: str) -> str:
    return "ŷ" if name == "ypred" else name


def _leibniz_latex(of: str, wrt: str) -> str:
    return rf"\frac{{\partial {_latex_name(of)}}}{{\partial {_latex_name(wrt)}}}"


def _latex_name(name: str) -> str:
    if name == "ypred":
        return r"\hat{y}"
    return _Latex().doprint(sp.Symbol(name))


class _Str(StrPrinter):
    def _print_Symbol(self, expr: Any) -> str:
        return expr.name

    def _print_Mul(self, expr: Any) -> str:
        # -1·0.49·0.1 with numbers substituted (unevaluated): SymPy would print
        # the -1 as a bare 1 after taking its sign; print it as a minus sign
        args = expr.args
        if len(args) > 1 and args[0] is sp.S.NegativeOne and any(a.is_Number for a in args[1:]):
            return "-" + "*".join(self.parenthesize(a, PRECEDENCE["Mul"], strict=False) for a in args[1:])
        return super()._print_Mul(expr)


class _Pretty(PrettyPrinter):
    def _print_Symbol(self, e: Any, bold_name: bool = False) -> Any:
        return prettyForm(e.name)

    def _print_Mul(self, product: Any) -> Any:
        # a product with numbers substituted (unevaluated): SymPy would print
        # 0.5⋅-2.0, and 1 - -0.25⋅0.1 for 1 - (-1)·(-0.25)·0.1; a negative factor
        # gets parentheses (a leading -1 stays the sign)
        args = product.args
        numeric = sum(a.is_Number for a in args) > 1  # never so once SymPy has evaluated it

        def bracket(i: int, a: Any) -> bool:
            return numeric and a.is_Number and a.is_extended_negative and (i > 0 or a is not sp.S.NegativeOne)

        if not any(bracket(i, a) for i, a in enumerate(args)):
            return super()._print_Mul(product)
        forms = [prettyForm(*self._print(a).parens()) if bracket(i, a) else self._print(a)
                 for i, a in enumerate(args)]
        return prettyForm.__mul__(*forms)


class _Latex(LatexPrinter):
    r"""SymPy's LaTeX, except for names SymPy's subscript convention would garble.

    SymPy writes ``w1`` as ``w_{1}`` and ``sum_h1`` as ``sum_{h1}`` (one subscript,
    kept), but reads every further underscore as another subscript and ``__`` as a
    superscript: ``d_L_d_w1`` would come out as ``d_{L d w1}``.  Such names are
    written as they are, upright: ``\mathrm{d\_L\_d\_w1}``."""

    def _print_Symbol(self, expr: Any, style: str = "plain") -> str:
        if expr in self._settings["symbol_names"] or _latex_splits_cleanly(expr.name):
            return super()._print_Symbol(expr, style=style)
        escaped = expr.name.replace("_", r"\_")
        return rf"\mathrm{{{escaped}}}"


def _latex_splits_cleanly(name: str) -> bool:
    """Whether SymPy's name[_subscript] reading of ``name`` is faithful: at most one
    subscript (trailing digits count as one), no superscript, nothing lost."""
    base, supers, subs = split_super_sub(name)
    return bool(base) and "_" not in base and not supers and len(subs) <= 1 and "" not in subs


def one_line(expr: Any) -> str:
    """A one-line Unicode rendering: ``x1·σ(sum_h1)·(1 - σ(sum_h1))``."""
    text = _Str({"order": "none"}).doprint(expr)
    return text.replace("**", "^").replace("*", "·")


_UNICODE_LOCK = threading.Lock()


@contextmanager
def unicode_printing() -> Iterator[None]:
    """SymPy's global Unicode flag on for the block, then put back, one thread at a
    time.  SymPy's box-drawing helpers read that module-global flag (set at import
    from the terminal's encoding, or by ``pretty_use_unicode``) whatever a printer's
    own ``use_unicode`` says.  The lock is always taken, even when the flag is on: it
    may be on only because another thread switched it on and is about to put it back."""
    with _UNICODE_LOCK:
        previous = pretty_use_unicode(True)
        try:
            yield
        finally:
            pretty_use_unicode(previous)


def pretty(expr: Any) -> str:
    """SymPy's two-dimensional Unicode pretty print, names kept as written."""
    printer = _Pretty({"use_unicode": True, "order": "none", "wrap_line": False})
    with unicode_printing():
        return printer.doprint(expr)


def latex(expr: Any, names: dict[Any, str] | None = None) -> str:
    return _Latex({"order": "none", "symbol_names": names or {}}).doprint(expr)


# --------------------------------------------------------------------------- formulas


@dataclass(frozen=True, eq=False)
class Formula:
    """What the formula pane and the traces show for one op.

    The SymPy objects are derived eagerly; the renderings (``text``, ``latex``)
    are made the first time they are asked for, since printing costs more than
    differentiating."""

    lhs: str  # "∂h1/∂w1", "sum_h1", "new w1"
    definition: Any  # SymPy: what the op is (for a partial, the expression differentiated)
    formula: Any  # SymPy: the op's value as an expression of node names (the derived partial)
    factors: Any = None  # SymPy: for a total, the sum of products of Leibniz symbols
    of: str = ""  # for a partial or total: what is differentiated
    wrt: str = ""  # ... and by what
    partial: bool = False
    factor_names: dict[Any, tuple[str, str]] = field(default_factory=dict)  # Leibniz symbol -> (of, wrt)
    updates: str = ""  # for an update: the parameter it overwrites (its new value is the lhs)

    @cached_property
    def text(self) -> str:
        """One line: ``∂h1/∂w1 = ∂/∂w1 σ(b1 + w1·x1 + w2·x2) = x1·(1 - σ(sum_h1))·σ(sum_h1)``."""
        if self.partial:
            return f"{self.lhs} = ∂/∂{_hat(self.wrt)} {one_line(self.definition)} = {one_line(self.formula)}"
        if self.factors is not None:
            return f"{self.lhs} = {one_line(self.factors)}"
        return f"{self.lhs} = {one_line(self.definition)}"

    @cached_property
    def latex(self) -> str:
        r"""``w_{1}^{\mathrm{new}} = w_{1} - \mathrm{d\_L\_d\_w1} learn_{rate}``."""
        body = self.factors if self.factors is not None else self.formula
        if self.wrt:
            lhs = _leibniz_latex(self.of, self.wrt)
        elif self.updates:
            lhs = _latex_name(self.updates) + r"^{\mathrm{new}}"
        else:
            lhs = _latex_name(self.lhs)
        names = {s: _leibniz_latex(of, wrt) for s, (of, wrt) in self.factor_names.items()}
        return f"{lhs} = {latex(body, names)}"

    @property
    def free_names(self) -> list[str]:
        return sorted(s.name for s in self.formula.free_symbols)


class Symbolic:
    """Lazily derived SymPy formulas for every op of a program."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self._cache: dict[int, Formula] = {}
        self._expanded: dict[int, Any] = {}
        sc = program.scenario
        self._real = getattr(sc, "graph", None) is not None or any(
            getattr(layer, "custom", None) is not None for layer in sc.layers)
        self._symbols = {name: _symbol(name, self._real) for name in program.slot}
        self._converted: dict[int, tuple[Any, Any]] = {}
        self._outer: dict[Any, Any] = {}

    def sym(self, name: str) -> Any:
        return _symbol(name, self._real)

    def to_sympy(self, node: Any) -> Any:
        """Our AST as a SymPy expression (cached per node object: the ops of one
        neuron share their expression)."""
        key = id(node)
        hit = self._converted.get(key)
        if hit is None or hit[0] is not node:
            hit = self._converted[key] = (node, to_sympy(node, self._symbols, FUNCTIONS))
        return hit[1]

    def formula(self, op: Op) -> Formula:
        """The op's formula (cached)."""
        got = self._cache.get(op.index)
        if got is None:
            got = self._cache[op.index] = self._derive(op)
        return got

    def _diff(self, definition: Any, wrt: Any, op: Op) -> Any:
        """SymPy's derivative of ``definition``, folded back into the names in ``op.subs``.

        A neuron f(w1*x1 + ... + b) is differentiated the way SymPy's own chain rule
        does it, f'(u)·∂u/∂w, with f'(u) derived once per neuron: the same result as
        ``diff`` of the whole expression, at a fraction of the cost for wide layers."""
        fold = {self.to_sympy(node): self.sym(name) for name, node in op.subs}
        if len(fold) == 1 and isinstance(definition, sp.Function) and len(definition.args) == 1:
            ((inner, name),) = fold.items()
            if definition.args[0] == inner:
                outer = self._outer.get(id(definition))
                if outer is None:
                    u = sp.Dummy("u")
                    outer = self._outer[id(definition)] = sp.diff(definition.func(u), u).xreplace({u: name})
                return outer * _diff_terms(inner, wrt)
        derived = sp.diff(definition, wrt)
        return derived.xreplace(fold) if fold else derived

    def derive_all(self) -> None:
        for op in self.program.ops:
            self.formula(op)

    def _derive(self, op: Op) -> Formula:
        definition = self.to_sympy(op.expr)
        if op.kind == "partial":
            wrt = self.sym("y_pred" if op.wrt == "ypred" else op.wrt)
            derived = self._diff(definition, wrt, op)
            return Formula(leibniz(op.of, op.wrt), definition, derived, of=op.of, wrt=op.wrt, partial=True)
        if op.kind == "total":
            names = {}
            terms = []
            for term in op.terms:
                factors = []
                for f in term:
                    fop = self.program.by_name[f]
                    s = sp.Symbol(leibniz(fop.of, fop.wrt))
                    names[s] = (fop.of, fop.wrt)
                    factors.append(s)
                terms.append(sp.Mul(*factors, evaluate=False))
            shown = terms[0] if len(terms) == 1 else sp.Add(*terms, evaluate=False)
            return Formula(leibniz(op.of, op.wrt), definition, definition, factors=shown, of=op.of, wrt=op.wrt,
                           factor_names=names)
        if op.kind == "update":  # w1 -= ...: the left side is the new w1, the right side reads the old
            return Formula(f"new {op.name}", definition, definition, updates=op.name)
        return Formula(op.name, definition, definition)

    # -- numbers -------------------------------------------------------------------------

    def evaluate(self, op: Op, values: dict[str, float | None], digits: int = 30) -> float:
        """The op's formula evaluated by SymPy at ``values`` (high precision, then float)."""
        f = self.formula(op).formula
        # exact binary values in, adaptive precision inside (evalf with subs= re-evaluates
        # at higher precision where terms cancel, as in 1 - σ(s) for a large s)
        subs = {s: _exact(values[s.name]) for s in f.free_symbols}
        return float(f.evalf(digits, subs=subs))

    def substituted(self, op: Op, values: dict[str, float | None]) -> Any:
        """The op's formula with the numbers in ``values`` (to 6 digits) in place of
        the names, left unevaluated: ``0.35 + 0.15·0.05 + 0.2·0.1``, ``-2.0·(1 - σ(0.3))·σ(0.3)``;
        for a total, the products of its factors' numbers.  A name without a value
        stays a name.  For an update, ``values`` should hold the parameter's old value
        (the one the right-hand side reads)."""
        def number(name: str, keep: Any) -> Any:
            x = values.get(name)
            return keep if x is None else sp.Float(x, 6)

        if op.kind != "total":
            f = self.formula(op).formula
            with sp.evaluate(False):  # else SymPy folds the numbers into one
                return f.xreplace({s: number(s.name, s) for s in f.free_symbols})
        terms = [sp.Mul(*[number(f, self.sym(f)) for f in t], evaluate=False) for t in op.terms]
        return terms[0] if len(terms) == 1 else sp.Add(*terms, evaluate=False)

    def expanded(self, op: Op) -> Any | None:
        """The formula written in inputs, targets and parameters only; None when too large."""
        if op.index in self._expanded:
            return self._expanded[op.index]
        result = self._expand(self.formula(op).formula)
        self._expanded[op.index] = result
        return result

    def _expand(self, expr: Any) -> Any | None:
        leaves = {*self.program.inputs, *self.program.targets, *self.program.parameters, "learn_rate"}
        for _ in range(len(self.program.ops) + 1):  # each round resolves at least one level
            inner = [s for s in expr.free_symbols if s.name not in leaves]
            if not inner:
                return expr
            repl = {}
            for s in inner:
                op = self.program.by_name.get(s.name)
                if op is None:
                    continue
                repl[s] = self.formula(op).formula
            expr = expr.xreplace(repl)
            if sp.count_ops(expr) > EXPAND_LIMIT:
                return None
        return None


def _diff_terms(expr: Any, wrt: Any) -> Any:
    """``diff(expr, wrt)`` for a sum, differentiating only the terms that contain ``wrt``
    (the others contribute 0; SymPy would find that too, one term at a time)."""
    if not isinstance(expr, sp.Add):
        return sp.diff(expr, wrt)
    return sp.Add(*[sp.diff(t, wrt) for t in expr.args if wrt in t.free_symbols])


def _exact(x: float | None) -> Any:
    if x is None or not math.isfinite(x):
        return sp.nan if x is None or x != x else (sp.oo if x > 0 else -sp.oo)
    return sp.Rational(x)
