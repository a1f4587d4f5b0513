"""Parsed formulas into SymPy, with every exact number SymPy would build bounded first.

:func:`to_sympy` turns a :mod:`nnstep.expr` tree into a SymPy expression from
caller-supplied symbols and functions (no string parsing); :func:`exact_size` and
:func:`bounded_xreplace` keep SymPy's exact arithmetic from running away
(limits :data:`nnstep.expr.MAX_EXACT_BITS` and :data:`nnstep.expr.MAX_ROOT_BITS`).
:func:`symbol` makes the symbols.
"""

from __future__ import annotations

import operator
import sys
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

import sympy

from ..errors import FormulaError
from ..expr import MAX_EXACT_BITS, MAX_ROOT_BITS, Binary, Call, Name, Node, Num, Unary, render, show_formula


@cache
def symbol(name: str, real: bool = False) -> Any:
    """A SymPy symbol for a name.  Formulas written by users get real symbols: with
    them SymPy settles nested tanh/log of powers at once instead of after seconds;
    layered networks keep plain symbols, which derive faster."""
    return sympy.Symbol(name, real=True) if real else sympy.Symbol(name)


# --------------------------------------------------------------------------- exact-number bounds
#
# SymPy keeps integers and fractions exact and evaluates their arithmetic at once, in C
# and holding the GIL: ``10**(10**10)`` cannot be interrupted, and a 4,301-digit result
# cannot even be printed.  So before SymPy combines exact numbers, the size of the result
# is estimated from the sizes of the parts (a product adds their bits, a power multiplies
# the base's bits by the exponent, a sum adds one) and refused past MAX_EXACT_BITS; roots
# of exact numbers, which SymPy factors, are refused past MAX_ROOT_BITS.


def _number_bits(value: Any) -> int | None:
    """Bits of an exact SymPy number (numerator plus denominator; 0 for -1, 0 and 1),
    or None if ``value`` is not an exact number."""
    if value is None or not value.is_Rational:
        return None
    p, q = abs(int(value.p)), int(value.q)
    return (p.bit_length() if p > 1 else 0) + (q.bit_length() if q > 1 else 0)


def _magnitude(bits: int) -> str:
    return f"{bits:,}" if bits < 10**6 else f"10^{int((bits.bit_length() - 1) * 0.30103)}"


