"""Generated whole-sample code: the op program as straight-line Python.

From each op's numeric tree (see :mod:`nnstep.kernels`) this module generates
functions on local variables for one sample's step, the epoch loss, whole
training runs, and a sample with breakpoint conditions and the non-finite check
compiled in (:class:`Fused`).  They do the op kernels' operations in the same
order, so their numbers are the stepper's to the bit (tests compare them on every
bundled scenario and on random networks); a subexpression that occurs twice on
the same inputs (``deriv_sigmoid(sum_o1, o1)`` in five partials) is computed once,
which changes no value because the functions called are pure.

The code is built through the :mod:`ast` module, never through text: every
identifier in it is one made here (``s3`` for slot 3, ``f1`` for a function,
``t0`` for a temporary, ``_p``/``_data``/… for the loops), numbers are
constants, and functions come from the fixed table of
:func:`nnstep.kernels.kernel_functions` plus the program's own (custom
activations) under names made here.  Names from scenario files never reach the
code (:func:`check_generated` says what may).  The functions are made from the
compiled code objects with ``types.FunctionType`` and an empty ``__builtins__``;
nothing is exec'd or eval'd.
"""

from __future__ import annotations

import ast
import gc
import math
import re
import threading
import types
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import TypeVar

from .expr import Binary, BoolOp, Call, Compare, Name, Node, Num, Unary, children
from .kernels import kernel_functions, plain_division
from .program import Program

_T = TypeVar("_T", bound=ast.AST)
#: The file name of generated code (tests allow ``compile`` for exactly this).
FILENAME = "<nnstep generated>"
#: Every identifier generated code may contain.
GENERATED_NAME = re.compile(r"(?:[sftk]\d+|v|_p|_x|_data|_n|_total|_count|_e|_losses|_range"
                            r"|_step|_loss|_train|_watch)\Z")


_ARITH = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult}
_COMPARE = {"<": ast.Lt, "<=": ast.LtE, ">": ast.Gt, ">=": ast.GtE, "==": ast.Eq, "!=": ast.NotEq}
#: Deeper expressions are cut into temporaries (Python's compiler recurses).
MAX_DEPTH = 50


class _Shared:
    """Common-subexpression bookkeeping of one straight-line block: a subtree's
    key is its shape and how many times each name it reads has been written."""

    def __init__(self, gen: _Generator) -> None:
        self.gen = gen
        self.version: Counter[str] = Counter()
        self.counts: Counter[tuple[int, tuple[int, ...]]] = Counter()
        self.temps: dict[tuple[int, tuple[int, ...]], str] = {}

    def key(self, node: Node) -> tuple[int, tuple[int, ...]]:
        shape, reads = self.gen.canonical(node)
        return shape, tuple(self.version[n] for n in sorted(reads))


