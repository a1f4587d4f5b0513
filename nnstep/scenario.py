"""Scenario files: TOML in, a validated :class:`Scenario` out.

Every problem becomes one :class:`~nnstep.errors.ScenarioError` naming the
file, the line where it can be found, the key and the reason.  Sizes are
checked before any heavy work so a hostile file cannot make loading slow.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .activations import ACTIVATION_NAMES, LAYER_ACTIVATIONS
from .errors import FormulaError, ScenarioError
from .expr import FUNCTIONS as FORMULA_FUNCTIONS
from .expr import Node, check_identifier, names_in, parse

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
class CustomActivation:
    """An activation written as a formula in ``x``, e.g. ``x / (1 + abs(x))``."""

    name: str  # how code lines call it: softsign(sum_h1), deriv_softsign(sum_h1)
    text: str  # the formula as written in the file
    expr: Node  # parsed by nnstep.expr over the one name "x"


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
        return _wire(self.inputs, self.layers)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        if self.graph is not None:
            return self.graph.parameters
        ws = [w for n in self.neurons for w, _ in n.weights]
        bs = [n.bias for n in self.neurons if n.bias]
        return (*ws, *bs)

    def initial_parameters(self, seed: int | None = None) -> dict[str, float]:
        """Given values, the rest standard normals from NumPy's ``RandomState(seed)``
        stream (one drawn per parameter, given or not), weights first."""
        from .rng import legacy_normals

        names = self.parameter_names
        drawn = legacy_normals(self.seed if seed is None else seed, len(names))
        return {name: self.given.get(name, z) for name, z in zip(names, drawn)}


def _wire(inputs: tuple[str, ...], layers: tuple[Layer, ...]) -> tuple[Neuron, ...]:
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


# --------------------------------------------------------------------------- finding files


def scenario_dir() -> Path:
    """Where the bundled scenarios are: inside the installed package, or the checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "scenarios", here.parent / "scenarios"):
        if candidate.is_dir():
            return candidate
    return here / "scenarios"


def bundled() -> list[Path]:
    """The bundled scenario files, default first, then by file name."""
    files = sorted(scenario_dir().glob("*.toml"))
    return sorted(files, key=lambda p: (p.stem != DEFAULT_SCENARIO, p.name))


def resolve(name_or_path: str | Path | None) -> Path:
    """A path as given, or a bundled scenario by its file name without ``.toml``."""
    if name_or_path is None:
        name_or_path = DEFAULT_SCENARIO
    text = str(name_or_path)
    path = Path(text)
    if path.exists() or "/" in text or text.endswith(".toml"):
        return path
    candidate = scenario_dir() / f"{text}.toml"
    if candidate.exists():
        return candidate
    names = [p.stem for p in bundled()]
    hint = difflib.get_close_matches(text, names, n=1)
    more = f"; did you mean '{hint[0]}'?" if hint else f" (bundled: {', '.join(names)})"
    raise ScenarioError(f"no such file or bundled scenario{more}", file=text)


def load_scenario(name_or_path: str | Path | None = None) -> Scenario:
    """Load and validate a scenario by path or bundled name (default: the note's network)."""
    path = resolve(name_or_path)
    label = str(name_or_path) if name_or_path is not None else str(path)
    try:
        if path.is_dir():
            raise ScenarioError("is a directory, not a scenario file", file=label)
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError("no such file", file=label) from None
    except ScenarioError:
        raise
    except OSError as exc:
        raise ScenarioError(f"cannot read: {exc.strerror or exc}", file=label) from None
    return parse_scenario(data, label)


