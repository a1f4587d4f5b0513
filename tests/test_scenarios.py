"""The bundled scenario library: every file loads, shows the figure it is built
around, trains, and agrees with SymPy and with 50-digit finite differences."""

from __future__ import annotations

import contextlib
import io
import math
import runpy
from pathlib import Path

import mpmath
import pytest

import nnstep
from nnstep.debugger import Debugger
from nnstep.expr import Binary, Call, Name, Num, Unary
from nnstep.scenario import bundled, iter_descriptions, scenario_dir
from nnstep.train import epoch_loss, train

BUNDLED = {
    "note-network", "one-weight", "one-neuron", "feed-forward", "relu-softmax",
    "xor", "two-moons", "iris", "circuit", "sigmoid-neuron", "diverging",
}


def sigmoid(s: float) -> float:
    return 1.0 / (1.0 + math.exp(-s))


# --------------------------------------------------------------------------- an independent reference

_MP_FUNCS = {
    "exp": mpmath.exp,
    "log": lambda a: mpmath.log(a) if a > 0 else (-mpmath.inf if a == 0 else mpmath.nan),
    "tanh": mpmath.tanh,
    "sigmoid": lambda s: 1 / (1 + mpmath.exp(-s)),
    "relu": lambda s: s if s > 0 else mpmath.mpf(0),
    "sqrt": mpmath.sqrt,
    "abs": abs,
    "max": max,
    "min": min,
}
_MP_ACTS = {k: _MP_FUNCS[k] for k in ("sigmoid", "tanh", "relu")} | {"linear": lambda s: s}


def mp_eval(node, env: dict):
    """A parsed formula evaluated in mpmath (not through nnstep's compilers)."""
    if isinstance(node, Num):
        return mpmath.mpf(node.value)
    if isinstance(node, Name):
        return env[node.id]
    if isinstance(node, Unary):
        x = mp_eval(node.operand, env)
        return -x if node.op == "-" else x
    if isinstance(node, Binary):
        a, b = mp_eval(node.left, env), mp_eval(node.right, env)
        return {"+": a + b, "-": a - b, "*": a * b}.get(node.op) if node.op in "+-*" else (
            a / b if node.op == "/" else a**b)
    if isinstance(node, Call):
        return _MP_FUNCS[node.func](*[mp_eval(a, env) for a in node.args])
    raise TypeError(node)


def mp_loss(sc, params: dict, sample_index: int):
    """One sample's loss at 50 digits, straight from the scenario's description."""
    sample = sc.samples[sample_index]
    p = {k: mpmath.mpf(v) for k, v in params.items()}
    if sc.graph is not None:
        env = {n: mpmath.mpf(x) for n, x in zip(sc.graph.inputs, sample.x)} | p
        for node in sc.graph.nodes:
            env[node.name] = mp_eval(node.expr, env)
        return env[sc.graph.output]
    values = {n: mpmath.mpf(x) for n, x in zip(sc.inputs, sample.x)}
    for li, layer in enumerate(sc.layers):
        sums = {}
        for n in (n for n in sc.neurons if n.layer == li):
            s = sum((p[w] * values[a] for w, a in n.weights), mpmath.mpf(0))
            sums[n.name] = s + p[n.bias] if n.bias else s
        if layer.activation == "softmax":
            total = sum(mpmath.exp(s) for s in sums.values())
            values.update({k: mpmath.exp(s) / total for k, s in sums.items()})
        elif layer.custom is not None:
            values.update({k: mp_eval(layer.custom.expr, {"x": s}) for k, s in sums.items()})
        else:
            values.update({k: _MP_ACTS[layer.activation](s) for k, s in sums.items()})
    outs = [values[o] for o in sc.outputs]
    ys = [mpmath.mpf(y) for y in sample.y]
    if sc.loss == "mse":
        return sum((y - o) ** 2 for y, o in zip(ys, outs)) / len(outs)
    if sc.loss == "binary_cross_entropy":
        (y,), (o,) = ys, outs
        return -(y * mpmath.log(o) + (1 - y) * mpmath.log(1 - o))
    return -sum(y * mpmath.log(o) for y, o in zip(ys, outs) if y != 0)


