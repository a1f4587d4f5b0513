"""SymPy side of the program: each op's definition, derived formula and renderings.

This is the only engine module that imports SymPy, and only when first asked
for a formula.  Every local partial is SymPy's own ``diff`` of the op's
defining expression (never of the whole loss), folded back into node names
(``x1·σ(sum_h1)·(1 - σ(sum_h1))``); every total is the product of its factors.
Results are cached per op.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import sympy as sp
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


# --------------------------------------------------------------------------- printing

#: How a local partial that has a total of the same name is told apart from it:
#: ``∂f/∂x|direct`` is the direct (local) path only, ``∂f/∂x`` the whole derivative.
DIRECT = "|direct"
#: One line saying what the Iverson bracket means (the TUI shows it where one appears).
IVERSON_LEGEND = "[a > b] is 1 when a > b, 0 when a < b"


def leibniz(of: str, wrt: str, direct: bool = False) -> str:
    """``∂h1/∂w1``; ``∂f/∂x|direct`` for a local partial that a total shares its name with."""
    return f"∂{_hat(of)}/∂{_hat(wrt)}" + (DIRECT if direct else "")


def _hat(name: str) -> str:
    return "ŷ" if name in ("ypred", "y_pred") else name


def _leibniz_latex(of: str, wrt: str, direct: bool = False) -> str:
    frac = rf"\frac{{\partial {_latex_name(of)}}}{{\partial {_latex_name(wrt)}}}"
    return rf"\left.{frac}\right|_{{\text{{direct}}}}" if direct else frac


_ATOM = re.compile(r"([A-Za-z]+)(\d*)")


def _latex_atom(part: str, upright: str = r"\mathrm") -> str | None:
    """``w1`` as ``w_{1}``, ``h`` as ``h``, ``sum`` as ``\\mathrm{sum}``; None if not letters+digits."""
    m = _ATOM.fullmatch(part)
    if m is None:
        return None
    letters, digits = m.groups()
    base = letters if len(letters) == 1 else rf"{upright}{{{letters}}}"
    return f"{base}_{{{digits}}}" if digits else base


def _latex_name(name: str) -> str:
    r"""A program name as maths: ``w1`` → ``w_{1}``, ``y_pred`` → ``\hat{y}``, ``y_true`` →
    ``y_{\text{true}}``, ``sum_h1`` → ``\mathrm{sum}_{h_{1}}``, ``h1_2`` → ``h_{1,2}``,
    ``learn_rate`` → ``\eta``; any other name of several letters upright as written
    (``\mathrm{sepal\_length}``)."""
    if name in ("ypred", "y_pred"):
        return r"\hat{y}"
    if name == "learn_rate":
        return r"\eta"
    parts = name.split("_")
    whole = r"\mathrm{" + name.replace("_", r"\_") + "}"
    if "" in parts:
        return whole
    head = _ATOM.fullmatch(parts[0])
    if head is None:
        return whole
    letters, digits = head.groups()
    if len(parts) == 1:
        return _latex_atom(name) or whole
    # trailing number parts index the part before them: h1_2 -> h_{1,2}, sum_h1_1 -> sum_{h_{1,1}}
    groups: list[list[str]] = []
    for part in parts:
        if part.isdigit() and groups:
            groups[-1].append(part)
        else:
            groups.append([part])

    def atom(group: list[str], upright: str) -> str | None:
        m = _ATOM.fullmatch(group[0])
        if m is None:
            return None
        ls, ds = m.groups()
        index = [d for d in (ds, *group[1:]) if d]
        base = ls if len(ls) == 1 else rf"{upright}{{{ls}}}"
        return f"{base}_{{{','.join(index)}}}" if index else base

    if len(groups) == 1:  # h1_2
        return atom(groups[0], r"\mathrm") if len(letters) == 1 else whole
    if len(letters) > 1 and letters != "sum" or digits or len(groups[0]) > 1:
        return whole  # sepal_length, h1_x: one upright name
    if len(groups) > 2 and any(len(_ATOM.fullmatch(g[0]).group(1)) == 1 for g in groups[1:] if _ATOM.fullmatch(g[0])):
        return whole  # d_L_d_w1: a program identifier, not a name with subscripts
    subs = [atom(g, r"\text") for g in groups[1:]]
    if any(a is None for a in subs):
        return whole
    base = letters if len(letters) == 1 else rf"\mathrm{{{letters}}}"
    return f"{base}_{{{','.join(subs)}}}"


def _split_difference(u: Any) -> tuple[Any, Any]:
    """``x - y`` as (x, y), anything else as (u, 0): for ``[x > y]`` rather than ``[x - y > 0]``."""
    if isinstance(u, sp.Add) and len(u.args) == 2:
        a, b = u.args
        if isinstance(b, sp.Mul) and len(b.args) == 2 and b.args[0] is sp.S.NegativeOne:
            return a, b.args[1]
        if isinstance(a, sp.Mul) and len(a.args) == 2 and a.args[0] is sp.S.NegativeOne:
            return b, a.args[1]
    return u, sp.S.Zero


def _steps_of(e: Any) -> Any:
    """SymPy's own step functions (in a canonical form) as Iverson brackets."""
    if isinstance(e, sp.Heaviside):
        a, b = _split_difference(e.args[0])
        return Iverson(a, b, e.args[1] if len(e.args) > 1 else sp.S.Half, evaluate=False)
    if isinstance(e, sp.sign):
        a, b = _split_difference(e.args[0])
        return sp.Add(Iverson(a, b, 0, evaluate=False),
                      sp.Mul(-1, Iverson(b, a, 0, evaluate=False), evaluate=False), evaluate=False)
    return None


