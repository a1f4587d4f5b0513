"""The engine: the note's program line for line, true numbers, exact stepping."""

from __future__ import annotations

import contextlib
import io
import math
import random
import runpy
from pathlib import Path

import numpy as np
import pytest

import nnstep
from nnstep.build import build_program
from nnstep.debugger import Debugger
from nnstep.program import PHASES
from nnstep.symbolic import Symbolic
from nnstep.train import train

from reference import mp_gradient, note_style_train

SEED_PROGRAM = Path(__file__).resolve().parents[2] / "shared" / "seed" / "seed_network.py"

# The note's train(): its forward lines, its partials, then the updates neuron by neuron.
NOTE_FORWARD = ["sum_h1", "h1", "sum_h2", "h2", "sum_o1", "o1", "y_pred"]
NOTE_PARTIALS = ["d_L_d_ypred", "d_ypred_d_w5", "d_ypred_d_w6", "d_ypred_d_b3", "d_ypred_d_h1", "d_ypred_d_h2",
                 "d_h1_d_w1", "d_h1_d_w2", "d_h1_d_b1", "d_h2_d_w3", "d_h2_d_w4", "d_h2_d_b2"]
NOTE_UPDATES = ["w1", "w2", "b1", "w3", "w4", "b2", "w5", "w6", "b3"]


@pytest.fixture(scope="module")
def note():
    return nnstep.load_scenario()


def test_note_program_matches_the_note_line_for_line(note):
    prog = build_program(note)
    names = [op.name for op in prog.ops]
    assert [op.phase for op in prog.ops] == sorted((op.phase for op in prog.ops), key=PHASES.index)
    assert [op.name for op in prog.ops if op.phase == "forward"] == NOTE_FORWARD
    assert [op.name for op in prog.ops if op.phase == "loss"] == ["L"]
    assert [op.name for op in prog.ops if op.kind == "partial"] == NOTE_PARTIALS
    assert [op.name for op in prog.ops if op.phase == "update"] == NOTE_UPDATES
    by = prog.by_name
    assert by["sum_h1"].code == "sum_h1 = w1 * x1 + w2 * x2 + b1"
    assert by["h1"].code == "h1 = sigmoid(sum_h1)"
    assert by["d_L_d_ypred"].code == "d_L_d_ypred = -2 * (y_true - y_pred)"
    assert by["d_ypred_d_w5"].code == "d_ypred_d_w5 = h1 * deriv_sigmoid(sum_o1)"
    assert by["d_ypred_d_h1"].code == "d_ypred_d_h1 = w5 * deriv_sigmoid(sum_o1)"
    assert by["d_h1_d_w1"].code == "d_h1_d_w1 = x1 * deriv_sigmoid(sum_h1)"
    assert by["d_L_d_w1"].code == "d_L_d_w1 = d_L_d_ypred * d_ypred_d_h1 * d_h1_d_w1"
    assert by["d_L_d_w5"].code == "d_L_d_w5 = d_L_d_ypred * d_ypred_d_w5"
    assert by["w1"].code == "w1 -= learn_rate * d_L_d_w1"
    # every total is computed before the update that uses it
    for p in NOTE_UPDATES:
        assert names.index(f"d_L_d_{p}") < names.index(p)


def test_initial_parameters_follow_numpy_seed_order(note):
    for seed in (0, 7):
        rng = np.random.RandomState(seed)
        drawn = [rng.normal() for _ in range(9)]
        assert list(note.initial_parameters(seed).values()) == drawn
        assert list(note.initial_parameters(seed)) == ["w1", "w2", "w3", "w4", "w5", "w6", "b1", "b2", "b3"]


@pytest.mark.parametrize("seed", [0, 5])
def test_training_reproduces_the_note_style_loop(note, seed):
    dbg = Debugger(note, seed=seed, epochs=200)
    data = np.array([s.x for s in note.samples], dtype=np.int64)
    ys = np.array([s.y[0] for s in note.samples], dtype=np.int64)
    ref_losses, ref_params = note_style_train(data, ys, note.initial_parameters(seed), 200)
    result = train(dbg.program, dbg.initial, 200)
    assert result.losses == pytest.approx(ref_losses, rel=1e-12, abs=0)
    for k, v in ref_params.items():
        assert result.parameters[k] == pytest.approx(v, rel=1e-12)


@pytest.mark.skipif(not SEED_PROGRAM.exists(), reason="the study note's program is not beside the checkout")
@pytest.mark.parametrize("seed", [0, 3])
def test_train_matches_the_note_program_itself(note, seed):
    np.random.seed(seed)
    with contextlib.redirect_stdout(io.StringIO()):
        ns = runpy.run_path(str(SEED_PROGRAM))
    net = ns["network"]
    dbg = Debugger(note, seed=seed)
    result = train(dbg.program, dbg.initial, dbg.epochs)
    for k, v in result.parameters.items():
        assert v == pytest.approx(getattr(net, k), rel=1e-9)


def test_stepping_matches_headless_training_bit_for_bit(note):
    dbg = Debugger(note, seed=2, epochs=3)
    dbg.run_to_end()
    result = train(dbg.program, dbg.initial, 3)
    assert dbg.parameters() == result.parameters
    assert dbg.epoch_losses() == result.losses


