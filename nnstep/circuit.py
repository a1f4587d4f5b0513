"""A formula graph as a circuit: its inputs and parameters, one node per operation
(``+``, ``*``, ``exp``, ``1/x``, …) and the wires between them, the way backpropagation
is drawn on small circuits (CS231n).  The drawing is :mod:`nnstep.tui.components.circuit`;
this is its data: which parts there are, which column each sits in (its depth), and
the numbers on the wires.

Every number comes from the program or from the formula it belongs to: a wire that
carries a named quantity (an input, a parameter, a formula's result) shows the
debugger's value and, once the backward phase has computed it, the program's
∂output/∂name.  A wire inside a formula (``w0*x0`` in ``f = 1 / (1 + exp(-(w0*x0 + …)))``)
shows the value of that part of the formula, evaluated from the same values with
nnstep's safe evaluator; it has no gradient of its own, since the program differentiates
each formula as a whole (``d_f_d_w0``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .expr import Binary, Call, Name, Node, Num, Unary, compile_numeric
from .scenario import Scenario
from .scenario.plan import plan

#: Parts of one circuit, at most (a graph has at most 256 formulas of at most 2,000
#: characters; its drawing is only tried when it is this small).
MAX_PARTS = 400


@dataclass(frozen=True)
class Part:
    """A node of the circuit: a leaf (input, parameter, constant) or an operation."""

    index: int
    label: str  # the operation ('+', 'exp', '1/x', '**2') or the leaf's name
    kind: str  # input | parameter | constant | op
    name: str  # the program's name for the quantity on its output wire ('' inside a formula)
    formula: str  # the formula an operation belongs to ('' for leaves)
    args: tuple[int, ...]  # the parts whose wires come in, in order
    depth: int  # its column: leaves 0, an operation one right of its deepest input
    expr: Node | None = None  # an operation's part of its formula


@dataclass(frozen=True)
class Circuit:
    parts: tuple[Part, ...]
    output: str  # the formula training makes smaller
    gradient: Mapping[str, str]  # name -> the op holding ∂output/∂name
    fine: bool  # one part per operation (True) or one per formula

    @property
    def columns(self) -> int:
        return 1 + max(p.depth for p in self.parts)

    def consumers(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {p.index: [] for p in self.parts}
        for p in self.parts:
            for a in dict.fromkeys(p.args):
                out[a].append(p.index)
        return out


def _number(v: float) -> str:
    return f"{v:g}"


def _op_label(node: Node) -> tuple[str, tuple[Node, ...]]:
    """An operation's label and the subtrees that come in as wires (a constant operand
    is folded into the label: ``+1``, ``1/x``, ``**2``)."""
    if isinstance(node, Unary):
        return ("-x" if node.op == "-" else node.op), (node.operand,)
    if isinstance(node, Call):
        return node.func, node.args
    if isinstance(node, Binary):
        left, right = node.left, node.right
        if isinstance(right, Num) and not isinstance(left, Num):
            return f"{node.op}{right.text or _number(right.value)}", (left,)
        if isinstance(left, Num) and not isinstance(right, Num):
            c = left.text or _number(left.value)
            return (f"{c}{node.op}x" if node.op in ("-", "/", "**") else f"{node.op}{c}"), (right,)
        return node.op, (left, right)
    return "=", (node,)


def build_circuit(sc: Scenario, *, fine: bool = True) -> Circuit | None:
    """The circuit of a formula-graph scenario (None for a layered network, or when it
    would have more than :data:`MAX_PARTS` parts)."""
    graph = sc.graph
    if graph is None:
        return None
    parts: list[Part] = []
    leaf: dict[str, int] = {}  # input/parameter/formula name -> the part carrying it
    constants: dict[float, int] = {}
    kinds = {**dict.fromkeys(graph.inputs, "input"), **dict.fromkeys(graph.parameters, "parameter")}

    def add(**kw) -> int:
        if len(parts) >= MAX_PARTS:
            raise _TooBig
        parts.append(Part(index=len(parts), **kw))
        return len(parts) - 1

    def leaves_of(node: Node) -> None:  # leaves in the order the formulas use them
        if isinstance(node, Name) and node.id in kinds and node.id not in leaf:
            leaf[node.id] = add(label=node.id, kind=kinds[node.id], name=node.id, formula="", args=(), depth=0)
        for kid in _kids(node):
            leaves_of(kid)

    def wire(node: Node, formula: str, root: bool) -> int:
        if not root and isinstance(node, Name):
            return leaf[node.id]
        if not root and isinstance(node, Num):
            if node.value not in constants:
                constants[node.value] = add(label=node.text or _number(node.value), kind="constant", name="",
                                            formula="", args=(), depth=0)
            return constants[node.value]
        if isinstance(node, Unary) and node.op == "+" and not root:
            return wire(node.operand, formula, False)
        label, ins = _op_label(node)
        args = tuple(wire(a, formula, False) for a in ins)
        depth = 1 + max((parts[a].depth for a in args), default=0)
        return add(label=label, kind="op", name=formula if root else "", formula=formula, args=args, depth=depth,
                   expr=node)

    try:
        for n in graph.nodes:
            leaves_of(n.expr)
        for n in graph.nodes:
            if fine:
                leaf[n.name] = wire(n.expr, n.name, True)
            else:
                args = tuple(leaf[a] for a in n.reads)
                depth = 1 + max((parts[a].depth for a in args), default=0)
                leaf[n.name] = add(label=n.name, kind="op", name=n.name, formula=n.name, args=args, depth=depth,
                                   expr=n.expr)
    except _TooBig:
        return None
    return Circuit(tuple(parts), graph.output, plan(graph).gradient, fine)


class _TooBig(Exception):
    pass


def _kids(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    return ()


def wire_values(circuit: Circuit, value: Callable[[str], float | None]) -> dict[int, float | None]:
    """The forward value on each part's output wire: ``value(name)`` for a named one
    (None where this sample has not computed it), the part of its formula evaluated
    from those values for one inside a formula (None until every name it uses has a value)."""
    out: dict[int, float | None] = {}
    for p in circuit.parts:
        if p.kind == "constant":
            out[p.index] = float(p.label) if _is_float(p.label) else None
        elif p.name:
            out[p.index] = value(p.name)
        else:
            assert p.expr is not None
            out[p.index] = evaluate(p.expr, value)
    return out


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def evaluate(expr: Node, value: Callable[[str], float | None]) -> float | None:
    """``expr`` evaluated from ``value(name)`` (None if a name has no value yet)."""
    names = sorted(_names(expr))
    got: list[float] = []
    for n in names:
        v = value(n)
        if v is None:
            return None
        got.append(v)
    return _compiled(expr, tuple(names))(got)


_CACHE: dict[tuple[Node, tuple[str, ...]], Callable[[Sequence[float]], float]] = {}


def _compiled(expr: Node, names: tuple[str, ...]) -> Callable[[Sequence[float]], float]:
    key = (expr, names)
    fn = _CACHE.get(key)
    if fn is None:
        if len(_CACHE) > 4096:
            _CACHE.clear()
        fn = _CACHE[key] = compile_numeric(expr, {n: i for i, n in enumerate(names)})
    return fn


def _names(node: Node) -> set[str]:
    if isinstance(node, Name):
        return {node.id}
    out: set[str] = set()
    for kid in _kids(node):
        out |= _names(kid)
    return out


def wire_gradients(circuit: Circuit, value: Callable[[str], float | None], backward: bool) -> dict[int, float | None]:
    """∂output/∂(the quantity on the wire) for the named wires, as the program computed
    it (None until it has); the output's own is 1 once the backward phase has begun.
    Inputs (data) and wires inside a formula have none."""
    out: dict[int, float | None] = {}
    for p in circuit.parts:
        if not p.name or p.kind == "input":
            continue
        if p.name == circuit.output:
            out[p.index] = 1.0 if backward else None
        elif p.name in circuit.gradient:
            out[p.index] = value(circuit.gradient[p.name])
    return out
