"""Scalar arithmetic that never raises and never warns: the one numeric meaning of
every function a formula can call, shared by the op kernels
(:mod:`nnstep.activations`), the formula compiler (:mod:`nnstep.expr`) and the
graph compiler (:mod:`nnstep.graph`).

Results follow IEEE arithmetic where Python would raise: ``x/0`` is ±inf (nan
for ``0/0``), overflow is inf, ``log(0)`` is -inf, ``log``/``sqrt`` of a
negative number is nan, and nan propagates.  Everything is computed with the C
library's functions (``math``), so a value is the same wherever it is computed.
"""

from __future__ import annotations

import math

_exp = math.exp
tanh = math.tanh


def exp(s: float) -> float:
    """e**s; inf on overflow."""
    try:
        return _exp(s)
    except OverflowError:
        return math.inf


def sigmoid(s: float) -> float:
    """1 / (1 + e**-s), written the note's way wherever that cannot overflow."""
    if s >= -708.0:
        return 1.0 / (1.0 + _exp(-s))
    return _exp(s) if s == s else s  # e**s / (1 + e**s) == e**s to the last bit here


def sigmoid_deriv(s: float) -> float:
    """σ(s)·(1 − σ(s)) as σ(s)·σ(−s): no cancellation once σ(s) rounds to 1."""
    return sigmoid(s) * sigmoid(-s)


def tanh_deriv(s: float) -> float:
    """1 − tanh(s)² as 4e^(−2|s|) / (1 + e^(−2|s|))², without the cancellation near |tanh| = 1."""
    if s != s:
        return s
    e = _exp(-2.0 * abs(s))
    return 4.0 * e / ((1.0 + e) * (1.0 + e))


def relu(s: float) -> float:
    """max(s, 0); nan stays nan (as PyTorch does)."""
    return s if not s <= 0.0 else 0.0


def log(p: float) -> float:
    """Natural log; -inf at 0 and nan below it."""
    if p > 0.0:
        return math.log(p)
    return -math.inf if p == 0.0 else math.nan


def sqrt(a: float) -> float:
    return math.sqrt(a) if a >= 0.0 else (a if a != a else math.nan)


def safe_div(a: float, b: float) -> float:
    """a / b with IEEE results instead of ZeroDivisionError."""
    if b != 0.0:
        return a / b
    if a != a or a == 0.0:
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def power(a: float, b: float) -> float:
    """a ** b with IEEE results instead of OverflowError/ValueError."""
    try:
        return math.pow(a, b)
    except OverflowError:
        return -math.inf if a < 0 and b % 2 == 1 else math.inf
    except ValueError:  # 0 ** negative, or negative ** fraction
        if a == 0:
            return math.copysign(math.inf, a) if b % 2 == 1 else math.inf
        return math.nan


def maximum(*values: float) -> float:
    return math.nan if any(v != v for v in values) else max(values)


def minimum(*values: float) -> float:
    return math.nan if any(v != v for v in values) else min(values)


def xlog(y: float, p: float) -> float:
    """y * log(p), taken as 0 where y is 0 (the limit), so a confident right answer is not nan."""
    return 0.0 if y == 0.0 else y * log(p)
