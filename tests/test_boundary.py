"""The decision boundary's picture (issue #16 item 2): predict.plane and the view's model."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from nnstep import Debugger
from nnstep.errors import NNStepError
from nnstep.predict import outputs, plane

pytest.importorskip("textual")

from nnstep.tui.components import boundary as bd  # noqa: E402

TWO_INPUTS = ["note-network", "xor", "two-moons", "relu-softmax"]


def trained(name: str, epochs: int) -> Debugger:
    dbg = Debugger(name)
    dbg.goto(min(dbg.total, epochs * dbg.op_count * dbg.sample_count))
    return dbg


@pytest.mark.parametrize("name", TWO_INPUTS)
def test_plane_is_outputs_at_every_grid_point(name):
    dbg = trained(name, 3)
    params = list(dbg.parameters().values())
    xs, ys = np.linspace(-3, 2, 7), np.linspace(4, -1, 5)
    got = plane(dbg.program, params, xs, ys)
    assert got.shape == (5, 7, len(dbg.program.scenario.outputs))
    for r, y in enumerate(ys):
        for c, x in enumerate(xs):
            assert got[r, c].tolist() == outputs(dbg.program, params, [[x, y]])[0].tolist()


def test_plane_needs_two_inputs():
    dbg = Debugger("iris")
    with pytest.raises(NNStepError, match="exactly 2 inputs, not 4"):
        plane(dbg.program, dbg.initial, [0.0], [0.0])


@pytest.mark.parametrize("name", TWO_INPUTS)
@pytest.mark.parametrize("cols,rows", [(40, 10), (13, 3)])
def test_every_cell_is_the_class_of_the_output_at_its_centre(name, cols, rows):
    dbg = trained(name, 20)
    program = dbg.program
    params = tuple(dbg.parameters().values())
    classes = bd.classes_for(program)
    pic = bd.evaluate(program, params, classes, cols, rows)
    assert pic.classes.shape == (2 * rows, cols)
    (x0, x1), (y0, y1) = pic.x_range, pic.y_range
    for r in range(2 * rows):
        for c in range(cols):
            # the point evaluated is the centre of this half cell
            assert pic.px[c] == pytest.approx(x0 + (c + 0.5) * (x1 - x0) / cols)
            assert pic.py[r] == pytest.approx(y1 - (r + 0.5) * (y1 - y0) / (2 * rows))
            out = outputs(program, params, [[pic.px[c], pic.py[r]]])[0]
            want = int(np.argmax(out)) if len(out) > 1 else int(out[0] >= 0.5)
            assert pic.classes[r, c] == want


def test_the_plane_spans_the_samples_with_a_margin_and_markers_sit_on_them():
    dbg = Debugger("note-network")
    program = dbg.program
    pic = bd.evaluate(program, dbg.initial, bd.classes_for(program), 50, 12)
    xs = [s.x[0] for s in program.scenario.samples]
    ys = [s.x[1] for s in program.scenario.samples]
    (x0, x1), (y0, y1) = pic.x_range, pic.y_range
    assert x0 < min(xs) and max(xs) < x1 and y0 < min(ys) and max(ys) < y1
    assert len(pic.markers) == len(xs)
    for (row, col), (cls, i) in pic.markers.items():
        s = program.scenario.samples[i]
        # the marker's cell covers the sample's point (a point on an edge may go either way)
        eps = 1e-9 * (x1 - x0 + y1 - y0)
        assert x0 + col * (x1 - x0) / 50 - eps <= s.x[0] <= x0 + (col + 1) * (x1 - x0) / 50 + eps
        assert y1 - (row + 1) * (y1 - y0) / 12 - eps <= s.x[1] <= y1 - row * (y1 - y0) / 12 + eps
        assert cls == int(s.y[0] >= 0.5)


def test_target_classes_and_glyphs_for_softmax_outputs():
    dbg = Debugger("relu-softmax")
    classes = bd.classes_for(dbg.program)
    assert not classes.single and classes.names == ("hike", "home")
    assert classes.of_target([1, 0]) == 0 and classes.of_target([0, 1]) == 1


def test_a_big_pane_is_evaluated_in_blocks_within_the_budget(monkeypatch):
    dbg = Debugger("two-moons")
    program = dbg.program
    calls: list[int] = []
    real = bd.plane

    def counting(program, params, xs, ys):
        calls.append(len(xs) * len(ys))
        return real(program, params, xs, ys)

    monkeypatch.setattr(bd, "plane", counting)
    pic = bd.evaluate(program, dbg.initial, bd.classes_for(program), 500, 200)
    assert calls[0] <= bd.MAX_POINTS
    assert pic.classes.shape == (400, 500)
    # every cell shows the output at the point its block was evaluated at
    for r, c in [(0, 0), (399, 499), (123, 321), (200, 17)]:
        out = outputs(program, dbg.initial, [[pic.px[c], pic.py[r]]])[0]
        assert pic.classes[r, c] == int(out[0] >= 0.5)
    slow = bd.evaluate(Debugger("relu-softmax").program, Debugger("relu-softmax").initial,
                       bd.classes_for(Debugger("relu-softmax").program), 500, 200)
    assert calls[1] <= bd.MAX_POINTS_SLOW and slow.classes.shape == (400, 500)


@pytest.mark.parametrize("name,words", [
    ("iris", "has 4 inputs (sepal_length"),
    ("circuit", "has no inputs"),
    ("one-weight", "has 1 input (x)"),
])
def test_why_not_drawn_for_other_input_counts(name, words):
    why = bd.why_not(Debugger(name).program)
    assert why is not None and "exactly two inputs" in why and words in why
    assert bd.why_not(Debugger("xor").program) is None


def test_non_finite_outputs_get_their_own_class():
    classes = bd.Classes(("o1",), single=True)
    values = np.array([[[0.2]], [[np.nan]], [[0.9]]])
    assert classes.of_values(values).tolist() == [[0], [-1], [1]]
    assert bd.colour(-1, 0) == bd.NOT_FINITE


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 1e300])
def test_overflowed_parameters_draw_without_a_warning(value):
    dbg = Debugger("two-moons")
    params = tuple(value for _ in dbg.program.parameters)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pic = bd.evaluate(dbg.program, params, bd.classes_for(dbg.program), 20, 5)
    finite = np.isfinite(pic.values).all(axis=-1)
    assert ((pic.classes == -1) == ~finite).all()