def exact_size(kind: str, sizes: Sequence[int], exponent: Any = None,
               what: str | Callable[[], str] = "a result") -> int:
    """Bound the exact numbers SymPy would build; return the estimate in bits, or raise.

    ``kind`` is ``"add"`` (a sum or difference), ``"mul"`` (a product or quotient),
    ``"pow"`` (``sizes`` of base and exponent; ``exponent`` the SymPy exponent) or
    ``"call"`` (a function of its arguments); ``sizes`` are the estimates of the parts
    (see :func:`exact_bits`).  Raises :class:`FormulaError` naming ``what`` when the
    result could exceed MAX_EXACT_BITS, or for a root of an exact number over
    MAX_ROOT_BITS (``what`` may be a function giving the text only then).  Call it
    *before* SymPy combines the parts."""
    def named() -> str:
        return what() if callable(what) else what

    if kind == "add":
        top = max(sizes, default=0)
        size = top + len(sizes).bit_length() if top else 0
    elif kind == "mul":
        size = sum(sizes)
    elif kind == "pow" and _number_bits(exponent) is not None:
        base, power = sizes
        p, q = abs(int(exponent.p)), int(exponent.q)
        if q != 1 and base > MAX_ROOT_BITS:
            raise FormulaError(f"{named()} takes a root of an exact number of {_magnitude(base)} bits; "
                               f"nnstep refuses roots of exact numbers over {MAX_ROOT_BITS:,} bits "
                               "(about 300 digits)")
        size = base * max(1, -(-p // q)) + power
    else:
        size = max(sizes, default=0) if kind == "call" else sum(sizes)
    if size > MAX_EXACT_BITS:
        raise FormulaError(f"{named()} could be an exact number of up to {_magnitude(size)} bits; "
                           f"nnstep refuses exact numbers over {MAX_EXACT_BITS:,} bits (about 3,000 digits)")
    return size


def _kind(e: Any) -> str:
    return "add" if e.is_Add else "mul" if e.is_Mul else "pow" if e.is_Pow else "call"


def _walk_exact(expr: Any, mapping: Mapping[Any, Any] | None) -> tuple[Any, int]:
    """``expr`` with ``mapping`` substituted (rebuilt bottom up, each step bounded by
    :func:`exact_size` before SymPy evaluates it), and its exact-number size."""
    done: dict[Any, tuple[Any, int]] = {}
    stack: list[tuple[Any, bool]] = [(expr, False)]
    while stack:
        e, expanded = stack.pop()
        if e in done and not expanded:
            continue
        if mapping is not None and e in mapping:
            done[e] = (mapping[e], _walk_exact(mapping[e], None)[1])
            continue
        if not e.args:
            done[e] = (e, _number_bits(e) or 0)
            continue
        if not expanded:
            stack.append((e, True))
            stack.extend((a, False) for a in e.args)
            continue
        parts = [done[a] for a in e.args]
        args = [a for a, _ in parts]
        if all(new is old for new, old in zip(args, e.args)):
            new, size = e, _estimate(_kind(e), [n for _, n in parts], args[-1])
        else:
            size = exact_size(_kind(e), [n for _, n in parts], args[-1], "substituting into this formula")
            new = e.func(*args)
        exact = _number_bits(new)
        done[e] = (new, size if exact is None else exact)
    return done[expr]


def _estimate(kind: str, sizes: Sequence[int], exponent: Any) -> int:
    """:func:`exact_size` without the bounds (the size of what already exists)."""
    try:
        return exact_size(kind, sizes, exponent)
    except FormulaError:
        return MAX_EXACT_BITS + 1


def exact_bits(expr: Any) -> int:
    """The estimate :func:`exact_size` works with for an existing SymPy expression:
    bits of its exact numbers, growing as they would if the expression were evaluated."""
    return _walk_exact(expr, None)[1]


def bounded_xreplace(expr: Any, mapping: Mapping[Any, Any]) -> Any:
    """``expr.xreplace(mapping)``, but every operation SymPy evaluates on the way is first
    bounded by :func:`exact_size` (raises :class:`FormulaError` instead of computing
    ``10**(10**10)`` when a formula for ``q = 10`` is put into ``q**(q**q)``)."""
    return _walk_exact(expr, mapping)[0]


def to_sympy(node: Node, symbols: Mapping[str, Any], functions: Mapping[str, Any]) -> Any:
    """Convert to SymPy with ``symbols[name]`` and ``functions[fname]`` (no parsing); see
    :func:`to_sympy_sized`."""
    return to_sympy_sized(node, symbols, functions)[0]


def to_sympy_sized(node: Node, symbols: Mapping[str, Any], functions: Mapping[str, Any],
                   sizes: Mapping[str, int] | None = None) -> tuple[Any, int]:
    """Convert to SymPy with ``symbols[name]`` and ``functions[fname]`` (no parsing);
    return the expression and the estimate of its exact numbers' size in bits.

    SymPy evaluates functions of Float constants eagerly, and its own
    simplification can turn ``1e4 + x - x`` into a constant the parser could
    not fold; so a Float beyond the float range reaching an operator or a
    function is refused here (``exp`` of it could run for minutes), and so is an
    exact number that would grow past MAX_EXACT_BITS (``(x - x + 10)**(x - x + 10**10)``,
    see :func:`exact_size`), before SymPy computes it.  ``symbols`` may map names
    to expressions; ``sizes`` gives the exact-number size a name stands for, where it is
    not that of its symbol (a formula standing for itself).  Create the symbols with ``real=True``: SymPy's assumption
    checks on complex symbols can take seconds on formulas like ``tanh(tanh(x**-99))``.
    """
    ops = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
           "**": operator.pow}
    kinds = {"+": "add", "-": "add", "*": "mul", "/": "mul", "**": "pow"}
    largest = sympy.Float(sys.float_info.max)
    name_bits: dict[str, int] = dict(sizes or {})

    def checked(values: list[Any]) -> list[Any]:
        for value in values:
            if isinstance(value, sympy.Float) and not abs(value) <= largest:
                raise FormulaError(f"a constant grows to {sympy.sstr(value, full_prec=False)}"
                                   ", beyond the float range, in SymPy")
        return values

    def sized(value: Any, estimate: int) -> tuple[Any, int]:
        exact = _number_bits(value)
        return value, estimate if exact is None else exact

    def convert(item: Node) -> tuple[Any, int]:
        if isinstance(item, Num):
            if item.text and item.text.isascii() and item.text.isdigit():
                return sized(sympy.Integer(int(item.text)), 0)
            if item.text:
                return sympy.Float(item.text), 0
            value = float(item.value)
            return sized(sympy.Integer(int(value)) if value.is_integer() else sympy.Float(value), 0)
        if isinstance(item, Name):
            if item.id not in symbols:
                raise FormulaError(f"no symbol given for name {item.id!r}")
            if item.id not in name_bits:
                name_bits[item.id] = exact_bits(symbols[item.id])
            return symbols[item.id], name_bits[item.id]
        if isinstance(item, Unary) and item.op != "not":
            value, size = convert(item.operand)
            return (-value if item.op == "-" else value), size
        if isinstance(item, Binary):
            (left, lsize), (right, rsize) = convert(item.left), convert(item.right)
            checked([left, right])
            size = exact_size(kinds[item.op], [lsize, rsize], right, lambda: show_formula(render(item)))
            return sized(ops[item.op](left, right), size)
        if isinstance(item, Call):
            if item.func not in functions:
                raise FormulaError(f"no SymPy function given for {item.func!r}")
            parts = [convert(arg) for arg in item.args]
            checked([p for p, _ in parts])
            sizes = [s for _, s in parts]
            def what() -> str:
                return show_formula(render(item))

            size = exact_size("pow", [sizes[0], 0], sympy.S.Half, what) if item.func == "sqrt" else \
                exact_size("call", sizes, None, what)
            return sized(functions[item.func](*[p for p, _ in parts]), size)
        raise FormulaError("conditions cannot become formulas")

    try:
        return convert(node)
    except (ArithmeticError, TypeError, ValueError, MemoryError) as err:  # e.g. Max(zoo, x)
        raise FormulaError(f"cannot be converted to SymPy: {err or type(err).__name__}") from err
