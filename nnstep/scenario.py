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
from .expr import check_identifier

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

# Names the program itself uses; a neuron or input must not take them.
RESERVED = re.compile(r"^(L|y_pred|ypred|y_true(_\w+)?|learn_rate|sum_\w+|d_\w+|[wb]\d+)$")

TOP_KEYS = ("name", "description", "network", "parameters", "training", "samples")
NETWORK_KEYS = ("inputs", "layers", "loss")
LAYER_KEYS = ("neurons", "activation", "bias")
TRAINING_KEYS = ("learning_rate", "epochs")
SAMPLE_KEYS = ("name", "x", "y")


@dataclass(frozen=True, slots=True)
class Layer:
    neurons: tuple[str, ...]
    activation: str
    bias: bool = True


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

    @property
    def outputs(self) -> tuple[str, ...]:
        return self.layers[-1].neurons

    @property
    def neurons(self) -> tuple[Neuron, ...]:
        """Neurons in order; weights are numbered neuron by neuron, input by input,
        then biases neuron by neuron (the study note's w1..w6, b1..b3)."""
        return _wire(self.inputs, self.layers)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        ws = [w for n in self.neurons for w, _ in n.weights]
        bs = [n.bias for n in self.neurons if n.bias]
        return (*ws, *bs)

    def initial_parameters(self, seed: int | None = None) -> dict[str, float]:
        """Given values, the rest standard normals from RandomState(seed), weights first."""
        import numpy as np

        rng = np.random.RandomState(self.seed if seed is None else seed)
        values = {}
        for name in self.parameter_names:
            drawn = float(rng.normal())
            values[name] = self.given.get(name, drawn)
        return values


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
        """Best-effort line of a dotted key such as ``samples[3].x`` or ``network.layers``."""
        parts = re.findall(r"[A-Za-z_][\w-]*|\[\d+\]", key)
        if not parts:
            return None
        section, rest = parts[0], parts[1:]
        index = int(rest.pop(0)[1:-1]) if rest and rest[0].startswith("[") else None
        leaf = next((p for p in reversed(rest) if not p.startswith("[")), None)
        start = 0
        header = re.compile(rf"^\s*\[\[?\s*{re.escape(section)}\s*\]\]?\s*(#.*)?$")
        headers = [i for i, ln in enumerate(self.lines) if header.match(ln)]
        if headers:
            start = headers[min(index or 0, len(headers) - 1)]
            if leaf is None:
                return start + 1
        else:
            assign = re.compile(rf"^\s*{re.escape(section)}\s*=")
            hit = next((i for i, ln in enumerate(self.lines) if assign.match(ln)), None)
            if hit is None:
                return None
            if leaf is None or index is None:
                start = hit
                if leaf is None:
                    return hit + 1
            else:
                start = hit
        if leaf is not None:
            pat = re.compile(rf"(^|[\s{{,]){re.escape(leaf)}\s*=")
            for i in range(start, len(self.lines)):
                if pat.search(self.lines[i]):
                    return i + 1
        return start + 1

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
        for required in ("network", "samples"):
            if required not in raw:
                raise ScenarioError(f"missing [{required}]", file=self.label, key=required)
        name = self.string(raw.get("name", Path(self.label).stem), "name")
        description = self.string(raw.get("description", ""), "description")
        inputs, layers, loss = self.network(raw["network"])
        training = self.table(raw.get("training", {}), "training", TRAINING_KEYS)
        lr = self.number(training.get("learning_rate", 0.1), "training.learning_rate")
        if lr <= 0:
            raise self.fail("training.learning_rate", f"must be positive, not {lr:g}")
        epochs = self.integer(training.get("epochs", 1000), "training.epochs", 1, MAX_EPOCHS)
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
        for i, lv in enumerate(raw_layers):
            key = f"network.layers[{i}]"
            lt = self.table(lv, key, LAYER_KEYS)
            if "neurons" not in lt:
                raise self.fail(key, "missing key 'neurons' (a list of names, or a count)")
            last = i == len(raw_layers) - 1
            neurons = self.neuron_names(lt["neurons"], f"{key}.neurons", i, len(raw_layers))
            act = lt.get("activation", "sigmoid")
            if not isinstance(act, str):
                raise self.fail(f"{key}.activation", f"must be a string, not {_kind(act)}")
            if act not in ACTIVATION_NAMES:
                hint = difflib.get_close_matches(act, ACTIVATION_NAMES, n=1)
                tip = f"did you mean '{hint[0]}'? " if hint else ""
                raise self.fail(
                    f"{key}.activation", f"unknown activation '{act[:40]}'; {tip}known: {', '.join(ACTIVATION_NAMES)}"
                )
            if act in LAYER_ACTIVATIONS and not last:
                raise self.fail(f"{key}.activation", f"{act} is allowed on the output layer only")
            if act == "softmax" and len(neurons) < 2:
                raise self.fail(f"{key}.activation", "softmax needs at least two output neurons")
            bias = lt.get("bias", True)
            if not isinstance(bias, bool):
                raise self.fail(f"{key}.bias", f"must be true or false, not {_kind(bias)}")
            layers.append(Layer(neurons, act, bias))
        seen: dict[str, str] = {}
        for where, names in [("network.inputs", inputs)] + [
            (f"network.layers[{i}].neurons", L.neurons) for i, L in enumerate(layers)
        ]:
            for n in names:
                if RESERVED.match(n):
                    raise self.fail(where, f"'{n}' is a name nnstep uses itself (L, y_pred, y_true, sum_*, d_*, w1, b1, ...)")
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
        if loss == "binary_cross_entropy" and (len(out.neurons) != 1 or out.activation != "sigmoid"):
            raise self.fail("network.loss", "binary_cross_entropy needs one sigmoid output neuron")
        if loss == "cross_entropy" and out.activation != "softmax":
            raise self.fail("network.loss", "cross_entropy needs a softmax output layer")
        return inputs, tuple(layers), loss

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
