"""Pilot tests for the predictions view (y), the health view (h) and the health marks
in the values pane and on the drawing: what they show is the engine's numbers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

pytest.importorskip("textual")

from nnstep.health import health  # noqa: E402
from nnstep.predict import outputs, predictions  # noqa: E402
from nnstep.tui import NNStepApp  # noqa: E402
from nnstep.tui.components.health import HealthView  # noqa: E402
from nnstep.tui.components.predictions import NewInputScreen, PredictionsView  # noqa: E402
from nnstep.tui.components.values import ValuesView  # noqa: E402
from nnstep.tui.fmt import num  # noqa: E402
from nnstep.tui.slot import NETWORK  # noqa: E402
from nnstep.tui.testing import run_async_tests, settle, wait_idle  # noqa: E402

SIZE = (140, 44)
SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


async def computed(app: NNStepApp, pilot, view) -> None:
    """Wait for the view's background computation, if any."""
    await wait_idle(app, pilot)
    for _ in range(400):
        await pilot.pause()
        if not view.pending:
            return
        await asyncio.sleep(0.02)
    raise TimeoutError("the view did not compute")


def sample_rows(view: PredictionsView) -> list[list[str]]:
    """The samples' rows as cells (split on the columns' two spaces)."""
    lines = view.plain().splitlines()
    head = next(i for i, ln in enumerate(lines) if ln.startswith("sample"))
    n = len(view.table.rows)
    return [[c.strip() for c in ln.split("  ") if c.strip()] for ln in lines[head + 1 : head + 1 + n]]


def params(app: NNStepApp) -> list[float]:
    return list(app.dbg.parameters().values())


async def test_y_shows_the_predictions_and_they_follow_training():
    app = NNStepApp("note-network")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("y")
        view = app.query_one(PredictionsView)
        await computed(app, pilot, view)
        assert app.slot == "predictions"
        want = predictions(app.dbg.program, params(app))
        text = view.plain()
        assert text.splitlines()[0] == want.summary()
        assert "predicted 1 when the output is ≥ 0.5" in " ".join(text.split())
        rows = sample_rows(view)
        for row, p in zip(rows, want.rows):
            assert row[0] == f"{want.rows.index(p) + 1} {p.name}"
            assert row[4] == num(p.outputs[0]) and row[6] == num(p.loss)
            assert row[5] == p.predicted and row[7] == ("✓ right" if p.right else "✗ wrong")
        # a sample's updates move the parameters: the table follows
        await pilot.press("s")
        await computed(app, pilot, view)
        after = predictions(app.dbg.program, params(app))
        assert after.rows[0].outputs != want.rows[0].outputs
        assert [r[4] for r in sample_rows(view)] == [num(r.outputs[0]) for r in after.rows]
        assert "parameters at epoch 1, sample 1, op 40" in view.plain()
        # y again: the network
        await pilot.press("y")
        assert app.slot == NETWORK and app.focused is not view


async def test_trained_to_the_end_alice_to_diana_come_out_right():
    app = NNStepApp("note-network")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("y")
        await pilot.press("c")
        view = app.query_one(PredictionsView)
        await computed(app, pilot, view)
        assert app.dbg.at_end
        assert view.plain().splitlines()[0].startswith("accuracy 4/4 (100%)")
        assert [r[-1] for r in sample_rows(view)] == ["✓ right"] * 4


async def test_i_predicts_a_new_input_and_explains_a_wrong_one():
    app = NNStepApp("note-network")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("y")
        view = app.query_one(PredictionsView)
        await computed(app, pilot, view)
        assert app.focused is view  # shown: focused, so i acts at once
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, NewInputScreen)
        await pilot.press(*"x1=7", "enter")
        await pilot.pause()
        assert "missing x2" in str(app.screen.query_one("#new-input-error").render())
        app.screen.query_one("Input").value = "x1=128-135,x2=63-66"
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, NewInputScreen)
        want = outputs(app.dbg.program, params(app), [[-7.0, -3.0]])[0][0]
        line = view.plain().splitlines()[-1].split()
        assert line[:3] == ["#1", "-7", "-3"] and line[3] == num(want)
        # the new input follows training too
        await pilot.press("s")
        await computed(app, pilot, view)
        want = outputs(app.dbg.program, params(app), [[-7.0, -3.0]])[0][0]
        assert view.plain().splitlines()[-1].split()[3] == num(want)