def mp_gradient(sc, params: dict, sample_index: int, name: str) -> float:
    """Central difference of ``mp_loss`` with h = 1e-20 at 50 digits: exact far below float64."""
    with mpmath.workdps(50):
        h = mpmath.mpf("1e-20")
        up, down = dict(params), dict(params)
        up[name] = mpmath.mpf(params[name]) + h
        down[name] = mpmath.mpf(params[name]) - h
        return float((mp_loss(sc, up, sample_index) - mp_loss(sc, down, sample_index)) / (2 * h))


def gradient_op(program, param: str) -> str:
    """The op holding d<loss>/d<param>: what the parameter's update reads."""
    return program.by_name[param].reads[2]


def check_values_against_sympy(dbg: Debugger, ops: int, every: int = 1) -> int:
    """Step ``ops`` ops; every value equals its SymPy formula evaluated right after it ran."""
    from nnstep.symbolic import Symbolic

    sy = Symbolic(dbg.program)
    checked = 0
    for i in range(ops):
        dbg.step()
        op = dbg.current_op
        if i % every and op.phase not in ("loss", "update"):
            continue
        values = dbg.values()
        if op.kind == "update":  # the formula reads the parameter's old value
            values[op.name] = dbg.old_parameters()[op.name]
        want = sy.evaluate(op, values)
        assert dbg.value(op.name) == pytest.approx(want, rel=1e-12, abs=1e-15), op.code
        checked += 1
    return checked