class _Generator:
    """Builds ``ast`` for numeric trees; collects the functions they call."""

    def __init__(self, slot: Mapping[str, int], functions: Mapping[str, Callable[..., float]]) -> None:
        self.slot = slot
        self.functions = {**kernel_functions(), **functions}
        self.namespace: dict[str, object] = {"__builtins__": {}}
        self.fnames: dict[str, str] = {}
        self.temps = 0
        self.labels: dict[tuple, int] = {}
        self.shapes: dict[int, tuple[Node, tuple[int, frozenset[str]]]] = {}

    def func(self, key: str) -> ast.expr:
        if key not in self.fnames:
            name = f"f{len(self.fnames)}"
            self.fnames[key] = name
            self.namespace[name] = self.functions[key]
        return _at(ast.Name(self.fnames[key], ast.Load()))

    def make(self, node: Node, args: list[ast.expr]) -> ast.expr:
        """One tree node as an expression over its children's expressions ``args``
        (the meaning :func:`nnstep.expr.compile_numeric` gives it)."""
        if isinstance(node, Unary):
            if node.op == "-":
                return _at(ast.UnaryOp(ast.USub(), args[0]))
            if node.op == "+":
                return args[0]
            if node.op == "not":
                return _flag(args[0], 0.0, 1.0)
        elif isinstance(node, Compare):  # conditions: 1.0 or 0.0, as compile_numeric gives
            return _flag(_at(ast.Compare(args[0], [_COMPARE[node.op]()], [args[1]])))
        elif isinstance(node, BoolOp):
            return _flag(_at(ast.BoolOp(ast.And() if node.op == "and" else ast.Or(), args)))
        elif isinstance(node, Binary):
            if node.op in _ARITH:
                return _at(ast.BinOp(args[0], _ARITH[node.op](), args[1]))
            if plain_division(node):
                return _at(ast.BinOp(args[0], ast.Div(), args[1]))
            if node.op in ("/", "**"):
                return _at(ast.Call(self.func("safe_div" if node.op == "/" else "power"), args, []))
        elif isinstance(node, Call):
            return _at(ast.Call(self.func(node.func), args, []))
        raise ValueError(f"no numeric form for {node!r}")

    def temp(self, value: ast.expr, sink: list[ast.stmt]) -> ast.expr:
        name = f"t{self.temps}"
        self.temps += 1
        sink.append(_assign(name, value))
        return _at(ast.Name(name, ast.Load()))

    def expression(self, root: Node, load: Callable[[int], ast.expr], sink: list[ast.stmt],
                   shared: _Shared | None = None) -> ast.expr:
        """``root`` as an expression; statements it needs first go to ``sink``.

        Iterative, so a sum over 512 inputs is no deeper than any other tree; an
        expression nested deeper than :data:`MAX_DEPTH` is cut into temporaries
        (the same operations in the same order).  With ``shared``, a subtree already
        computed on the same inputs is reused and one that will be is kept."""
        done: dict[int, tuple[ast.expr, int]] = {}
        stack: list[tuple[Node, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if not expanded and id(node) in done:
                continue
            if isinstance(node, Num):
                done[id(node)] = _at(ast.Constant(float(node.value))), 1
                continue
            if isinstance(node, Name):
                done[id(node)] = load(self.slot[node.id]), 1
                continue
            key = shared.key(node) if shared is not None else None
            if key is not None and key in shared.temps:  # type: ignore[union-attr]
                done[id(node)] = _at(ast.Name(shared.temps[key], ast.Load())), 1  # type: ignore[union-attr]
                continue
            if not expanded:
                stack.append((node, True))
                stack.extend((c, False) for c in reversed(children(node)))
                continue
            kids = [done[id(c)] for c in children(node)]
            e = self.make(node, [k[0] for k in kids])
            depth = 1 + max((k[1] for k in kids), default=0)
            if shared is not None and shared.counts[key] > 1:  # type: ignore[index]
                e, depth = self.temp(e, sink), 1
                shared.temps[key] = e.id  # type: ignore[index,attr-defined]
            elif depth > MAX_DEPTH:
                e, depth = self.temp(e, sink), 1
            done[id(node)] = e, depth
        return done[id(root)][0]

    def canonical(self, root: Node) -> tuple[int, frozenset[str]]:
        """A number for the tree's shape (equal for equal trees) and the names it
        reads; computed once per node object (trees share subtrees)."""
        stack: list[tuple[Node, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if id(node) in self.shapes:
                continue
            if isinstance(node, Num):
                label: tuple = ("num", float(node.value).hex())
                reads: frozenset[str] = frozenset()
            elif isinstance(node, Name):
                label, reads = ("name", node.id), frozenset((node.id,))
            elif not expanded:
                stack.append((node, True))
                stack.extend((c, False) for c in children(node))
                continue
            else:
                kids = [self.shapes[id(c)][1] for c in children(node)]
                op = node.func if isinstance(node, Call) else node.op  # type: ignore[union-attr]
                label = (type(node).__name__, op, *(k[0] for k in kids))
                reads = frozenset().union(*(k[1] for k in kids))
            # the node is kept so that its id stays its own
            self.shapes[id(node)] = (node, (self.labels.setdefault(label, len(self.labels)), reads))
        return self.shapes[id(root)][1]

    def block(self, ops: Sequence[tuple[int, Node]], names: Sequence[str],
              after: Callable[[int], list[ast.stmt]] | None = None) -> list[ast.stmt]:
        """Straight-line statements ``s<out> = <tree>`` for ``ops`` on locals, with
        every subexpression that occurs twice on the same inputs computed once;
        ``after(j)`` gives statements to put after op j."""
        shared = _Shared(self)
        for out, tree in ops:
            stack = [tree]
            while stack:
                node = stack.pop()
                if isinstance(node, Num | Name):
                    continue
                k = shared.key(node)
                shared.counts[k] += 1
                if shared.counts[k] == 1:
                    stack.extend(children(node))
            shared.version[names[out]] += 1
        shared.version.clear()
        stmts: list[ast.stmt] = []
        for j, (out, tree) in enumerate(ops):
            stmts.append(_assign(f"s{out}", self.expression(tree, _local, stmts, shared)))
            shared.version[names[out]] += 1
            if after is not None:
                stmts.extend(after(j))
        return stmts

    def build(self, defs: list[ast.FunctionDef]) -> dict[str, types.FunctionType]:
        module = ast.Module(defs, [])
        code = compile(module, FILENAME, "exec")
        return {c.co_name: types.FunctionType(c, self.namespace) for c in code.co_consts
                if isinstance(c, types.CodeType)}


_ALLOWED = (ast.Module, ast.FunctionDef, ast.arguments, ast.arg, ast.Return, ast.Assign, ast.For, ast.Expr,
            ast.Name, ast.Load, ast.Store, ast.Tuple, ast.List, ast.Constant, ast.BinOp, ast.UnaryOp,
            ast.Add, ast.Sub, ast.Mult, ast.Div, ast.USub, ast.Call, ast.Subscript, ast.Attribute,
            ast.If, ast.IfExp, ast.Compare, ast.BoolOp, ast.And, ast.Or, ast.Not, *_COMPARE.values())


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


def _at(node: _T) -> _T:
    """``node`` with a source position (all generated code is at line 1)."""
    node.lineno = node.end_lineno = 1  # type: ignore[attr-defined]
    node.col_offset = node.end_col_offset = 0  # type: ignore[attr-defined]
    return node


def _flag(test: ast.expr, yes: float = 1.0, no: float = 0.0) -> ast.expr:
    return _at(ast.IfExp(test, _at(ast.Constant(yes)), _at(ast.Constant(no))))


def _assign(name: str, value: ast.expr) -> ast.stmt:
    return _at(ast.Assign([_at(ast.Name(name, ast.Store()))], value))


def _store_tuple(names: Sequence[str]) -> ast.expr:
    return _at(ast.Tuple([_at(ast.Name(n, ast.Store())) for n in names], ast.Store()))


def _load_list(names: Sequence[str]) -> ast.expr:
    return _at(ast.List([_at(ast.Name(n, ast.Load())) for n in names], ast.Load()))


def _def(name: str, args: Sequence[str], body: list[ast.stmt]) -> ast.FunctionDef:
    arguments = ast.arguments(posonlyargs=[], args=[_at(ast.arg(a)) for a in args], kwonlyargs=[],
                              kw_defaults=[], defaults=[])
    return _at(ast.FunctionDef(name=name, args=arguments, body=body, decorator_list=[]))


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cycle collector while building: a big program makes millions of
    tree objects, and collecting them again and again took most of the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_FUSED_LOCK = threading.Lock()


def fused(program: Program) -> Fused:
    """The program's whole-sample functions: made once per program, on first use, and
    kept with it (in ``program.derived``)."""
    made = program.derived.get("fused")
    if made is None:
        with _FUSED_LOCK:
            made = program.derived.get("fused")
            if made is None:
                made = program.derived["fused"] = Fused(program)
    return made


class Fused:
    """Whole-sample functions of one program: the op kernels' arithmetic as
    straight-line code on local variables.  Each is generated on first use."""

    def __init__(self, program: Program) -> None:
        self.program = program
        slot = program.slot
        self.names = list(slot)
        self.ops = list(zip((out for out, _ in program.kernels), program.numeric))
        self.row = [f"s{slot[n]}" for n in (*program.inputs, *program.targets)]
        self.params = [f"s{slot[p]}" for p in program.parameters]
        self.data = tuple(tuple(float(x) for x in (*s.x, *s.y)) for s in program.scenario.samples)

    def _generate(self, name: str, args: list[str], body: Callable[[_Generator], list[ast.stmt]]) -> Callable:
        gen = _Generator(self.program.slot, self.program.functions)
        rate = _at(ast.Constant(float(self.program.scenario.learning_rate)))
        lr = _assign(f"s{self.program.slot['learn_rate']}", rate)
        head = [lr, _assign_tuple(self.params, "_p")] if self.params else [lr]
        gen.namespace.update(_data=self.data, _n=len(self.data), _range=range)
        with _no_gc():
            return gen.build([_def(name, args, [*head, *body(gen)])])[name]

    def _unpack_sample(self) -> list[ast.stmt]:
        """The sample's inputs and targets from ``_x`` into their slots."""
        return [_assign_tuple(self.row, "_x")] if self.row else []

    def _each_sample(self, body: list[ast.stmt]) -> ast.stmt:
        target = _store_tuple(self.row) if self.row else _at(ast.Name("_x", ast.Store()))
        return _at(ast.For(target, _load("_data"), body, []))

    def _loss_loop(self, gen: _Generator) -> list[ast.stmt]:
        """``_total`` = the sum over samples of each sample's loss, in order."""
        loss = _load(f"s{self.program.slot[self.program.loss]}")
        add = _assign("_total", _at(ast.BinOp(_load("_total"), ast.Add(), loss)))
        return [_assign("_total", _at(ast.Constant(0.0))),
                self._each_sample([*gen.block(self.ops[: self.program.loss_end], self.names), add])]

    @cached_property
    def _step(self) -> Callable[[Sequence[float], tuple[float, ...]], list[float]]:
        return self._generate("_step", ["_p", "_x"], lambda gen: [
            *self._unpack_sample(), *gen.block(self.ops, self.names), _at(ast.Return(_load_list(self.params)))])

    def step(self, params: Sequence[float], sample: int) -> list[float]:
        """Parameters after one sample's forward, backward and update."""
        return self._step(params, self.data[sample])

    @cached_property
    def _loss(self) -> Callable[[Sequence[float]], float]:
        return self._generate("_loss", ["_p"], lambda gen: [*self._loss_loop(gen), _at(ast.Return(_mean()))])

    def loss(self, params: Sequence[float]) -> float:
        """The mean of the samples' losses under ``params`` (the note's epoch loss)."""
        return self._loss(params)

    @cached_property
    def train(self) -> Callable[[Sequence[float], int], tuple[list[float], list[float]]]:
        """(parameters, epochs) -> (parameters after them, the epoch loss after each)."""
        append = _at(ast.Expr(_at(ast.Call(_at(ast.Attribute(_load("_losses"), "append", ast.Load())), [_mean()], []))))
        return self._generate("_train", ["_p", "_count"], lambda gen: [
            _assign("_losses", _at(ast.List([], ast.Load()))),
            _at(ast.For(_at(ast.Name("_e", ast.Store())), _at(ast.Call(_load("_range"), [_load("_count")], [])),
                    [self._each_sample(gen.block(self.ops, self.names)), *self._loss_loop(gen), append], [])),
            _at(ast.Return(_at(ast.Tuple([_load_list(self.params), _load("_losses")], ast.Load()))))])

    def watcher(self, conditions: Sequence[tuple[Node, frozenset[str]]], nonfinite: bool
                ) -> Callable[[Sequence[float], int], list[float] | None]:
        """(parameters, sample) -> parameters after the sample, or None where the
        sample may stop the debugger: a condition true after an op that writes a
        name it reads (``(tree, names it reads)``), or with ``nonfinite`` a value
        that is not finite.  The second test is one sum of every value, which an
        overflow of finite values can also trip: None only asks the caller to take
        that sample op by op."""
        program, slot = self.program, self.program.slot
        read = sorted({slot[n] for _, names in conditions for n in names if slot[n] >= program.first_computed})
        nan = [_assign(f"s{i}", _at(ast.Constant(math.nan))) for i in read]  # not computed yet
        ops = program.ops

        def finite_check() -> list[ast.stmt]:
            outs = sorted({out for out, _ in self.ops})
            stmts = [_assign("_total", _at(ast.Constant(0.0)))]
            for k in range(0, len(outs), 32):
                total: ast.expr = _load("_total")
                for out in outs[k : k + 32]:
                    total = _at(ast.BinOp(total, ast.Add(), _local(out)))
                stmts.append(_assign("_total", total))
            bad = _at(ast.Compare(_at(ast.BinOp(_load("_total"), ast.Sub(), _load("_total"))), [ast.NotEq()],
                                  [_at(ast.Constant(0.0))]))
            return [*stmts, _at(ast.If(bad, [_at(ast.Return(None))], []))]

        def body(gen: _Generator) -> list[ast.stmt]:
            def after(j: int) -> list[ast.stmt]:
                stmts: list[ast.stmt] = []
                for tree, names in conditions:
                    if ops[j].name in names:
                        test = gen.expression(tree, _local, stmts)
                        stmts.append(_at(ast.If(test, [_at(ast.Return(None))], [])))
                return stmts

            return [*self._unpack_sample(), *nan, *gen.block(self.ops, self.names, after if conditions else None),
                    *(finite_check() if nonfinite else []), _at(ast.Return(_load_list(self.params)))]

        raw = self._generate("_watch", ["_p", "_x"], body)
        return lambda p, i: raw(p, self.data[i])


def _load(name: str) -> ast.expr:
    return _at(ast.Name(name, ast.Load()))


def _local(i: int) -> ast.expr:
    """The local variable of slot ``i``."""
    return _load(f"s{i}")


def _mean() -> ast.expr:
    """``_total / _n``: the mean over the samples, as the op kernels' epoch loss divides."""
    return _at(ast.BinOp(_load("_total"), ast.Div(), _load("_n")))


def _assign_tuple(names: Sequence[str], source: str) -> ast.stmt:
    return _at(ast.Assign([_store_tuple(names)], _load(source)))
