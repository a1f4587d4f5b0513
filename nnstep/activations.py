"""The one table of activation functions: numeric kernels and learner's spelling.

Numbers are computed on Python floats with the C library's elementary
functions (``math.exp``, ``math.tanh``, ``math.log``): four times cheaper per
call than NumPy's on a scalar, which matters when a training step is a few
dozen scalar ops.  (NumPy's ``exp`` differs from the C library's in the last
bit for some inputs, so the vectorised path in :mod:`nnstep.vector` calls
these same functions.)  Every kernel is overflow-safe and never raises or warns.  The SymPy side of each
activation lives in :mod:`nnstep.symbolic` under the same name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .expr import Binary, Call, Name, Node, Unary, compile_numeric
from .scalar import exp, log, relu, safe_div, sigmoid, tanh, tanh_deriv  # noqa: F401 - the kernels' functions


@dataclass(frozen=True, slots=True)
class Activation:
    """An elementwise activation f, with f'(s) given s and a = f(s)."""

    name: str
    fn: Callable[[float], float]
    deriv: Callable[[float, float], float]
    summary: str

    def code(self, arg: str) -> str:
        """The learner's line for f(arg)."""
        return arg if self.name == "linear" else f"{self.name}({arg})"

    def deriv_code(self, arg: str) -> str:
        """The learner's spelling of f'(arg), e.g. ``deriv_sigmoid(sum_h1)``."""
        return "1" if self.name == "linear" else f"deriv_{self.name}({arg})"


def _sigmoid_deriv(s: float, a: float) -> float:
    # sigma(s) * (1 - sigma(s)), with 1 - sigma(s) taken as sigma(-s): the note's
    # fx * (1 - fx) cancels to 0 once sigma(s) rounds to 1, and that would be untrue.
    return a * sigmoid(-s)


def _tanh_deriv(s: float, a: float) -> float:
    return tanh_deriv(s)


def _relu_deriv(s: float, a: float) -> float:
    # 0 at s == 0, as PyTorch does; nan stays nan
    return 1.0 if s > 0.0 else (0.0 if s <= 0.0 else s)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("sigmoid", sigmoid, _sigmoid_deriv, "1 / (1 + e^-x), squashes to (0, 1)"),
        Activation("tanh", tanh, _tanh_deriv, "squashes to (-1, 1)"),
        Activation("relu", relu, _relu_deriv, "max(x, 0); derivative 0 at 0"),
        Activation("linear", lambda s: s, lambda s, a: 1.0, "identity: f(x) = x"),
    )
}

#: Activations that mix a whole layer: allowed on the output layer only.
LAYER_ACTIVATIONS = ("softmax",)

ACTIVATION_NAMES = (*ACTIVATIONS, *LAYER_ACTIVATIONS)


def softmax(sums: list[float]) -> list[float]:
    """Overflow-safe softmax: e**(s - max) / sum(e**(s_j - max))."""
    top = max(sums)
    if top != top or top in (math.inf, -math.inf):
        # nan, or an infinite logit: let IEEE arithmetic decide (nan where undefined)
        es = [exp(s - top) if s == s else math.nan for s in sums]
    else:
        es = [exp(s - top) for s in sums]
    total = 0.0
    for e in es:
        total += e
    return [safe_div(e, total) for e in es]


# --------------------------------------------------------------------------- custom activations


@dataclass(frozen=True, slots=True)
class CustomActivation:
    """An activation written as a formula in ``x``, e.g. ``x / (1 + abs(x))``."""

    name: str  # how code lines call it: softsign(sum_h1), deriv_softsign(sum_h1)
    text: str  # the formula as written in the file
    expr: Node  # parsed by nnstep.expr over the one name "x"



def substitute(node: Node, name: str, value: Node) -> Node:
    """``node`` with every ``Name(name)`` replaced by ``value`` (a new tree)."""
    if isinstance(node, Name):
        return value if node.id == name else node
    if isinstance(node, Unary):
        return Unary(node.op, substitute(node.operand, name, value))
    if isinstance(node, Binary):
        return Binary(node.op, substitute(node.left, name, value), substitute(node.right, name, value))
    if isinstance(node, Call):
        return Call(node.func, tuple(substitute(a, name, value) for a in node.args))
    return node


def activation_expr(name: str, custom: CustomActivation | None, arg: Node) -> Node:
    """The defining expression of ``f(arg)``: ``sigmoid(arg)``, ``arg`` for linear,
    or a custom formula with ``x`` replaced by ``arg``."""
    if custom is not None:
        return substitute(custom.expr, "x", arg)
    return arg if name == "linear" else Call(name, (arg,))


def custom_activation(custom: CustomActivation, derivative: Callable[[Sequence[float]], float]) -> Activation:
    """An :class:`Activation` from a formula in ``x``: the function through the safe
    parser's numeric back end; its derivative ``derivative((x,))`` is supplied by the
    builder (:mod:`nnstep.layered` derives it with SymPy)."""
    f = compile_numeric(custom.expr, {"x": 0})
    df = derivative
    return Activation(
        custom.name,
        lambda s: f((s,)),
        lambda s, a: df((s,)),
        f"your formula: f(x) = {custom.text.strip()}",
    )
