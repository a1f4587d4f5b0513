"""The fast path is the stepper's arithmetic: equal to the last bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import nnstep
from nnstep.debugger import Debugger
from nnstep.fast import epoch_loss_function, sample_runner
from nnstep.scenario import bundled, parse_scenario
from nnstep.train import epoch_loss, train
from nnstep.vector import VectorNetwork

from test_properties import networks


def kernel_step(program, params, i):
    v = program.new_slots()
    program.load(v, params, i)
    program.run(v)
    return program.params_of(v)


def same(a: list[float], b: list[float]) -> bool:
    """Equal value by value, to the bit for numbers; nan where the other is nan (a network
    that overflows computes nan on both paths, and nan != nan)."""
    return len(a) == len(b) and all(x == y or (x != x and y != y) for x, y in zip(a, b))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_vector_path_equals_the_kernels_on_random_networks(text):
    sc = parse_scenario(text, "random.toml")
    prog = nnstep.build_program(sc)
    net = VectorNetwork(prog)
    p = list(Debugger(sc).initial)
    with np.errstate(all="ignore"):
        for _ in range(3):
            for i in range(len(sc.samples)):
                want = kernel_step(prog, p, i)
                got = net.step(np.array(p), i).tolist()
                assert same(got, want)
                p = want
            assert same([net.epoch_loss(p)], [epoch_loss(prog, p)])


@pytest.mark.parametrize("path", bundled(), ids=lambda p: p.stem)
def test_every_bundled_scenario_trains_the_same_on_both_paths(path):
    sc = nnstep.load_scenario(path)
    prog = nnstep.build_program(sc)
    p0 = list(Debugger(sc).initial)
    fast, loss_of = sample_runner(prog), epoch_loss_function(prog)
    p, q = list(p0), list(p0)
    for i in list(range(len(sc.samples)))[:40]:
        p = fast(p, i)
        q = kernel_step(prog, q, i)
        assert p == q
    assert loss_of(p) == epoch_loss(prog, q)
    if VectorNetwork.supports(prog):
        with np.errstate(all="ignore"):
            assert VectorNetwork(prog).step(np.array(p0), 0).tolist() == kernel_step(prog, p0, 0)


def test_long_runs_use_the_fast_path_and_land_exactly(monkeypatch):
    sc = nnstep.load_scenario("iris")
    dbg = Debugger(sc, epochs=2)
    calls = []
    runner = dbg._runner
    dbg._runner = lambda p, i: calls.append(i) or runner(p, i)
    dbg.finish_epoch()
    assert len(calls) == len(sc.samples) - 1  # every sample but the one it stops in
    fresh = Debugger(sc, epochs=2)
    fresh.goto(dbg.t)
    assert dbg.state() == fresh.state()
    result = train(dbg.program, dbg.initial, 1)
    assert dbg.parameters() == result.parameters and dbg.epoch_losses() == result.losses


def test_a_cancelled_run_stands_where_a_fresh_debugger_would():
    dbg = Debugger(nnstep.load_scenario(), epochs=50)
    seen = []
    stop = dbg.run_to_end(cancel=lambda: len(seen) > 25 or seen.append(1) is not None and False)
    assert stop.reason == "cancelled" and dbg.current_op is not None
    fresh = Debugger(nnstep.load_scenario(), epochs=50)
    fresh.goto(dbg.t)
    assert dbg.state() == fresh.state()
