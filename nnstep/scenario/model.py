"""What a scenario file describes, once validated: the :class:`Scenario` and its parts,
the names of its keys, and every limit a file is held to (docs/scenarios.md, *Limits*)."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field

from ..activations import CustomActivation
from ..expr import Node

LOSSES = {
    "mse": "mean squared error: mean over outputs of (y_true - y_pred)**2",
    "binary_cross_entropy": "-(y log p + (1 - y) log(1 - p)); one sigmoid output",
    "cross_entropy": "-sum(y_k log p_k); a softmax output layer",
}

DEFAULT_SCENARIO = "note-network"

# Bounds that keep a hostile file cheap to reject.
MAX_FILE_BYTES = 4_000_000
MAX_TEXT = 2_000
MAX_NEURONS_PER_LAYER = 512
MAX_LAYERS = 16
MAX_PARAMETERS = 20_000
MAX_SAMPLES = 20_000
MAX_EPOCHS = 10_000_000
MAX_GRAPH_NAMES = 256  # inputs, parameters and nodes of a formula graph, each
MAX_NESTING = 32  # tables and arrays inside each other (a scenario needs 4)
MAX_INTEGER_DIGITS = sys.get_int_max_str_digits()  # Python's limit; TOML cannot read longer integers

# Names the program itself uses; a neuron or input must not take them.
RESERVED = re.compile(r"^(L|y_pred|ypred|y_true(_\w+)?|learn_rate|sum_\w+|d_\w+|[wb]\d+)$")

# Names a formula graph must not use: the program's own, the sample key and the functions.
GRAPH_RESERVED = re.compile(r"^(learn_rate|ypred|name|d_\w*)$")

TOP_KEYS = ("name", "description", "network", "graph", "parameters", "training", "samples")
NETWORK_KEYS = ("inputs", "layers", "loss")
LAYER_KEYS = ("neurons", "activation", "bias")
CUSTOM_ACTIVATION_KEYS = ("name", "formula")
GRAPH_KEYS = ("inputs", "parameters", "nodes", "output")
TRAINING_KEYS = ("learning_rate", "epochs")
SAMPLE_KEYS = ("name", "x", "y")


@dataclass(frozen=True, slots=True)
class Layer:
    neurons: tuple[str, ...]
    activation: str  # a built-in name, or the custom activation's name
    bias: bool = True
    custom: CustomActivation | None = None


@dataclass(frozen=True, slots=True)
class GraphNode:
    """One named formula of a graph: ``q = x + y``."""

    name: str
    text: str
    expr: Node
    reads: tuple[str, ...]  # distinct names it uses, in order of first appearance


@dataclass(frozen=True, slots=True)
class Graph:
    """A computation written as named formulas instead of layers."""

    inputs: tuple[str, ...]  # values come from each sample
    parameters: tuple[str, ...]  # trained; initial values from [parameters] or the seed
    nodes: tuple[GraphNode, ...]  # in order; each uses only names above it
    output: str  # the node that is minimised (the loss); always the last node


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    x: tuple[float, ...]
    y: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Neuron:
    """One neuron's wiring: its weights (paired with what they multiply) and bias."""

    name: str
    layer: int
    weights: tuple[tuple[str, str], ...]
    bias: str | None


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: a network, its data and how to train it."""

    name: str
    description: str
    source: str
    inputs: tuple[str, ...]
    layers: tuple[Layer, ...]
    loss: str
    learning_rate: float
    epochs: int
    samples: tuple[Sample, ...]
    seed: int = 0
    given: dict[str, float] = field(default_factory=dict)
    graph: Graph | None = None  # set for the formula-graph form (then layers is empty)

    @property
    def form(self) -> str:
        """``"layers"`` for a network, ``"graph"`` for named formulas."""
        return "layers" if self.graph is None else "graph"

    @property
    def outputs(self) -> tuple[str, ...]:
        if self.graph is not None:
            return (self.graph.output,)
        return self.layers[-1].neurons

    @property
    def neurons(self) -> tuple[Neuron, ...]:
        """Neurons in order; weights are numbered neuron by neuron, input by input,
        then biases neuron by neuron (the study note's w1..w6, b1..b3).  Empty for a graph."""
        return wire(self.inputs, self.layers)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        if self.graph is not None:
            return self.graph.parameters
        return parameter_order(self.neurons)

    def initial_parameters(self, seed: int | None = None) -> dict[str, float]:
        """Given values, the rest standard normals from NumPy's ``RandomState(seed)``
        stream (one drawn per parameter, given or not), weights first."""
        from ..rng import legacy_normals

        names = self.parameter_names
        drawn = legacy_normals(self.seed if seed is None else seed, len(names))
        return {name: self.given.get(name, z) for name, z in zip(names, drawn)}


def wire(inputs: tuple[str, ...], layers: tuple[Layer, ...]) -> tuple[Neuron, ...]:
    w = b = 0
    neurons = []
    prev = inputs
    for li, layer in enumerate(layers):
        for n in layer.neurons:
            weights = tuple((f"w{w + k + 1}", a) for k, a in enumerate(prev))
            w += len(prev)
            bias = None
            if layer.bias:
                b += 1
                bias = f"b{b}"
            neurons.append(Neuron(n, li, weights, bias))
        prev = layer.neurons
    return tuple(neurons)


def parameter_order(neurons: tuple[Neuron, ...]) -> tuple[str, ...]:
    """All weights in number order, then all biases."""
    ws = [w for n in neurons for w, _ in n.weights]
    bs = [n.bias for n in neurons if n.bias]
    return (*ws, *bs)