async def test_a_long_run_shows_the_runs_parameters():
    app = NNStepApp("iris")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("y")
        view = app.query_one(PredictionsView)
        await computed(app, pilot, view)
        p = app.dbg.program
        trained = dict(zip(p.parameters, [x * 0.5 for x in params(app)]))
        view.sync_run([], trained)
        await computed(app, pilot, view)
        want = predictions(p, list(trained.values()))
        assert view.plain().splitlines()[0] == want.summary()
        assert "parameters during the run" in view.plain()
        assert [r[6] for r in sample_rows(view)] == [r.predicted for r in want.rows]


async def test_names_from_the_file_are_text_not_markup(tmp_path):
    text = (SCENARIOS / "note-network.toml").read_text().replace('"Alice"', '"[@click=app.quit]A"')
    path = tmp_path / "markup.toml"
    path.write_text(text)
    app = NNStepApp(str(path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("y")
        view = app.query_one(PredictionsView)
        await computed(app, pilot, view)
        assert "1 [@click=app.quit]A" in view.plain()


# --------------------------------------------------------------------------- health


async def test_iris_starts_saturated_h_lists_it_and_the_panes_mark_it():
    app = NNStepApp("iris")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        want = health(app.dbg.program, params(app))
        flagged = [n.name for n in want.flagged()]
        assert "h1_1" in flagged and all(n.flag == "saturated" for n in want.flagged())
        # the values pane marks exactly the flagged neurons
        values = app.query_one(ValuesView)
        marked = [ln.split()[0] for ln in values.text_lines(60) if ln.rstrip().endswith("saturated")]
        assert marked == flagged
        # Iris is drawn as a heat map: a flagged neuron's cell is "!"
        net = app.pane_texts()["network"]
        assert "! saturated or dead (h)" in net
        layer1 = next(ln for ln in net.splitlines() if ln.startswith("layer 1"))
        cells = layer1.split()[-1]
        assert [k for k, c in enumerate(cells) if c == "!"] == [
            k for k, n in enumerate(app.dbg.scenario.layers[0].neurons) if n in flagged]
        await pilot.press("h")
        view = app.query_one(HealthView)
        await computed(app, pilot, view)
        text = view.plain()
        for n in want.flagged():
            assert f"{n.name} (tanh, layer {n.layer + 1}): saturated, within 0.001 of a bound on all 150 samples" \
                in text
        layer = want.layers[0]
        assert f"layer 1 tanh (16) · mean |∂L/∂w| {num(layer.mean_grad, 4)}  ratio {num(layer.ratio, 3)}" in text
        await pilot.press("h")
        assert app.slot == NETWORK


async def test_a_dead_relu_is_marked_on_the_drawing():
    app = NNStepApp("relu-softmax")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        net = app.pane_texts()["network"]
        assert "h2 dead" in net and "h1 relu" in net
        values = app.query_one(ValuesView)
        assert [ln.split()[0] for ln in values.text_lines(60) if ln.rstrip().endswith(" dead")] == ["h2"]


async def test_diverging_explodes():
    app = NNStepApp("diverging")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("h")
        view = app.query_one(HealthView)
        await computed(app, pilot, view)
        assert "EXPLODING" not in view.plain()  # |∂L/∂w| = 27 at the start
        app.dbg.goto_position(60, 0, 0)
        app.moved()
        await computed(app, pilot, view)
        assert "mean |∂L/∂w| " in view.plain() and "EXPLODING" in view.plain()


async def test_a_formula_graph_has_no_health_hints():
    app = NNStepApp("circuit")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("h")
        await pilot.pause()
        assert "formula graph has no neurons" in app.query_one(HealthView).plain()


run_async_tests(globals())