def _check_values_against_sympy(dbg: Debugger, samples: int) -> int:
    sy = Symbolic(dbg.program)
    checked = 0
    for _ in range(samples * dbg.op_count):
        dbg.step()
        op = dbg.current_op
        got = dbg.value(op.name)
        values = dbg.values()
        if op.kind == "update":  # the formula reads the old value of the parameter
            values[op.name] = dbg.old_parameters()[op.name]
        want = sy.evaluate(op, values)
        assert got == pytest.approx(want, rel=1e-12, abs=1e-300), op.code
        checked += 1
    return checked


def test_every_value_agrees_with_its_sympy_formula(note):
    assert _check_values_against_sympy(Debugger(note), samples=4) == 4 * 40


def _check_gradients(dbg: Debugger, rel: float = 1e-9) -> None:
    """After the backward phase of the current sample, every d_L_d_<param> equals a
    50-digit central difference of the sample loss."""
    params = dbg.old_parameters()
    for p in dbg.program.parameters:
        got = dbg.value(f"d_L_d_{p}")
        want = mp_gradient(dbg.scenario, params, dbg.sample_index, p)
        assert got == pytest.approx(want, rel=rel, abs=1e-13), p


def test_every_gradient_agrees_with_high_precision_finite_differences(note):
    dbg = Debugger(note, seed=11)
    for _ in range(4):
        dbg.goto((dbg.t // dbg.op_count) * dbg.op_count + dbg.program.phase_range("backward").stop)
        _check_gradients(dbg, rel=1e-11)
        assert dbg.finite_difference("w1").estimate == pytest.approx(dbg.value("d_L_d_w1"), rel=1e-6, abs=1e-10)
        dbg.finish_sample()


def test_gradients_agree_with_torch_autograd(note):
    torch = pytest.importorskip("torch")
    dbg = Debugger(note, seed=4)
    dbg.goto(dbg.program.phase_range("backward").stop)
    p = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in dbg.old_parameters().items()}
    x = torch.tensor(note.samples[0].x, dtype=torch.float64)
    h1 = torch.sigmoid(p["w1"] * x[0] + p["w2"] * x[1] + p["b1"])
    h2 = torch.sigmoid(p["w3"] * x[0] + p["w4"] * x[1] + p["b2"])
    y = torch.sigmoid(p["w5"] * h1 + p["w6"] * h2 + p["b3"])
    ((note.samples[0].y[0] - y) ** 2).backward()
    for k, t in p.items():
        assert dbg.value(f"d_L_d_{k}") == pytest.approx(t.grad.item(), rel=1e-12, abs=1e-15)


# --------------------------------------------------------------------------- the stepper


def test_step_back_restores_state_exactly_across_boundaries(note):
    dbg = Debugger(note, epochs=3)
    K = dbg.op_count
    states = []
    for _ in range(2 * 4 * K + 5):  # over two epoch boundaries and many sample boundaries
        states.append(dbg.state())
        dbg.step()
    for want in reversed(states):
        dbg.back()
        assert dbg.state() == want


def test_random_jumps_equal_a_fresh_debugger(note):
    rng = random.Random(1)
    dbg = Debugger(note, epochs=20)
    for _ in range(60):
        t = rng.randrange(dbg.total + 1)
        dbg.goto(t)
        fresh = Debugger(note, epochs=20)
        fresh.goto(t)
        assert dbg.state() == fresh.state()
        assert dbg.values() == fresh.values() or all(
            (a is None and b is None) or a == b or (a != a and b != b)
            for a, b in zip(dbg.values().values(), fresh.values().values()))


def test_sparse_checkpoints_replay_exactly(note, monkeypatch):
    monkeypatch.setattr("nnstep.debugger.CHECKPOINT_BUDGET", 9 * 8 * 10)  # a checkpoint every ~40 samples
    dbg = Debugger(note, epochs=100)
    assert dbg._stride > 1
    dbg.goto(dbg.total - 3)
    ref = Debugger(note, epochs=100)
    ref.run_until(dbg.total - 3)
    assert dbg.state() == ref.state()
    for t in (dbg.total // 2 + 17, 123, dbg.total - 1):
        dbg.goto(t)
        fresh = Debugger(note, epochs=100)
        fresh.goto(t)
        assert dbg.state() == fresh.state()


def test_values_before_and_after(note):
    dbg = Debugger(note)
    assert dbg.current_op is None and dbg.at_start
    assert dbg.value("h1") is None and dbg.value("x1") == -2.0
    dbg.step(2)
    assert dbg.current_op.name == "h1"
    assert dbg.value("h1") == 1 / (1 + float(np.exp(-dbg.value("sum_h1"))))
    assert dbg.value("sum_h2") is None
    dbg.goto_position(0, 0, "w1")
    old = dbg.old_parameters()["w1"]
    assert dbg.value("w1") == old - 0.1 * dbg.value("d_L_d_w1")
    dbg.back()
    assert dbg.value("w1") == old


def test_position_and_phase(note):
    dbg = Debugger(note)
    dbg.goto_position(1, 2, "L")
    assert dbg.position() == (1, 2, dbg.program.by_name["L"].index)
    assert dbg.sample.name == "Charlie" and dbg.phase == "loss"
    assert dbg.epochs_done == 1 and len(dbg.epoch_losses()) == 1


def test_finish_phase_sample_epoch_and_end(note):
    dbg = Debugger(note, epochs=2)
    dbg.finish_phase()
    assert dbg.current_op.name == "y_pred"
    dbg.finish_phase()
    assert dbg.current_op.name == "L"
    dbg.finish_phase()
    assert dbg.current_op.name == "d_L_d_b2" and dbg.phase == "backward"
    dbg.finish_phase()
    assert dbg.current_op.name == "b3"
    dbg.finish_phase()  # the next sample's forward pass
    assert (dbg.sample_index, dbg.current_op.name) == (1, "y_pred")
    dbg.finish_sample()
    assert (dbg.sample_index, dbg.op_index) == (1, dbg.op_count - 1)
    dbg.finish_epoch()
    assert dbg.epochs_done == 1 and dbg.sample_index == 3
    stop = dbg.run_to_end()
    assert stop.reason == "end" and dbg.at_end
    dbg.restart()
    assert dbg.t == 0 and dbg.state() == Debugger(note, epochs=2).state()


def test_op_breakpoint_stops_after_the_op(note):
    dbg = Debugger(note)
    dbg.toggle_breakpoint("d_L_d_w1")
    stop = dbg.run_to_end()
    assert stop.reason == "breakpoint" and dbg.current_op.name == "d_L_d_w1"
    assert dbg.value("d_L_d_w1") is not None
    stop = dbg.run_to_end()
    assert stop.reason == "breakpoint" and dbg.sample_index == 1
    assert dbg.toggle_breakpoint("d_L_d_w1") is False
    assert dbg.run_to_end().reason == "end"


def test_condition_breakpoint(note):
    dbg = Debugger(note)
    cond = dbg.add_condition("L < 0.01")
    stop = dbg.run_to_end()
    assert stop.reason == "condition" and stop.detail == cond.text
    assert dbg.current_op.name == "L" and dbg.value("L") < 0.01
    # the first time it held: no earlier sample had such a small loss
    fresh = Debugger(note)
    for _ in range(dbg.t - 1):
        fresh.step()
        if fresh.current_op.name == "L":
            assert fresh.value("L") >= 0.01
    dbg.remove_condition(cond.text)
    dbg.add_condition("abs(d_L_d_w1) > 0.1 and L > 0")
    dbg.restart()
    stop = dbg.run_to_end()
    assert stop.reason in ("condition", "end")
    if stop.reason == "condition":
        assert abs(dbg.value("d_L_d_w1")) > 0.1


def test_bad_condition_is_a_formula_error(note):
    dbg = Debugger(note)
    for bad in ("__import__('os')", "L <", "nosuchname > 1", "L.real > 0"):
        with pytest.raises(nnstep.FormulaError):
            dbg.add_condition(bad)


def test_nonfinite_values_are_caught_and_stepping_back_works():
    sc = nnstep.load_scenario()
    wild = type(sc)(**{**sc.__dict__, "learning_rate": 1e308, "given": {"w1": 1e308}})
    dbg = Debugger(wild)
    dbg.stop_on_nonfinite = True
    stop = dbg.run_to_end()
    assert stop.reason == "nonfinite"
    x = dbg.value(dbg.current_op.name)
    assert not math.isfinite(x)
    before = dbg.t
    dbg.back()
    dbg.step()
    assert dbg.t == before and not math.isfinite(dbg.value(dbg.current_op.name))


def test_cancel_stops_a_long_run(note):
    dbg = Debugger(note)
    calls = []
    stop = dbg.run_to_end(cancel=lambda: len(calls) > 10 or calls.append(1) is not None and False)
    assert stop.reason == "cancelled" and not dbg.at_end and dbg.t > 0


def test_partials_are_sympys_diff_of_the_whole_definition(note):
    import sympy as sp

    for sc in (note, nnstep.scenario.parse_scenario(
            '[network]\ninputs = ["a", "b", "c"]\nlayers = [{ neurons = 3, activation = "relu" }, '
            '{ neurons = 2, activation = "tanh" }, { neurons = 3, activation = "softmax" }]\n'
            'loss = "cross_entropy"\n[[samples]]\nx = [1, 2, 3]\ny = [0, 1, 0]\n', "deep.toml")):
        prog = build_program(sc)
        sy = Symbolic(prog)
        checked = 0
        for op in prog.ops:
            if op.kind != "partial":
                continue
            f = sy.formula(op)
            wrt = sy.sym("y_pred" if op.wrt == "ypred" else op.wrt)
            fold = {sy.to_sympy(node): sy.sym(name) for name, node in op.subs}
            direct = sp.diff(f.definition, wrt).xreplace(fold)
            assert sp.simplify(direct - f.formula) == 0, op.code
            checked += 1
        assert checked == sum(op.kind == "partial" for op in prog.ops) > 10
