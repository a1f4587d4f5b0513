"""The matrix view (m): the current op's layer as s = W·x + b, ∂L/∂W = δ·xᵀ and
W ← W − η·∂L/∂W; every entry read back from the screen is dbg.value of the name it
stands for (· where not computed yet), the current op's entry is the highlighted one,
big layers elide rows and columns around it."""

from __future__ import annotations

import math
import re

import pytest

import nnstep
from nnstep.matrix import layer_forms, layer_of
from nnstep.tui.app import NNStepApp
from nnstep.tui.components.labels import WRITE
from nnstep.tui.components.matrix import MatrixView, Snapshot, render_form, window
from nnstep.tui.components.network import NetworkView
from nnstep.tui.testing import run_async_tests, settle, wait_idle


def close(shown: str, value: float) -> bool:
    """``shown`` is ``value`` to the digits it has."""
    if shown in ("nan", "inf", "-inf"):
        return shown == str(value) or (shown == "nan" and math.isnan(value))
    digits = len(re.sub(r"[^0-9]", "", shown.split("e")[0]).lstrip("0")) or 1
    return math.isclose(float(shown), value, rel_tol=6 * 10.0 ** -digits, abs_tol=10.0 ** -(digits + 1))


def test_layer_forms_name_the_notes_quantities():
    dbg = nnstep.Debugger(nnstep.load_scenario("note-network"))
    first, second = layer_forms(dbg.program)
    assert first.weights == (("w1", "w2"), ("w3", "w4")) and first.inputs == ("x1", "x2")
    assert first.biases == ("b1", "b2") and first.sums == ("sum_h1", "sum_h2") and first.outputs == ("h1", "h2")
    assert first.gradients == (("d_L_d_w1", "d_L_d_w2"), ("d_L_d_w3", "d_L_d_w4"))
    assert first.deltas == ("d_L_d_b1", "d_L_d_b2")
    assert second.weights == (("w5", "w6"),) and second.inputs == ("h1", "h2") and second.sums == ("sum_o1",)
    forms = (first, second)
    by_name = dbg.program.by_name
    assert [layer_of(forms, by_name[n]) for n in ("sum_h1", "h2", "sum_o1", "L", "d_L_d_ypred", "d_L_d_w1",
                                                  "d_h1_d_w1", "d_L_d_b3", "w6", "b1")] == [0, 0, 1, 1, 1, 0, 0, 1, 1, 0]
    assert layer_of(forms, None) == 0
    assert layer_forms(nnstep.Debugger(nnstep.load_scenario("circuit")).program) == ()


@pytest.mark.parametrize("stem", ["note-network", "relu-softmax", "two-moons", "iris"])
def test_delta_is_the_gradient_of_the_sum(stem):
    """δ = ∂L/∂b is ∂L/∂s, and each ∂L/∂W entry is δ·x (up to rounding), softmax outputs too."""
    dbg = nnstep.Debugger(nnstep.load_scenario(stem))
    dbg.finish_phase(), dbg.finish_phase(), dbg.finish_phase()
    assert dbg.phase == "backward" and dbg.next_op.phase == "update"
    forms = layer_forms(dbg.program)
    assert {n for f in forms for n in f.names()} <= set(dbg.program.slot)
    for form in forms:
        for i, row in enumerate(form.gradients):
            for j, g in enumerate(row):
                assert math.isclose(dbg.value(g), dbg.value(form.deltas[i]) * dbg.value(form.inputs[j]),
                                    rel_tol=1e-12, abs_tol=1e-300)


def test_a_layer_without_biases_has_no_delta():
    dbg = nnstep.Debugger(nnstep.load_scenario("one-weight"))
    (form,) = layer_forms(dbg.program)
    assert form.biases == () and form.deltas == () and form.gradients == (("d_L_d_w1",),)


def test_window_keeps_the_current_index():
    assert window(4, 4, 2) == [0, 1, 2, 3]
    assert window(16, 5, 0) == [0, 1, 2, 3, 4, None]
    assert window(16, 5, 9) == [None, 7, 8, 9, 10, 11, None]
    assert window(16, 5, 15) == [None, 11, 12, 13, 14, 15]


def check_entries(app: NNStepApp) -> tuple[MatrixView, list[str]]:
    """Every entry on screen is dbg.value of its name; the current op's entry is highlighted."""
    view = app.query_one(MatrixView)
    dbg = app.dbg
    lines = view.lines(view.size.width, view.size.height)
    plain = [t.plain for t in lines]
    forms = layer_forms(dbg.program)
    layer = layer_of(forms, dbg.current_op)
    assert plain[0].startswith(f"layer {layer + 1} of {len(forms)} ")
    assert view.cells
    highlighted = []
    for y, x, name in view.cells:
        token = plain[y][x:].split()[0]
        v = dbg.value(name)
        assert (token == "·") if v is None else close(token, v), (name, token, v)
        if any(s.style == WRITE and s.start <= x < s.end for s in lines[y].spans):
            highlighted.append(name)
    op = dbg.current_op.name if dbg.current_op else ""
    assert highlighted == ([op] if op in {n for _, _, n in view.cells} else []), (op, highlighted)
    return view, plain


