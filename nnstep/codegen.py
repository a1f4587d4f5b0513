"""Op arithmetic as generated Python: per-op kernels and fused whole-sample code.

Each op's arithmetic is one small tree of :mod:`nnstep.expr` nodes over slot
names (its *numeric* form, made by the program builders). This module turns
those trees into Python functions through the :mod:`ast` module, never through
text: every identifier in the generated code is one made here (``s3`` for slot
3, ``f1`` for a function, ``t0`` for a shared subexpression, ``_p``/``_data``/…
for the loops), numbers are constants, and functions come from the fixed table
of :func:`kernel_functions` plus the program's own (custom activations) under
names made here.  Names from scenario files never reach the code.  Functions
are made from the compiled code objects with ``types.FunctionType`` and an empty
``__builtins__``; nothing is exec'd or eval'd.

Two shapes come from the same trees, so they are the same arithmetic to the bit:

* per-op kernels ``k(v) -> float`` on the slot list, for stepping one op;
* fused functions on local variables (one sample's step, the epoch loss, many
  epochs of training), straight-line code in which a subexpression that occurs
  twice with the same inputs (``deriv_sigmoid(sum_o1, o1)`` in five partials) is
  computed once.  Functions in the table are pure, so that changes no value.
"""

from __future__ import annotations

import ast
import re
import types
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from functools import cache, cached_property
from typing import TYPE_CHECKING

from .expr import Binary, Call, Name, Node, Num, Unary

if TYPE_CHECKING:
    from .program import Program

Kernel = Callable[[list[float]], float]
#: The file name of generated code (tests allow ``compile`` for exactly this).
FILENAME = "<nnstep generated>"
#: Every identifier generated code may contain.
GENERATED_NAME = re.compile(r"(?:[sftk]\d+|_p|_x|_data|_n|_total|_count|_e|_losses|_range|_step|_loss|_train|v)\Z")


@cache
def kernel_functions() -> Mapping[str, Callable[..., float]]:
    """The functions an op's numeric form may call: the formula functions
    (one meaning everywhere, from :mod:`nnstep.expr`), the safe operators, the
    activations' derivatives and one softmax output."""
    from . import scalar
    from .activations import ACTIVATIONS, softmax
    from .expr import _IMPL

    def softmax_at(i: float, *sums: float) -> float:
        return softmax(list(sums))[int(i)]

    table: dict[str, Callable[..., float]] = dict(_IMPL)
    table.update(safe_div=scalar.safe_div, power=scalar.power, xlog=scalar.xlog, softmax_at=softmax_at)
    for name, act in ACTIVATIONS.items():
        table[f"deriv_{name}"] = act.deriv
    return types.MappingProxyType(table)


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    return ()


_ARITH = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult}


