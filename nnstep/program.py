"""The program of one training step: an ordered list of scalar operations.

Each :class:`Op` is one line a learner would write (``sum_h1 = w1 * x1 + w2 * x2 + b1``,
``d_h1_d_w1 = x1 * deriv_sigmoid(sum_h1)``, ``w1 -= learn_rate * d_L_d_w1``), with
its phase, the names it reads and its defining expression as a small AST (see
:mod:`nnstep.expr`).  Numbers come from one kernel per op, each a closure that
reads and writes a flat list of floats (the *slots*), so that stepping one op,
running a sample and training headlessly are the very same arithmetic.  SymPy
is not needed here: :mod:`nnstep.symbolic` derives the formulas from the ASTs.

Naming follows the study note: ``sum_h1``/``h1``, the single output is also
``y_pred`` and its partials say ``ypred`` (``d_L_d_ypred``, ``d_ypred_d_w5``),
local partials are ``d_a_d_b``, totals of the loss ``d_L_d_<name>`` and the
update of a parameter is named after it.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Generic, TypeVar

from .errors import ScenarioError
from .expr import Binary, Name, Node, tree_size
from .kernels import Kernel, compile_kernels
from .scenario import Scenario, located_error

PHASES = ("forward", "loss", "backward", "update")
#: Ops of one training step, at most (Iris, 4-16-16-3, has 1,631).  A program of
#: 100,000 ops takes about 250 MB and several seconds to build; a 512-way softmax
#: alone would be 262,144 partials.
MAX_OPS = 100_000


@dataclass(frozen=True, slots=True)
class Op:
    """One scalar operation of a training step."""

    index: int
    name: str
    phase: str
    kind: str  # sum | activation | alias | loss | partial | total | update
    reads: tuple[str, ...]
    code: str
    expr: Node  # defining expression; for a partial, the expression being differentiated
    of: str = ""  # partial/total: the quantity differentiated ("h1", "ypred", "L")
    wrt: str = ""  # partial/total: with respect to
    subs: tuple[tuple[str, Node], ...] = ()  # partial: fold these back into names after diff
    terms: tuple[tuple[str, ...], ...] = ()  # total: sum of products of op names
    node: str = ""  # the network node the op belongs to (neuron, output, "L" or parameter)


@dataclass
class Program:
    """All ops of one training step plus the slot layout they compute in."""

    scenario: Scenario
    ops: tuple[Op, ...]
    slot: dict[str, int]
    #: each op's arithmetic as a tree over slot names (see :mod:`nnstep.codegen`): the
    #: kernels and the generated whole-sample code are both made from it
    numeric: tuple[Node, ...]
    inputs: tuple[str, ...]
    targets: tuple[str, ...]
    parameters: tuple[str, ...]
    loss_end: int  # ops[:loss_end] compute the forward pass and L
    loss: str = "L"  # the name of the loss value: L for networks, the output node of a graph
    #: functions the numeric trees call beyond :func:`nnstep.kernels.kernel_functions`
    functions: dict[str, Callable[..., float]] = field(default_factory=dict)
    by_name: dict[str, Op] = field(default_factory=dict)
    #: one kernel per op: (the slot it writes, v -> its value)
    kernels: tuple[tuple[int, Kernel], ...] = field(init=False, repr=False, compare=False)
    #: what the execution layers make from the program once and keep with it, by their
    #: name (:func:`nnstep.codegen.fused` keeps the generated code here)
    derived: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.by_name = {op.name: op for op in self.ops}
        outs = [self.slot[op.name] for op in self.ops]
        self.kernels = compile_kernels(tuple(zip(outs, self.numeric)), self.slot, self.functions)

    @property
    def names(self) -> list[str]:
        return list(self.slot)

    def phase_range(self, phase: str) -> range:
        idx = [op.index for op in self.ops if op.phase == phase]
        return range(idx[0], idx[-1] + 1) if idx else range(0)

    def new_slots(self) -> list[float]:
        return [math.nan] * len(self.slot)

    def load(self, v: list[float], params: Sequence[float], sample_index: int) -> None:
        """Put a sample's inputs and targets and the given parameters into ``v``;
        clear every computed value to nan."""
        sample = self.scenario.samples[sample_index]
        s = self.slot
        for name, x in zip(self.inputs, sample.x):
            v[s[name]] = x
        for name, y in zip(self.targets, sample.y):
            v[s[name]] = y
        v[s["learn_rate"]] = self.scenario.learning_rate
        first = self.first_computed
        v[first - len(params) : first] = params
        v[first:] = [math.nan] * (len(v) - first)

    @property
    def first_computed(self) -> int:
        """The first slot an op computes: after inputs, targets, the learning rate
        and the parameters."""
        return self.slot[self.parameters[0]] + len(self.parameters)

    def params_of(self, v: list[float]) -> list[float]:
        base = self.slot[self.parameters[0]]
        return v[base : base + len(self.parameters)]

    def run(self, v: list[float], start: int = 0, stop: int | None = None) -> None:
        """Execute ops[start:stop] on ``v``."""
        for out, fn in self.kernels[start:stop]:
            v[out] = fn(v)

    @cached_property
    def fingerprint(self) -> str:
        """What every formula of the program depends on (its ops and the network's
        definitions), hashed: equal programs share derivations and renderings."""
        sc = self.scenario
        return hashlib.sha256(repr((self.ops, sc.layers, sc.graph, sc.loss)).encode()).hexdigest()

    @cached_property
    def numeric_size(self) -> int:
        """Nodes of all the ops' numeric trees: what generated code grows with."""
        return sum(tree_size(tree) for tree in self.numeric)

    def sample_loss(self, params: Sequence[float], sample_index: int, v: list[float] | None = None) -> float:
        """The loss of one sample under ``params`` (forward and loss ops only)."""
        v = v if v is not None else self.new_slots()
        self.load(v, params, sample_index)
        self.run(v, 0, self.loss_end)
        return v[self.slot[self.loss]]


