"""A small reader of nnstep's one-line formula notation, back into SymPy.

Written for the tests only, independently of :mod:`nnstep.symbolic`'s printers: it
reads what a person reads (``∂L/∂ŷ·∂ŷ/∂h1``, ``∂/∂w1 (w1·x1 + b1)``, ``σ(s)·(1 - σ(s))``,
``|x - y|``, ``max(x, y)``, ``[x > y]``, ``x^2``, ``new w1``) and gives a SymPy
expression whose names are program names, Leibniz titles standing as symbols of
their own (``∂f/∂x|direct``).  A derivative operator ``∂/∂x`` applies to the
operand written right after it and is carried out (``sp.diff``) while reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import mpmath
import sympy as sp

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<leibniz>∂(?P<of>[A-Za-z_ŷ][A-Za-z0-9_ŷ]*)/∂(?P<wrt>[A-Za-z_ŷ][A-Za-z0-9_ŷ]*)(?P<direct>\|direct)?)
  | (?P<dop>∂/∂(?P<by>[A-Za-z_ŷ][A-Za-z0-9_ŷ]*))
  | (?P<num>\d+(\.\d*)?([eE][-+]?\d+)?)
  | (?P<name>[A-Za-z_ŷσ][A-Za-z0-9_ŷ]*)
  | (?P<op>[-+·⋅/^()\[\],|>*])
""", re.VERBOSE)

class Sigma(sp.Function):
    """σ(u) = 1/(1 + e^-u) read back; kept as a function so that reading stays quick."""

    def fdiff(self, argindex=1):
        return Sigma(self.args[0]) * (1 - Sigma(self.args[0]))

    def _eval_evalf(self, prec):
        return (1 / (1 + sp.exp(-self.args[0])))._eval_evalf(prec)


class Modulus(sp.Function):
    """|u| of a real u read back: its derivative is sign(u)."""

    def fdiff(self, argindex=1):
        return sp.sign(self.args[0])

    def _eval_evalf(self, prec):
        return sp.Abs(self.args[0])._eval_evalf(prec)


FUNCS = {"exp": sp.exp, "log": sp.log, "tanh": sp.tanh, "sqrt": sp.sqrt,
         "σ": Sigma, "relu": lambda u: sp.Max(u, 0), "max": sp.Max, "min": sp.Min}


class Bracket(sp.Function):
    """[a > b] read back: 1 above, 0 below; at a tie it stays unevaluated (the reader
    does not know the tie value, the test then skips the segment)."""

    @classmethod
    def eval(cls, a, b):
        d = a - b
        if d.is_Number and d != 0:
            return sp.S.One if d > 0 else sp.S.Zero
        return None

    def fdiff(self, argindex=1):
        return sp.S.Zero


def _name(text: str) -> str:
    return "y_pred" if text == "ŷ" else text


class Tie(Exception):
    """A bracket [a > b] met with a = b: its value there is the tie convention's."""


_NUMERIC = {"exp": mpmath.exp, "log": mpmath.log, "tanh": mpmath.tanh, "sqrt": mpmath.sqrt,
            "σ": lambda u: 1 / (1 + mpmath.exp(-u)), "relu": lambda u: max(u, 0), "max": max, "min": min}


