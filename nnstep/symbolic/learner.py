"""Derivatives in the learner's form: the rules a person applies by hand on the
unevaluated tree (sums term by term, product and chain rules, σ(s)·(1 - σ(s)),
``-2·(y_true - ŷ)``, ``[u > 0]``), with known subexpressions shown by name; and the
unevaluated sums and products those forms are built from."""

from __future__ import annotations

from typing import Any

import sympy as sp

from .functions import Iverson, relu, sigmoid
from .printing import split_difference


class Unsupported(Exception):
    """A shape the learner's derivative does not know: SymPy's own form is shown."""


def mul(*factors: Any) -> Any:
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


def add(*terms: Any) -> Any:
    """An unevaluated sum, flattened, zeros dropped; n equal terms as n times one."""
    parts = [g for t in terms for g in (t.args if isinstance(t, sp.Add) else (t,)) if not (g.is_Number and g == 0)]
    if not parts:
        return sp.S.Zero
    if all(t.is_Number for t in parts):  # 1 - 1: the number
        return sp.Add(*parts)
    if len(parts) > 1 and all(t == parts[0] for t in parts):
        return mul(sp.Integer(len(parts)), parts[0])
    return parts[0] if len(parts) == 1 else sp.Add(*parts, evaluate=False)


def neg(e: Any) -> Any:
    return mul(sp.S.NegativeOne, e)


def flat(e: Any) -> Any:
    """An unevaluated expression with nested sums and products flattened (a + b + c)."""
    if not e.args or e.is_Number:
        return e
    args = [flat(a) for a in e.args]
    if isinstance(e, (sp.Add, sp.Mul)):
        kind = type(e)
        out = [g for a in args for g in (a.args if isinstance(a, kind) else (a,))]
        return kind(*out, evaluate=False)
    return e.func(*args, evaluate=False)


def learner_diff(e: Any, x: Any, fold: dict[Any, Any], softmax: Any) -> Any:
    """∂e/∂x by the rules a learner applies, on the unevaluated tree ``e``: sums term by
    term, the product and chain rules, each function's derivative in its textbook form
    (σ(u)·(1 - σ(u)), 1 - tanh(u)^2, [u > 0]); subexpressions in ``fold`` shown by name.
    ``softmax(e, x)`` gives softmax's o·(1 - o) / -o·o' form or None.  Raises
    :class:`Unsupported` for anything else."""

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
            return add(*[d(a) for a in e.args])
        if isinstance(e, sp.Mul):
            hit = softmax(e, x)
            if hit is not None:
                return hit
            args = [named(a) for a in e.args]
            return add(*[mul(*args[:i], d(f), *args[i + 1:]) for i, f in enumerate(e.args) if x in f.free_symbols])
        if isinstance(e, sp.Pow):
            b, n = e.args
            if x in n.free_symbols:
                raise Unsupported
            if n == -1:
                return mul(sp.S.NegativeOne, d(b), sp.Pow(named(b), 2, evaluate=False) ** -1)
            less = n - 1
            power = named(b) if less == 1 else sp.Pow(named(b), less, evaluate=False)
            return mul(n, power, d(b))
        if len(e.args) == 1:
            u = e.args[0]
            U, du = named(u), d(u)
            if isinstance(e, sigmoid):
                s = sigmoid(U, evaluate=False)
                return mul(du, s, add(sp.S.One, neg(s)))
            if isinstance(e, sp.tanh):
                return mul(du, add(sp.S.One, neg(sp.Pow(sp.tanh(U, evaluate=False), 2, evaluate=False))))
            if isinstance(e, sp.exp):
                return mul(du, sp.exp(U, evaluate=False))
            if isinstance(e, sp.log):
                return mul(du, sp.Pow(U, -1, evaluate=False))
            if isinstance(e, relu):
                return mul(du, Iverson(U, 0, 0, evaluate=False))
            if isinstance(e, sp.Abs):
                a, b = split_difference(U)
                return mul(du, add(Iverson(a, b, 0, evaluate=False), neg(Iverson(b, a, 0, evaluate=False))))
        if isinstance(e, (sp.Max, sp.Min)) and len(e.args) == 2:
            a, b = e.args
            A, B = named(a), named(b)
            first, second = (A, B) if isinstance(e, sp.Max) else (B, A)
            return add(mul(Iverson(first, second, sp.S.Half, evaluate=False), d(a)),
                        mul(Iverson(second, first, sp.S.Half, evaluate=False), d(b)))
        raise Unsupported

    return d(e)
