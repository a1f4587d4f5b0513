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

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from .activations import ACTIVATIONS, Activation, activation_expr, custom_activation
from .errors import ScenarioError
from .expr import Binary, Call, Name, Node, Num, Unary, tree_size
from .kernels import Kernel, compile_kernels
from .names import partial_name, total_name
from .scenario import Layer, Neuron, Scenario

if TYPE_CHECKING:
    from .codegen import Fused

PHASES = ("forward", "loss", "backward", "update")
#: Ops of one training step, at most (Iris, 4-16-16-3, has 1,631).  A program of
#: 100,000 ops takes about 250 MB and several seconds to build; a 512-way softmax
#: alone would be 262,144 partials.
MAX_OPS = 100_000
#: A chain-rule term is inlined into the next product while it stays this short.
MAX_INLINE_FACTORS = 4


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
    def numeric_size(self) -> int:
        """Nodes of all the ops' numeric trees: what generated code grows with."""
        return sum(tree_size(tree) for tree in self.numeric)

    @cached_property
    def fused(self) -> Fused:
        """Whole-sample functions generated from the numeric trees (each on first use)."""
        from .codegen import Fused

        return Fused(self)

    def sample_loss(self, params: Sequence[float], sample_index: int, v: list[float] | None = None) -> float:
        """The loss of one sample under ``params`` (forward and loss ops only)."""
        v = v if v is not None else self.new_slots()
        self.load(v, params, sample_index)
        self.run(v, 0, self.loss_end)
        return v[self.slot[self.loss]]


def build_program(scenario: Scenario) -> Program:
    """Build the ordered op program of one training step (layers or a formula graph).

    Refuses, before building anything, a program of more than :data:`MAX_OPS` ops."""
    if scenario.graph is not None:
        from .graph import build_graph_program

        return build_graph_program(scenario)
    count = op_count(scenario)
    if count > MAX_OPS:
        raise build_error(scenario, "network.layers", f"one training step would be {count:,} ops; "
                          f"nnstep handles at most {MAX_OPS:,} (fewer or narrower layers, or a smaller "
                          "softmax: it has one partial per pair of its outputs)")
    return _Builder(scenario).build()


def op_count(sc: Scenario) -> int:
    """The number of ops :func:`build_program` makes for a layered network, from its
    shape alone (the phases of :class:`_Builder`, counted)."""
    neurons = sc.neurons
    params = sum(len(n.weights) + (n.bias is not None) for n in neurons)
    last = len(sc.layers) - 1
    count = 2 * len(neurons) + (len(sc.outputs) == 1) + 1  # forward: sum and output; y_pred; L
    count += len(sc.outputs)  # d_L_d_<output>
    for i, layer in enumerate(sc.layers):
        n = len(layer.neurons)
        softmax = layer.activation == "softmax"
        count += n * n if softmax else 0  # d_o_d_sum_o'
        count += n if softmax or i < last else 0  # totals of hidden units and softmax sums
    for n in neurons:
        count += (len(n.weights) + (n.bias is not None)) + (len(n.weights) if n.layer > 0 else 0)
    return count + 2 * params  # a total and an update per parameter


def build_error(sc: Scenario, key: str, reason: str) -> ScenarioError:
    """A problem found while building a loaded scenario's program, located like the
    loader's errors (file, line of ``key``, key counting from 1) and kept to one readable line."""
    from .scenario import located_error

    return located_error(sc, key, reason)


# --------------------------------------------------------------------------- builder


def _sum(terms: list[Node]) -> Node:
    out = terms[0]
    for t in terms[1:]:
        out = Binary("+", out, t)
    return out


def _product(names: Sequence[str]) -> Node:
    out: Node = Name(names[0])
    for n in names[1:]:
        out = Binary("*", out, Name(n))
    return out


