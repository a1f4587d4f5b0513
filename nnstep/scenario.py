"""Scenario files: TOML in, a validated :class:`Scenario` out.

Every problem becomes one :class:`~nnstep.errors.ScenarioError` naming the
file, the line where it can be found, the key and the reason.  Sizes are
checked before any heavy work so a hostile file cannot make loading slow.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import stat
import sys
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from . import names as naming
from .activations import ACTIVATION_NAMES, LAYER_ACTIVATIONS
from .errors import MAX_QUOTE, FormulaError, NNStepError, ScenarioError, cut, quote, raise_all
from .expr import FUNCTIONS as FORMULA_FUNCTIONS
from .expr import Node, check_identifier, names_in, parse
from .text import is_visible

T = TypeVar("T")

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
        return _parameter_names(self.neurons)

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
    if "/" in text or text.endswith(".toml") or _exists(path):
        return path
    candidate = scenario_dir() / f"{text}.toml"
    if _exists(candidate):
        return candidate
    names = [p.stem for p in bundled()]
    hint = difflib.get_close_matches(text, names, n=1)
    more = f"; did you mean '{hint[0]}'?" if hint else f" (bundled: {', '.join(names)})"
    raise ScenarioError(f"no such file or bundled scenario{more}", file=text)


def _exists(path: Path) -> bool:
    """Whether something is at ``path``; odd paths (too long, NUL bytes, ...) are not there."""
    try:
        os.stat(path)
    except (OSError, ValueError):
        return False
    return True


def load_scenario(name_or_path: str | Path | None = None) -> Scenario:
    """Load and validate a scenario by path or bundled name (default: the note's network)."""
    label = str(name_or_path) if name_or_path is not None else None
    path = resolve(name_or_path)
    label = label if label is not None else str(path)
    return parse_scenario(read_file(path, label), label)


_FILE_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _not_regular(mode: int) -> str | None:
    """Why a file of this mode cannot be a scenario file, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, not a scenario file"
    kind = next((what for test, what in _FILE_KINDS if test(mode)), "not a regular file")
    return f"is {kind}, not a scenario file: only regular files are read"


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, NotADirectoryError):
        return "no such file (a part of the path is not a directory)"
    if isinstance(exc, PermissionError):
        return "cannot read: permission denied"
    return f"cannot read: {exc.strerror or type(exc).__name__}"


def read_file(path: str | Path, label: str | None = None) -> bytes:
    """The bytes of a scenario file, at most :data:`MAX_FILE_BYTES` + 1 of them.

    Only regular files are opened, and never in a way that can block: the path is
    checked before opening (a FIFO or a terminal would wait for a writer), opened
    non-blocking, and checked again on the open descriptor (it may have been
    swapped in between).  Every failure is one located :class:`ScenarioError`."""
    label = str(path) if label is None else label
    try:
        mode = os.stat(path).st_mode
        why = _not_regular(mode)
        if why:
            raise ScenarioError(why, file=label)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
                     | getattr(os, "O_CLOEXEC", 0))
        try:
            why = _not_regular(os.fstat(fd).st_mode)
            if why:
                raise ScenarioError(why, file=label)
            chunks, size = [], 0
            while size <= MAX_FILE_BYTES:
                chunk = os.read(fd, MAX_FILE_BYTES + 1 - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        finally:
            os.close(fd)
    except OSError as exc:
        raise ScenarioError(_os_reason(exc), file=label) from None
    except ValueError:  # e.g. a NUL character in the path
        raise ScenarioError("not a usable file name", file=label) from None
    return b"".join(chunks)


_LONG_INTEGER = re.compile(r"[0-9][0-9_]{4300,}")


def parse_scenario(data: bytes | str, label: str = "<scenario>") -> Scenario:
    """Validate scenario text; ``label`` names it in error messages.

    Every problem that can be found is reported: one :class:`ScenarioError` for a
    single problem, a :class:`ScenarioProblems` (one line each) for several."""
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
        raise ScenarioError(f"TOML nests more than {MAX_NESTING} levels deep", file=label) from None
    except ValueError:  # Python's limit on converting long decimal integers
        long = _LONG_INTEGER.search(text)
        line = text.count("\n", 0, long.start()) + 1 if long else None
        raise ScenarioError(f"a whole number with more than {MAX_INTEGER_DIGITS:,} digits, more than TOML "
                            "can read (numbers must fit in a float)", file=label, line=line) from None
    if _nesting(raw) > MAX_NESTING:
        raise ScenarioError(f"TOML nests more than {MAX_NESTING} levels deep", file=label)
    return _Validator(raw, text, label).scenario()


def _nesting(value: Any) -> int:
    """How deeply tables and arrays nest in parsed TOML (the top table is level 1)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_NESTING:
                stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


# --------------------------------------------------------------------------- validation


class _Validator:
    """Checks a parsed TOML document section by section, entry by entry.

    A problem is recorded and checking goes on wherever what follows does not
    depend on the broken part (each section, layer, sample and parameter is
    checked on its own); a part that others depend on and that failed is
    ``None`` and its dependents are skipped.  At the end every recorded problem
    is raised at once (:func:`~nnstep.errors.raise_all`)."""

    def __init__(self, raw: dict[str, Any], text: str, label: str) -> None:
        self.raw = raw
        self.lines = text.splitlines()
        self.label = label
        self.problems: list[NNStepError] = []
        self.sample_names: dict[int, str] = {}  # given sample names, for readable keys
        self.shapes: list[Layer | None] = []  # each layer's neurons and bias, once known

    # -- errors --------------------------------------------------------------------------

    def fail(self, key: str, reason: str) -> ScenarioError:
        """A located error for ``key``, written the way the code addresses it
        (``samples[1].x[0]``, 0-based); shown counting from 1 (``samples #2 (Bob): x #1``)."""
        return ScenarioError(reason, file=self.label, line=self.locate(key), key=self.show_key(key))

    def note(self, exc: NNStepError) -> None:
        """Record a problem (or several) and go on."""
        self.problems.extend(exc.errors)

    def attempt(self, check: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """``check(*args)``, or None after recording the problem it raised."""
        try:
            return check(*args, **kwargs)
        except ScenarioError as exc:
            self.note(exc)
            return None

    def show_key(self, key: str) -> str:
        def position(m: re.Match[str]) -> str:
            i = int(m.group(1))
            shown = f" #{i + 1}"
            if key[: m.start()] == "samples" and i in self.sample_names:
                shown += f" ({cut(self.sample_names[i], MAX_QUOTE)})"
            return shown + (": " if m.group(2) else "")

        return _POSITION.sub(position, key)

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
        """``value`` as a table of the allowed keys; each unknown key is recorded and left out."""
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table, not {_kind(value)}")
        for k in value:
            if k not in allowed:
                hint = difflib.get_close_matches(k, allowed, n=1)
                tip = f"; did you mean '{hint[0]}'?" if hint else f" (known: {', '.join(allowed)})"
                self.note(self.fail(_join(key, k), f"unknown key{tip}"))
        return {k: v for k, v in value.items() if k in allowed}

    def string(self, value: Any, key: str, *, multiline: bool = False) -> str:
        """Free text (a name or description): bounded, and nothing a terminal would act on."""
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, not {_kind(value)}")
        if len(value) > MAX_TEXT:
            raise self.fail(key, f"is longer than {MAX_TEXT:,} characters")
        bad = next((i for i, ch in enumerate(value)
                    if not (multiline and ch == "\n") and not is_visible(ch)), None)
        if bad is not None:
            raise self.fail(key, f"contains the control or invisible character {quote(value[bad])} at "
                            f"character {bad + 1}; names{' and descriptions' if multiline else ''} "
                            "are plain text")
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
            raise self.fail(key, f"is too large: {_show_number(value)}")
        x = float(value)
        if not math.isfinite(x):
            raise self.fail(key, f"must be a finite number, not {value}")
        return x

    def integer(self, value: Any, key: str, lo: int, hi: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be a whole number, not {_kind(value)}")
        if not lo <= value <= hi:
            raise self.fail(key, f"must be between {lo:,} and {hi:,}, not {_show_number(value)}")
        return value

    def array(self, value: Any, key: str, *, max_len: int) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list, not {_kind(value)}")
        if len(value) > max_len:
            raise self.fail(key, f"has {len(value):,} entries; at most {max_len:,} are allowed")
        return value

    def each(self, items: list[Any], check: Callable[[Any, str], T], key: str) -> tuple[T, ...] | None:
        """``check`` on every entry of a list (keys ``key[0]``, ``key[1]``, ...); None if any failed."""
        out = [self.attempt(check, v, f"{key}[{i}]") for i, v in enumerate(items)]
        return None if any(v is None for v in out) else tuple(out)  # type: ignore[misc]

    # -- the scenario ----------------------------------------------------------------

    def scenario(self) -> Scenario:
        raw = self.table(self.raw, "", TOP_KEYS)
        if "network" in raw and "graph" in raw:
            self.note(self.fail("graph", "a scenario has either [network] (layers) or [graph] (formulas), "
                                "not both"))
        elif "network" not in raw and "graph" not in raw:
            self.note(ScenarioError("missing [network] (layers) or [graph] (named formulas)",
                                    file=self.label, key="network"))
        elif "graph" not in raw and "samples" not in raw:
            self.note(ScenarioError("missing [[samples]]", file=self.label, key="samples"))
        name = self.attempt(self.string, raw.get("name", Path(self.label).stem), "name")
        description = self.attempt(lambda v, k: self.string(v, k, multiline=True),
                                   raw.get("description", ""), "description")
        graph = network = None
        if "graph" in raw and "network" not in raw:
            graph = self.attempt(self.graph, raw["graph"])
        elif "network" in raw and "graph" not in raw:
            network = self.network(raw["network"])
        lr, epochs = self.training(raw.get("training", {}))
        samples: tuple[Sample, ...] | None = None
        if graph is not None:
            samples = self.graph_samples(raw.get("samples"), graph.inputs)
        elif network is not None and "samples" in raw:
            samples = self.samples(raw["samples"], network)
        known: tuple[str, ...] | None = None
        if graph is not None:
            known = graph.parameters
        elif network is not None and network.inputs is not None and network.shapes is not None:
            known = _parameter_names(_wire(network.inputs, network.shapes))
            if len(known) > MAX_PARAMETERS:
                self.note(self.fail("network.layers", f"has {len(known):,} parameters; at most "
                                    f"{MAX_PARAMETERS:,}"))
                known = None
        seed, given = self.parameters(raw.get("parameters", {}), known)
        raise_all(self.problems)
        assert name is not None and description is not None and lr is not None and epochs is not None
        assert samples is not None and seed is not None and given is not None
        if graph is not None:
            inputs, layers, loss = graph.inputs, (), "graph"
        else:
            assert network is not None and network.inputs is not None and network.layers is not None
            assert network.loss is not None
            inputs, layers, loss = network.inputs, network.layers, network.loss
        return Scenario(name=name, description=description, source=self.label, inputs=inputs,
                        layers=layers, loss=loss, learning_rate=lr, epochs=epochs, samples=samples,
                        seed=seed, given=given, graph=graph)

    def training(self, value: Any) -> tuple[float | None, int | None]:
        t = self.attempt(self.table, value, "training", TRAINING_KEYS)
        if t is None:
            return None, None
        lr = self.attempt(self.number, t.get("learning_rate", 0.1), "training.learning_rate")
        if lr is not None and lr <= 0:
            self.note(self.fail("training.learning_rate", f"must be positive, not {lr:g}"))
            lr = None
        epochs = self.attempt(self.integer, t.get("epochs", 1000), "training.epochs", 1, MAX_EPOCHS)
        return lr, epochs

    # -- form 1: layers ---------------------------------------------------------------

    def network(self, value: Any) -> _Network | None:
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
        if inputs is not None and layers is not None:
            names_ok = self.attempt(self.network_names, inputs, layers)
            if names_ok is not None:
                self.attempt(self.op_name_clashes, inputs, layers)
        shapes = None if not self.shapes or any(x is None for x in self.shapes) else tuple(self.shapes)
        return _Network(inputs, layers, loss, shapes)  # type: ignore[arg-type]

    def network_inputs(self, value: Any) -> tuple[str, ...]:
        items = self.array(value, "network.inputs", max_len=MAX_NEURONS_PER_LAYER)
        if not items:
            raise self.fail("network.inputs", "needs at least one input")
        names = self.each(items, self.ident, "network.inputs")
        if names is None:
            raise _Recorded()
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
            self.note(self.fail(f"{key}.bias", f"must be true or false, not {_kind(bias)}"))
        # the layer's shape decides the parameters and the outputs, whatever else is wrong
        self.shapes[i] = Layer(neurons, "linear", bias) if neurons is not None and isinstance(bias, bool) else None
        if len(self.problems) > before or neurons is None or act is None:
            raise _Recorded()
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
                            f"{{ name = ..., formula = ... }}, not {_kind(act)}")
        elif act not in ACTIVATION_NAMES and act in customs:
            custom = customs[act]  # a custom activation defined on an earlier layer
            if custom is None:
                raise _Recorded()  # its definition has a problem, already recorded
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
            raise _Recorded()
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
            raise self.fail("network.loss", f"must be a string, not {_kind(loss)}")
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

    def formula(self, value: Any, key: str, names: tuple[str, ...] | frozenset[str]) -> tuple[str, Node]:
        """Parse a formula with the safe parser; its errors name this key."""
        if not isinstance(value, str):
            raise self.fail(key, f"must be a formula in quotes, not {_kind(value)}")
        try:
            return value, parse(value, names)
        except FormulaError as exc:
            raise self.fail(key, exc.reason) from None

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
            raise _Recorded()
        return out

    def samples(self, value: Any, network: _Network) -> tuple[Sample, ...] | None:
        rows = self.attempt(self.array, value, "samples", max_len=MAX_SAMPLES)
        if rows is None:
            return None
        if not rows:
            self.note(self.fail("samples", "needs at least one sample"))
            return None
        n_in = None if network.inputs is None else len(network.inputs)
        n_out = None if network.shapes is None else len(network.shapes[-1].neurons)
        out = [self.attempt(self.sample, row, i, n_in, n_out, network.loss) for i, row in enumerate(rows)]
        return None if any(s is None for s in out) else tuple(out)  # type: ignore[arg-type]

    def sample_name(self, row: Any, i: int) -> str:
        """A sample's name (default ``#1``, ``#2``, ...); a given one also labels its errors."""
        if not isinstance(row, dict) or "name" not in row:
            return f"#{i + 1}"
        name = self.string(row["name"], f"samples[{i}].name")
        self.sample_names[i] = name
        return name

    def sample(self, row: Any, i: int, n_in: int | None, n_out: int | None, loss: str | None) -> Sample:
        key = f"samples[{i}]"
        before = len(self.problems)
        name = self.attempt(self.sample_name, row, i)
        t = self.table(row, key, SAMPLE_KEYS)
        for required in ("x", "y"):
            if required not in t:
                self.note(self.fail(key, f"missing key '{required}'"))
        xs = self.attempt(self.vector, t["x"], f"{key}.x", n_in, "inputs") if "x" in t else None
        ys = self.attempt(self.vector, t["y"], f"{key}.y", n_out, "outputs") if "y" in t else None
        if ys is not None and loss not in (None, "mse") and any(not 0.0 <= y <= 1.0 for y in ys):
            self.note(self.fail(f"{key}.y", f"{loss} needs targets between 0 and 1"))
        if len(self.problems) > before or name is None or xs is None or ys is None:
            raise _Recorded()
        return Sample(name, xs, ys)

    def vector(self, value: Any, key: str, n: int | None, what: str) -> tuple[float, ...]:
        if isinstance(value, int | float) and not isinstance(value, bool) and n in (1, None):
            value = [value]
        items = self.array(value, key, max_len=MAX_NEURONS_PER_LAYER)
        if n is not None and len(items) != n:
            raise self.fail(key, f"has {len(items)} values but the network has {n} {what}")
        out = self.each(items, self.number, key)
        if out is None:
            raise _Recorded()
        return out

    # -- parameters ------------------------------------------------------------------

    def parameters(self, value: Any, known: tuple[str, ...] | None) -> tuple[int | None, dict[str, float] | None]:
        """The seed and the given starting values; ``known`` is None when the parameter
        names are unknown (a broken network), and then only the values are checked."""
        if not isinstance(value, dict):
            self.note(self.fail("parameters", f"must be a table, not {_kind(value)}"))
            return None, None
        seed: int | None = 0
        given: dict[str, float] = {}
        before = len(self.problems)
        for k, v in value.items():
            key = f"parameters.{k}"
            if k == "seed":
                seed = self.attempt(self.integer, v, key, 0, 2**32 - 1)
            elif known is None or k in known:
                x = self.attempt(self.number, v, key)
                if x is not None:
                    given[k] = x
            else:
                hint = difflib.get_close_matches(k, known, n=1)
                tip = f"did you mean '{hint[0]}'? " if hint else ""
                shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
                self.note(self.fail(key, f"the network has no parameter {quote(k)}; {tip}it has: seed, {shown}"))
        return seed, (given if len(self.problems) == before else None)

    # -- form 2: formula graphs -------------------------------------------------------

    def graph_names(self, value: Any, key: str, taken: dict[str, str], *, at_least: int) -> tuple[str, ...]:
        items = self.array(value, key, max_len=MAX_GRAPH_NAMES)
        if len(items) < at_least:
            raise self.fail(key, "needs at least one trainable parameter (nnstep trains what it differentiates)")
        names = self.each(items, self.ident, key)
        if names is None:
            raise _Recorded()
        before = len(self.problems)
        for n in names:
            self.attempt(self.graph_name_ok, n, key, taken)
        if len(self.problems) > before:
            raise _Recorded()
        return names

    def graph_name_ok(self, n: str, key: str, taken: dict[str, str]) -> None:
        if GRAPH_RESERVED.match(n):
            raise self.fail(key, f"{quote(n)} is a name nnstep uses itself (learn_rate, ypred, name, d_*)")
        if n in FORMULA_FUNCTIONS:
            raise self.fail(key, f"{quote(n)} is a function name; choose another name")
        if n in taken:
            raise self.fail(key, f"duplicate name {quote(n)} (also in {self.show_key(taken[n])})")
        taken[n] = key

    def graph(self, value: Any) -> Graph:
        g = self.table(value, "graph", GRAPH_KEYS)
        before = len(self.problems)
        for required in ("parameters", "nodes"):
            if required not in g:
                self.note(self.fail("graph", f"missing key '{required}'"))
        taken: dict[str, str] = {}
        inputs = self.attempt(self.graph_names, g.get("inputs", []), "graph.inputs", taken, at_least=0)
        params = self.attempt(self.graph_names, g["parameters"], "graph.parameters", taken, at_least=1) \
            if "parameters" in g else None
        # formulas are read only when every name they may use is known: a broken
        # name would make each formula using it a second, dependent problem
        names_ok = inputs is not None and params is not None
        nodes = self.attempt(self.graph_nodes, g["nodes"], taken) if "nodes" in g and names_ok else None
        if len(self.problems) > before or inputs is None or params is None or nodes is None:
            raise _Recorded()
        order = [n.name for n in nodes]
        output = self.ident(g.get("output", order[-1]), "graph.output")
        if output not in order:
            raise self.fail("graph.output", f"{quote(output)} is not one of the formulas in [graph.nodes] "
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
                self.note(self.fail(f"graph.nodes.{node.name}", f"{quote(node.name)} {where}: the output is "
                                    f"{quote(output)}; every formula must feed into it"))
        for key, names in (("graph.parameters", params), ("graph.inputs", inputs)):
            for n in names:
                if n not in needed:
                    self.note(self.fail(key, f"{quote(n)} is not used by any formula leading to the output "
                                        f"{quote(output)}"))
        if len(self.problems) > before:
            raise _Recorded()
        graph = Graph(inputs, params, nodes, output)
        from .graph import name_clash  # no SymPy needed: only names are planned

        clash = name_clash(graph)
        if clash:
            raise self.fail("graph.nodes", clash)
        return graph

    def graph_nodes(self, raw_nodes: Any, taken: dict[str, str]) -> tuple[GraphNode, ...]:
        if not isinstance(raw_nodes, dict):
            raise self.fail("graph.nodes", f"must be a table of name = \"formula\" lines, not {_kind(raw_nodes)}")
        if not raw_nodes:
            raise self.fail("graph.nodes", "needs at least one formula")
        if len(raw_nodes) > MAX_GRAPH_NAMES:
            raise self.fail("graph.nodes", f"has {len(raw_nodes):,} formulas; at most {MAX_GRAPH_NAMES}")
        before = len(self.problems)
        for n in raw_nodes:
            key = f"graph.nodes.{n}" if _IDENT_KEY.match(n) else "graph.nodes"
            try:
                check_identifier(n)
            except FormulaError as exc:
                self.note(self.fail(key, exc.reason))
                continue
            self.attempt(self.graph_name_ok, n, key, taken)
        if len(self.problems) > before:
            raise _Recorded()
        order = list(raw_nodes)
        nodes = []
        for i, (n, text) in enumerate(raw_nodes.items()):
            node = self.attempt(self.graph_node, n, text, order[i:], frozenset(taken))
            if node is not None:
                nodes.append(node)
        if len(self.problems) > before:
            raise _Recorded()
        return tuple(nodes)

    def graph_node(self, n: str, text: Any, later: list[str], names: frozenset[str]) -> GraphNode:
        key = f"graph.nodes.{n}"
        # parse against every name so that a node used too early gets its own message
        text, expr = self.formula(text, key, names)
        used = _ordered_names(expr)
        early = [u for u in used if u in later]
        if early:
            what = "itself" if early[0] == n else f"{quote(early[0])}, which is defined below it"
            raise self.fail(key, f"uses {what}: each formula may use only inputs, parameters "
                            "and the formulas above it")
        return GraphNode(n, text, expr, used)

    def graph_samples(self, value: Any, inputs: tuple[str, ...]) -> tuple[Sample, ...] | None:
        if value is None:
            if inputs:
                self.note(ScenarioError(f"missing [[samples]] (values for {', '.join(inputs)})",
                                        file=self.label, key="samples"))
                return None
            return (Sample("#1", (), ()),)
        rows = self.attempt(self.array, value, "samples", max_len=MAX_SAMPLES)
        if rows is None:
            return None
        if not rows:
            self.note(self.fail("samples", "needs at least one sample"))
            return None
        out = [self.attempt(self.graph_sample, row, i, inputs) for i, row in enumerate(rows)]
        return None if any(s is None for s in out) else tuple(out)  # type: ignore[arg-type]

    def graph_sample(self, row: Any, i: int, inputs: tuple[str, ...]) -> Sample:
        key = f"samples[{i}]"
        before = len(self.problems)
        name = self.attempt(self.sample_name, row, i)
        t = self.table(row, key, ("name", *inputs))
        missing = [x for x in inputs if x not in t]
        if missing:
            self.note(self.fail(key, f"missing a value for input {quote(missing[0])} "
                                f"(each sample gives {', '.join(inputs)})"))
        xs = tuple(self.attempt(self.number, t[x], f"{key}.{x}") for x in inputs if x in t)
        if len(self.problems) > before or name is None or any(x is None for x in xs):
            raise _Recorded()
        return Sample(name, xs, ())  # type: ignore[arg-type]


class _Recorded(ScenarioError):
    """Raised by a check whose problems are already recorded: it only says "this part failed"."""

    def __init__(self) -> None:
        super().__init__("(recorded)")

    @property
    def errors(self) -> tuple[NNStepError, ...]:
        return ()


@dataclass(frozen=True, slots=True)
class _Network:
    """A ``[network]`` section as far as it is valid: None for each part with a problem."""

    inputs: tuple[str, ...] | None
    layers: tuple[Layer, ...] | None
    loss: str | None
    shapes: tuple[Layer, ...] | None  # each layer's neurons and bias, even where its activation is wrong


_POSITION = re.compile(r"\[(\d+)\](\.)?")


def _show_number(value: int | float) -> str:
    """A number from a file for an error message, short however long it is."""
    if isinstance(value, int) and abs(value) >= 10**15:
        digits = int(abs(value).bit_length() * math.log10(2)) + 1
        return f"a{' negative' if value < 0 else ''} number of about {digits:,} digits"
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


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
    neurons = _wire(inputs, layers)

    def pname(unit: str) -> str:
        return naming.OUTPUT_PARTIAL if single and unit == outputs[0] else unit

    out = [PlannedName(x, f"the input {quote(x)}") for x in inputs]
    out += [PlannedName(t, "a target") for t in naming.target_names(outputs)]
    out.append(PlannedName(naming.LEARN_RATE, "the learning rate"))
    out += [PlannedName(p, f"the parameter {p}") for p in _parameter_names(neurons)]
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


def _parameter_names(neurons: tuple[Neuron, ...]) -> tuple[str, ...]:
    """All weights in number order, then all biases."""
    ws = [w for n in neurons for w, _ in n.weights]
    bs = [n.bias for n in neurons if n.bias]
    return (*ws, *bs)


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
