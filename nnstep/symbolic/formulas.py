"""SymPy side of the program: each op's definition, derived formula and renderings.

Imported only when first asked for a formula (the functions, printers and the
learner's derivative rules it uses are :mod:`.functions`, :mod:`.printing` and
:mod:`.learner`).  Every local partial is SymPy's own ``diff`` of the op's
defining expression (never of the whole loss), folded back into node names
(``x1·σ(sum_h1)·(1 - σ(sum_h1))``); every total is the product of its factors.
Results are cached per op.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import sympy as sp

from ..program import PerProgram
from .bridge import symbol as _symbol
from .bridge import to_sympy
from .functions import FUNCTIONS
from .learner import Unsupported, add, flat, learner_diff, mul, neg
from .printing import (
    bracketed,
    hat,
    latex,
    latex_name,
    legend,
    leibniz,
    leibniz_latex,
    one_line,
)

if TYPE_CHECKING:
    from ..program import Op, Program

#: Operation count above which the expanded view is declined.
EXPAND_LIMIT = 600


# --------------------------------------------------------------------------- formulas


@dataclass(frozen=True, eq=False)
class Formula:
    """What the formula pane and the traces show for one op.

    ``definition`` and ``formula`` are SymPy's canonical forms (what is differentiated,
    SymPy's derivative; numbers and the expanded view come from them);
    ``shown_definition`` and ``shown`` are the same in the learner's form, unevaluated:
    the program line's term order, derivatives as the note writes them
    (``-2·(y_true - ŷ)``, ``x1·σ(sum_h1)·(1 - σ(sum_h1))``).  The renderings (``text``,
    ``latex``) are made the first time they are asked for."""

    lhs: str  # "∂h1/∂w1", "sum_h1", "new w1"; "∂f/∂x|direct" for a local partial beside a total
    definition: Any  # SymPy: what the op is (for a partial, the expression differentiated)
    formula: Any  # SymPy: the op's value as an expression of node names (the derived partial)
    factors: Any = None  # SymPy: for a total, the sum of products of Leibniz symbols
    of: str = ""  # for a partial or total: what is differentiated
    wrt: str = ""  # ... and by what
    partial: bool = False
    factor_names: dict[Any, tuple[str, str, bool]] = field(default_factory=dict)  # Leibniz symbol -> (of, wrt, direct)
    updates: str = ""  # for an update: the parameter it overwrites (its new value is the lhs)
    shown_definition: Any = None  # the definition as the program's line writes it
    shown: Any = None  # the derived partial in the learner's form
    direct: bool = False  # a local partial that a total of the same quantities sits beside
    gradient: tuple[str, str, bool] | None = None  # for an update w - learn_rate*g: g's (of, wrt, direct)
    latex_names: dict[Any, str] = field(default_factory=dict)  # op-name symbols -> their Leibniz LaTeX

    def __post_init__(self) -> None:
        if self.shown_definition is None:
            object.__setattr__(self, "shown_definition", self.definition)
        if self.shown is None:
            object.__setattr__(self, "shown", self.formula)

    @cached_property
    def text(self) -> str:
        """One line: ``∂h1/∂w1 = ∂/∂w1 σ(w1·x1 + w2·x2 + b1) = x1·σ(sum_h1)·(1 - σ(sum_h1))``."""
        if self.partial:
            return f"{self.lhs} = ∂/∂{hat(self.wrt)} {bracketed(self.shown_definition)} = {one_line(self.shown)}"
        if self.factors is not None:
            return f"{self.lhs} = {one_line(self.factors)}"
        return f"{self.lhs} = {one_line(self.shown_definition)}"

    @cached_property
    def latex(self) -> str:
        r"""``w_{1} \leftarrow w_{1} - \eta \, \frac{\partial L}{\partial w_{1}}``, ``h_{1} = \sigma(...)``."""
        names = {**self.latex_names,
                 **{s: leibniz_latex(*ofwrt) for s, ofwrt in self.factor_names.items()}}
        if self.updates:
            p = latex_name(self.updates)
            if self.gradient is not None:
                return rf"{p} \leftarrow {p} - \eta \, {leibniz_latex(*self.gradient)}"
            return rf"{p} \leftarrow {latex(self.shown_definition, names)}"
        if self.factors is not None:
            return f"{leibniz_latex(self.of, self.wrt)} = {latex(self.factors, names)}"
        if self.partial:
            inner = latex(self.shown_definition, names)
            return (f"{leibniz_latex(self.of, self.wrt, self.direct)} = "
                    rf"\frac{{\partial}}{{\partial {latex_name(self.wrt)}}} \left({inner}\right) = "
                    f"{latex(self.shown, names)}")
        return f"{latex_name(self.lhs)} = {latex(self.shown_definition, names)}"

    @property
    def legend(self) -> str:
        """A line saying what ``[a > b]`` means when this op's formulas use it, else ''."""
        return legend(self.shown_definition, self.shown)

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
        self._shown: dict[int, tuple[Any, Any]] = {}
        self._outer: dict[Any, Any] = {}
        # (of, wrt) of every total: a local partial of the same pair is the direct path only
        self._totals = {(op.of, op.wrt) for op in program.ops if op.kind == "total"}
        self._softmax: dict[Any, Any] | None = None

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

    def display(self, node: Any) -> Any:
        """Our AST as an unevaluated SymPy expression, in the order it is written
        (``w1·x1 + w2·x2 + b1``, ``-2·(y_true - y_pred)``); cached like :meth:`to_sympy`."""
        key = id(node)
        hit = self._shown.get(key)
        if hit is None or hit[0] is not node:
            with sp.evaluate(False):
                e = to_sympy(node, self._symbols, FUNCTIONS)
            hit = self._shown[key] = (node, flat(e))
        return hit[1]

    def direct(self, op: Op) -> bool:
        """Whether ``op`` is a local partial that a total of the same pair sits beside."""
        return op.kind == "partial" and (op.of, op.wrt) in self._totals

    def title(self, op: Op) -> str:
        """The op's Leibniz title: ``∂h1/∂w1``, ``∂f/∂x|direct`` for a local partial beside a total."""
        return leibniz(op.of, op.wrt, self.direct(op))

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

    def _softmax_of(self, e: Any, x: Any) -> Any:
        """For ``e`` = exp(s_i)/Σ exp(s_j), the output o_i of a softmax layer, and ``x`` one
        of the s_j: o_i·(1 - o_i) when j = i, else -o_i·o_j (None if ``e`` is not such)."""
        if not (len(e.args) == 2 and isinstance(e.args[0], sp.exp) and isinstance(e.args[1], sp.Pow)
                and e.args[1].exp == -1 and isinstance(e.args[1].base, sp.Add)):
            return None
        if self._softmax is None:
            self._softmax = {self.display(op.expr): self.sym(op.name)
                             for op in self.program.ops if op.kind == "activation"}
        oi = self._softmax.get(e)
        oj = self._softmax.get(sp.Mul(sp.exp(x, evaluate=False), e.args[1], evaluate=False))
        if oi is None or oj is None:
            return None
        if oi == oj:
            return mul(oi, add(sp.S.One, neg(oi)))
        return mul(sp.S.NegativeOne, oi, oj)

    def _shown_partial(self, op: Op, shown_definition: Any, wrt: Any, canonical: Any) -> Any:
        """The partial in the learner's form, checked against SymPy's: where the two
        cannot be shown equal cheaply, or the shape is one the learner's rules do not
        cover, SymPy's own form."""
        fold = {self.display(node): self.sym(name) for name, node in op.subs}
        try:
            return learner_diff(shown_definition, wrt, fold, self._softmax_of)
        except Unsupported:
            return canonical

    def derive_all(self) -> None:
        for op in self.program.ops:
            self.formula(op)

    def _names_latex(self, *exprs: Any) -> dict[Any, str]:
        """LaTeX for the program names of partials and totals in ``exprs`` (their fractions)."""
        out = {}
        for e in exprs:
            for s in e.free_symbols:
                op = self.program.by_name.get(s.name)
                if op is not None and op.kind in ("partial", "total"):
                    out[s] = leibniz_latex(op.of, op.wrt, self.direct(op))
        return out

    def _derive(self, op: Op) -> Formula:
        definition = self.to_sympy(op.expr)
        shown_definition = self.display(op.expr)
        if op.kind == "partial":
            wrt = self.sym("y_pred" if op.wrt == "ypred" else op.wrt)
            derived = self._diff(definition, wrt, op)
            shown = self._shown_partial(op, shown_definition, wrt, derived)
            direct = self.direct(op)
            return Formula(self.title(op), definition, derived, of=op.of, wrt=op.wrt, partial=True,
                           shown_definition=shown_definition, shown=shown, direct=direct,
                           latex_names=self._names_latex(shown_definition, shown))
        if op.kind == "total":
            names = {}
            terms = []
            for term in op.terms:
                factors = []
                for f in term:
                    fop = self.program.by_name[f]
                    s = sp.Symbol(self.title(fop))
                    names[s] = (fop.of, fop.wrt, self.direct(fop))
                    factors.append(s)
                terms.append(sp.Mul(*factors, evaluate=False))
            shown = terms[0] if len(terms) == 1 else sp.Add(*terms, evaluate=False)
            return Formula(self.title(op), definition, definition, factors=shown, of=op.of, wrt=op.wrt,
                           factor_names=names, shown_definition=shown_definition)
        if op.kind == "update":  # w1 -= ...: the left side is the new w1, the right side reads the old
            gradient = None
            rest = [self.program.by_name.get(n) for n in op.reads if n not in (op.name, "learn_rate")]
            p, lr = self.sym(op.name), self.sym("learn_rate")
            if len(rest) == 1 and rest[0] is not None and rest[0].kind in ("partial", "total"):
                g = rest[0]
                if sp.expand(definition - (p - lr * self.sym(g.name))) == 0:
                    gradient = (g.of, g.wrt, self.direct(g))
            return Formula(f"new {op.name}", definition, definition, updates=op.name,
                           shown_definition=shown_definition, gradient=gradient,
                           latex_names=self._names_latex(shown_definition))
        return Formula(op.name, definition, definition, shown_definition=shown_definition,
                       latex_names=self._names_latex(shown_definition))

    # -- numbers -------------------------------------------------------------------------

    def evaluate(self, op: Op, values: dict[str, float | None], digits: int = 30) -> float:
        """The op's formula evaluated by SymPy at ``values`` (high precision, then float);
        nan when its numbers tower beyond what :func:`bounded` works out."""
        f = self.formula(op).formula
        # exact binary values in, adaptive precision inside (evalf with subs= re-evaluates
        # at higher precision where terms cancel, as in 1 - σ(s) for a large s)
        subs = {s: _exact(values[s.name]) for s in f.free_symbols}
        with sp.evaluate(False):
            numbers = f.xreplace(subs)
        if not _exact_is_safe(numbers):  # first in floats, within bounds: evalf would work a tower out exactly
            rough = bounded(numbers)
            if rough is None or not rough.is_Number:
                return math.nan
        return float(f.evalf(digits, subs=subs))

    def substituted(self, op: Op, values: dict[str, float | None]) -> Any:
        """The op's formula as shown, with the numbers in ``values`` (to 6 digits) in
        place of the names, left unevaluated: ``0.15·0.05 + 0.2·0.1 + 0.35``,
        ``-2.0·(1.0 - 0.3)``; for a total, the products of its factors' numbers.  A name
        without a value stays a name.  For an update, ``values`` should hold the
        parameter's old value (the one the right-hand side reads)."""
        def number(name: str, keep: Any) -> Any:
            x = values.get(name)
            return keep if x is None else sp.Float(x, 6)

        if op.kind != "total":
            f = self.formula(op)
            shown = f.shown if op.kind == "partial" else f.shown_definition
            with sp.evaluate(False):  # else SymPy folds the numbers into one
                return shown.xreplace({s: number(s.name, s) for s in shown.free_symbols})
        terms = [sp.Mul(*[number(f, self.sym(f)) for f in t], evaluate=False) for t in op.terms]
        return terms[0] if len(terms) == 1 else sp.Add(*terms, evaluate=False)

    def expanded(self, op: Op) -> Any | None:
        """The formula written in inputs, targets and parameters only, in SymPy's
        canonical form; None when too large or when its numbers could not be worked out
        within bounds (see :func:`bounded`)."""
        if op.index in self._expanded:
            return self._expanded[op.index]
        # the ops it is made of first (earliest first, so no deep recursion), each once
        needed, stack = set(), [op]
        while stack:
            o = stack.pop()
            for s in self.formula(o).formula.free_symbols:
                inner = self.program.by_name.get(s.name)
                if inner is not None and inner.index not in self._expanded and inner.index not in needed \
                        and s.name not in self._leaves:
                    needed.add(inner.index)
                    stack.append(inner)
        for index in sorted(needed - {op.index}):
            self._expanded[index] = self._expand_op(self.program.ops[index])
        result = self._expanded[op.index] = self._expand_op(op)
        return result

    def _expand_op(self, op: Op) -> Any | None:
        """The expanded formula of ``op`` from the expanded formulas of the ops it uses."""
        expr = self.formula(op).formula
        repl = {}
        for s in expr.free_symbols:
            inner = self.program.by_name.get(s.name)
            if inner is None or s.name in self._leaves:
                continue
            if inner.index not in self._expanded:  # not made yet (no program reads ahead): the long way
                return self._expand(expr)
            got = self._expanded[inner.index]
            if got is None:  # a part too large on its own makes the whole too large
                return None
            repl[s] = got
        if not repl:
            return expr
        with sp.evaluate(False):
            expr = expr.xreplace(repl)
        return _worked_out(expr)

    @cached_property
    def _leaves(self) -> set[str]:
        return {*self.program.inputs, *self.program.targets, *self.program.parameters, "learn_rate"}

    def _expand(self, expr: Any) -> Any | None:
        leaves = self._leaves
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
            with sp.evaluate(False):
                expr = expr.xreplace(repl)
            expr = _worked_out(expr)
            if expr is None:
                return None
        return None