class _Builder:
    def __init__(self, sc: Scenario) -> None:
        self.sc = sc
        self.single = len(sc.outputs) == 1
        self.targets = ("y_true",) if self.single else tuple(f"y_true_{o}" for o in sc.outputs)
        self.neurons = {n.name: n for n in sc.neurons}
        self.params = sc.parameter_names
        names = [*sc.inputs, *self.targets, "learn_rate", *self.params]
        self.slot = {n: i for i, n in enumerate(names)}
        self.ops: list[Op] = []
        self.numeric: list[Node] = []
        self.functions: dict[str, Callable[..., float]] = {}
        # gradient graph: unit -> [(consumer unit, partial op name)]
        self.consumers: dict[str, list[tuple[str, str]]] = {}
        self.terms: dict[str, tuple[tuple[str, ...], ...]] = {}

    # -- helpers -------------------------------------------------------------------------

    def pname(self, unit: str) -> str:
        """The name a unit has in partials: the single output is 'ypred'."""
        return "ypred" if self.single and unit == self.sc.outputs[0] else unit

    def vname(self, unit: str) -> str:
        """The name a unit's value has where the loss reads it."""
        return "y_pred" if self.single and unit == self.sc.outputs[0] else unit

    def emit(self, name: str, phase: str, kind: str, reads: Sequence[str], code: str, expr: Node,
             numeric: Node | None = None, **extra: object) -> None:
        """Append an op writing the slot ``name``; ``numeric`` is its arithmetic over
        slot names (default: ``expr``)."""
        if name not in self.slot:
            self.slot[name] = len(self.slot)
        op = Op(len(self.ops), name, phase, kind, tuple(reads), code, expr, **extra)  # type: ignore[arg-type]
        self.ops.append(op)
        self.numeric.append(expr if numeric is None else numeric)

    def deriv(self, layer: Layer, n: Neuron) -> Node | None:
        """f'(sum) of a neuron as a call on its sum and output; None for linear."""
        if layer.activation == "linear" and layer.custom is None:
            return None
        if layer.custom is None:
            key = f"deriv_{layer.activation}"
        else:
            key = f"deriv {layer.custom.name}"
            self.functions[key] = _activation(layer).deriv
        return Call(key, (Name(f"sum_{n.name}"), Name(n.name)))

    def sum_expr(self, n: Neuron) -> Node:
        parts: list[Node] = [Binary("*", Name(w), Name(a)) for w, a in n.weights]
        if n.bias:
            parts.append(Name(n.bias))
        return _sum(parts)

    def derive_custom_activations(self) -> None:
        """Derive each custom activation once, up front, so that a formula SymPy cannot
        handle is reported at the layer that defines it."""
        from .errors import FormulaError
        from .graph import GraphError

        for i, layer in enumerate(self.sc.layers):
            if layer.custom is None:
                continue
            key = f"network.layers[{i}].activation.formula"
            try:
                custom_activation(layer.custom)
            except FormulaError as exc:
                raise build_error(self.sc, key, exc.reason) from None
            except GraphError as exc:
                raise build_error(self.sc, key, f"its derivative cannot be computed: {exc}") from None
            except (ArithmeticError, TypeError, ValueError, RecursionError) as exc:
                raise build_error(self.sc, key, f"SymPy cannot differentiate it: {exc}") from None

    # -- phases --------------------------------------------------------------------------

    def build(self) -> Program:
        self.derive_custom_activations()
        self.forward()
        self.loss()
        loss_end = len(self.ops)
        self.local_partials()
        self.totals()
        self.updates()
        s = self.sc
        return Program(
            scenario=s,
            ops=tuple(self.ops),
            slot=self.slot,
            numeric=tuple(self.numeric),
            functions=self.functions,
            inputs=s.inputs,
            targets=self.targets,
            parameters=self.params,
            loss_end=loss_end,
        )

    def forward(self) -> None:
        for layer in self.sc.layers:
            neurons = [self.neurons[n] for n in layer.neurons]
            if layer.activation == "softmax":
                for n in neurons:
                    self.emit_sum(n)
                sums = [f"sum_{n.name}" for n in neurons]
                for i, n in enumerate(neurons):
                    self.emit_softmax(n, i, sums)
            else:
                for n in neurons:
                    self.emit_sum(n)
                    self.emit_activation(n, layer)
        if self.single:
            o = self.sc.outputs[0]
            self.emit("y_pred", "forward", "alias", (o,), f"y_pred = {o}", Name(o), node=o)

    def emit_sum(self, n: Neuron) -> None:
        expr = self.sum_expr(n)
        reads = [x for pair in n.weights for x in pair] + ([n.bias] if n.bias else [])
        code = " + ".join([f"{w} * {a}" for w, a in n.weights] + ([n.bias] if n.bias else []))
        self.emit(f"sum_{n.name}", "forward", "sum", reads, f"sum_{n.name} = {code}", expr, node=n.name)

    def emit_activation(self, n: Neuron, layer: Layer) -> None:
        act = _activation(layer)
        sname = f"sum_{n.name}"
        expr = activation_expr(layer.activation, layer.custom, Name(sname))
        self.emit(n.name, "forward", "activation", (sname,), f"{n.name} = {act.code(sname)}", expr, node=n.name)

    def emit_softmax(self, n: Neuron, i: int, sums: list[str]) -> None:
        expr = Binary("/", Call("exp", (Name(sums[i]),)), _sum([Call("exp", (Name(x),)) for x in sums]))
        den = " + ".join(f"exp({x})" for x in sums)
        code = f"{n.name} = exp({sums[i]}) / ({den})"
        numeric = Call("softmax_at", (Num(float(i)), *(Name(x) for x in sums)))  # overflow-safe
        self.emit(n.name, "forward", "activation", sums, code, expr, numeric, node=n.name)

    def loss_expr(self) -> Node:
        pairs = [(t, self.vname(o)) for t, o in zip(self.targets, self.sc.outputs)]
        kind = self.sc.loss
        if kind == "mse":
            sq = [Binary("**", Binary("-", Name(t), Name(p)), Num(2.0)) for t, p in pairs]
            total = _sum(sq)
            return total if len(sq) == 1 else Binary("/", total, Num(float(len(sq))))
        if kind == "binary_cross_entropy":
            (t, p), = pairs
            one = Num(1.0)
            inner = Binary("+", Binary("*", Name(t), Call("log", (Name(p),))),
                           Binary("*", Binary("-", one, Name(t)), Call("log", (Binary("-", one, Name(p)),))))
            return Unary("-", inner)
        return Unary("-", _sum([Binary("*", Name(t), Call("log", (Name(p),))) for t, p in pairs]))

    def loss(self) -> None:
        pairs = [(t, self.vname(o)) for t, o in zip(self.targets, self.sc.outputs)]
        kind = self.sc.loss
        if kind == "mse":
            squares = []
            for t, p in pairs:
                d = Binary("-", Name(t), Name(p))
                squares.append(Binary("*", d, d))
            numeric = _sum(squares) if len(pairs) == 1 else Binary("/", _sum(squares), Num(float(len(pairs))))
            sq = [f"({t} - {p}) ** 2" for t, p in pairs]
            code = sq[0] if len(sq) == 1 else f"({' + '.join(sq)}) / {len(sq)}"
        elif kind == "binary_cross_entropy":
            (t, p), = pairs
            one = Num(1.0)
            numeric = Unary("-", Binary("+", Call("xlog", (Name(t), Name(p))),
                                        Call("xlog", (Binary("-", one, Name(t)), Binary("-", one, Name(p))))))
            code = f"-({t} * log({p}) + (1 - {t}) * log(1 - {p}))"
        else:
            numeric = Unary("-", _sum([Call("xlog", (Name(t), Name(p))) for t, p in pairs]))
            code = "-(" + " + ".join(f"{t} * log({p})" for t, p in pairs) + ")"
        reads = [x for pair in pairs for x in pair]
        self.emit("L", "loss", "loss", reads, f"L = {code}", self.loss_expr(), numeric, node="L")

    def local_partials(self) -> None:
        # d_L_d_<output>: the loss's own partials; they are also the outputs' totals
        expr = self.loss_expr()
        count = len(self.sc.outputs)
        one = Num(1.0)
        for t, o in zip(self.targets, self.sc.outputs):
            p, name = self.vname(o), total_name(self.pname(o))
            y, q = Name(t), Name(p)
            if self.sc.loss == "mse":
                numeric: Node = Binary("*", Num(-2.0), Binary("-", y, q))
                if count != 1:
                    numeric = Binary("/", numeric, Num(float(count)))
                code = f"-2 * ({t} - {p})" + ("" if count == 1 else f" / {count}")
            elif self.sc.loss == "binary_cross_entropy":
                numeric = Unary("-", Binary("-", Call("safe_div", (y, q)),
                                            Call("safe_div", (Binary("-", one, y), Binary("-", one, q)))))
                code = f"-({t} / {p} - (1 - {t}) / (1 - {p}))"
            else:
                numeric = Unary("-", Call("safe_div", (y, q)))
                code = f"-{t} / {p}"
            self.emit(name, "backward", "partial", (t, p), f"{name} = {code}", expr, numeric,
                      of="L", wrt=self.pname(o), node=o)
            self.terms[o] = ((name,),)
        # then every unit's partials, from the output layer back to the first
        for layer_index in range(len(self.sc.layers) - 1, -1, -1):
            layer = self.sc.layers[layer_index]
            neurons = [self.neurons[x] for x in layer.neurons]
            if layer.activation == "softmax":
                self.softmax_partials(neurons)
                for nr in neurons:
                    self.unit_partials(nr, f"sum_{nr.name}", None)
            else:
                for nr in neurons:
                    self.unit_partials(nr, nr.name, layer)

    def unit_partials(self, n: Neuron, unit: str, layer: Layer | None) -> None:
        """Partials of a unit w.r.t. its weights, bias and (past the first layer) inputs.

        The unit is a neuron's output ``act(sum)`` for elementwise activations
        (the note's d_h1_d_w1) or a softmax layer's ``sum_o1`` itself."""
        of = self.pname(unit)
        sname = f"sum_{n.name}"
        sum_expr = self.sum_expr(n)
        if layer is None:
            base_expr, subs = sum_expr, ()
            dcode, deriv = "", None
        else:
            act = _activation(layer)
            base_expr = activation_expr(layer.activation, layer.custom, sum_expr)
            subs = ((sname, sum_expr),)
            dcode = act.deriv_code(sname)
            deriv = self.deriv(layer, n)
        first_layer = n.layer == 0
        items = [(w, a, "weight") for w, a in n.weights]
        if n.bias:
            items.append((n.bias, "", "bias"))
        if not first_layer:
            items += [(a, w, "input") for w, a in n.weights]
        for wrt, other, what in items:
            name = partial_name(of, wrt)
            if what == "bias":
                code = dcode or "1"
                numeric = deriv or Num(1.0)
                reads = (sname,) if dcode else ()
            else:
                code = f"{other} * {dcode}" if dcode and dcode != "1" else other
                numeric = Binary("*", Name(other), deriv) if deriv else Name(other)
                reads = (other, sname) if dcode and dcode != "1" else (other,)
            self.emit(name, "backward", "partial", reads, f"{name} = {code}", base_expr, numeric,
                      of=of, wrt=wrt, subs=subs, node=n.name)
            self.consumers.setdefault(wrt, []).append((unit, name))

    def softmax_partials(self, neurons: list[Neuron]) -> None:
        sums = [f"sum_{n.name}" for n in neurons]
        for i, n in enumerate(neurons):
            expr = Binary("/", Call("exp", (Name(sums[i]),)), _sum([Call("exp", (Name(x),)) for x in sums]))
            for j, m in enumerate(neurons):
                name = partial_name(n.name, sums[j])
                if i == j:
                    # 1 - o_i is summed from the other outputs: exact where o_i rounds near 1
                    code, reads = f"{n.name} * (1 - {n.name})", (n.name,)
                    others = [Name(k.name) for k in neurons if k is not n]
                    numeric = Binary("*", Name(n.name), _sum(others) if others else Num(0.0))
                else:
                    code, reads = f"-{n.name} * {m.name}", (n.name, m.name)
                    numeric = Binary("*", Unary("-", Name(n.name)), Name(m.name))
                self.emit(name, "backward", "partial", reads, f"{name} = {code}", expr, numeric,
                          of=n.name, wrt=sums[j], node=n.name)
                self.consumers.setdefault(sums[j], []).append((n.name, name))

    # -- chain rule ------------------------------------------------------------------------

    def upstream(self, unit: str) -> tuple[str, ...]:
        """The factors standing for dL/d(unit): its own product when that is a single
        short chain (so the learner sees d_L_d_ypred * d_ypred_d_h1 * ...), else its total."""
        terms = self.terms[unit]
        if len(terms) == 1 and len(terms[0]) < MAX_INLINE_FACTORS:
            return terms[0]
        return (total_name(self.pname(unit)),)

    def emit_total(self, wrt: str, node: str) -> None:
        terms = tuple(self.upstream(c) + (partial,) for c, partial in self.consumers[wrt])
        self.terms[wrt] = terms
        name = total_name(self.pname(wrt))
        code = " + ".join(" * ".join(t) for t in terms)
        expr = total_expr(terms)
        reads = tuple(dict.fromkeys(f for t in terms for f in t))
        self.emit(name, "backward", "total", reads, f"{name} = {code}", expr,
                  of="L", wrt=self.pname(wrt), terms=terms, node=node)

    def totals(self) -> None:
        for layer_index in range(len(self.sc.layers) - 1, -1, -1):
            layer = self.sc.layers[layer_index]
            last = layer_index == len(self.sc.layers) - 1
            for x in layer.neurons:
                n = self.neurons[x]
                unit = f"sum_{x}" if layer.activation == "softmax" else x
                if unit in self.consumers and not (last and layer.activation != "softmax"):
                    self.emit_total(unit, x)
                for w, _ in n.weights:
                    self.emit_total(w, w)
                if n.bias:
                    self.emit_total(n.bias, n.bias)

    def updates(self) -> None:
        for n in self.sc.neurons:
            for p in [w for w, _ in n.weights] + ([n.bias] if n.bias else []):
                g = total_name(p)
                self.emit(p, "update", "update", (p, "learn_rate", g), f"{p} -= learn_rate * {g}",
                          update_expr(p, g), node=p)


def update_expr(param: str, gradient: str) -> Node:
    """``param - learn_rate * gradient``: the defining expression of an update."""
    return Binary("-", Name(param), Binary("*", Name("learn_rate"), Name(gradient)))


def total_expr(terms: Sequence[Sequence[str]]) -> Node:
    """A chain-rule total: the sum of products of op names, left to right."""
    return _sum([_product(t) for t in terms])


def _activation(layer: Layer) -> Activation:
    """The numeric side of a layer's activation: built in, or its own formula in x."""
    return ACTIVATIONS[layer.activation] if layer.custom is None else custom_activation(layer.custom)
