"""Whole samples of a wide layered network, vectorised per layer with NumPy.

Each NumPy operation here is the op kernels' arithmetic applied to a whole
layer at once, in the same order: products are elementwise, and every sum
runs left to right through ``np.add.accumulate`` (never a pairwise or BLAS
reduction), so parameters and losses equal the stepper's to the last bit.  A
test runs both on random networks and every bundled scenario.

Up to a few thousand ops per sample, code generated from the op program
(:mod:`nnstep.codegen`) is faster still; :mod:`nnstep.fast` picks the path.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from .activations import ACTIVATIONS, log, sigmoid, softmax
from .program import Program

_add = np.add.accumulate


def _map(fn: Callable[[float], float], a: np.ndarray) -> np.ndarray:
    """``fn`` elementwise, with the very C-library function the op kernels call
    (NumPy's own ``exp``/``tanh``/``log`` differ from it in the last bit)."""
    return np.fromiter(map(fn, a.ravel().tolist()), float, a.size).reshape(a.shape)


def _exp(a: np.ndarray) -> np.ndarray:
    return _map(math.exp, a)


def _tanh(a: np.ndarray) -> np.ndarray:
    return _map(math.tanh, a)


def _seq_sum(a: np.ndarray, axis: int) -> np.ndarray:
    """Left-to-right sum along ``axis``, exactly as a Python loop adds."""
    return _add(a, axis=axis).take(-1, axis=axis)


def _sigmoid(s: np.ndarray) -> np.ndarray:
    out = np.empty_like(s)
    safe = s >= -708.0
    out[safe] = 1.0 / (1.0 + _exp(-s[safe]))
    out[~safe] = _map(sigmoid, s[~safe])
    return out


def _sigmoid_deriv(s: np.ndarray, a: np.ndarray) -> np.ndarray:
    return a * _sigmoid(-s)


def _tanh_deriv(s: np.ndarray, a: np.ndarray) -> np.ndarray:
    e = _map(lambda x: math.exp(x) if x == x else x, -2.0 * np.abs(s))
    out = 4.0 * e / ((1.0 + e) * (1.0 + e))
    return np.where(s != s, s, out)


def _relu(s: np.ndarray) -> np.ndarray:
    return np.where(s <= 0.0, 0.0, s)


def _relu_deriv(s: np.ndarray, a: np.ndarray) -> np.ndarray:
    return np.where(s > 0.0, 1.0, np.where(s <= 0.0, 0.0, s))


_VECTOR = {
    "sigmoid": (_sigmoid, _sigmoid_deriv),
    "tanh": (_tanh, _tanh_deriv),
    "relu": (_relu, _relu_deriv),
    "linear": (lambda s: s, None),
}


def _softmax(s: np.ndarray) -> np.ndarray:
    top = s.max()
    if not np.isfinite(top):
        return np.array(softmax(s.tolist()))
    e = _exp(s - top)
    return e / _seq_sum(e, 0)


def _xlog(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    return np.where(y == 0.0, 0.0, y * _map(log, np.where(y == 0.0, 1.0, p)))


class VectorNetwork:
    """Per-sample SGD for a layered network with built-in activations."""

    def __init__(self, program: Program) -> None:
        sc = program.scenario
        index = {p: i for i, p in enumerate(program.parameters)}
        self.n_params = len(program.parameters)
        self.layers = []
        by_layer: dict[int, list] = {}
        for n in sc.neurons:
            by_layer.setdefault(n.layer, []).append(n)
        for li, layer in enumerate(sc.layers):
            neurons = by_layer[li]
            w0 = index[neurons[0].weights[0][0]]
            n_in = len(neurons[0].weights)
            b0 = index[neurons[0].bias] if layer.bias else None
            fns = None if layer.activation == "softmax" else _VECTOR[layer.activation]
            self.layers.append((w0, len(neurons), n_in, b0, fns))
        self.loss = sc.loss
        self.n_out = len(sc.outputs)
        self.lr = sc.learning_rate
        self.x = np.array([s.x for s in sc.samples], dtype=float)
        self.y = np.array([s.y for s in sc.samples], dtype=float)

    @staticmethod
    def supports(program: Program) -> bool:
        sc = program.scenario
        if getattr(sc, "graph", None) is not None or not sc.layers:
            return False
        return all(getattr(L, "custom", None) is None and (L.activation in _VECTOR or L.activation == "softmax")
                   for L in sc.layers) and all(a in ACTIVATIONS or a == "softmax" for a in
                                               (L.activation for L in sc.layers))

    def _views(self, p: np.ndarray, li: int) -> tuple[np.ndarray, np.ndarray | None]:
        w0, n_out, n_in, b0, _ = self.layers[li]
        W = p[w0 : w0 + n_out * n_in].reshape(n_out, n_in)
        B = p[b0 : b0 + n_out] if b0 is not None else None
        return W, B

    def forward(self, p: np.ndarray, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Sums and activations per layer for one sample (x: n_in) or all (x: M x n_in)."""
        sums, acts = [], [x]
        a = x
        for li, (_, _, _, _, fns) in enumerate(self.layers):
            W, B = self._views(p, li)
            s = _seq_sum(W * a[..., None, :], -1)
            if B is not None:
                s = s + B
            sums.append(s)
            if fns is not None:
                a = fns[0](s)
            elif s.ndim == 1:
                a = _softmax(s)
            else:
                a = np.array([_softmax(row) for row in s])
            acts.append(a)
        return sums, acts

    def sample_losses(self, p: np.ndarray) -> np.ndarray:
        """Every sample's loss under ``p`` (the op kernels' formulas, vectorised)."""
        out = self.forward(p, self.x)[1][-1]
        y = self.y
        if self.loss == "mse":
            d = y - out
            total = _seq_sum(d * d, 1)
            return total if self.n_out == 1 else total / self.n_out
        if self.loss == "binary_cross_entropy":
            return -(_xlog(y[:, 0], out[:, 0]) + _xlog(1.0 - y[:, 0], 1.0 - out[:, 0]))
        return -_seq_sum(_xlog(y, out), 1)

    def epoch_loss(self, params: Sequence[float]) -> float:
        losses = self.sample_losses(np.asarray(params, dtype=float))
        return float(_seq_sum(losses, 0)) / len(losses)

    def step(self, p: np.ndarray, i: int) -> np.ndarray:
        """One sample's forward, backward and update; returns the new parameters."""
        x, y = self.x[i], self.y[i]
        sums, acts = self.forward(p, x)
        out = acts[-1]
        if self.loss == "mse":
            up = -2.0 * (y - out)
            if self.n_out != 1:
                up = up / self.n_out
        elif self.loss == "binary_cross_entropy":
            up = -(y / out - (1.0 - y) / (1.0 - out))
        else:
            up = -(y / out)
        grads = np.empty(self.n_params)
        for li in range(len(self.layers) - 1, -1, -1):
            w0, n_out, n_in, b0, fns = self.layers[li]
            W, _ = self._views(p, li)
            a_in, s, a = acts[li], sums[li], acts[li + 1]
            if fns is None:
                # softmax: d_L_d_sum_oj = sum over i (in order) of d_L_d_oi * d_oi_d_sum_oj
                m = len(a)
                jac = -a[:, None] * a[None, :]
                for k in range(m):
                    rest = 0.0
                    for q in range(m):
                        if q != k:
                            rest += a[q]
                    jac[k, k] = a[k] * rest
                unit = _seq_sum(up[:, None] * jac, 0)
                deriv = None
            else:
                unit = up
                deriv = None if fns[1] is None else fns[1](s, a)
            if deriv is None:
                gw = unit[:, None] * a_in[None, :]
                gb = unit * 1.0
            else:
                gw = unit[:, None] * (a_in[None, :] * deriv[:, None])
                gb = unit * deriv
            grads[w0 : w0 + n_out * n_in] = gw.ravel()
            if b0 is not None:
                grads[b0 : b0 + n_out] = gb
            if li:
                local = W if deriv is None else W * deriv[:, None]
                up = _seq_sum(unit[:, None] * local, 0)
        return p - self.lr * grads



    def runner(self) -> Callable[[Sequence[float], int], list[float]]:
        """(parameters, sample index) -> parameters after that sample's step."""
        def step(p: Sequence[float], i: int) -> list[float]:
            with np.errstate(all="ignore"):
                return self.step(np.asarray(p, dtype=float), i).tolist()

        return step

    def loss_function(self) -> Callable[[Sequence[float]], float]:
        """parameters -> the mean sample loss."""
        def loss(p: Sequence[float]) -> float:
            with np.errstate(all="ignore"):
                return self.epoch_loss(p)

        return loss