class _Str(StrPrinter):
    def _print_Symbol(self, expr: Any) -> str:
        return _hat(expr.name)

    def _print_Mul(self, expr: Any) -> str:
        # -1·0.49·0.1 with numbers substituted (unevaluated): SymPy would print
        # the -1 as a bare 1 after taking its sign; print it as a minus sign
        args = expr.args
        if len(args) > 1 and args[0] is sp.S.NegativeOne and any(a.is_Number for a in args[1:]):
            return "-" + "*".join(self.parenthesize(a, PRECEDENCE["Mul"], strict=False) for a in args[1:])
        return super()._print_Mul(expr)

    def _print_Abs(self, expr: Any) -> str:
        return f"|{self._print(expr.args[0])}|"

    def _print_Max(self, expr: Any) -> str:
        return f"max({', '.join(self._print(a) for a in expr.args)})"

    def _print_Min(self, expr: Any) -> str:
        return f"min({', '.join(self._print(a) for a in expr.args)})"

    def _print_Iverson(self, expr: Any) -> str:
        a, b, _ = expr.args
        return f"[{self._print(a)} > {self._print(b)}]"

    def _print_Heaviside(self, expr: Any) -> str:
        return self._print(_steps_of(expr))

    def _print_sign(self, expr: Any) -> str:
        return f"({self._print(_steps_of(expr))})"


class _Pretty(PrettyPrinter):
    def _print_Symbol(self, e: Any, bold_name: bool = False) -> Any:
        return prettyForm(_hat(e.name))

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

    def _print_Abs(self, e: Any) -> Any:
        return prettyForm(*self._print(e.args[0]).parens("|", "|"))

    def _print_Max(self, e: Any) -> Any:
        return prettyForm(*self._print_seq(e.args, "(", ")").left("max"))

    def _print_Min(self, e: Any) -> Any:
        return prettyForm(*self._print_seq(e.args, "(", ")").left("min"))

    def _print_Iverson(self, e: Any) -> Any:
        a, b, _ = e.args
        return prettyForm(*self._print_seq((a, b), "[", "]", " > "))

    def _print_Heaviside(self, e: Any) -> Any:
        return self._print(_steps_of(e))

    def _print_sign(self, e: Any) -> Any:
        return prettyForm(*self._print(_steps_of(e)).parens())


class _Latex(LatexPrinter):
    r"""SymPy's LaTeX with nnstep's names as maths (see :func:`_latex_name`): ``w_{1}``,
    ``\hat{y}``, ``\mathrm{sum}_{h_{1}}``, ``\eta``; never a program identifier."""

    def _print_Symbol(self, expr: Any, style: str = "plain") -> str:
        if expr in self._settings["symbol_names"]:
            return self._settings["symbol_names"][expr]
        return _latex_name(expr.name)

    def _print_Max(self, expr: Any, exp: Any = None) -> str:
        body = r"\max\left(" + ", ".join(self._print(a) for a in expr.args) + r"\right)"
        return body if exp is None else rf"{body}^{{{exp}}}"

    def _print_Min(self, expr: Any, exp: Any = None) -> str:
        body = r"\min\left(" + ", ".join(self._print(a) for a in expr.args) + r"\right)"
        return body if exp is None else rf"{body}^{{{exp}}}"

    def _print_Iverson(self, expr: Any, exp: Any = None) -> str:
        a, b, _ = expr.args
        body = rf"\left[{self._print(a)} > {self._print(b)}\right]"
        return body if exp is None else rf"{body}^{{{exp}}}"

    def _print_Heaviside(self, expr: Any, exp: Any = None) -> str:
        body = self._print(_steps_of(expr))
        return body if exp is None else rf"{body}^{{{exp}}}"

    def _print_sign(self, expr: Any, exp: Any = None) -> str:
        body = rf"\left({self._print(_steps_of(expr))}\right)"
        return body if exp is None else rf"{body}^{{{exp}}}"


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


