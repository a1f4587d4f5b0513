"""Independent references for the engine's numbers, written without the engine's code.

- ``note_style_train``: the study note's training loop written the note's way
  (NumPy scalars, one sample at a time), for the 2-2-1 sigmoid network.
- ``mp_loss``: one sample's loss computed in mpmath at high precision straight
  from the scenario's description, so central differences of it are exact to
  far below float64 and make an independent check of every gradient.
"""

from __future__ import annotations

import mpmath

from note_style import note_style_train  # noqa: F401 - re-exported for the tests

mpmath.mp.dps = 50


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
