"""The layered-network builder: a :class:`~nnstep.scenario.Scenario`'s layers into a
:class:`~nnstep.program.Program`.

Ops are named as the study note names them (see :mod:`nnstep.names`): forward sums
and activations, the loss, one local partial per weight, bias and unit, chain-rule
totals and the updates.  A custom activation's derivative is derived by SymPy through
:mod:`nnstep.symbolic.derive`, imported only when a network has one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache

from .activations import ACTIVATIONS, Activation, CustomActivation, activation_expr, custom_activation
from .errors import FormulaError
from .expr import Binary, Call, Name, Node, Num, Unary
from .names import MAX_INLINE_FACTORS, partial_name, total_name
from .program import MAX_OPS, Op, Program, build_error, chain_sum, total_expr, update_expr
from .scenario import Layer, Neuron, Scenario


def build_layered_program(scenario: Scenario) -> Program:
    """The ordered op program of one training step of a layered network.

    Refuses, before building anything, a program of more than :data:`~nnstep.program.MAX_OPS` ops."""
    count = op_count(scenario)
    if count > MAX_OPS:
        raise build_error(scenario, "network.layers", f"one training step would be {count:,} ops; "
                          f"nnstep handles at most {MAX_OPS:,} (fewer or narrower layers, or a smaller "
                          "softmax: it has one partial per pair of its outputs)")
    return _Builder(scenario).build()


def op_count(sc: Scenario) -> int:
    """The number of ops :func:`build_layered_program` makes for a layered network, from its
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


# --------------------------------------------------------------------------- builder


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
        return chain_sum(parts)

    def derive_custom_activations(self) -> None:
        """Derive each custom activation once, up front, so that a formula SymPy cannot
        handle is reported at the layer that defines it."""
        if all(layer.custom is None for layer in self.sc.layers):
            return
        from .symbolic.derive import GraphError  # SymPy: only for a custom activation

        for i, layer in enumerate(self.sc.layers):
            if layer.custom is None:
                continue
            key = f"network.layers[{i}].activation.formula"
            try:
                _activation(layer)
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
                    self.emitchain_sum(n)
                sums = [f"sum_{n.name}" for n in neurons]
                for i, n in enumerate(neurons):
                    self.emit_softmax(n, i, sums)
            else:
                for n in neurons:
                    self.emitchain_sum(n)
                    self.emit_activation(n, layer)
        if self.single:
            o = self.sc.outputs[0]
            self.emit("y_pred", "forward", "alias", (o,), f"y_pred = {o}", Name(o), node=o)

    def emitchain_sum(self, n: Neuron) -> None:
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
        expr = Binary("/", Call("exp", (Name(sums[i]),)), chain_sum([Call("exp", (Name(x),)) for x in sums]))
        den = " + ".join(f"exp({x})" for x in sums)
        code = f"{n.name} = exp({sums[i]}) / ({den})"
        numeric = Call("softmax_at", (Num(float(i)), *(Name(x) for x in sums)))  # overflow-safe
        self.emit(n.name, "forward", "activation", sums, code, expr, numeric, node=n.name)

    def loss_expr(self) -> Node:
        pairs = [(t, self.vname(o)) for t, o in zip(self.targets, self.sc.outputs)]
        kind = self.sc.loss
        if kind == "mse":
            sq = [Binary("**", Binary("-", Name(t), Name(p)), Num(2.0)) for t, p in pairs]
            total = chain_sum(sq)
            return total if len(sq) == 1 else Binary("/", total, Num(float(len(sq))))
        if kind == "binary_cross_entropy":
            (t, p), = pairs
            one = Num(1.0)
            inner = Binary("+", Binary("*", Name(t), Call("log", (Name(p),))),
                           Binary("*", Binary("-", one, Name(t)), Call("log", (Binary("-", one, Name(p)),))))
            return Unary("-", inner)
        return Unary("-", chain_sum([Binary("*", Name(t), Call("log", (Name(p),))) for t, p in pairs]))

    def loss(self) -> None:
        pairs = [(t, self.vname(o)) for t, o in zip(self.targets, self.sc.outputs)]
        kind = self.sc.loss
        if kind == "mse":
            squares = []
            for t, p in pairs:
                d = Binary("-", Name(t), Name(p))
                squares.append(Binary("*", d, d))
            numeric = chain_sum(squares) if len(pairs) == 1 else Binary("/", chain_sum(squares), Num(float(len(pairs))))
            sq = [f"({t} - {p}) ** 2" for t, p in pairs]
            code = sq[0] if len(sq) == 1 else f"({' + '.join(sq)}) / {len(sq)}"
        elif kind == "binary_cross_entropy":
            (t, p), = pairs
            one = Num(1.0)
            numeric = Unary("-", Binary("+", Call("xlog", (Name(t), Name(p))),
                                        Call("xlog", (Binary("-", one, Name(t)), Binary("-", one, Name(p))))))
            code = f"-({t} * log({p}) + (1 - {t}) * log(1 - {p}))"
        else:
            numeric = Unary("-", chain_sum([Call("xlog", (Name(t), Name(p))) for t, p in pairs]))
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
            expr = Binary("/", Call("exp", (Name(sums[i]),)), chain_sum([Call("exp", (Name(x),)) for x in sums]))
            for j, m in enumerate(neurons):
                name = partial_name(n.name, sums[j])
                if i == j:
                    # 1 - o_i is summed from the other outputs: exact where o_i rounds near 1
                    code, reads = f"{n.name} * (1 - {n.name})", (n.name,)
                    others = [Name(k.name) for k in neurons if k is not n]
                    numeric = Binary("*", Name(n.name), chain_sum(others) if others else Num(0.0))
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


def _activation(layer: Layer) -> Activation:
    """The numeric side of a layer's activation: built in, or its own formula in x."""
    return ACTIVATIONS[layer.activation] if layer.custom is None else derived_activation(layer.custom)


@cache
def derived_activation(custom: CustomActivation) -> Activation:
    """A custom activation with its derivative derived by SymPy (once per formula)."""
    from .symbolic.derive import derivative_kernel  # SymPy: only for a custom activation

    return custom_activation(custom, derivative_kernel(custom.expr, "x", {"x": 0}))