async def test_every_op_of_a_sample_at_120x36():
    app = NNStepApp("note-network")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("m")
        assert app.slot == "matrix"
        dbg = app.dbg
        seen = set()
        for _ in range(dbg.op_count):
            await pilot.press("n")
            await pilot.pause()
            view, plain = check_entries(app)
            text = "\n".join(plain)
            form = {"forward": "s = W·x + b", "loss": "s = W·x + b", "backward": "∂L/∂W = δ·xᵀ",
                    "update": "W ← W − η·∂L/∂W"}[dbg.phase]
            assert form in plain[0]
            if dbg.current_op.name in {n for _, _, n in view.cells}:
                seen.add(dbg.current_op.name)
            assert "\n…" not in text  # nothing elided: the note's network fits
        # the current entry was on screen at the forward sums, the gradients and the updates
        assert {"sum_h1", "h1", "sum_o1", "d_L_d_w1", "d_L_d_w5", "d_L_d_b1", "w1", "w6", "b1", "b3"} <= seen
        await pilot.press("m")
        assert app.slot == "network" and app.query_one(NetworkView).display


async def test_80x24_the_notes_layer_fits():
    app = NNStepApp("note-network")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("m", "n")  # sum_h1
        await pilot.pause()
        view, plain = check_entries(app)
        assert "…" not in "\n".join(plain[2:])
        await pilot.press("n")  # h1: the activation's entry
        await pilot.pause()
        view, plain = check_entries(app)
        assert "h1" in {n for _, _, n in view.cells}


async def test_iris_elides_around_the_current_entry():
    app = NNStepApp("iris")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_idle(app, pilot)  # not settle: the matrix needs no formulas (1,631 of them)
        dbg = app.dbg
        for name in ("sum_h2_9", "d_L_d_w200"):
            app.goto(dbg.program.by_name[name].index + 1)
            await wait_idle(app, pilot)
            if app.slot != "matrix":
                await pilot.press("m")
            await pilot.pause()
            view, plain = check_entries(app)
            assert dbg.current_op.name == name and name in {n for _, _, n in view.cells}
            assert "…" in "\n".join(plain) and "16×16" in plain[0]
        view.focus()
        await pilot.press("z")  # zoomed: more of the layer
        await pilot.pause()
        before = len(view.cells)
        view, plain = check_entries(app)
        assert view.is_maximized and len(view.cells) >= before


@pytest.mark.parametrize("size", [(30, 8), (74, 15), (118, 33)])
def test_every_size_and_op_of_iris_renders_true_entries(size):
    """Pure rendering (no app) of iris's ops, every 7th, at three pane sizes: no failure,
    the activations' and sums' entries on screen when current, every entry its name's value."""
    dbg = nnstep.Debugger(nnstep.load_scenario("iris"))
    forms = layer_forms(dbg.program)
    for k in range(0, dbg.op_count, 7):
        dbg.goto(k + 1)
        op = dbg.current_op
        layer = layer_of(forms, op)
        values = {n: dbg.value(n) for n in forms[layer].names()}
        snap = Snapshot(forms, layer, dbg.phase, op.name, frozenset(op.reads), values, len(forms), 0.1)
        lines, cells = render_form(snap, *size, 8)
        for y, x, name in cells:
            token = lines[y].plain[x:].split()[0]
            v = values[name]
            assert (token == "·") if v is None else close(token, v), (name, token, v)
        if op.kind in ("sum", "activation") and op.phase == "forward":
            assert op.name in {n for _, _, n in cells}, (op.name, size)


async def test_a_layer_without_biases_shows_its_gradients_alone():
    app = NNStepApp("one-weight")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("m", "f", "f", "f")  # to the end of the backward phase
        await pilot.pause()
        view, plain = check_entries(app)
        assert "∂L/∂W (δ = ∂L/∂s has no op of its own in a layer without biases)" in plain[0]
        assert [n for _, _, n in view.cells] == ["d_L_d_w1"] and app.dbg.value("d_L_d_w1") is not None


async def test_a_formula_graph_says_where_its_picture_is():
    app = NNStepApp("circuit")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("m")
        await pilot.pause()
        assert "formula graph is drawn as a circuit" in app.query_one(MatrixView).plain()


run_async_tests(globals())