def check_gradients(dbg: Debugger, every: int = 1) -> int:
    """At the end of the current sample's backward phase: every parameter's gradient
    equals a 50-digit central difference of the sample loss."""
    program = dbg.program
    base = (dbg.t // dbg.op_count) * dbg.op_count
    dbg.goto(base + program.phase_range("backward").stop)
    params = dbg.old_parameters()
    names = program.parameters[::every]
    for p in names:
        got = dbg.value(gradient_op(program, p))
        want = mp_gradient(dbg.scenario, params, dbg.sample_index, p)
        assert got == pytest.approx(want, rel=1e-9, abs=1e-14), p
    return len(names)


# --------------------------------------------------------------------------- the library


def test_every_bundled_scenario_is_listed_with_a_one_line_description():
    listed = list(iter_descriptions())
    stems = [stem for stem, _, _ in listed]
    assert set(stems) == BUNDLED
    assert stems[0] == "note-network"  # the default comes first
    for stem, name, description in listed:
        assert name != "(broken)", description
        assert name and description and "\n" not in description, stem
        assert len(description) <= 200, stem
    assert {p.stem for p in bundled()} == BUNDLED
    assert all(p.parent == scenario_dir() for p in bundled())


def test_bundled_file_names_are_short_kebab_case():
    for path in bundled():
        assert path.stem.replace("-", "").isalpha() and path.stem.islower(), path.name
        assert len(path.stem) <= 16


@pytest.mark.parametrize("stem", sorted(BUNDLED))
def test_each_bundled_scenario_runs_a_training_step(stem):
    sc = nnstep.load_scenario(stem)
    dbg = Debugger(sc)
    dbg.finish_sample()
    assert dbg.t == dbg.op_count
    assert dbg.current_op.phase == "update"
    assert all(math.isfinite(v) for v in dbg.parameters().values())
    assert math.isfinite(dbg.value(dbg.program.loss))
    # headless training takes the very same steps
    result = train(dbg.program, dbg.initial, 1) if len(sc.samples) == 1 else None
    if result is not None:
        assert list(result.parameters.values()) == list(dbg.parameters().values())


# --------------------------------------------------------------------------- the published figures


def test_one_weight_derivative_is_2x_wx_minus_y():
    import sympy as sp

    from nnstep.symbolic import Symbolic

    dbg = Debugger("one-weight")
    (sample,) = dbg.scenario.samples
    (x,), (y,) = sample.x, sample.y
    w = dbg.initial[0]
    dbg.run_to_op("d_L_d_w1")
    assert dbg.value("L") == (w * x - y) ** 2
    assert dbg.value("d_L_d_w1") == pytest.approx(2 * x * (w * x - y), rel=1e-15)
    # and symbolically: written in w1, x and y_true it is exactly the note's 2x(wx - y)
    sy = Symbolic(dbg.program)
    expanded = sy.expanded(dbg.program.by_name["d_L_d_w1"])
    w1, xs, yt = (sy.sym(n) for n in ("w1", "x", "y_true"))
    assert sp.simplify(expanded - 2 * xs * (w1 * xs - yt)) == 0
    # the update is the note's w_new = w_old - learning_rate * derivative
    dbg.finish_sample()
    assert dbg.value("w1") == w - dbg.scenario.learning_rate * 2 * x * (w * x - y)
    # repeated, the loss goes to 0 and w to y / x
    result = train(dbg.program, dbg.initial, dbg.scenario.epochs)
    assert result.losses[-1] < 1e-12
    assert all(b < a for a, b in zip(result.losses, result.losses[1:]))
    assert result.parameters["w1"] == pytest.approx(y / x, rel=1e-7)


def test_one_neuron_outputs_sigmoid_of_7():
    dbg = Debugger("one-neuron")
    dbg.run_to_op("y_pred")
    assert dbg.value("sum_o1") == 0 * 2 + 1 * 3 + 4 == 7
    assert dbg.value("y_pred") == pytest.approx(0.99909, abs=5e-6)
    assert dbg.value("y_pred") == sigmoid(7)


def test_feed_forward_example_outputs_0_7216():
    dbg = Debugger("feed-forward")
    dbg.run_to_op("y_pred")
    assert dbg.value("sum_h1") == dbg.value("sum_h2") == 3.0
    assert dbg.value("h1") == dbg.value("h2") == pytest.approx(0.9526, abs=5e-5)
    assert dbg.value("sum_o1") == dbg.value("h2")  # w5 = 0, w6 = 1, b3 = 0
    assert dbg.value("y_pred") == pytest.approx(0.7216, abs=5e-5)
    assert dbg.value("y_pred") == pytest.approx(sigmoid(sigmoid(3)), rel=1e-15)


def test_relu_softmax_hiking_example():
    dbg = Debugger("relu-softmax")
    dbg.run_to_op("L")
    assert dbg.value("sum_h2") == -1.0 and dbg.value("h2") == 0.0  # ReLU cuts it off
    assert (dbg.value("sum_hike"), dbg.value("sum_home")) == (5.0, 1.0)
    assert dbg.value("hike") == pytest.approx(0.982, abs=5e-4)
    assert dbg.value("home") == pytest.approx(0.018, abs=5e-4)
    assert dbg.value("hike") == pytest.approx(math.exp(5) / (math.exp(5) + math.exp(1)), rel=1e-15)
    assert dbg.value("L") == pytest.approx(-math.log(dbg.value("hike")), rel=1e-15)
    dbg.finish_sample()
    # no gradient reaches the weights of the switched-off neuron h2
    assert dbg.value("d_L_d_w3") == dbg.value("d_L_d_w4") == dbg.value("d_L_d_b2") == 0.0
    result = train(dbg.program, dbg.initial, 10)
    assert result.losses[-1] < result.losses[0] < dbg.value("L")


def test_xor_visibly_learns():
    sc = nnstep.load_scenario("xor")
    assert "100" in sc.description  # the epochs it needs are stated
    dbg = Debugger(sc)
    start = epoch_loss(dbg.program, dbg.initial)
    result = train(dbg.program, dbg.initial, 120)
    assert start > 0.2 and result.losses[20] > 0.15  # the plateau
    assert result.losses[-1] < 0.05  # ... and the drop
    params = list(result.parameters.values())
    v = dbg.program.new_slots()
    for i, sample in enumerate(sc.samples):
        dbg.program.sample_loss(params, i, v)
        assert round(v[dbg.program.slot["y_pred"]]) == sample.y[0], sample.name


def test_two_moons_loss_falls():
    sc = nnstep.load_scenario("two-moons")
    assert [len(layer.neurons) for layer in sc.layers] == [4, 4, 1]
    assert len(sc.samples) == 100
    assert sorted(s.y[0] for s in sc.samples) == [0.0] * 50 + [1.0] * 50
    dbg = Debugger(sc)
    start = epoch_loss(dbg.program, dbg.initial)
    result = train(dbg.program, dbg.initial, 5)
    assert all(b < a for a, b in zip([start, *result.losses], result.losses))
    assert result.losses[-1] < 0.2 < 0.9 < start


def test_iris_loss_falls():
    sc = nnstep.load_scenario("iris")
    assert [len(layer.neurons) for layer in sc.layers] == [16, 16, 3]
    assert sc.layers[-1].activation == "softmax" and sc.loss == "cross_entropy"
    assert len(sc.samples) == 150
    assert [sum(s.y[k] for s in sc.samples) for k in range(3)] == [50, 50, 50]
    assert (5.1, 3.5, 1.4, 0.2) in {s.x for s in sc.samples}  # Fisher's first setosa, in cm
    dbg = Debugger(sc)
    assert len(dbg.program.parameters) == 403
    start = epoch_loss(dbg.program, dbg.initial)
    result = train(dbg.program, dbg.initial, 2)
    assert start > 4 > 1.5 > result.losses[0] > result.losses[1]
    assert result.losses[1] < 0.5


def test_circuit_gradients():
    dbg = Debugger("circuit")
    dbg.run_to_op("d_f_d_y")
    assert (dbg.value("q"), dbg.value("f")) == (3.0, -12.0)
    assert dbg.value("d_f_d_q") == -4.0 and dbg.value("d_f_d_z") == 3.0
    assert dbg.value("d_f_d_x") == dbg.value("d_f_d_y") == -4.0


def test_sigmoid_neuron_gradients():
    dbg = Debugger("sigmoid-neuron")
    dbg.finish_phase()  # forward
    assert dbg.value("f") == pytest.approx(sigmoid(1.0), rel=1e-15)
    dbg.run_to_op("d_f_d_w2")
    got = [dbg.value(f"d_f_d_w{i}") for i in range(3)]
    assert got == pytest.approx([-0.19661193324148185, -0.3932238664829637, 0.19661193324148185], rel=1e-14)
    result = train(dbg.program, dbg.initial, 20)
    assert result.losses[-1] < result.losses[0] / 2


# --------------------------------------------------------------------------- SymPy and finite differences

#: (stem, ops between checks) — the scale case checks a sample of its 1,631 ops and 403 gradients.
STRIDE = {"iris": 7}


@pytest.mark.parametrize("stem", sorted(BUNDLED))
def test_every_value_agrees_with_its_sympy_formula(stem):
    dbg = Debugger(stem)
    samples = min(2, len(dbg.scenario.samples)) if dbg.op_count < 500 else 1
    checked = check_values_against_sympy(dbg, samples * dbg.op_count, every=STRIDE.get(stem, 1))
    assert checked >= samples * dbg.op_count // STRIDE.get(stem, 1)


@pytest.mark.parametrize("stem", sorted(BUNDLED))
def test_every_gradient_agrees_with_high_precision_finite_differences(stem):
    dbg = Debugger(stem)
    every = STRIDE.get(stem, 1)
    assert check_gradients(dbg, every) == len(dbg.program.parameters[::every])
    if len(dbg.scenario.samples) > 1 and every == 1:  # and once more, a few samples in
        dbg.goto(2 * dbg.op_count)
        check_gradients(dbg)


# --------------------------------------------------------------------------- the generators


def test_two_moons_file_is_what_its_generator_writes():
    tool = Path(__file__).resolve().parent.parent / "tools" / "make_moons.py"
    if not tool.exists():
        pytest.skip("not a source checkout")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(tool), run_name="__main__")
    assert out.getvalue() == (scenario_dir() / "two-moons.toml").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- the draw order of seeded parameters