def epoch_loss(program: Program, params: Sequence[float], v: list[float] | None = None) -> float:
    """The note's epoch loss: the mean over samples of each sample's loss (op kernels)."""
    v = v if v is not None else program.new_slots()
    n = len(program.scenario.samples)
    total = 0.0
    for i in range(n):
        total += program.sample_loss(params, i, v)
    return total / n


def build_error(sc: Scenario, key: str, reason: str) -> ScenarioError:
    """A problem found while building a loaded scenario's program, located like the
    loader's errors (file, line of ``key``, key counting from 1) and kept to one readable line."""
    return located_error(sc, key, reason)


# --------------------------------------------------------------------------- expressions the builders share


def chain_sum(terms: Sequence[Node]) -> Node:
    """``t1 + t2 + ...``, added left to right."""
    out = terms[0]
    for t in terms[1:]:
        out = Binary("+", out, t)
    return out


def chain_product(names: Sequence[str]) -> Node:
    """``a * b * ...`` of op names, multiplied left to right."""
    out: Node = Name(names[0])
    for n in names[1:]:
        out = Binary("*", out, Name(n))
    return out


def update_expr(param: str, gradient: str) -> Node:
    """``param - learn_rate * gradient``: the defining expression of an update."""
    return Binary("-", Name(param), Binary("*", Name("learn_rate"), Name(gradient)))


def total_expr(terms: Sequence[Sequence[str]]) -> Node:
    """A chain-rule total: the sum of products of op names, left to right."""
    return chain_sum([chain_product(t) for t in terms])


T = TypeVar("T")


class PerProgram(Generic[T]):
    """One ``make(program)`` per :attr:`Program.fingerprint`, shared by every equal program
    (and thread); the most recently used are kept, up to ``max_ops`` ops in all (the one
    asked for always)."""

    def __init__(self, make: Callable[[Program], T], max_ops: int = 20_000) -> None:
        self.make = make
        self.max_ops = max_ops
        self._made: OrderedDict[str, tuple[int, T]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, program: Program) -> T:
        key = program.fingerprint
        with self._lock:
            found = self._made.get(key)
            if found is None:
                found = self._made[key] = (len(program.ops), self.make(program))
            self._made.move_to_end(key)
            while len(self._made) > 1 and sum(n for n, _ in self._made.values()) > self.max_ops:
                self._made.popitem(last=False)
            return found[1]

    def __len__(self) -> int:
        return len(self._made)
