"""nnstep.health: saturated and dead neurons, per-layer gradients, each checked against
values read independently from the op program (one sample's forward and backward ops)."""

import math
from pathlib import Path

import numpy as np
import pytest

import nnstep.health as H
from nnstep import Debugger
from nnstep.health import EPS, EXPLODING, VANISHING, flags, health, layers, neurons
from nnstep.predict import neuron_values
from nnstep.trace import trained

DEEP = """
name = "deep"
[network]
inputs = ["x"]
layers = [
  { neurons = 1, activation = "sigmoid" },
  { neurons = 1, activation = "sigmoid" },
  { neurons = 1, activation = "sigmoid" },
  { neurons = ["o1"], activation = "sigmoid" },
]
loss = "mse"
[parameters]
w1 = 8
w2 = 8
w3 = 8
w4 = 8
b1 = 0
b2 = 0
b3 = 0
b4 = -12
[[samples]]
x = [1]
y = [1]
"""

CUSTOM_OUTPUT = """
name = "custom output"
[network]
inputs = ["x1", "x2"]
layers = [
  { neurons = ["h1", "h2"], activation = "sigmoid" },
  { neurons = ["o1"], activation = { name = "softsign", formula = "x / (1 + abs(x))" } },
]
loss = "mse"
[parameters]
w1 = 9
w2 = 9
w3 = 0.1
w4 = 0.1
[[samples]]
x = [1, 1]
y = [0]
[[samples]]
x = [2, -1]
y = [1]
"""


def stepped_values(dbg: Debugger, params, names) -> list[dict[str, float]]:
    """Each sample's values of ``names`` after its forward and backward ops, op by op."""
    p = dbg.program
    stop = p.phase_range("update").start
    out = []
    for i in range(len(dbg.scenario.samples)):
        v = p.new_slots()
        p.load(v, list(params), i)
        p.run(v, 0, stop)
        out.append({n: v[p.slot[n]] for n in names})
    return out


def independent_flags(dbg: Debugger, params) -> dict[str, str]:
    neurons_ = [(n, layer.activation) for layer in dbg.scenario.layers for n in layer.neurons]
    rows = stepped_values(dbg, params, [n for n, _ in neurons_])
    found = {}
    for n, act in neurons_:
        vals = [r[n] for r in rows]
        if act == "relu" and all(v == 0 for v in vals):
            found[n] = "dead"
        elif act == "sigmoid" and all(v < EPS or v > 1 - EPS for v in vals):
            found[n] = "saturated"
        elif act == "tanh" and all(abs(v) > 1 - EPS for v in vals):
            found[n] = "saturated"
    return found


@pytest.mark.parametrize("name, epochs", [("iris", 0), ("iris", 3), ("relu-softmax", 0), ("note-network", 0),
                                          ("two-moons", 0), ("xor", 50)])
def test_flags_are_the_neurons_values_on_every_sample(name, epochs):
    dbg = Debugger(name)
    params = trained(dbg.program, dbg.initial, epochs)
    assert flags(dbg.program, params) == independent_flags(dbg, params)


def test_iris_starts_saturated_and_relu_softmax_has_a_dead_relu():
    dbg = Debugger("iris")
    got = flags(dbg.program, dbg.initial)
    assert len(got) == 10 and set(got.values()) == {"saturated"}
    assert sum(1 for n in got if n.startswith("h1_")) == 6  # the first tanh layer
    dbg = Debugger("relu-softmax")
    assert flags(dbg.program, dbg.initial) == {"h2": "dead"}


def test_partial_saturation_is_counted_not_flagged():
    dbg = Debugger("note-network")
    (h1, h2, o1) = neurons(dbg.program, dbg.initial)
    rows = stepped_values(dbg, dbg.initial, ["h1"])
    assert h1.saturated == sum(1 for r in rows if r["h1"] < EPS or r["h1"] > 1 - EPS) == 3
    assert h1.flag == "" and h1.samples == 4


