"""The ``[network]`` section (form 1: layers): inputs, layers, activations, the loss,
and the op names the network's program will have (two quantities may not share one)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from .. import names as naming
from ..activations import ACTIVATION_NAMES, LAYER_ACTIVATIONS
from ..errors import ScenarioError, quote
from ..expr import FUNCTIONS as FORMULA_FUNCTIONS
from ..expr import names_in
from .located import Checker, Recorded, kind_of
from .model import (
    CUSTOM_ACTIVATION_KEYS,
    LAYER_KEYS,
    LOSSES,
    MAX_LAYERS,
    MAX_NEURONS_PER_LAYER,
    MAX_PARAMETERS,
    NETWORK_KEYS,
    RESERVED,
    CustomActivation,
    Layer,
    Neuron,
    parameter_order,
    wire,
)


@dataclass(frozen=True, slots=True)
class NetworkParts:
    """A ``[network]`` section as far as it is valid: None for each part with a problem."""

    inputs: tuple[str, ...] | None
    layers: tuple[Layer, ...] | None
    loss: str | None
    shapes: tuple[Layer, ...] | None  # each layer's neurons and bias, even where its activation is wrong
    too_big: bool = False  # more parameters than allowed (already reported)


def parameter_count(inputs: int, layers: tuple[Layer, ...]) -> int:
    """How many weights and biases a network has, without naming them."""
    count, prev = 0, inputs
    for layer in layers:
        count += len(layer.neurons) * (prev + (1 if layer.bias else 0))
        prev = len(layer.neurons)
    return count


class NetworkChecks(Checker):
    """The checks of ``[network]``; ``shapes`` keeps each layer's neurons and bias once
    known, which decide the parameters and the outputs whatever else is wrong."""

    shapes: list[Layer | None]

    def network(self, value: Any) -> NetworkParts | None:
        """The network's parts; each is None where it has a problem (recorded)."""
        net = self.attempt(self.table, value, "network", NETWORK_KEYS)
        if net is None:
            return None
        for required in NETWORK_KEYS:
            if required not in net:
                self.note(self.fail("network", f"missing key '{required}'"))
        inputs = self.attempt(self.network_inputs, net["inputs"]) if "inputs" in net else None
        layers = self.layers(net["layers"]) if "layers" in net else None
        loss = self.attempt(self.loss, net["loss"], layers) if "loss" in net else None
        shapes = None if not self.shapes or any(x is None for x in self.shapes) else tuple(self.shapes)
        too_big = False
        if inputs is not None and shapes is not None:
            # counted before anything is made per parameter: a hostile file may ask for millions
            count = parameter_count(len(inputs), shapes)
            too_big = count > MAX_PARAMETERS
            if too_big:
                self.note(self.fail("network.layers", f"has {count:,} parameters; at most {MAX_PARAMETERS:,}"))
        if inputs is not None and layers is not None and not too_big:
            names_ok = self.attempt(self.network_names, inputs, layers)
            if names_ok is not None:
                self.attempt(self.op_name_clashes, inputs, layers)
        return NetworkParts(inputs, layers, loss, shapes, too_big)  # type: ignore[arg-type]

    def network_inputs(self, value: Any) -> tuple[str, ...]:
        items = self.array(value, "network.inputs", max_len=MAX_NEURONS_PER_LAYER)
        if not items:
            raise self.fail("network.inputs", "needs at least one input")
        names = self.each(items, self.ident, "network.inputs")
        if names is None:
            raise Recorded()
        return names

    def layers(self, value: Any) -> tuple[Layer, ...] | None:
        raw_layers = self.attempt(self.array, value, "network.layers", max_len=MAX_LAYERS)
        if raw_layers is None:
            return None
        if not raw_layers:
            self.note(self.fail("network.layers", "needs at least one layer (the output layer)"))
            return None
        customs: dict[str, CustomActivation | None] = {}
        self.shapes = [None] * len(raw_layers)
        layers = [self.attempt(self.layer, lv, i, len(raw_layers), customs) for i, lv in enumerate(raw_layers)]
        return None if any(layer is None for layer in layers) else tuple(layers)  # type: ignore[arg-type]

    def layer(self, value: Any, i: int, count: int, customs: dict[str, CustomActivation | None]) -> Layer:
        key = f"network.layers[{i}]"
        before = len(self.problems)
        lt = self.table(value, key, LAYER_KEYS)
        if "neurons" not in lt:
            self.note(self.fail(key, "missing key 'neurons' (a list of names, or a count)"))
        last = i == count - 1
        neurons = self.attempt(self.neuron_names, lt["neurons"], f"{key}.neurons", i, count) \
            if "neurons" in lt else None
        act = self.attempt(self.activation, lt.get("activation", "sigmoid"), key, last, neurons, customs)
        bias = lt.get("bias", True)
        if not isinstance(bias, bool):
            self.note(self.fail(f"{key}.bias", f"must be true or false, not {kind_of(bias)}"))
        # the layer's shape decides the parameters and the outputs, whatever else is wrong
        self.shapes[i] = Layer(neurons, "linear", bias) if neurons is not None and isinstance(bias, bool) else None
        if len(self.problems) > before or neurons is None or act is None:
            raise Recorded()
        return Layer(neurons, act[0], bias, act[1])

    def activation(self, act: Any, key: str, last: bool, neurons: tuple[str, ...] | None,
                   customs: dict[str, CustomActivation | None]) -> tuple[str, CustomActivation | None]:
        custom = None
        if isinstance(act, dict):
            try:
                custom = self.custom_activation(act, f"{key}.activation", customs)
            except ScenarioError:
                if isinstance(act.get("name", "custom"), str):
                    customs.setdefault(act.get("name", "custom"), None)  # later layers may use it by name
                raise
            act = custom.name
        elif not isinstance(act, str):
            raise self.fail(f"{key}.activation", f"must be a name such as \"sigmoid\" or a table "
                            f"{{ name = ..., formula = ... }}, not {kind_of(act)}")
        elif act not in ACTIVATION_NAMES and act in customs:
            custom = customs[act]  # a custom activation defined on an earlier layer
            if custom is None:
                raise Recorded()  # its definition has a problem, already recorded
        elif act not in ACTIVATION_NAMES:
            hint = difflib.get_close_matches(act, ACTIVATION_NAMES, n=1)
            tip = f"did you mean '{hint[0]}'? " if hint else ""
            raise self.fail(
                f"{key}.activation", f"unknown activation {quote(act)}; {tip}known: {', '.join(ACTIVATION_NAMES)}, "
                "or your own as { name = \"...\", formula = \"... x ...\" }"
            )
        if act in LAYER_ACTIVATIONS and not last:
            raise self.fail(f"{key}.activation", f"{act} is allowed on the output layer only")
        if act == "softmax" and neurons is not None and len(neurons) < 2:
            raise self.fail(f"{key}.activation", "softmax needs at least two output neurons")
        return act, custom

    def network_names(self, inputs: tuple[str, ...], layers: tuple[Layer, ...]) -> bool:
        """Every input and neuron name: not one nnstep uses, and not taken twice."""
        before = len(self.problems)
        seen: dict[str, str] = {}
        for where, names in [("network.inputs", inputs)] + [
            (f"network.layers[{i}].neurons", L.neurons) for i, L in enumerate(layers)
        ]:
            for n in names:
                if RESERVED.match(n):
                    self.note(self.fail(where, f"{quote(n)} is a name nnstep uses itself "
                                        "(L, y_pred, y_true, sum_*, d_*, w1, b1, ...)"))
                elif n in seen:
                    self.note(self.fail(where, f"duplicate name {quote(n)} (also in {self.show_key(seen[n])})"))
                else:
                    seen[n] = where
        if len(self.problems) > before:
            raise Recorded()
        return True

    def op_name_clashes(self, inputs: tuple[str, ...], layers: tuple[Layer, ...]) -> None:
        """Two different quantities of the program that would get the same op name
        (``d_h_d_x_d_w1`` is both ∂h_d_x/∂w1 and ∂h/∂x_d_w1) share one slot: refuse them."""
        seen: dict[str, PlannedName] = {}
        for planned in planned_names(inputs, layers):
            first = seen.setdefault(planned.name, planned)
            if first is planned:
                continue
            layers_of = [x.layer for x in (first, planned) if x.layer is not None]
            layer = max(layers_of) if layers_of else None  # where the second of the two is declared
            key = "network.inputs" if layer is None else f"network.layers[{layer}].neurons"
            raise self.fail(key, f"the op name {quote(planned.name)} would stand for both {first.what} and "
                            f"{planned.what}; rename {_neurons_of(first, planned)} "
                            "(names with '_d_' in them can collide)")

    def loss(self, loss: Any, layers: tuple[Layer, ...] | None) -> str:
        if not isinstance(loss, str):
            raise self.fail("network.loss", f"must be a string, not {kind_of(loss)}")
        if loss not in LOSSES:
            hint = difflib.get_close_matches(loss, LOSSES, n=1)
            tip = f"did you mean '{hint[0]}'? " if hint else ""
            raise self.fail("network.loss", f"unknown loss {quote(loss)}; {tip}known: {', '.join(LOSSES)}")
        if layers is None:
            return loss
        out = layers[-1]
        if loss == "binary_cross_entropy" and (len(out.neurons) != 1 or out.activation != "sigmoid"
                                               or out.custom is not None):
            raise self.fail("network.loss", "binary_cross_entropy needs one sigmoid output neuron")
        if loss == "cross_entropy" and out.activation != "softmax":
            raise self.fail("network.loss", "cross_entropy needs a softmax output layer")
        return loss

    def custom_activation(self, value: dict[str, Any], key: str,
                          customs: dict[str, CustomActivation | None]) -> CustomActivation:
        t = self.table(value, key, CUSTOM_ACTIVATION_KEYS)
        if "formula" not in t:
            raise self.fail(key, "missing key 'formula' (the activation written in x, e.g. \"x / (1 + abs(x))\")")
        name = self.ident(t.get("name", "custom"), f"{key}.name")
        if name in ACTIVATION_NAMES or name in FORMULA_FUNCTIONS:
            raise self.fail(f"{key}.name", f"{quote(name)} is a built-in name; choose another (e.g. 'softsign')")
        text, node = self.formula(t["formula"], f"{key}.formula", ("x",))
        if "x" not in names_in(node):
            raise self.fail(f"{key}.formula", "does not use x: an activation is a function of its input x")
        custom = CustomActivation(name, text, node)
        earlier = customs.get(name)
        if earlier is not None and earlier.expr != node:
            raise self.fail(f"{key}.name", f"another layer already defines {quote(name)} with a different formula")
        customs[name] = custom
        return custom

    def neuron_names(self, value: Any, key: str, index: int, count: int) -> tuple[str, ...]:
        if isinstance(value, int) and not isinstance(value, bool):
            n = self.integer(value, key, 1, MAX_NEURONS_PER_LAYER)
            if index == count - 1:
                prefix = "o"
            elif count == 2:
                prefix = "h"
            else:
                prefix = f"h{index + 1}_"
            return tuple(f"{prefix}{j + 1}" for j in range(n))
        names = self.array(value, key, max_len=MAX_NEURONS_PER_LAYER)
        if not names:
            raise self.fail(key, "needs at least one neuron")
        out = self.each(names, self.ident, key)
        if out is None:
            raise Recorded()
        return out


