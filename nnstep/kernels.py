"""The meaning of the numeric trees, and the per-op kernels made from them.

Each op's arithmetic is one small tree of :mod:`nnstep.expr` nodes over slot
names (its *numeric* form, made by the program builders).  Here are the
functions those trees may call (:func:`kernel_functions`: the formula functions,
the safe operators, the activations' derivatives, one softmax output) and
:func:`compile_kernels`, which turns each tree into a closure ``v -> value`` on the
slot list, doing the tree's operations in the tree's order.  The generated
whole-sample code of :mod:`nnstep.codegen` does the very same operations, so the
two agree to the bit (tests compare them).
"""

from __future__ import annotations

import operator
import types
from collections.abc import Callable, Mapping, Sequence
from functools import cache

from . import scalar
from .activations import ACTIVATIONS, softmax
from .expr import IMPLEMENTATIONS, Binary, Call, Name, Node, Num, Unary, children

Kernel = Callable[[list[float]], float]


@cache
def kernel_functions() -> Mapping[str, Callable[..., float]]:
    """The functions an op's numeric form may call: the formula functions
    (one meaning everywhere, from :mod:`nnstep.expr`), the safe operators, the
    activations' derivatives and one softmax output."""
    def softmax_at(i: float, *sums: float) -> float:
        return softmax(list(sums))[int(i)]

    def sign(a: float) -> float:
        return a if a != a else (1.0 if a > 0 else -1.0 if a < 0 else 0.0)

    def heaviside(a: float, at_zero: float) -> float:
        return a if a != a else (1.0 if a > 0 else 0.0 if a < 0 else at_zero)

    table: dict[str, Callable[..., float]] = dict(IMPLEMENTATIONS)
    table.update(safe_div=scalar.safe_div, power=scalar.power, xlog=scalar.xlog, softmax_at=softmax_at,
                 tanh_deriv=scalar.tanh_deriv, sign=sign, heaviside=heaviside)
    for name, act in ACTIVATIONS.items():
        table[f"deriv_{name}"] = act.deriv
    return types.MappingProxyType(table)


def compile_kernels(numeric: Sequence[tuple[int, Node]], slot: Mapping[str, int],
                    functions: Mapping[str, Callable[..., float]] = {}) -> tuple[tuple[int, Kernel], ...]:  # noqa: B006
    """One kernel ``v -> value`` per op, from its numeric tree on the slot list ``v``.

    Kernels are closures (cheap to make: a 46,000-op network builds in about a
    second), doing each tree's operations in the tree's order exactly as the
    generated code does; a chain such as a 512-term sum is a loop, not recursion."""
    table = {**kernel_functions(), **functions}
    return tuple((out, _closure(tree, slot, table)) for out, tree in numeric)


_OPERATOR = {"+": operator.add, "-": operator.sub, "*": operator.mul}


def plain_division(node: Binary) -> bool:
    """A division by a nonzero constant: Python's ``/``, which is ``safe_div`` there."""
    return node.op == "/" and isinstance(node.right, Num) and node.right.value != 0.0


def _closure(node: Node, slot: Mapping[str, int], table: Mapping[str, Callable[..., float]]) -> Kernel:
    if isinstance(node, Num):
        value = float(node.value)
        return lambda v: value
    if isinstance(node, Name):
        return operator.itemgetter(slot[node.id])
    if isinstance(node, Binary):
        spine = []  # a left-deep chain a + b - c * d ...: its links from the top
        while isinstance(node, Binary):
            spine.append(node)
            node = node.left
        first = _closure(node, slot, table)
        links = [(_binary(b), _closure(b.right, slot, table)) for b in reversed(spine)]
        if len(links) == 1:
            (op, g), = links
            if isinstance(node, Name) and isinstance(spine[0].right, Name):
                a, b = slot[node.id], slot[spine[0].right.id]  # type: ignore[union-attr]
                if op is operator.mul:
                    return lambda v: v[a] * v[b]
                return lambda v: op(v[a], v[b])
            return lambda v: op(first(v), g(v))

        def chain(v: list[float]) -> float:
            acc = first(v)
            for op, g in links:
                acc = op(acc, g(v))
            return acc

        return chain
    parts = [_closure(c, slot, table) for c in children(node)]
    if isinstance(node, Unary):
        f = parts[0]
        if node.op == "-":
            return lambda v: -f(v)
        if node.op == "+":
            return f
    elif isinstance(node, Call):
        fn = table[node.func]
        if len(parts) == 1:
            f = parts[0]
            return lambda v: fn(f(v))
        if len(parts) == 2:
            f, g = parts
            return lambda v: fn(f(v), g(v))
        return lambda v: fn(*[p(v) for p in parts])
    raise ValueError(f"no numeric form for {node!r}")


def _binary(node: Binary) -> Callable[[float, float], float]:
    """The operation of one link, as the generated code writes it."""
    if node.op in _OPERATOR:
        return _OPERATOR[node.op]
    if plain_division(node):
        return operator.truediv
    if node.op in ("/", "**"):
        return scalar.safe_div if node.op == "/" else scalar.power
    raise ValueError(f"no numeric form for {node!r}")