def pretty_printer() -> Any:
    """SymPy's two-dimensional Unicode printer with nnstep's names and notation: names as
    written (``y_pred`` as ŷ), ``|x|``, ``max(x, y)``, ``[x > y]``, terms in the order
    given.  Print under :func:`unicode_printing`."""
    return _Pretty({"use_unicode": True, "order": "none", "wrap_line": False})


def pretty(expr: Any) -> str:
    """SymPy's two-dimensional Unicode pretty print, names kept as written."""
    printer = pretty_printer()
    with unicode_printing():
        return printer.doprint(expr)


def latex(expr: Any, names: dict[Any, str] | None = None) -> str:
    return _Latex({"order": "none", "symbol_names": names or {}, "mul_symbol": "dot"}).doprint(expr)


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
            return f"{self.lhs} = ∂/∂{_hat(self.wrt)} {bracketed(self.shown_definition)} = {one_line(self.shown)}"
        if self.factors is not None:
            return f"{self.lhs} = {one_line(self.factors)}"
        return f"{self.lhs} = {one_line(self.shown_definition)}"

    @cached_property
    def latex(self) -> str:
        r"""``w_{1} \leftarrow w_{1} - \eta \, \frac{\partial L}{\partial w_{1}}``, ``h_{1} = \sigma(...)``."""
        names = {**self.latex_names,
                 **{s: _leibniz_latex(*ofwrt) for s, ofwrt in self.factor_names.items()}}
        if self.updates:
            p = _latex_name(self.updates)
            if self.gradient is not None:
                return rf"{p} \leftarrow {p} - \eta \, {_leibniz_latex(*self.gradient)}"
            return rf"{p} \leftarrow {latex(self.shown_definition, names)}"
        if self.factors is not None:
            return f"{_leibniz_latex(self.of, self.wrt)} = {latex(self.factors, names)}"
        if self.partial:
            inner = latex(self.shown_definition, names)
            return (f"{_leibniz_latex(self.of, self.wrt, self.direct)} = "
                    rf"\frac{{\partial}}{{\partial {_latex_name(self.wrt)}}} \left({inner}\right) = "
                    f"{latex(self.shown, names)}")
        return f"{_latex_name(self.lhs)} = {latex(self.shown_definition, names)}"

    @property
    def legend(self) -> str:
        """A line saying what ``[a > b]`` means when this op's formulas use it, else ''."""
        return legend(self.shown_definition, self.shown)

    @property
    def free_names(self) -> list[str]:
        return sorted(s.name for s in self.formula.free_symbols)


def legend(*exprs: Any) -> str:
    """A line saying what ``[a > b]`` means where ``exprs`` show one (their ties'
    values included: ½ for max/min, 0 for ReLU and |x|), else ''."""
    ties = {b.args[2] for e in exprs for b in e.atoms(Iverson)}
    ties |= {b.args[1] if len(b.args) > 1 else sp.S.Half for e in exprs for b in e.atoms(sp.Heaviside)}
    if any(e.has(sp.sign) for e in exprs):
        ties.add(sp.S.Zero)
    if not ties:
        return ""
    tie = " or ".join(sorted({"½" if t == sp.S.Half else one_line(t) for t in ties}))
    return f"{IVERSON_LEGEND}, {tie} when a = b"


def bracketed(expr: Any) -> str:
    """``expr`` on one line, in parentheses unless it is a name, a number or a call."""
    text = one_line(expr)
    if expr.is_Atom or isinstance(expr, (sp.Function, sp.Max, sp.Min)):
        return text
    return f"({text})"


class _Unsupported(Exception):
    """A shape the learner's derivative does not know: SymPy's own form is shown."""


def _mul(*factors: Any) -> Any:
    """An unevaluated product, flattened, its numbers multiplied into one leading coefficient."""
    coeff = sp.S.One
    rest = []
    for f in factors:
        for g in (f.args if isinstance(f, sp.Mul) else (f,)):
            if g.is_Number:
                coeff = coeff * g
            else:
                rest.append(g)
    if coeff == 0 or not rest:
        return coeff
    if coeff != 1:
        rest.insert(0, coeff)
    return rest[0] if len(rest) == 1 else sp.Mul(*rest, evaluate=False)


def _add(*terms: Any) -> Any:
    """An unevaluated sum, flattened, zeros dropped; n equal terms as n times one."""
    flat = [g for t in terms for g in (t.args if isinstance(t, sp.Add) else (t,)) if not (g.is_Number and g == 0)]
    if not flat:
        return sp.S.Zero
    if all(t.is_Number for t in flat):  # 1 - 1: the number
        return sp.Add(*flat)
    if len(flat) > 1 and all(t == flat[0] for t in flat):
        return _mul(sp.Integer(len(flat)), flat[0])
    return flat[0] if len(flat) == 1 else sp.Add(*flat, evaluate=False)


