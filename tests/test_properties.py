"""Property tests over random small networks: every value is its SymPy formula,
every gradient a 50-digit finite difference, and stepping is exactly reversible."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnstep.debugger import Debugger
from nnstep.scenario import parse_scenario
from nnstep.symbolic import Symbolic

from reference import mp_gradient

ELEMENTWISE = ["sigmoid", "tanh", "relu", "linear"]


@st.composite
def networks(draw) -> str:
    n_in = draw(st.integers(1, 3))
    hidden = draw(st.lists(st.tuples(st.integers(1, 3), st.sampled_from(ELEMENTWISE)), max_size=2))
    loss = draw(st.sampled_from(["mse", "binary_cross_entropy", "cross_entropy"]))
    if loss == "mse":
        n_out, out_act = draw(st.integers(1, 2)), draw(st.sampled_from(ELEMENTWISE))
    elif loss == "binary_cross_entropy":
        n_out, out_act = 1, "sigmoid"
    else:
        n_out, out_act = draw(st.integers(2, 3)), "softmax"
    bias = draw(st.booleans())
    layers = [f'{{ neurons = {n}, activation = "{a}" }}' for n, a in hidden]
    layers.append(f'{{ neurons = {n_out}, activation = "{out_act}", bias = {str(bias).lower()} }}')
    real = st.floats(-3, 3, allow_nan=False).map(lambda x: round(x, 3))
    samples = []
    for i in range(draw(st.integers(1, 2))):
        x = [draw(real) for _ in range(n_in)]
        if loss == "mse":
            y = [draw(real) for _ in range(n_out)]
        elif loss == "binary_cross_entropy":
            y = [draw(st.sampled_from([0, 1]))]
        else:
            k = draw(st.integers(0, n_out - 1))
            y = [1 if j == k else 0 for j in range(n_out)]
        samples.append(f"[[samples]]\nname = \"s{i}\"\nx = {x}\ny = {y}\n")
    inputs = [f'"i{j}"' for j in range(n_in)]
    return (f'[network]\ninputs = [{", ".join(inputs)}]\nlayers = [{", ".join(layers)}]\nloss = "{loss}"\n'
            f"[parameters]\nseed = {draw(st.integers(0, 1000))}\n"
            f"[training]\nlearning_rate = 0.05\nepochs = 3\n" + "\n".join(samples))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_random_networks_values_and_gradients(text):
    sc = parse_scenario(text, "random.toml")
    dbg = Debugger(sc)
    sy = Symbolic(dbg.program)
    for _ in range(dbg.op_count):
        dbg.step()
        op = dbg.current_op
        values = dbg.values()
        if op.kind == "update":
            values[op.name] = dbg.old_parameters()[op.name]
        got = dbg.value(op.name)
        want = sy.evaluate(op, values)
        assert math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-14), (op.code, got, want)
    params = dbg.old_parameters()
    for p in dbg.program.parameters:
        got = dbg.value(f"d_L_d_{p}")
        want = mp_gradient(sc, params, 0, p)
        assert math.isclose(got, want, rel_tol=1e-10, abs_tol=1e-13), (p, got, want)


@settings(max_examples=30, deadline=None)
@given(networks(), st.data())
def test_k_forward_then_k_back_is_the_identity(text, data):
    dbg = Debugger(parse_scenario(text, "random.toml"))
    t = data.draw(st.integers(0, dbg.total))
    k = data.draw(st.integers(0, dbg.total - t))
    dbg.goto(t)
    before = dbg.state()
    for _ in range(k):
        dbg.step()
    for _ in range(k):
        dbg.back()
    assert dbg.state() == before
    fresh = Debugger(parse_scenario(text, "random.toml"))
    fresh.goto(t)
    assert fresh.state() == before