def _worked_out(expr: Any) -> Any | None:
    """An expansion put together unevaluated, worked out by :func:`bounded`; None when it is
    too large (before or after: :data:`EXPAND_LIMIT`)."""
    if sum(1 for _ in sp.preorder_traversal(expr)) > 8 * EXPAND_LIMIT:
        return None
    expr = bounded(expr)
    return None if expr is None or sp.count_ops(expr) > EXPAND_LIMIT else expr


#: Derivations depend only on :attr:`~nnstep.program.Program.fingerprint`, so equal
#: programs share one :class:`Symbolic` (the formula pane's worker, an export, a trace
#: in the same process).
shared_symbolic: PerProgram[Symbolic] = PerProgram(Symbolic)


#: The largest exponent :func:`bounded` lets SymPy work out exactly (products of nested
#: integer exponents count); beyond it, or with an exponent that is not a plain number,
#: the numbers of an expression are worked out in floating point instead.
MAX_EXACT_EXPONENT = 256


def _exact_is_safe(expr: Any, outer: int = 1) -> bool:
    """Whether evaluating ``expr`` cannot make SymPy compute a huge exact power: every
    exponent a plain integer or rational, their products along any path bounded."""
    if isinstance(expr, sp.Pow):
        n = expr.exp
        if not n.is_Rational:  # safe while no number inside it can turn into a big exponent
            return not any(a.is_Number for a in sp.preorder_traversal(n)) and _exact_is_safe(expr.base, outer)
        scale = outer * max(abs(n.p), abs(n.q))
        return scale <= MAX_EXACT_EXPONENT and _exact_is_safe(expr.base, scale)
    return all(_exact_is_safe(a, outer) for a in expr.args)