class _Generator:
    """Builds ``ast`` for numeric trees; collects the functions they call."""

    def __init__(self, slot: Mapping[str, int], functions: Mapping[str, Callable[..., float]]) -> None:
        self.slot = slot
        self.functions = {**kernel_functions(), **functions}
        self.namespace: dict[str, object] = {"__builtins__": {}}
        self.fnames: dict[str, str] = {}
        self.temps = 0
        self.labels: dict[tuple, int] = {}
        self.shapes: dict[int, tuple[Node, tuple[int, tuple[str, ...]]]] = {}

    def func(self, key: str) -> ast.expr:
        if key not in self.fnames:
            name = f"f{len(self.fnames)}"
            self.fnames[key] = name
            self.namespace[name] = self.functions[key]
        return ast.Name(self.fnames[key], ast.Load())

    def node(self, node: Node, load: Callable[[int], ast.expr], kid: Callable[[Node], ast.expr]) -> ast.expr:
        """``node`` as an expression, its children made by ``kid`` (the same
        meaning as :func:`nnstep.expr.compile_numeric`)."""
        if isinstance(node, Num):
            return ast.Constant(float(node.value))
        if isinstance(node, Name):
            return load(self.slot[node.id])
        args = [kid(c) for c in children(node)]
        if isinstance(node, Unary):
            if node.op == "-":
                return ast.UnaryOp(ast.USub(), args[0])
            if node.op == "+":
                return args[0]
        elif isinstance(node, Binary):
            if node.op in _ARITH:
                return ast.BinOp(args[0], _ARITH[node.op](), args[1])
            if node.op == "/" and isinstance(node.right, Num) and node.right.value != 0.0:
                return ast.BinOp(args[0], ast.Div(), args[1])  # safe_div(a, b) is a / b for b != 0
            if node.op in ("/", "**"):
                return ast.Call(self.func("safe_div" if node.op == "/" else "power"), args, [])
        elif isinstance(node, Call):
            return ast.Call(self.func(node.func), args, [])
        raise ValueError(f"no numeric form for {node!r}")

    def expression(self, node: Node, load: Callable[[int], ast.expr]) -> ast.expr:
        return self.node(node, load, lambda c: self.expression(c, load))

    def canonical(self, node: Node) -> tuple[int, tuple[str, ...]]:
        """A number for the tree's shape (equal for equal trees) and the names it
        reads; computed once per node object (trees share subtrees)."""
        hit = self.shapes.get(id(node))
        if hit is not None:
            return hit[1]
        if isinstance(node, Num):
            label: tuple = ("num", float(node.value).hex())
            reads: tuple[str, ...] = ()
        elif isinstance(node, Name):
            label, reads = ("name", node.id), (node.id,)
        else:
            kids = [self.canonical(c) for c in children(node)]
            op = node.func if isinstance(node, Call) else node.op  # type: ignore[union-attr]
            label = (type(node).__name__, op, *(k[0] for k in kids))
            reads = tuple(sorted({n for k in kids for n in k[1]}))
        result = self.labels.setdefault(label, len(self.labels)), reads
        self.shapes[id(node)] = (node, result)  # the node is kept so that its id stays its own
        return result

    def block(self, ops: Sequence[tuple[int, Node]], names: Sequence[str]) -> list[ast.stmt]:
        """Straight-line statements ``s<out> = <tree>`` for ``ops`` on locals, with
        every subexpression that occurs twice on the same inputs computed once."""
        def local(i: int) -> ast.expr:
            return ast.Name(f"s{i}", ast.Load())

        version: Counter[str] = Counter()

        def key(node: Node) -> tuple[int, tuple[int, ...]]:
            shape, reads = self.canonical(node)
            return shape, tuple(version[n] for n in reads)

        counts: Counter[tuple[int, tuple[int, ...]]] = Counter()

        def count(node: Node) -> None:
            if isinstance(node, Num | Name):
                return
            k = key(node)
            counts[k] += 1
            if counts[k] == 1:
                for c in children(node):
                    count(c)

        for out, tree in ops:
            count(tree)
            version[names[out]] += 1
        version.clear()
        stmts: list[ast.stmt] = []
        temps: dict[tuple[int, tuple[int, ...]], str] = {}

        def emit(node: Node) -> ast.expr:
            if isinstance(node, Num | Name):
                return self.node(node, local, emit)
            k = key(node)
            if k in temps:
                return ast.Name(temps[k], ast.Load())
            e = self.node(node, local, emit)
            if counts[k] < 2:
                return e
            name = temps[k] = f"t{self.temps}"
            self.temps += 1
            stmts.append(_assign(name, e))
            return ast.Name(name, ast.Load())

        for out, tree in ops:
            stmts.append(_assign(f"s{out}", emit(tree)))
            version[names[out]] += 1
        return stmts

    def build(self, defs: list[ast.FunctionDef]) -> dict[str, types.FunctionType]:
        module = ast.fix_missing_locations(ast.Module(defs, []))
        code = compile(module, FILENAME, "exec")
        return {c.co_name: types.FunctionType(c, self.namespace) for c in code.co_consts
                if isinstance(c, types.CodeType)}


_ALLOWED = (ast.Module, ast.FunctionDef, ast.arguments, ast.arg, ast.Return, ast.Assign, ast.For, ast.Expr,
            ast.Name, ast.Load, ast.Store, ast.Tuple, ast.List, ast.Constant, ast.BinOp, ast.UnaryOp,
            ast.Add, ast.Sub, ast.Mult, ast.Div, ast.USub, ast.Call, ast.Subscript, ast.Attribute)


def check_generated(module: ast.Module) -> None:
    """Refuse a tree with anything but the few statements and operators made
    here, an identifier not made here, or a constant that is not a number."""
    for node in ast.walk(module):
        if not isinstance(node, _ALLOWED):
            raise RuntimeError(f"generated code may not contain {type(node).__name__}")
        name = getattr(node, "id", None) or getattr(node, "arg", None) or (
            node.name if isinstance(node, ast.FunctionDef) else None)
        if name is not None and not GENERATED_NAME.match(name):
            raise RuntimeError(f"generated code may not name {name!r}")
        if isinstance(node, ast.Attribute) and node.attr != "append":
            raise RuntimeError(f"generated code may not use the attribute {node.attr!r}")
        if isinstance(node, ast.Constant) and type(node.value) not in (float, int):
            raise RuntimeError(f"generated code may not hold the constant {node.value!r}")


def _assign(name: str, value: ast.expr) -> ast.stmt:
    return ast.Assign([ast.Name(name, ast.Store())], value)


def _store_tuple(names: Sequence[str]) -> ast.expr:
    return ast.Tuple([ast.Name(n, ast.Store()) for n in names], ast.Store())


def _load_list(names: Sequence[str]) -> ast.expr:
    return ast.List([ast.Name(n, ast.Load()) for n in names], ast.Load())


def _def(name: str, args: Sequence[str], body: list[ast.stmt]) -> ast.FunctionDef:
    arguments = ast.arguments(posonlyargs=[], args=[ast.arg(a) for a in args], kwonlyargs=[],
                              kw_defaults=[], defaults=[])
    return ast.FunctionDef(name=name, args=arguments, body=body, decorator_list=[])


