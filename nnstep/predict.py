"""What the network predicts: its outputs for any inputs, under any parameters.

One function serves every view of predictions (the samples' table, ``nnstep
predict``, the decision boundary's grid): :func:`outputs` runs the program's
forward ops on rows of inputs — vectorised per layer for layered networks with
built-in activations (the same arithmetic as the op kernels, bit for bit), op by
op otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .errors import NNStepError, quote
from .program import Program
from .text import json_number
from .vector import VectorNetwork

#: Rows of inputs one call evaluates at most (a grid of 400 x 250 points).
MAX_ROWS = 100_000


def output_names(program: Program) -> tuple[str, ...]:
    """The names of the values the network outputs (``o1`` for the note's network, whose
    ops also call it ``y_pred``; a formula graph's output node)."""
    return program.scenario.outputs


def _vector(program: Program) -> VectorNetwork:
    """The program's vectorised network, made once and kept with the program."""
    made = program.derived.get("vector")
    if made is None:
        made = program.derived["vector"] = VectorNetwork(program)
    return made


def outputs(program: Program, params: Sequence[float], X: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    """The outputs (rows x outputs) for rows of inputs ``X`` (rows x inputs) under ``params``
    (in the program's parameter order)."""
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[None, :]
    n_in = len(program.inputs)
    if X.ndim != 2 or X.shape[1] != n_in:
        raise NNStepError(f"predict: each input row needs {n_in} values ({', '.join(program.inputs)})")
    if len(X) > MAX_ROWS:
        raise NNStepError(f"predict: {len(X):,} input rows; at most {MAX_ROWS:,} at once")
    p = np.asarray(params, dtype=float)
    if VectorNetwork.supports(program) and len(X):
        return _vector(program).forward(p, X)[1][-1].reshape(len(X), -1)
    return _by_ops(program, p, X)


def neuron_values(program: Program, params: Sequence[float],
                  X: np.ndarray | Sequence[Sequence[float]]) -> dict[str, np.ndarray]:
    """Every neuron's output (one value per row of ``X``) under ``params``: what the
    forward pass computes for each, the same numbers as :func:`outputs`."""
    sc = program.scenario
    X = np.asarray(X, dtype=float).reshape(-1, len(program.inputs))
    if len(X) > MAX_ROWS:
        raise NNStepError(f"predict: {len(X):,} input rows; at most {MAX_ROWS:,} at once")
    names = [n for layer in sc.layers for n in layer.neurons]
    if not names:
        return {}
    p = np.asarray(params, dtype=float)
    if VectorNetwork.supports(program) and len(X):
        with np.errstate(all="ignore"):
            acts = _vector(program).forward(p, X)[1][1:]
        return {n: a.reshape(len(X), -1)[:, k] for layer, a in zip(sc.layers, acts)
                for k, n in enumerate(layer.neurons)}
    got = _by_ops(program, p, X, tuple(names))
    return {n: got[:, k] for k, n in enumerate(names)}


def _by_ops(program: Program, p: np.ndarray, X: np.ndarray, names: tuple[str, ...] | None = None) -> np.ndarray:
    names = names or output_names(program)
    slot = program.slot
    outs = [slot[n] for n in names]
    ins = [slot[n] for n in program.inputs]
    # the forward ops up to the last output (the loss is not needed, nor the targets)
    last = max(program.by_name[n].index for n in names if n in program.by_name) + 1
    v = program.new_slots()
    result = np.empty((len(X), len(names)))
    params = p.tolist()
    for r, row in enumerate(X.tolist()):
        program.load(v, params, 0)
        for s, x in zip(ins, row):
            v[s] = x
        program.run(v, 0, last)
        result[r] = [v[s] for s in outs]
    return result


# --------------------------------------------------------------------------- the samples' table

#: How a prediction is judged right or wrong (or not at all), by the output layer.
SOFTMAX = "softmax"
THRESHOLD = "threshold"
REGRESSION = "regression"

RULE_WORDS = {
    SOFTMAX: "classification: the predicted class is the output with the largest value, right when it is "
             "the target's largest",
    THRESHOLD: "classification: one sigmoid output with 0/1 targets; predicted 1 when the output is ≥ 0.5, "
               "right when that equals the target",
    REGRESSION: "regression: no right or wrong, only the loss",
}


def rule(program: Program) -> str:
    """:data:`SOFTMAX` for a softmax output layer; :data:`THRESHOLD` for one sigmoid output
    whose every target is 0 or 1; :data:`REGRESSION` otherwise (formula graphs too)."""
    sc = program.scenario
    if sc.graph is not None or not sc.layers:
        return REGRESSION
    last = sc.layers[-1]
    if last.custom is None and last.activation == "softmax":
        return SOFTMAX
    if (last.custom is None and last.activation == "sigmoid" and len(last.neurons) == 1
            and all(s.y[0] in (0.0, 1.0) for s in sc.samples)):
        return THRESHOLD
    return REGRESSION


@dataclass(frozen=True)
class Prediction:
    """One row: a sample (or a new input, without target and loss) and what the network says."""

    name: str
    x: tuple[float, ...]
    outputs: tuple[float, ...]
    y: tuple[float, ...] | None = None
    loss: float | None = None
    predicted: str | None = None  # the class: an output's name (softmax) or "0"/"1" (threshold)
    expected: str | None = None  # the target's class
    right: bool | None = None  # None: regression, or a new input


@dataclass(frozen=True)
class Predictions:
    """The network's predictions for every sample under some parameters."""

    rule: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    rows: tuple[Prediction, ...]
    mean_loss: float  # the mean of the rows' losses, summed in order: the epoch loss at these parameters

    @property
    def right(self) -> int | None:
        """How many samples are right (None for regression)."""
        if self.rule == REGRESSION:
            return None
        return sum(1 for r in self.rows if r.right)

    @property
    def accuracy(self) -> float | None:
        right = self.right
        return None if right is None or not self.rows else right / len(self.rows)

    def summary(self) -> str:
        """``accuracy 3/4 (75%) · mean loss 0.0123`` (no accuracy for regression)."""
        loss = f"mean loss {self.mean_loss:.6g}"
        right = self.right
        if right is None:
            return loss
        return f"accuracy {right}/{len(self.rows)} ({100 * right / len(self.rows):.4g}%) · {loss}"


def _argmax(values: Sequence[float]) -> int | None:
    """The first largest value's index; None when a value is nan (nothing can be predicted)."""
    if any(v != v for v in values):
        return None
    return max(range(len(values)), key=lambda k: values[k])


def _classes(kind: str, names: Sequence[str], out: Sequence[float],
             y: Sequence[float] | None) -> tuple[str | None, str | None, bool | None]:
    if kind == SOFTMAX:
        k = _argmax(out)
        predicted = None if k is None else names[k]
        expected = None if y is None else names[_argmax(y) or 0]
    elif kind == THRESHOLD:
        predicted = None if out[0] != out[0] else ("1" if out[0] >= 0.5 else "0")
        expected = None if y is None else f"{y[0]:g}"
    else:
        return None, None, None
    right = None if y is None else predicted == expected
    return predicted, expected, right


def _losses(program: Program, p: np.ndarray) -> list[float]:
    """Every sample's loss under ``p``: the op kernels' numbers, bit for bit."""
    if VectorNetwork.supports(program):
        with np.errstate(all="ignore"):
            return _vector(program).sample_losses(p).tolist()
    v = program.new_slots()
    params = p.tolist()
    return [program.sample_loss(params, i, v) for i in range(len(program.scenario.samples))]


def predictions(program: Program, params: Sequence[float]) -> Predictions:
    """Every sample's inputs, target, outputs, loss and (for classification) class and
    whether it is right, under ``params``."""
    sc = program.scenario
    p = np.asarray(params, dtype=float)
    X = [s.x for s in sc.samples]
    with np.errstate(all="ignore"):
        outs = outputs(program, p, X).tolist() if X else []
    losses = _losses(program, p)
    kind = rule(program)
    names = output_names(program)
    rows = []
    for s, out, loss in zip(sc.samples, outs, losses):
        predicted, expected, right = _classes(kind, names, out, s.y)
        rows.append(Prediction(s.name, tuple(s.x), tuple(out), tuple(s.y), loss, predicted, expected, right))
    total = 0.0
    for loss in losses:  # in order, as the epoch loss adds them
        total += loss
    return Predictions(kind, tuple(program.inputs), tuple(names), tuple(rows),
                       total / len(losses) if losses else math.nan)


def predict_new(program: Program, params: Sequence[float], X: Sequence[Sequence[float]],
                names: Sequence[str] | None = None) -> list[Prediction]:
    """Predictions for new inputs (no target, so no loss and no right or wrong)."""
    kind = rule(program)
    outs = output_names(program)
    with np.errstate(all="ignore"):
        got = outputs(program, params, X).tolist() if len(X) else []
    rows = []
    for i, (x, out) in enumerate(zip(X, got)):
        predicted, _, _ = _classes(kind, outs, out, None)
        rows.append(Prediction(names[i] if names else "", tuple(x), tuple(out),
                               predicted=predicted))
    return rows


def parse_input(program: Program, text: str) -> tuple[float, ...]:
    """``'x1=-7,x2=-3'`` -> the input row, every input given once, in the program's order.

    Each value is a number or arithmetic on numbers in the formula language
    (``x1=128-135``)."""
    from .expr import compile_numeric, parse

    inputs = program.inputs
    given: dict[str, float] = {}
    for part in text.split(","):
        name, eq, value = part.partition("=")
        name = name.strip()
        if not eq:
            raise NNStepError(f"{quote(part)}: write NAME=VALUE for each input ({', '.join(inputs)})")
        if name not in inputs:
            raise NNStepError(f"{quote(name)}: not an input of this network; its inputs are {', '.join(inputs)}")
        if name in given:
            raise NNStepError(f"{name}: given twice")
        try:
            x = compile_numeric(parse(value, ()), {})([])
        except NNStepError as exc:
            raise NNStepError(f"{name}: {exc}") from None
        if not math.isfinite(x):
            raise NNStepError(f"{name}: {x} is not a finite number")
        given[name] = x
    missing = [n for n in inputs if n not in given]
    if missing:
        raise NNStepError(f"missing {', '.join(missing)}: every input needs a value ({', '.join(inputs)})")
    return tuple(given[n] for n in inputs)


# --------------------------------------------------------------------------- reports (nnstep predict, nnstep train)

FORMATS = ("text", "json", "csv")


def _num(x: float) -> str:
    """Full precision (``repr``, which reads back to the same float); non-finite spelled out."""
    return repr(x) if math.isfinite(x) else str(x)


def _right_word(r: Prediction) -> str:
    return "" if r.right is None else ("right" if r.right else "wrong")


def to_json(table: Predictions, new: Sequence[Prediction] = ()) -> dict:
    """The table as JSON-ready data; samples and new inputs count from 1."""
    data: dict = {
        "rule": table.rule,
        "inputs": list(table.inputs),
        "outputs": list(table.outputs),
        "samples": [
            {"sample": i + 1, "name": r.name, "x": list(r.x), "y": list(r.y or ()),
             "outputs": [json_number(o) for o in r.outputs], "loss": json_number(r.loss if r.loss is not None
                                                                             else math.nan),
             "predicted": r.predicted, "expected": r.expected, "right": r.right}
            for i, r in enumerate(table.rows)
        ],
        "right": table.right,
        "accuracy": table.accuracy,
        "mean_loss": json_number(table.mean_loss),
    }
    if new:
        data["new"] = [{"input": i + 1, "x": list(r.x), "outputs": [json_number(o) for o in r.outputs],
                        "predicted": r.predicted} for i, r in enumerate(new)]
    return data


def text_lines(table: Predictions, targets: Sequence[str], new: Sequence[Prediction] = ()) -> list[str]:
    """The table as aligned text (file text made visible), then the summary line and the
    rule; new inputs follow in a second table."""
    from .text import visible

    classify = table.rule != REGRESSION
    head = ["sample", *table.inputs, *targets, *table.outputs, "loss"] + (["class", "right"] if classify else [])
    rows = [head]
    for i, r in enumerate(table.rows):
        cells = [f"{i + 1} {r.name}", *map(_num, r.x), *map(_num, r.y or ()), *map(_num, r.outputs),
                 _num(r.loss if r.loss is not None else math.nan)]
        if classify:
            cells += [r.predicted or "-", _right_word(r)]
        rows.append(cells)
    lines = _aligned(rows, visible)
    lines.append(table.summary())
    lines.append(f"({RULE_WORDS[table.rule]})")
    if new:
        rows = [["new input", *table.inputs, *table.outputs] + (["class"] if classify else [])]
        for i, r in enumerate(new):
            rows.append([f"#{i + 1}", *map(_num, r.x), *map(_num, r.outputs)]
                        + ([r.predicted or "-"] if classify else []))
        lines += _aligned(rows, visible)
    return lines


def _aligned(rows: list[list[str]], visible) -> list[str]:
    rows = [[visible(c) for c in row] for row in rows]
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]


def write_csv(table: Predictions, targets: Sequence[str], new: Sequence[Prediction], out) -> None:
    """One row per sample (``kind`` sample), per new input (``input``) and the mean (``mean``:
    the mean loss, and in ``right`` how many are right)."""
    import csv

    from .text import csv_cell

    w = csv.writer(out, lineterminator="\n")
    w.writerow([csv_cell(c) for c in ("kind", "number", "name", *table.inputs, *targets, *table.outputs, "loss",
                                      "predicted", "expected", "right")])
    blank_y = [""] * len(targets)
    for i, r in enumerate(table.rows):
        w.writerow([csv_cell(c) for c in ("sample", i + 1, r.name, *map(_num, r.x), *map(_num, r.y or ()),
                                          *map(_num, r.outputs), _num(r.loss if r.loss is not None else math.nan),
                                          r.predicted or "", r.expected or "", _right_word(r))])
    for i, r in enumerate(new):
        w.writerow([csv_cell(c) for c in ("input", i + 1, "", *map(_num, r.x), *blank_y, *map(_num, r.outputs),
                                          "", r.predicted or "", "", "")])
    right = table.right
    w.writerow([csv_cell(c) for c in ("mean", "", "", *[""] * (len(table.inputs) + len(targets)
                                                                + len(table.outputs)),
                                      _num(table.mean_loss), "", "",
                                      "" if right is None else f"{right} of {len(table.rows)}")])

def plane(program: Program, params: Sequence[float], xs: Sequence[float], ys: Sequence[float]) -> np.ndarray:
    """The outputs over a grid of a two-input network's input plane: ``result[r, c]`` is the
    output row for the inputs ``(xs[c], ys[r])`` (the decision boundary's picture)."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if len(program.inputs) != 2:
        raise NNStepError(f"predict: the input plane needs exactly 2 inputs, not {len(program.inputs)}")
    gx, gy = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"):  # parameters that overflowed give inf and nan, never a warning
        out = outputs(program, params, np.column_stack([gx.ravel(), gy.ravel()]))
    return out.reshape(len(ys), len(xs), -1)
