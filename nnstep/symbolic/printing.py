"""How SymPy expressions are written for a learner: one line (``x1·σ(sum_h1)``), SymPy's
2-D Unicode pretty print and LaTeX, with program names as maths (``w_{1}``, ``\\hat{y}``),
``|x|``, ``max``/``min``, step functions as Iverson brackets ``[a > b]`` and their legend;
Leibniz names (``∂h1/∂w1``); and :func:`unicode_printing`, the one switch of SymPy's
global Unicode flag."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pretty.pretty import PrettyPrinter
from sympy.printing.pretty.pretty_symbology import pretty_use_unicode
from sympy.printing.pretty.stringpict import prettyForm
from sympy.printing.str import StrPrinter

from .functions import Iverson, LowerMaxMin

#: How a local partial that has a total of the same name is told apart from it:
#: ``∂f/∂x|direct`` is the direct (local) path only, ``∂f/∂x`` the whole derivative.
DIRECT = "|direct"
#: One line saying what the Iverson bracket means (the TUI shows it where one appears).
IVERSON_LEGEND = "[a > b] is 1 when a > b, 0 when a < b"


def leibniz(of: str, wrt: str, direct: bool = False) -> str:
    """``∂h1/∂w1``; ``∂f/∂x|direct`` for a local partial that a total shares its name with."""
    return f"∂{hat(of)}/∂{hat(wrt)}" + (DIRECT if direct else "")


def hat(name: str) -> str:
    return "ŷ" if name in ("ypred", "y_pred") else name


def leibniz_latex(of: str, wrt: str, direct: bool = False) -> str:
    frac = rf"\frac{{\partial {latex_name(of)}}}{{\partial {latex_name(wrt)}}}"
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


def latex_name(name: str) -> str:
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


def split_difference(u: Any) -> tuple[Any, Any]:
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
        a, b = split_difference(e.args[0])
        return Iverson(a, b, e.args[1] if len(e.args) > 1 else sp.S.Half, evaluate=False)
    if isinstance(e, sp.sign):
        a, b = split_difference(e.args[0])
        return sp.Add(Iverson(a, b, 0, evaluate=False),
                      sp.Mul(-1, Iverson(b, a, 0, evaluate=False), evaluate=False), evaluate=False)
    return None


class _Str(LowerMaxMin, StrPrinter):
    def _print_Symbol(self, expr: Any) -> str:
        return hat(expr.name)

    def _print_Mul(self, expr: Any) -> str:
        # -1·0.49·0.1 with numbers substituted (unevaluated): SymPy would print
        # the -1 as a bare 1 after taking its sign; print it as a minus sign
        args = expr.args
        if len(args) > 1 and args[0] is sp.S.NegativeOne and any(a.is_Number for a in args[1:]):
            return "-" + "*".join(self.parenthesize(a, PRECEDENCE["Mul"], strict=False) for a in args[1:])
        return super()._print_Mul(expr)

    def _print_Abs(self, expr: Any) -> str:
        return f"|{self._print(expr.args[0])}|"

    def _print_Iverson(self, expr: Any) -> str:
        a, b, _ = expr.args
        return f"[{self._print(a)} > {self._print(b)}]"

    def _print_Heaviside(self, expr: Any) -> str:
        return self._print(_steps_of(expr))

    def _print_sign(self, expr: Any) -> str:
        return f"({self._print(_steps_of(expr))})"


class _Pretty(PrettyPrinter):
    def _print_Symbol(self, e: Any, bold_name: bool = False) -> Any:
        return prettyForm(hat(e.name))

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
    r"""SymPy's LaTeX with nnstep's names as maths (see :func:`latex_name`): ``w_{1}``,
    ``\hat{y}``, ``\mathrm{sum}_{h_{1}}``, ``\eta``; never a program identifier."""

    def _print_Symbol(self, expr: Any, style: str = "plain") -> str:
        if expr in self._settings["symbol_names"]:
            return self._settings["symbol_names"][expr]
        return latex_name(expr.name)

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