def compile_kernels(numeric: Sequence[tuple[int, Node]], slot: Mapping[str, int],
                    functions: Mapping[str, Callable[..., float]] = {}) -> tuple[tuple[int, Kernel], ...]:  # noqa: B006
    """One kernel ``v -> value`` per op, from its numeric tree on the slot list ``v``."""
    gen = _Generator(slot, functions)

    def item(i: int) -> ast.expr:
        return ast.Subscript(ast.Name("v", ast.Load()), ast.Constant(i), ast.Load())

    defs = [_def(f"k{j}", ["v"], [ast.Return(gen.expression(tree, item))]) for j, (_, tree) in enumerate(numeric)]
    made = gen.build(defs)
    return tuple((out, made[f"k{j}"]) for j, (out, _) in enumerate(numeric))


class Fused:
    """Whole-sample functions of one program: the op kernels' arithmetic as
    straight-line code on local variables.  Each is generated on first use."""

    def __init__(self, program: Program) -> None:
        self.program = program
        slot = program.slot
        self.names = list(slot)
        self.ops = list(zip((out for out, _ in program.kernels), program.numeric or ()))
        self.row = [f"s{slot[n]}" for n in (*program.inputs, *program.targets)]
        self.params = [f"s{slot[p]}" for p in program.parameters]
        self.data = tuple(tuple(float(x) for x in (*s.x, *s.y)) for s in program.scenario.samples)

    def _generate(self, name: str, args: list[str], body: Callable[[_Generator], list[ast.stmt]]) -> Callable:
        gen = _Generator(self.program.slot, self.program.functions)
        lr = _assign(f"s{self.program.slot['learn_rate']}", ast.Constant(float(self.program.scenario.learning_rate)))
        head = [lr, _assign_tuple(self.params, "_p")] if self.params else [lr]
        gen.namespace.update(_data=self.data, _n=len(self.data), _range=range)
        return gen.build([_def(name, args, [*head, *body(gen)])])[name]

    def _each_sample(self, body: list[ast.stmt]) -> ast.stmt:
        target = _store_tuple(self.row) if self.row else ast.Name("_x", ast.Store())
        return ast.For(target, _load("_data"), body, [])

    def _loss_loop(self, gen: _Generator) -> list[ast.stmt]:
        """``_total`` = the sum over samples of each sample's loss, in order."""
        loss = _load(f"s{self.program.slot[self.program.loss]}")
        add = _assign("_total", ast.BinOp(_load("_total"), ast.Add(), loss))
        return [_assign("_total", ast.Constant(0.0)),
                self._each_sample([*gen.block(self.ops[: self.program.loss_end], self.names), add])]

    @cached_property
    def _step(self) -> Callable[[Sequence[float], tuple[float, ...]], list[float]]:
        unpack = [_assign_tuple(self.row, "_x")] if self.row else []
        return self._generate("_step", ["_p", "_x"], lambda gen: [
            *unpack, *gen.block(self.ops, self.names), ast.Return(_load_list(self.params))])

    def step(self, params: Sequence[float], sample: int) -> list[float]:
        """Parameters after one sample's forward, backward and update."""
        return self._step(params, self.data[sample])

    @cached_property
    def _loss(self) -> Callable[[Sequence[float]], float]:
        mean = ast.BinOp(_load("_total"), ast.Div(), _load("_n"))
        return self._generate("_loss", ["_p"], lambda gen: [*self._loss_loop(gen), ast.Return(mean)])

    def loss(self, params: Sequence[float]) -> float:
        """The mean of the samples' losses under ``params`` (the note's epoch loss)."""
        return self._loss(params)

    @cached_property
    def train(self) -> Callable[[Sequence[float], int], tuple[list[float], list[float]]]:
        """(parameters, epochs) -> (parameters after them, the epoch loss after each)."""
        mean = ast.BinOp(_load("_total"), ast.Div(), _load("_n"))
        append = ast.Expr(ast.Call(ast.Attribute(_load("_losses"), "append", ast.Load()), [mean], []))
        return self._generate("_train", ["_p", "_count"], lambda gen: [
            _assign("_losses", ast.List([], ast.Load())),
            ast.For(ast.Name("_e", ast.Store()), ast.Call(_load("_range"), [_load("_count")], []),
                    [self._each_sample(gen.block(self.ops, self.names)), *self._loss_loop(gen), append], []),
            ast.Return(ast.Tuple([_load_list(self.params), _load("_losses")], ast.Load()))])


def fuse(program: Program) -> Fused | None:
    """Fused functions for ``program``, or None when an op has no numeric form."""
    return None if program.numeric is None else Fused(program)


def _load(name: str) -> ast.expr:
    return ast.Name(name, ast.Load())


def _assign_tuple(names: Sequence[str], source: str) -> ast.stmt:
    return ast.Assign([_store_tuple(names)], ast.Name(source, ast.Load()))
