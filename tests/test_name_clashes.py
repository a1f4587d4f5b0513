"""Layered networks whose names would give two quantities one op name are refused at
load time (issue #10 item 8): ``h_d_x``/``x_d_w1`` then ``h``/``z`` both give
``d_h_d_x_d_w1``; otherwise every op of the program has a name of its own."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from nnstep.build import build_program
from nnstep.errors import ScenarioError
from nnstep.scenario import parse_scenario, planned_names

CLASH = """\
[network]
inputs = ["x1"]
layers = [
  { neurons = ["h_d_x", "x_d_w1"], activation = "sigmoid" },
  { neurons = ["h", "z"], activation = "sigmoid" },
  { neurons = 1, activation = "sigmoid" },
]
loss = "mse"

[[samples]]
x = [1]
y = [0]
"""


def network(inputs, layers, softmax=False):
    rows = []
    for i, neurons in enumerate(layers):
        act = "softmax" if softmax and i == len(layers) - 1 else "sigmoid"
        rows.append(f"  {{ neurons = {json.dumps(neurons)}, activation = \"{act}\" }},")
    n_out = len(layers[-1])
    y = [1] + [0] * (n_out - 1)
    return (f"[network]\ninputs = {json.dumps(inputs)}\nlayers = [\n" + "\n".join(rows) + "\n]\n"
            f"loss = \"{'cross_entropy' if softmax else 'mse'}\"\n\n"
            f"[[samples]]\nx = {json.dumps([0.5] * len(inputs))}\ny = {json.dumps(y)}\n")


def test_the_reported_clash_is_refused_naming_both_neurons_and_the_op():
    with pytest.raises(ScenarioError) as info:
        parse_scenario(CLASH, "clash.toml")
    err = info.value
    assert len(err.errors) == 1
    assert err.key == "network.layers #2: neurons" and err.line == 5
    assert "'d_h_d_x_d_w1'" in err.reason
    assert "'h_d_x' (layer 1)" in err.reason and "'h' (layer 2)" in err.reason


def test_renaming_ends_the_clash():
    sc = parse_scenario(CLASH.replace('"h", "z"', '"g", "z"'), "ok.toml")
    names = [op.name for op in build_program(sc).ops if op.phase != "update"]
    assert len(names) == len(set(names))


FRAGMENTS = ["d", "_d_", "w1", "ypred", "sum_", "h", "L", "o1", "x", "_"]
ATOMS = ["h", "x", "z", "w1", "b1", "o1", "ypred", "L", "sum_h", "d"]
PLAIN = ["h", "x", "z", "o1", "h1"]  # atoms that are names a neuron may have
# free mixtures of the fragments, and atoms joined by '_d_' (which is how op names are made,
# so these are the names that can complete another neuron's op name)
name = st.one_of(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=4).map("".join),
                 st.lists(st.sampled_from(ATOMS), min_size=1, max_size=3).map("_d_".join))


@st.composite
def networks(draw):
    inputs = draw(st.lists(name, min_size=1, max_size=3))
    layers = draw(st.lists(st.lists(name, min_size=1, max_size=3), min_size=1, max_size=3))
    if len(layers) >= 2 and draw(st.booleans()):
        # plant the shape of a clash: a_d_x and x_d_<parameter> in one layer, a in the next
        a, x = draw(st.sampled_from(PLAIN)), draw(st.sampled_from(PLAIN))
        p = draw(st.sampled_from(["w1", "w2", "w3", "b1", "b2"]))
        k = draw(st.integers(0, len(layers) - 2))
        layers[k] = [f"{a}_d_{x}", f"{x}_d_{p}", *layers[k]][: draw(st.integers(2, 3))]
        layers[k + 1] = [a, *layers[k + 1]][:3]
    softmax = len(layers[-1]) >= 2 and draw(st.booleans())
    return inputs, layers, softmax


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
@example((["x1"], [["h_d_x", "x_d_w1"], ["h", "z"], ["o1"]], False))
@example((["x"], [["h_d_x"], ["h", "o1"]], True))
def test_adversarial_names_load_with_unique_op_names_or_are_refused(case):
    inputs, layers, softmax = case
    text = network(inputs, layers, softmax)
    try:
        sc = parse_scenario(text, "adversarial.toml")
    except ScenarioError as exc:
        lines = str(exc).splitlines()
        assert len(lines) == len(exc.errors)
        assert all(e.file == "adversarial.toml" and e.line and e.key for e in exc.errors), str(exc)
        return
    program = build_program(sc)
    written = [op.name for op in program.ops if op.phase != "update"]  # an update writes its parameter
    given_slots = [*sc.inputs, *program.targets, "learn_rate", *program.parameters]
    assert len(set(written)) == len(written), written
    assert not set(written) & set(given_slots)
    assert {op.name for op in program.ops if op.phase == "update"} == set(program.parameters)
    # the loader's plan of the names is the builder's
    assert sorted(p.name for p in planned_names(sc.inputs, sc.layers)) == sorted([*given_slots, *written])
