"""Independent references for the engine's numbers, written without the engine's code.

- ``note_style_train``: the study note's training loop written the note's way
  (NumPy scalars, one sample at a time), for the 2-2-1 sigmoid network.
- ``mp_loss``: one sample's loss computed in mpmath at high precision straight
  from the scenario's description, so central differences of it are exact to
  far below float64 and make an independent check of every gradient.
"""

from __future__ import annotations

import mpmath
import numpy as np

mpmath.mp.dps = 50


def note_style_train(data, y_trues, params, epochs, learn_rate=0.1):
    """The note's loop: returns (loss after each epoch, final params dict)."""
    w1, w2, w3, w4, w5, w6, b1, b2, b3 = (np.float64(params[k]) for k in
                                          ("w1", "w2", "w3", "w4", "w5", "w6", "b1", "b2", "b3"))

    def sig(x):
        return 1 / (1 + np.exp(-x))

    def dsig(x):
        fx = sig(x)
        return fx * (1 - fx)

    losses = []
    for _ in range(epochs):
        for x, y_true in zip(data, y_trues):
            sum_h1 = w1 * x[0] + w2 * x[1] + b1
            h1 = sig(sum_h1)
            sum_h2 = w3 * x[0] + w4 * x[1] + b2
            h2 = sig(sum_h2)
            sum_o1 = w5 * h1 + w6 * h2 + b3
            y_pred = sig(sum_o1)
            d_L_d_ypred = -2 * (y_true - y_pred)
            d_ypred_d_w5 = h1 * dsig(sum_o1)
            d_ypred_d_w6 = h2 * dsig(sum_o1)
            d_ypred_d_b3 = dsig(sum_o1)
            d_ypred_d_h1 = w5 * dsig(sum_o1)
            d_ypred_d_h2 = w6 * dsig(sum_o1)
            d_h1_d_w1 = x[0] * dsig(sum_h1)
            d_h1_d_w2 = x[1] * dsig(sum_h1)
            d_h1_d_b1 = dsig(sum_h1)
            d_h2_d_w3 = x[0] * dsig(sum_h2)
            d_h2_d_w4 = x[1] * dsig(sum_h2)
            d_h2_d_b2 = dsig(sum_h2)
            w1 -= learn_rate * (d_L_d_ypred * d_ypred_d_h1 * d_h1_d_w1)
            w2 -= learn_rate * (d_L_d_ypred * d_ypred_d_h1 * d_h1_d_w2)
            b1 -= learn_rate * (d_L_d_ypred * d_ypred_d_h1 * d_h1_d_b1)
            w3 -= learn_rate * (d_L_d_ypred * d_ypred_d_h2 * d_h2_d_w3)
            w4 -= learn_rate * (d_L_d_ypred * d_ypred_d_h2 * d_h2_d_w4)
            b2 -= learn_rate * (d_L_d_ypred * d_ypred_d_h2 * d_h2_d_b2)
            w5 -= learn_rate * (d_L_d_ypred * d_ypred_d_w5)
            w6 -= learn_rate * (d_L_d_ypred * d_ypred_d_w6)
            b3 -= learn_rate * (d_L_d_ypred * d_ypred_d_b3)
        total = 0.0
        for x, y_true in zip(data, y_trues):
            h1 = sig(w1 * x[0] + w2 * x[1] + b1)
            h2 = sig(w3 * x[0] + w4 * x[1] + b2)
            y_pred = sig(w5 * h1 + w6 * h2 + b3)
            total += (y_true - y_pred) ** 2
        losses.append(float(total / len(data)))
    final = dict(zip(("w1", "w2", "w3", "w4", "w5", "w6", "b1", "b2", "b3"),
                     (float(v) for v in (w1, w2, w3, w4, w5, w6, b1, b2, b3))))
    return losses, final


_ACT = {
    "sigmoid": lambda s: 1 / (1 + mpmath.exp(-s)),
    "tanh": mpmath.tanh,
    "relu": lambda s: s if s > 0 else mpmath.mpf(0),
    "linear": lambda s: s,
}


def mp_loss(scenario, params: dict, sample_index: int):
    """One sample's loss at 50 digits, from the scenario's layers and parameters."""
    sample = scenario.samples[sample_index]
    values = {name: mpmath.mpf(x) for name, x in zip(scenario.inputs, sample.x)}
    p = {k: mpmath.mpf(v) for k, v in params.items()}
    by_layer: dict[int, list] = {}
    for n in scenario.neurons:
        by_layer.setdefault(n.layer, []).append(n)
    for li, layer in enumerate(scenario.layers):
        sums = {}
        for n in by_layer[li]:
            s = mpmath.mpf(0)
            for w, a in n.weights:
                s += p[w] * values[a]
            if n.bias:
                s += p[n.bias]
            sums[n.name] = s
        if layer.activation == "softmax":
            m = max(sums.values())
            es = {k: mpmath.exp(v - m) for k, v in sums.items()}
            tot = sum(es.values())
            values.update({k: e / tot for k, e in es.items()})
        else:
            values.update({k: _ACT[layer.activation](v) for k, v in sums.items()})
    outs = [values[o] for o in scenario.outputs]
    ys = [mpmath.mpf(y) for y in sample.y]
    if scenario.loss == "mse":
        return sum((y - o) ** 2 for y, o in zip(ys, outs)) / len(outs)
    if scenario.loss == "binary_cross_entropy":
        (y,), (o,) = ys, outs
        return -(y * mpmath.log(o) + (1 - y) * mpmath.log(1 - o))
    return -sum(y * mpmath.log(o) for y, o in zip(ys, outs) if y != 0)


def mp_gradient(scenario, params: dict, sample_index: int, name: str, h: str = "1e-20"):
    """Central difference of ``mp_loss`` at 50 digits: error far below 1e-16."""
    step = mpmath.mpf(h)
    up = dict(params)
    down = dict(params)
    up[name] = mpmath.mpf(params[name]) + step
    down[name] = mpmath.mpf(params[name]) - step
    return float((mp_loss(scenario, up, sample_index) - mp_loss(scenario, down, sample_index)) / (2 * step))
