"""What the network predicts: its outputs for any inputs, under any parameters.

One function serves every view of predictions (the samples' table, ``nnstep
predict``, the decision boundary's grid): :func:`outputs` runs the program's
forward ops on rows of inputs — vectorised per layer for layered networks with
built-in activations (the same arithmetic as the op kernels, bit for bit), op by
op otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .errors import NNStepError
from .program import Program
from .vector import VectorNetwork

#: Rows of inputs one call evaluates at most (a grid of 400 x 250 points).
MAX_ROWS = 100_000


def output_names(program: Program) -> tuple[str, ...]:
    """The names of the values the network outputs (``o1`` for the note's network, whose
    ops also call it ``y_pred``; a formula graph's output node)."""
    return program.scenario.outputs


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
        return VectorNetwork(program).forward(p, X)[1][-1].reshape(len(X), -1)
    return _by_ops(program, p, X)


def _by_ops(program: Program, p: np.ndarray, X: np.ndarray) -> np.ndarray:
    names = output_names(program)
    slot = program.slot
    outs = [slot[n] for n in names]
    ins = [slot[n] for n in program.inputs]
    # the forward ops up to the last output (the loss is not needed, nor the targets)
    last = max(program.by_name[n].index for n in names if n in program.by_name) + 1
    v = program.new_slots()
    result = np.empty((len(X), len(names)))
    for r, row in enumerate(X.tolist()):
        program.load(v, p.tolist(), 0)
        for s, x in zip(ins, row):
            v[s] = x
        program.run(v, 0, last)
        result[r] = [v[s] for s in outs]
    return result


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