@dataclass
class Reader:
    """Reads symbolically (SymPy) when ``values`` is None, else straight to a number
    (mpmath, 30 digits): quick for long formulas; a ``∂/∂x (…)`` operand is then read
    symbolically, differentiated and evaluated at ``values``."""

    text: str
    values: dict | None = None

    def __post_init__(self) -> None:
        if not self.text:
            return
        self.text = self.text.replace("│", "|")  # the pretty print draws |x| with box bars
        self.toks = []
        pos = 0
        while pos < len(self.text):
            m = _TOKEN.match(self.text, pos)
            if m is None:
                raise ValueError(f"cannot read {self.text[pos:]!r} in {self.text!r}")
            pos = m.end()
            if m.lastgroup != "space":
                self.toks.append(m)
        self.i = 0
        self.abs_depth = 0

    def name(self, text: str):
        if self.values is None:
            return sp.Symbol(text)
        if text not in self.values:
            raise KeyError(f"the formula names {text!r}, which has no value here")
        return mpmath.mpf(self.values[text])

    def peek(self) -> str | None:
        if self.i >= len(self.toks):
            return None
        m = self.toks[self.i]
        return m.group() if m.lastgroup == "op" else m.lastgroup

    def take(self, want: str | None = None):
        m = self.toks[self.i]
        if want is not None and m.group() != want:
            raise ValueError(f"expected {want!r}, found {m.group()!r} in {self.text!r}")
        self.i += 1
        return m

    def read(self):
        e = self.expr()
        if self.i != len(self.toks):
            raise ValueError(f"trailing {self.toks[self.i].group()!r} in {self.text!r}")
        return e

    def expr(self):
        e = self.term()
        while self.peek() in ("+", "-"):
            op = self.take().group()
            t = self.term()
            e = e + t if op == "+" else e - t
        return e

    def term(self):
        e = self.unary()
        while self.peek() in ("·", "⋅", "*", "/"):
            op = self.take().group()
            t = self.unary()
            e = e / t if op == "/" else e * t
        return e

    def unary(self):
        if self.peek() == "-":
            self.take()
            return -self.unary()
        return self.power()

    def power(self):
        base = self.atom()
        if self.peek() == "^":
            self.take()
            return base ** self.unary()
        return base

    def atom(self):
        kind = self.peek()
        m = self.take()
        numeric = self.values is not None
        if kind == "num":
            if numeric:
                return mpmath.mpf(m.group())
            return sp.Rational(m.group()) if "." not in m.group() and "e" not in m.group().lower() \
                else sp.Float(m.group(), 30)
        if kind == "leibniz":
            return self.name(m.group())
        if kind == "dop":
            by = sp.Symbol(_name(m.group("by")))
            if not numeric:
                return sp.diff(self.power(), by)
            inner = Reader("", None)
            inner.toks, inner.i = self.toks, self.i
            derived = sp.diff(inner.power(), by)
            self.i = inner.i
            if derived.has(Bracket):
                raise Tie
            subs = {sym: sp.Rational(self.values[sym.name]) for sym in derived.free_symbols}
            return mpmath.mpf(str(derived.xreplace(subs).evalf(30)))
        if kind == "name":
            word = m.group()
            if word in FUNCS and self.peek() == "(":
                self.take("(")
                args = [self.expr()]
                while self.peek() == ",":
                    self.take()
                    args.append(self.expr())
                self.take(")")
                return (_NUMERIC if numeric else FUNCS)[word](*args)
            if word == "new":  # "new w1": the parameter after its update
                return self.name("new " + self.take().group())
            return self.name(_name(word))
        if m.group() == "(":
            e = self.expr()
            self.take(")")
            return e
        if m.group() == "|":
            e = self.expr()
            self.take("|")
            return abs(e) if numeric else Modulus(e)
        if m.group() == "[":
            a = self.expr()
            self.take(">")
            b = self.expr()
            self.take("]")
            if numeric:
                if a == b:
                    raise Tie
                return mpmath.mpf(1 if a > b else 0)
            return Bracket(a, b)
        raise ValueError(f"unexpected {m.group()!r} in {self.text!r}")


def read(text: str):
    """One segment of a formula as SymPy."""
    return Reader(text).read()


def value(text: str, values: dict[str, float]) -> float | None:
    """One segment of a formula evaluated at ``values`` (None at a step's tie)."""
    with mpmath.workdps(30):
        try:
            return float(Reader(text, values).read())
        except Tie:
            return None


def segments(line: str) -> list[str]:
    """``lhs = seg1 = seg2`` split at its top-level '=' signs."""
    return [part.strip() for part in line.split(" = ")]