def test_layer_means_are_the_backward_passes_gradients():
    dbg = Debugger("two-moons")
    params = trained(dbg.program, dbg.initial, 2)
    got, n = layers(dbg.program, params)
    assert n == 100
    by_layer: dict[int, list[str]] = {}
    for neuron in dbg.scenario.neurons:
        by_layer.setdefault(neuron.layer, []).extend(w for w, _ in neuron.weights)
    grads = [f"d_L_d_{w}" for ws in by_layer.values() for w in ws]
    rows = stepped_values(dbg, params, grads)
    for li, layer in enumerate(got):
        want = np.mean([[abs(r[f"d_L_d_{w}"]) for w in by_layer[li]] for r in rows])
        assert layer.mean_grad == pytest.approx(want, rel=1e-12)
    for a, b in zip(got, got[1:]):
        assert a.ratio == pytest.approx(a.mean_grad / b.mean_grad, rel=1e-15)
    assert got[-1].ratio is None


def test_diverging_explodes_after_two_epochs():
    dbg = Debugger("diverging")
    means = [layers(dbg.program, trained(dbg.program, dbg.initial, e))[0][0].mean_grad for e in range(4)]
    # L = (w x - y)^2, dL/dw = 2 x (w x - y): 27 at w = 0.5, then 8x per epoch
    assert means == [27.0, 216.0, 1728.0, 13824.0]
    flags_ = [layers(dbg.program, trained(dbg.program, dbg.initial, e))[0][0].flag for e in range(4)]
    assert flags_ == ["", "", "exploding", "exploding"] and 216.0 < EXPLODING < 1728.0
    late = layers(dbg.program, trained(dbg.program, dbg.initial, 400))[0][0]
    assert not math.isfinite(late.mean_grad) and late.flag == "exploding"


def test_a_deep_saturated_chain_vanishes(tmp_path: Path):
    path = tmp_path / "deep.toml"
    path.write_text(DEEP)
    dbg = Debugger(str(path))
    h = health(dbg.program, dbg.initial)
    assert [n.flag for n in h.neurons] == ["saturated", "saturated", "saturated", ""]
    assert [lay.flag for lay in h.layers] == ["vanishing", "vanishing", "vanishing", ""]
    for lay in h.layers[:-1]:
        assert lay.ratio < VANISHING
        # through one saturated sigmoid with weight 8 the gradient shrinks by 8·σ'(8)
        s = 1 / (1 + math.exp(-8))
        assert lay.ratio == pytest.approx(8 * s * (1 - s), rel=0.02)


def test_networks_off_the_numpy_path_are_measured_op_by_op(tmp_path: Path):
    path = tmp_path / "custom.toml"
    path.write_text(CUSTOM_OUTPUT)
    dbg = Debugger(str(path))
    values = neuron_values(dbg.program, dbg.initial, [s.x for s in dbg.scenario.samples])
    rows = stepped_values(dbg, dbg.initial, ["h1", "h2", "o1"])
    for n in ("h1", "h2", "o1"):
        assert values[n].tolist() == [r[n] for r in rows]
    assert flags(dbg.program, dbg.initial) == independent_flags(dbg, dbg.initial)


def test_work_is_bounded(monkeypatch):
    dbg = Debugger("iris")
    monkeypatch.setattr(H, "MAX_WORK", 10 * dbg.program.phase_range("update").start)
    h = health(dbg.program, dbg.initial)
    assert h.grad_samples == 10 and h.samples == 150
    monkeypatch.setattr(H, "MAX_FLAG_WORK", 0)
    assert flags(dbg.program, dbg.initial)  # the NumPy path is cheap: still measured


def test_a_formula_graph_gets_no_hints():
    dbg = Debugger("circuit")
    h = health(dbg.program, dbg.initial)
    assert h.neurons == () and h.layers == () and flags(dbg.program, dbg.initial) == {}