def _neg(e: Any) -> Any:
    return _mul(sp.S.NegativeOne, e)


def _flat(e: Any) -> Any:
    """An unevaluated expression with nested sums and products flattened (a + b + c)."""
    if not e.args or e.is_Number:
        return e
    args = [_flat(a) for a in e.args]
    if isinstance(e, (sp.Add, sp.Mul)):
        kind = type(e)
        out = [g for a in args for g in (a.args if isinstance(a, kind) else (a,))]
        return kind(*out, evaluate=False)
    return e.func(*args, evaluate=False)


def _learner_diff(e: Any, x: Any, fold: dict[Any, Any], softmax: Any) -> Any:
    """∂e/∂x by the rules a learner applies, on the unevaluated tree ``e``: sums term by
    term, the product and chain rules, each function's derivative in its textbook form
    (σ(u)·(1 - σ(u)), 1 - tanh(u)^2, [u > 0]); subexpressions in ``fold`` shown by name.
    ``softmax(e, x)`` gives softmax's o·(1 - o) / -o·o' form or None.  Raises
    :class:`_Unsupported` for anything else."""

    def named(u: Any) -> Any:
        if not fold:
            return u
        with sp.evaluate(False):
            return u.xreplace(fold)

    def d(e: Any) -> Any:
        if x not in e.free_symbols:
            return sp.S.Zero
        if e == x:
            return sp.S.One
        if isinstance(e, sp.Add):
            return _add(*[d(a) for a in e.args])
        if isinstance(e, sp.Mul):
            hit = softmax(e, x)
            if hit is not None:
                return hit
            args = [named(a) for a in e.args]
            return _add(*[_mul(*args[:i], d(f), *args[i + 1:]) for i, f in enumerate(e.args) if x in f.free_symbols])
        if isinstance(e, sp.Pow):
            b, n = e.args
            if x in n.free_symbols:
                raise _Unsupported
            if n == -1:
                return _mul(sp.S.NegativeOne, d(b), sp.Pow(named(b), 2, evaluate=False) ** -1)
            less = n - 1
            power = named(b) if less == 1 else sp.Pow(named(b), less, evaluate=False)
            return _mul(n, power, d(b))
        if len(e.args) == 1:
            u = e.args[0]
            U, du = named(u), d(u)
            if isinstance(e, sigmoid):
                s = sigmoid(U, evaluate=False)
                return _mul(du, s, _add(sp.S.One, _neg(s)))
            if isinstance(e, sp.tanh):
                return _mul(du, _add(sp.S.One, _neg(sp.Pow(sp.tanh(U, evaluate=False), 2, evaluate=False))))
            if isinstance(e, sp.exp):
                return _mul(du, sp.exp(U, evaluate=False))
            if isinstance(e, sp.log):
                return _mul(du, sp.Pow(U, -1, evaluate=False))
            if isinstance(e, relu):
                return _mul(du, Iverson(U, 0, 0, evaluate=False))
            if isinstance(e, sp.Abs):
                a, b = _split_difference(U)
                return _mul(du, _add(Iverson(a, b, 0, evaluate=False), _neg(Iverson(b, a, 0, evaluate=False))))
        if isinstance(e, (sp.Max, sp.Min)) and len(e.args) == 2:
            a, b = e.args
            A, B = named(a), named(b)
            first, second = (A, B) if isinstance(e, sp.Max) else (B, A)
            return _add(_mul(Iverson(first, second, sp.S.Half, evaluate=False), d(a)),
                        _mul(Iverson(second, first, sp.S.Half, evaluate=False), d(b)))
        raise _Unsupported

    return d(e)


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
            hit = self._shown[key] = (node, _flat(e))
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
            return _mul(oi, _add(sp.S.One, _neg(oi)))
        return _mul(sp.S.NegativeOne, oi, oj)

    def _shown_partial(self, op: Op, shown_definition: Any, wrt: Any, canonical: Any) -> Any:
        """The partial in the learner's form, checked against SymPy's: where the two
        cannot be shown equal cheaply, or the shape is one the learner's rules do not
        cover, SymPy's own form."""
        fold = {self.display(node): self.sym(name) for name, node in op.subs}
        try:
            return _learner_diff(shown_definition, wrt, fold, self._softmax_of)
        except _Unsupported:
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
                    out[s] = _leibniz_latex(op.of, op.wrt, self.direct(op))
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
            with sp.evaluate(False):
                expr = expr.xreplace(repl)
            if sum(1 for _ in sp.preorder_traversal(expr)) > 8 * EXPAND_LIMIT:
                return None
            expr = bounded(expr)
            if expr is None or sp.count_ops(expr) > EXPAND_LIMIT:
                return None
        return None


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