def parse_scenario(data: bytes | str, label: str = "<scenario>") -> Scenario:
    """Validate scenario text; ``label`` names it in error messages."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(f"file is larger than {MAX_FILE_BYTES // 1_000_000} MB", file=label)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScenarioError("not UTF-8 text (is this a scenario file?)", file=label, line=line) from None
    if "\x00" in text:
        raise ScenarioError("contains NUL bytes (is this a scenario file?)", file=label)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg)
        if m:
            reason = f"TOML syntax error at column {m.group(2)}: {reason}"
            raise ScenarioError(reason, file=label, line=int(m.group(1))) from None
        raise ScenarioError(f"TOML syntax error: {reason}", file=label) from None
    except RecursionError:
        raise ScenarioError("TOML nests too deeply", file=label) from None
    return _Validator(raw, text, label).scenario()


# --------------------------------------------------------------------------- validation


class _Validator:
    def __init__(self, raw: dict[str, Any], text: str, label: str) -> None:
        self.raw = raw
        self.lines = text.splitlines()
        self.label = label

    # -- errors --------------------------------------------------------------------------

    def fail(self, key: str, reason: str) -> ScenarioError:
        return ScenarioError(reason, file=self.label, line=self.locate(key), key=key)

    def locate(self, key: str) -> int | None:
        """Best-effort line of a dotted key such as ``samples[3].x`` or ``network.layers[1].activation``."""
        parts = re.findall(r"[A-Za-z_][\w-]*|\[\d+\]", key)
        if not parts:
            return None
        line, rest = 0, parts
        # the longest table header naming a prefix of the key: [graph.nodes] before [graph]
        for k in range(len(parts), 0, -1):
            if any(p.startswith("[") for p in parts[:k]):
                continue
            dotted = r"\s*\.\s*".join(re.escape(p) for p in parts[:k])
            header = re.compile(rf"^\s*\[\[?\s*{dotted}\s*\]\]?\s*(#.*)?$")
            headers = [i for i, ln in enumerate(self.lines) if header.match(ln)]
            if headers:
                after = parts[k:]
                indexed = bool(after) and after[0].startswith("[")
                line = headers[min(int(after[0][1:-1]) if indexed else 0, len(headers) - 1)]
                rest = after[1:] if indexed else after
                break
        for part in rest:
            if part.startswith("["):
                line = self._nth_item(line, int(part[1:-1]))
                continue
            pat = re.compile(rf"(^|[\s{{,])[\"']?{re.escape(part)}[\"']?\s*=")  # bare or quoted key
            hit = next((i for i in range(line, len(self.lines)) if pat.search(self.lines[i])), None)
            if hit is None:
                break
            line = hit
        return line + 1

    def _nth_item(self, line: int, n: int) -> int:
        """The line where the n-th inline table of the array that starts on ``line`` begins."""
        depth = count = 0
        for i in range(line, len(self.lines)):
            for ch in self.lines[i].split("#", 1)[0]:
                if ch in "[{":
                    depth += 1
                    if ch == "{" and depth == 2:
                        if count == n:
                            return i
                        count += 1
                elif ch in "]}":
                    depth -= 1
                    if depth == 0:
                        return line
        return line

    # -- typed getters ------------------------------------------------------------------

    def table(self, value: Any, key: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table, not {_kind(value)}")
        for k in value:
            if k not in allowed:
                hint = difflib.get_close_matches(k, allowed, n=1)
                tip = f"; did you mean '{hint[0]}'?" if hint else f" (known: {', '.join(allowed)})"
                raise self.fail(_join(key, k), f"unknown key{tip}")
        return value

    def string(self, value: Any, key: str) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, not {_kind(value)}")
        if len(value) > MAX_TEXT:
            raise self.fail(key, f"is longer than {MAX_TEXT} characters")
        return value

    def ident(self, value: Any, key: str) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"must be a name in quotes, not {_kind(value)}")
        try:
            return check_identifier(value)
        except FormulaError as exc:
            raise self.fail(key, exc.reason) from None

    def number(self, value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"must be a number, not {_kind(value)}")
        if isinstance(value, int) and abs(value) > 2**53:
            raise self.fail(key, "is too large")
        x = float(value)
        if not math.isfinite(x):
            raise self.fail(key, f"must be a finite number, not {value}")
        return x

    def integer(self, value: Any, key: str, lo: int, hi: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be a whole number, not {_kind(value)}")
        if not lo <= value <= hi:
            raise self.fail(key, f"must be between {lo} and {hi:,}, not {value}")
        return value

    def array(self, value: Any, key: str, *, max_len: int) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list, not {_kind(value)}")
        if len(value) > max_len:
            raise self.fail(key, f"has {len(value):,} entries; at most {max_len:,} are allowed")
        return value

    # -- the scenario ----------------------------------------------------------------

    def scenario(self) -> Scenario:
        raw = self.table(self.raw, "", TOP_KEYS) if isinstance(self.raw, dict) else {}
        if "network" in raw and "graph" in raw:
            raise self.fail("graph", "a scenario has either [network] (layers) or [graph] (formulas), not both")
        if "network" not in raw and "graph" not in raw:
            raise ScenarioError("missing [network] (layers) or [graph] (named formulas)",
                                file=self.label, key="network")
        if "graph" not in raw and "samples" not in raw:
            raise ScenarioError("missing [[samples]]", file=self.label, key="samples")
        name = self.string(raw.get("name", Path(self.label).stem), "name")
        description = self.string(raw.get("description", ""), "description")
        graph = None
        if "graph" in raw:
            graph = self.graph(raw["graph"])
            inputs, layers, loss = graph.inputs, (), "graph"
        else:
            inputs, layers, loss = self.network(raw["network"])
        training = self.table(raw.get("training", {}), "training", TRAINING_KEYS)
        lr = self.number(training.get("learning_rate", 0.1), "training.learning_rate")
        if lr <= 0:
            raise self.fail("training.learning_rate", f"must be positive, not {lr:g}")
        epochs = self.integer(training.get("epochs", 1000), "training.epochs", 1, MAX_EPOCHS)
        if graph is not None:
            samples = self.graph_samples(raw.get("samples"), graph.inputs)
        else:
            outputs = layers[-1].neurons
            samples = self.samples(raw["samples"], len(inputs), len(outputs), loss, layers[-1])
        sc = Scenario(
            name=name,
            description=description,
            source=self.label,
            inputs=inputs,
            layers=layers,
            loss=loss,
            learning_rate=lr,
            epochs=epochs,
            samples=samples,
            graph=graph,
        )
        if len(sc.parameter_names) > MAX_PARAMETERS:
            raise self.fail("network.layers", f"has {len(sc.parameter_names):,} parameters; at most {MAX_PARAMETERS:,}")
        seed, given = self.parameters(raw.get("parameters", {}), set(sc.parameter_names))
        return Scenario(**{**sc.__dict__, "seed": seed, "given": given})

    def network(self, value: Any) -> tuple[tuple[str, ...], tuple[Layer, ...], str]:
        net = self.table(value, "network", NETWORK_KEYS)
        for required in NETWORK_KEYS:
            if required not in net:
                raise self.fail("network", f"missing key '{required}'")
        raw_inputs = self.array(net["inputs"], "network.inputs", max_len=MAX_NEURONS_PER_LAYER)
        if not raw_inputs:
            raise self.fail("network.inputs", "needs at least one input")
        inputs = tuple(self.ident(v, f"network.inputs[{i}]") for i, v in enumerate(raw_inputs))
        raw_layers = self.array(net["layers"], "network.layers", max_len=MAX_LAYERS)
        if not raw_layers:
            raise self.fail("network.layers", "needs at least one layer (the output layer)")
        layers = []
        customs: dict[str, CustomActivation] = {}
        for i, lv in enumerate(raw_layers):
            key = f"network.layers[{i}]"
            lt = self.table(lv, key, LAYER_KEYS)
            if "neurons" not in lt:
                raise self.fail(key, "missing key 'neurons' (a list of names, or a count)")
            last = i == len(raw_layers) - 1
            neurons = self.neuron_names(lt["neurons"], f"{key}.neurons", i, len(raw_layers))
            act = lt.get("activation", "sigmoid")
            custom = None
            if isinstance(act, dict):
                custom = self.custom_activation(act, f"{key}.activation", customs)
                act = custom.name
            elif not isinstance(act, str):
                raise self.fail(f"{key}.activation", f"must be a name such as \"sigmoid\" or a table "
                                f"{{ name = ..., formula = ... }}, not {_kind(act)}")
            elif act not in ACTIVATION_NAMES and act in customs:
                custom = customs[act]  # a custom activation defined on an earlier layer
            elif act not in ACTIVATION_NAMES:
                hint = difflib.get_close_matches(act, ACTIVATION_NAMES, n=1)
                tip = f"did you mean '{hint[0]}'? " if hint else ""
                raise self.fail(
                    f"{key}.activation", f"unknown activation '{act[:40]}'; {tip}known: {', '.join(ACTIVATION_NAMES)}, "
                    "or your own as { name = \"...\", formula = \"... x ...\" }"
                )
            if act in LAYER_ACTIVATIONS and not last:
                raise self.fail(f"{key}.activation", f"{act} is allowed on the output layer only")
            if act == "softmax" and len(neurons) < 2:
                raise self.fail(f"{key}.activation", "softmax needs at least two output neurons")
            bias = lt.get("bias", True)
            if not isinstance(bias, bool):
                raise self.fail(f"{key}.bias", f"must be true or false, not {_kind(bias)}")
            layers.append(Layer(neurons, act, bias, custom))
        seen: dict[str, str] = {}
        for where, names in [("network.inputs", inputs)] + [
            (f"network.layers[{i}].neurons", L.neurons) for i, L in enumerate(layers)
        ]:
            for n in names:
                if RESERVED.match(n):
                    raise self.fail(where, f"'{n}' is a name nnstep uses itself "
                                    "(L, y_pred, y_true, sum_*, d_*, w1, b1, ...)")
                if n in seen:
                    raise self.fail(where, f"duplicate name '{n}' (also in {seen[n]})")
                seen[n] = where
        loss = net["loss"]
        if not isinstance(loss, str):
            raise self.fail("network.loss", f"must be a string, not {_kind(loss)}")
        if loss not in LOSSES:
            hint = difflib.get_close_matches(loss, LOSSES, n=1)
            tip = f"did you mean '{hint[0]}'? " if hint else ""
            raise self.fail("network.loss", f"unknown loss '{loss[:40]}'; {tip}known: {', '.join(LOSSES)}")
        out = layers[-1]
        if loss == "binary_cross_entropy" and (len(out.neurons) != 1 or out.activation != "sigmoid"
                                               or out.custom is not None):
            raise self.fail("network.loss", "binary_cross_entropy needs one sigmoid output neuron")
        if loss == "cross_entropy" and out.activation != "softmax":
            raise self.fail("network.loss", "cross_entropy needs a softmax output layer")
        return inputs, tuple(layers), loss

    def formula(self, value: Any, key: str, names: tuple[str, ...] | frozenset[str]) -> tuple[str, Node]:
        """Parse a formula with the safe parser; its errors name this key."""
        if not isinstance(value, str):
            raise self.fail(key, f"must be a formula in quotes, not {_kind(value)}")
        try:
            return value, parse(value, names)
        except FormulaError as exc:
            raise self.fail(key, exc.reason) from None

    def custom_activation(self, value: dict[str, Any], key: str,
                          customs: dict[str, CustomActivation]) -> CustomActivation:
        t = self.table(value, key, CUSTOM_ACTIVATION_KEYS)
        if "formula" not in t:
            raise self.fail(key, "missing key 'formula' (the activation written in x, e.g. \"x / (1 + abs(x))\")")
        name = self.ident(t.get("name", "custom"), f"{key}.name")
        if name in ACTIVATION_NAMES or name in FORMULA_FUNCTIONS:
            raise self.fail(f"{key}.name", f"'{name}' is a built-in name; choose another (e.g. 'softsign')")
        text, node = self.formula(t["formula"], f"{key}.formula", ("x",))
        if "x" not in names_in(node):
            raise self.fail(f"{key}.formula", "does not use x: an activation is a function of its input x")
        custom = CustomActivation(name, text, node)
        if name in customs and customs[name].expr != node:
            raise self.fail(f"{key}.name", f"another layer already defines '{name}' with a different formula")
        customs[name] = custom
        return custom

    def graph_names(self, value: Any, key: str, taken: dict[str, str], *, at_least: int) -> tuple[str, ...]:
        items = self.array(value, key, max_len=MAX_GRAPH_NAMES)
        if len(items) < at_least:
            raise self.fail(key, "needs at least one trainable parameter (nnstep trains what it differentiates)")
        names = tuple(self.ident(v, f"{key}[{i}]") for i, v in enumerate(items))
        for n in names:
            self.graph_name_ok(n, key, taken)
        return names

    def graph_name_ok(self, n: str, key: str, taken: dict[str, str]) -> None:
        if GRAPH_RESERVED.match(n):
            raise self.fail(key, f"'{n}' is a name nnstep uses itself (learn_rate, ypred, name, d_*)")
        if n in FORMULA_FUNCTIONS:
            raise self.fail(key, f"'{n}' is a function name; choose another name")
        if n in taken:
            raise self.fail(key, f"duplicate name '{n}' (also in {taken[n]})")
        taken[n] = key

    def graph(self, value: Any) -> Graph:
        g = self.table(value, "graph", GRAPH_KEYS)
        for required in ("parameters", "nodes"):
            if required not in g:
                raise self.fail("graph", f"missing key '{required}'")
        taken: dict[str, str] = {}
        inputs = self.graph_names(g.get("inputs", []), "graph.inputs", taken, at_least=0)
        params = self.graph_names(g["parameters"], "graph.parameters", taken, at_least=1)
        raw_nodes = g["nodes"]
        if not isinstance(raw_nodes, dict):
            raise self.fail("graph.nodes", f"must be a table of name = \"formula\" lines, not {_kind(raw_nodes)}")
        if not raw_nodes:
            raise self.fail("graph.nodes", "needs at least one formula")
        if len(raw_nodes) > MAX_GRAPH_NAMES:
            raise self.fail("graph.nodes", f"has {len(raw_nodes):,} formulas; at most {MAX_GRAPH_NAMES}")
        for n in raw_nodes:
            key = f"graph.nodes.{n}" if _IDENT_KEY.match(n) else "graph.nodes"
            try:
                check_identifier(n)
            except FormulaError as exc:
                raise self.fail(key, exc.reason) from None
            self.graph_name_ok(n, key, taken)
        order = list(raw_nodes)
        nodes = []
        for i, (n, text) in enumerate(raw_nodes.items()):
            key = f"graph.nodes.{n}"
            # parse against every name so that a node used too early gets its own message
            text, expr = self.formula(text, key, frozenset(taken))
            used = _ordered_names(expr)
            later = [u for u in used if u in order[i:]]
            if later:
                what = "itself" if later[0] == n else f"'{later[0]}', which is defined below it"
                raise self.fail(key, f"uses {what}: each formula may use only inputs, parameters "
                                "and the formulas above it")
            nodes.append(GraphNode(n, text, expr, used))
        output = g.get("output", order[-1])
        output = self.ident(output, "graph.output")
        if output not in raw_nodes:
            raise self.fail("graph.output", f"'{output}' is not one of the formulas in [graph.nodes] "
                            f"({', '.join(order[:12])})")
        # everything must lie on a path to the output
        needed = {output}
        for node in reversed(nodes):
            if node.name in needed:
                needed.update(node.reads)
        for node in nodes:
            if node.name not in needed:
                where = "comes after the output" if order.index(node.name) > order.index(output) else \
                    "is not used on the way to it"
                raise self.fail(f"graph.nodes.{node.name}", f"'{node.name}' {where}: the output is "
                                f"'{output}'; every formula must feed into it")
        for key, names in (("graph.parameters", params), ("graph.inputs", inputs)):
            for n in names:
                if n not in needed:
                    raise self.fail(key, f"'{n}' is not used by any formula leading to the output '{output}'")
        graph = Graph(inputs, params, tuple(nodes), output)
        from .graph import name_clash  # no SymPy needed: only names are planned

        clash = name_clash(graph)
        if clash:
            raise self.fail("graph.nodes", clash)
        return graph

    def graph_samples(self, value: Any, inputs: tuple[str, ...]) -> tuple[Sample, ...]:
        if value is None:
            if inputs:
                raise ScenarioError(f"missing [[samples]] (values for {', '.join(inputs)})",
                                    file=self.label, key="samples")
            return (Sample("#1", (), ()),)
        rows = self.array(value, "samples", max_len=MAX_SAMPLES)
        if not rows:
            raise self.fail("samples", "needs at least one sample")
        samples = []
        for i, row in enumerate(rows):
            key = f"samples[{i}]"
            t = self.table(row, key, ("name", *inputs))
            missing = [x for x in inputs if x not in t]
            if missing:
                raise self.fail(key, f"missing a value for input '{missing[0]}' "
                                f"(each sample gives {', '.join(inputs)})")
            name = self.string(t.get("name", f"#{i + 1}"), f"{key}.name")
            xs = tuple(self.number(t[x], f"{key}.{x}") for x in inputs)
            samples.append(Sample(name, xs, ()))
        return tuple(samples)

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
        return tuple(self.ident(v, f"{key}[{j}]") for j, v in enumerate(names))

    def samples(self, value: Any, n_in: int, n_out: int, loss: str, out: Layer) -> tuple[Sample, ...]:
        rows = self.array(value, "samples", max_len=MAX_SAMPLES)
        if not rows:
            raise self.fail("samples", "needs at least one sample")
        samples = []
        for i, row in enumerate(rows):
            key = f"samples[{i}]"
            t = self.table(row, key, SAMPLE_KEYS)
            for required in ("x", "y"):
                if required not in t:
                    raise self.fail(key, f"missing key '{required}'")
            name = self.string(t.get("name", f"#{i + 1}"), f"{key}.name")
            xs = self.vector(t["x"], f"{key}.x", n_in, "inputs")
            ys = self.vector(t["y"], f"{key}.y", n_out, "outputs")
            if loss != "mse" and any(not 0.0 <= y <= 1.0 for y in ys):
                raise self.fail(f"{key}.y", f"{loss} needs targets between 0 and 1")
            samples.append(Sample(name, xs, ys))
        return tuple(samples)

    def vector(self, value: Any, key: str, n: int, what: str) -> tuple[float, ...]:
        if isinstance(value, int | float) and not isinstance(value, bool) and n == 1:
            value = [value]
        items = self.array(value, key, max_len=MAX_NEURONS_PER_LAYER)
        if len(items) != n:
            raise self.fail(key, f"has {len(items)} values but the network has {n} {what}")
        return tuple(self.number(v, f"{key}[{j}]") for j, v in enumerate(items))

    def parameters(self, value: Any, known: set[str]) -> tuple[int, dict[str, float]]:
        if not isinstance(value, dict):
            raise self.fail("parameters", f"must be a table, not {_kind(value)}")
        seed = 0
        given: dict[str, float] = {}
        for k, v in value.items():
            key = f"parameters.{k}"
            if k == "seed":
                seed = self.integer(v, key, 0, 2**32 - 1)
            elif k in known:
                given[k] = self.number(v, key)
            else:
                ordered = sorted(known, key=lambda s: (s[0], int(s[1:]) if s[1:].isdigit() else 0))
                hint = difflib.get_close_matches(k, ordered, n=1)
                tip = f"did you mean '{hint[0]}'? " if hint else ""
                shown = ", ".join(ordered[:12]) + (", ..." if len(ordered) > 12 else "")
                raise self.fail(key, f"the network has no parameter '{k[:40]}'; {tip}it has: seed, {shown}")
        return seed, given


_IDENT_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _ordered_names(node: Node) -> tuple[str, ...]:
    """Distinct names a formula uses, in order of first appearance (left to right)."""
    from .expr import Binary, Call, Name, Unary

    seen: dict[str, None] = {}
    stack: list[Node] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Name):
            seen.setdefault(item.id)
        elif isinstance(item, Unary):
            stack.append(item.operand)
        elif isinstance(item, Binary):
            stack.extend((item.right, item.left))
        elif isinstance(item, Call):
            stack.extend(reversed(item.args))
    return tuple(seen)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _kind(value: Any) -> str:
    names = {bool: "true/false", int: "a whole number", float: "a number", str: "a string",
             list: "a list", dict: "a table"}
    return names.get(type(value), type(value).__name__)


def iter_descriptions() -> Iterator[tuple[str, str, str]]:
    """(bundled name, scenario name, description) for ``nnstep list``, default first."""
    for path in bundled():
        try:
            sc = load_scenario(path)
        except ScenarioError as exc:
            yield path.stem, "(broken)", str(exc)
            continue
        yield path.stem, sc.name, sc.description