# --------------------------------------------------------------------------- op names, without a program


@dataclass(frozen=True, slots=True)
class PlannedName:
    """One name a layered network's program will hold, and what it stands for."""

    name: str
    what: str  # for a message: "∂h_d_x/∂w1", "the input 'x1'"
    neuron: str | None = None  # the neuron that makes it, if any
    layer: int | None = None  # that neuron's layer (0-based)


def planned_names(inputs: tuple[str, ...], layers: tuple[Layer, ...]) -> list[PlannedName]:
    """Every name the program of this network holds (inputs, targets, parameters and
    the ops' results; updates write their parameter's own name), in program order.

    It follows :mod:`nnstep.program`'s builder with the naming functions of
    :mod:`nnstep.names`; a test checks that the two agree."""
    outputs = layers[-1].neurons
    single = len(outputs) == 1
    neurons = wire(inputs, layers)

    def pname(unit: str) -> str:
        return naming.OUTPUT_PARTIAL if single and unit == outputs[0] else unit

    out = [PlannedName(x, f"the input {quote(x)}") for x in inputs]
    out += [PlannedName(t, "a target") for t in naming.target_names(outputs)]
    out.append(PlannedName(naming.LEARN_RATE, "the learning rate"))
    out += [PlannedName(p, f"the parameter {p}") for p in parameter_order(neurons)]
    for n in neurons:
        out.append(PlannedName(naming.sum_name(n.name), f"the sum of neuron {quote(n.name)}", n.name, n.layer))
        out.append(PlannedName(n.name, f"the neuron {quote(n.name)}", n.name, n.layer))
    if single:
        out.append(PlannedName(naming.OUTPUT_VALUE, "the output"))
    out.append(PlannedName(naming.LOSS, "the loss"))
    for o in outputs:
        out.append(PlannedName(naming.total_name(pname(o)), f"∂L/∂{pname(o)}", o, len(layers) - 1))
    by_layer: list[list[Neuron]] = [[] for _ in layers]
    for n in neurons:
        by_layer[n.layer].append(n)
    for li in range(len(layers) - 1, -1, -1):
        softmax = layers[li].activation == "softmax"
        if softmax:
            for n in by_layer[li]:
                for m in by_layer[li]:
                    wrt = naming.sum_name(m.name)
                    out.append(PlannedName(naming.partial_name(n.name, wrt), f"∂{n.name}/∂{wrt}", n.name, li))
        for n in by_layer[li]:
            of = pname(naming.sum_name(n.name) if softmax else n.name)
            wrts = [w for w, _ in n.weights] + ([n.bias] if n.bias else [])
            if li > 0:
                wrts += [a for _, a in n.weights]
            for wrt in wrts:
                out.append(PlannedName(naming.partial_name(of, wrt), f"∂{of}/∂{wrt}", n.name, li))
    for li in range(len(layers) - 1, -1, -1):
        softmax = layers[li].activation == "softmax"
        for n in by_layer[li]:
            if softmax or li < len(layers) - 1:
                unit = pname(naming.sum_name(n.name) if softmax else n.name)
                out.append(PlannedName(naming.total_name(unit), f"∂L/∂{unit} (total)", n.name, li))
            for p in [w for w, _ in n.weights] + ([n.bias] if n.bias else []):
                out.append(PlannedName(naming.total_name(p), f"∂L/∂{p} (total)", n.name, li))
    return out


def _neurons_of(a: PlannedName, b: PlannedName) -> str:
    """Which names to rename to end a clash between two planned names."""
    who = list(dict.fromkeys((x.neuron, x.layer) for x in (a, b) if x.neuron is not None and x.layer is not None))
    named = [f"the neuron {quote(n)} (layer {layer + 1})" for n, layer in who]
    return " or ".join(named) if named else "an input or neuron"