def test_partly_given_parameters_draw_in_parameter_order_and_given_ones_use_up_their_draw():
    import numpy as np

    from nnstep.scenario import parse_scenario

    text = (scenario_dir() / "note-network.toml").read_text().replace("seed = 0", "seed = 7")
    none_given = parse_scenario(text, "a.toml").initial_parameters()
    some_given = parse_scenario(text.replace("seed = 7", "seed = 7\nw2 = 0.5\nb1 = -1"), "b.toml")
    params = some_given.initial_parameters()
    names = list(params)
    assert names == ["w1", "w2", "w3", "w4", "w5", "w6", "b1", "b2", "b3"]  # weights, then biases
    rs = np.random.RandomState(7)  # what the note's program draws after np.random.seed(7), one by one
    draws = [rs.normal() for _ in names]
    for name, draw in zip(names, draws):
        want = {"w2": 0.5, "b1": -1.0}.get(name, draw)
        assert params[name] == want, name
        if name not in ("w2", "b1"):
            assert params[name] == none_given[name]  # giving w2 and b1 moves no other draw
    # --seed redraws the rest the same way
    rs = np.random.RandomState(11)
    redrawn = some_given.initial_parameters(seed=11)
    assert [redrawn[n] for n in names] == [{"w2": 0.5, "b1": -1.0}.get(n, rs.normal()) for n in names]
