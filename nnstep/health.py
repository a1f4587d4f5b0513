"""Health hints a teacher would point at: neurons that have stopped learning, and
gradients that vanish or explode from layer to layer.

Everything is measured under one set of parameters (those at the debugger's
position), over the samples of the scenario:

- a sigmoid or tanh neuron is **saturated** on a sample when its output is within
  :data:`EPS` of a bound (sigmoid: below ``EPS`` or above ``1 - EPS``; tanh: beyond
  ``±(1 - EPS)``), so its local derivative σ′ = σ(1 − σ) is below ``EPS`` and tanh′
  = 1 − tanh² below ``2·EPS``: the gradient reaching its weights is nearly 0;
  it is *flagged* when it is saturated on every sample;
- a ReLU is **dead** when its output is 0 on every sample (its sum ≤ 0): its
  derivative is 0, so its weights never change;
- per layer, the mean of ``|∂L/∂w|`` over the layer's weights and the samples (each
  sample's gradient, as its backward pass computes it), and the **ratio** of each
  layer's mean to the next layer's: below :data:`VANISHING` the gradient *vanishes*
  on its way back; a mean above :data:`EXPLODING` (or inf or nan) *explodes*.

Only layered networks have neurons and layers; a formula graph gets no hints.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .predict import neuron_values
from .program import Program

#: How close to a bound a sigmoid/tanh output is to count as saturated.
EPS = 1e-3
#: A layer's mean |∂L/∂w| below this fraction of the next layer's: vanishing.
VANISHING = 1e-2
#: A layer's mean |∂L/∂w| above this: exploding.
EXPLODING = 1e3
#: Op evaluations the gradient summary may take (samples x ops up to the updates);
#: beyond it the summary is over the first samples that fit, and says so.
MAX_WORK = 2_000_000
#: Rows x forward ops up to which the neuron flags are computed op by op (networks
#: the NumPy path cannot run: custom activations).
MAX_FLAG_WORK = 200_000


@dataclass(frozen=True)
class NeuronHealth:
    name: str
    layer: int  # 0-based
    activation: str
    saturated: int  # samples on which a sigmoid/tanh output is within EPS of a bound
    dead: bool  # a ReLU whose output is 0 on every sample
    samples: int

    @property
    def flag(self) -> str:
        """``"saturated"`` (on every sample), ``"dead"`` or ``""``."""
        if self.dead:
            return "dead"
        if self.samples and self.saturated == self.samples:
            return "saturated"
        return ""


@dataclass(frozen=True)
class LayerHealth:
    index: int  # 0-based
    activation: str
    neurons: tuple[str, ...]
    weights: int
    mean_grad: float  # mean |∂L/∂w| over the layer's weights and the samples measured
    ratio: float | None  # mean_grad / the next layer's (None for the last layer)

    @property
    def flag(self) -> str:
        """``"exploding"``, ``"vanishing"`` or ``""``."""
        if not math.isfinite(self.mean_grad) or self.mean_grad > EXPLODING:
            return "exploding"
        if self.ratio is not None and self.ratio < VANISHING:
            return "vanishing"
        return ""


@dataclass(frozen=True)
class Health:
    neurons: tuple[NeuronHealth, ...]
    layers: tuple[LayerHealth, ...]
    samples: int  # samples the neurons were measured on (all of them)
    grad_samples: int  # samples the gradients were averaged over (the first ones)

    def flagged(self) -> list[NeuronHealth]:
        return [n for n in self.neurons if n.flag]


def applies(program: Program) -> bool:
    """Whether the program has layers of neurons to look at."""
    sc = program.scenario
    return sc.graph is None and bool(sc.layers) and bool(sc.samples)


def saturated(activation: str, a: np.ndarray) -> np.ndarray:
    """Where a sigmoid or tanh output ``a`` is within :data:`EPS` of a bound."""
    if activation == "sigmoid":
        return (a < EPS) | (a > 1.0 - EPS)
    if activation == "tanh":
        return np.abs(a) > 1.0 - EPS
    return np.zeros(a.shape, dtype=bool)


def neurons(program: Program, params: Sequence[float]) -> tuple[NeuronHealth, ...]:
    """Each neuron's saturation count and deadness over every sample."""
    if not applies(program):
        return ()
    sc = program.scenario
    X = [s.x for s in sc.samples]
    values = neuron_values(program, params, X)
    out = []
    for li, layer in enumerate(sc.layers):
        act = layer.activation if layer.custom is None else layer.custom.name
        for n in layer.neurons:
            a = values[n]
            dead = act == "relu" and bool(np.all(a == 0.0))
            out.append(NeuronHealth(n, li, act, int(np.count_nonzero(saturated(act, a))), dead, len(X)))
    return tuple(out)


def flags(program: Program, params: Sequence[float]) -> dict[str, str]:
    """The flagged neurons (``"saturated"``/``"dead"``) by name; empty where the check
    would cost more than :data:`MAX_FLAG_WORK` op evaluations."""
    from .vector import VectorNetwork

    if not applies(program):
        return {}
    if not VectorNetwork.supports(program) and len(program.scenario.samples) * program.loss_end > MAX_FLAG_WORK:
        return {}
    return {n.name: n.flag for n in neurons(program, params) if n.flag}


def layers(program: Program, params: Sequence[float]) -> tuple[tuple[LayerHealth, ...], int]:
    """Per layer, the mean |∂L/∂w| over its weights and the first samples that fit in
    :data:`MAX_WORK` op evaluations (all of them, usually); and how many samples that was."""
    if not applies(program):
        return (), 0
    sc = program.scenario
    update = program.phase_range("update")
    stop = update.start if update else len(program.ops)
    n = max(1, min(len(sc.samples), MAX_WORK // max(1, stop)))
    by_layer: list[list[str]] = [[] for _ in sc.layers]
    for neuron in sc.neurons:
        by_layer[neuron.layer] += [w for w, _ in neuron.weights]
    grads = [[program.slot[g] for w in ws if (g := f"d_{program.loss}_d_{w}") in program.slot] for ws in by_layer]
    totals = [0.0] * len(sc.layers)
    v = program.new_slots()
    p = list(params)
    for i in range(n):
        program.load(v, p, i)
        program.run(v, 0, stop)
        for li, slots in enumerate(grads):
            for s in slots:
                totals[li] += abs(v[s])
    means = [t / (len(g) * n) if g else math.nan for t, g in zip(totals, grads)]
    out = []
    for li, layer in enumerate(sc.layers):
        nxt = means[li + 1] if li + 1 < len(means) else None
        ratio = None if nxt is None else (means[li] / nxt if nxt else math.inf if means[li] else math.nan)
        act = layer.activation if layer.custom is None else layer.custom.name
        out.append(LayerHealth(li, act, tuple(layer.neurons), len(by_layer[li]), means[li], ratio))
    return tuple(out), n


def health(program: Program, params: Sequence[float]) -> Health:
    """Every hint under ``params``."""
    lay, n = layers(program, params)
    return Health(neurons(program, params), lay, len(program.scenario.samples), n)


WORDS = {
    "saturated": f"saturated: a sigmoid/tanh output within {EPS:g} of its bound on every sample, so its "
                 "derivative is ~0 and its weights barely learn",
    "dead": "dead: a ReLU whose output is 0 on every sample; its derivative is 0, so its weights never change",
    "vanishing": f"vanishing: this layer's mean |∂L/∂w| is below {VANISHING:g} × the next layer's",
    "exploding": f"exploding: mean |∂L/∂w| above {EXPLODING:g}, or not finite",
}