def bounded(expr: Any) -> Any | None:
    """``expr`` evaluated by SymPy (canonical form) without an unbounded computation: as
    it is when no exact power can blow up, else with its numbers as 15-digit floats (a
    float power costs no more than a small one); None when even so a number would grow
    too big (see :data:`MAX_EXACT_BITS`), or the result is no finite expression."""
    if not _exact_is_safe(expr):
        with sp.evaluate(False):
            expr = expr.xreplace({n: sp.Float(n, 15) for n in expr.atoms(sp.Rational)})
    try:
        out = _flat_eval(expr)
    except _TooBig:
        return None
    return None if out.has(sp.oo, -sp.oo, sp.zoo, sp.nan) else out


#: Sizes (log2) past which :func:`bounded` declines to work a number out: an exact one
#: (its digits stay within Python's 4,300-digit printing limit), a float's exponent,
#: and a function's argument (exp of a bigger one would need too long an exponent).
MAX_EXACT_BITS = 12_000
MAX_FLOAT_BITS = 2**48
MAX_ARGUMENT_BITS = 40


class _TooBig(Exception):
    pass


def _bits(n: Any) -> float:
    """About log2 |n| for a SymPy number (inf when it has no size)."""
    if n.is_Integer:
        return float(abs(n.p).bit_length())
    if n.is_Rational:
        return float(abs(n.p).bit_length() - n.q.bit_length())
    if n.is_Float:
        _, man, exp, bc = n._mpf_
        return float(exp + bc) if man else 0.0
    return math.inf


def _flat_eval(expr: Any) -> Any:
    """An unevaluated expression evaluated bottom-up (SymPy's canonical form), refusing
    (:class:`_TooBig`) a power or function of numbers whose result would be too big."""
    if not expr.args:
        return expr
    args = [_flat_eval(a) for a in expr.args]
    if isinstance(expr, sp.Pow) and args[0].is_Number and args[1].is_Number:
        base, n = args
        try:
            size = abs(float(n)) * max(abs(_bits(base)), 1.0)
        except (OverflowError, TypeError, ValueError):
            size = math.inf
        exact = base.is_Rational and n.is_Rational
        if not size <= (MAX_EXACT_BITS if exact else MAX_FLOAT_BITS):
            raise _TooBig
    elif isinstance(expr, sp.Function) and any(a.is_Number and not _bits(a) <= MAX_ARGUMENT_BITS for a in args):
        raise _TooBig
    return expr.func(*args)


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
