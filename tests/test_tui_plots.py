"""The loss curve (l) and decision boundary (d) views of the bottom-left slot (issue #16 items 1, 2)."""

from __future__ import annotations

import asyncio
import io
import math

import pytest

pytest.importorskip("textual")

from nnstep.predict import outputs  # noqa: E402
from nnstep.tui import NNStepApp  # noqa: E402
from nnstep.tui.components import boundary as bd  # noqa: E402
from nnstep.tui.components.history import history_epochs  # noqa: E402
from nnstep.tui.runs import RunProgress  # noqa: E402
from nnstep.tui.slot import NETWORK  # noqa: E402
from nnstep.tui.testing import run_async_tests, settle, wait_idle  # noqa: E402


def screen_lines(app: NNStepApp) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


def pane_lines(app: NNStepApp, widget_id: str) -> list[str]:
    """The pane's rows as the screen shows them (inside its border)."""
    w = app.query_one(f"#{widget_id}")
    region = w.content_region
    lines = screen_lines(app)
    return [line[region.x:region.right] for line in lines[region.y:region.bottom]]


async def boundary_ready(app: NNStepApp, pilot) -> bd.Boundary:
    view = app.query_one("#boundary", bd.Boundary)
    for _ in range(500):
        await pilot.pause()
        if view.ready and (view.reason or view.picture is not None):
            break
        await asyncio.sleep(0.01)
    await pilot.pause()
    assert view.ready
    return view


# --------------------------------------------------------------------------- loss curve


async def test_l_shows_the_loss_curve_of_the_debuggers_epochs_and_l_again_the_network():
    app = NNStepApp("xor")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("l")
        await pilot.pause()
        assert app.slot == "loss"
        text = "\n".join(pane_lines(app, "loss"))
        assert "No epoch has finished yet" in text
        for _ in range(3):
            await pilot.press("e")
        await wait_idle(app, pilot)
        dbg = app.dbg
        view = app.query_one("#loss")
        assert dbg.epochs_done == 3
        assert view.epochs == [1, 2, 3]
        assert view.losses == [dbg.epoch_loss(e) for e in range(3)]
        assert view.now == 3.0  # the end of epoch 3
        text = "\n".join(pane_lines(app, "loss"))
        assert "epochs done" in text and "┤" in text  # plotext's axes
        assert f"last 3: {dbg.epoch_loss(2):.6g}" in str(view.border_subtitle)
        assert f"now epoch {dbg.epoch + 1}/500 sample 4" in str(view.border_subtitle)
        await pilot.press("l")
        await pilot.pause()
        assert app.slot == NETWORK
        assert app.query_one("#network").display


async def test_after_a_long_run_the_curve_is_the_thinned_history_of_the_debugger():
    app = NNStepApp("two-moons")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("l")
        await pilot.press("c")
        await wait_idle(app, pilot)
        dbg = app.dbg
        assert app.last_run_threaded and dbg.at_end
        view = app.query_one("#loss")
        epochs = history_epochs(dbg.epochs_done)
        assert view.epochs == [e + 1 for e in epochs]
        assert view.losses == [dbg.epoch_loss(e) for e in epochs]
        assert len(view.epochs) <= 200 and view.epochs[-1] == dbg.epochs


async def test_during_a_run_the_curve_grows_with_the_runs_reported_losses():
    app = NNStepApp("xor")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("e", "l")
        await pilot.pause()
        view = app.query_one("#loss")
        assert view.epochs == [1]
        per_epoch = app.dbg.op_count * app.dbg.sample_count
        app.last_progress = RunProgress(0.5, 7 * per_epoch + 3, None, 0.25, 7, {})  # type: ignore[arg-type]
        view.sync_run([], {})
        assert view.epochs == [1, 7] and view.losses[-1] == 0.25
        assert view.now == pytest.approx(7 + 3 / per_epoch)
        view.sync_run([], {})  # the same epoch again: no new point
        assert view.epochs == [1, 7]


async def test_log_scale_by_key_in_the_focused_view_and_by_palette():
    app = NNStepApp("xor")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("e", "e", "l")
        view = app.query_one("#loss")
        view.focus()
        await pilot.press("L")
        await pilot.pause()
        assert view.log_scale and "log (L)" in str(view.border_subtitle)
        await pilot.press("l")  # back to the network …
        app.palette_action("loss_log")  # … the palette shows the curve and switches the scale
        await pilot.pause()
        await pilot.pause()
        assert app.slot == "loss" and not view.log_scale


async def test_steps_within_an_epoch_do_not_plot_again_until_the_line_moves():
    app = NNStepApp("note-network")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        app.dbg.goto(100 * app.dbg.op_count * app.dbg.sample_count + 5)
        app.refresh_panes()
        await pilot.press("l")
        await pilot.pause()
        view = app.query_one("#loss")
        builds = []
        real = view.plt.build
        view.plt.build = lambda: builds.append(1) or real()
        for _ in range(10):
            await pilot.press("n")
            await pilot.pause()
        assert view.now == pytest.approx(100 + 15 / (app.dbg.op_count * app.dbg.sample_count))
        assert len(builds) == 0  # ten ops move the line by far less than half a cell
        view.action_toggle_log()
        await pilot.pause()
        assert len(builds) == 1


async def test_per_sample_losses_are_each_samples_loss_with_the_parameters_now():
    app = NNStepApp("two-moons")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        for _ in range(2):
            await pilot.press("e")
            await wait_idle(app, pilot)  # an epoch of two-moons may go to a worker
        await pilot.press("l", "n", "n")
        view = app.query_one("#loss")
        view.focus()
        await pilot.press("S")
        await pilot.pause()
        dbg = app.dbg
        params = list(dbg.parameters().values())
        assert view.sample_losses == [dbg.program.sample_loss(params, i) for i in range(dbg.sample_count)]
        assert "• 100 samples now" in str(view.border_subtitle)
        await pilot.press("S")
        await pilot.pause()
        assert view.sample_losses == [] and "samples now" not in str(view.border_subtitle)
    app = NNStepApp("iris")  # too many ops to compute after every step: says so
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("l")
        view = app.query_one("#loss")
        view.action_toggle_samples()
        await pilot.pause()
        assert view.sample_losses == [] and "more than 5,000 per step" in str(view.border_subtitle)


async def test_non_finite_losses_are_not_drawn_and_the_subtitle_says_so():
    app = NNStepApp("diverging")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("l", "c")
        await wait_idle(app, pilot)
        view = app.query_one("#loss")
        epochs, losses, left_out = view.drawn()
        assert left_out and all(math.isfinite(v) for v in losses)
        assert len(epochs) + len(left_out) == len(view.epochs)
        assert f"{len(left_out)} not drawn (not finite)" in str(view.border_subtitle)


# --------------------------------------------------------------------------- decision boundary


async def test_d_shows_the_boundary_its_cells_are_the_predictions_at_their_centres():
    app = NNStepApp("xor")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("c")
        await wait_idle(app, pilot)
        await pilot.press("d")
        view = await boundary_ready(app, pilot)
        assert app.slot == "boundary"
        dbg = app.dbg
        params = tuple(dbg.parameters().values())
        assert view.params == params
        pic = view.picture
        margin, cols, rows = view.plane_size()
        assert (pic.cols, pic.rows) == (cols, rows) and cols > 40 and rows > 5
        X = [[x, y] for y in pic.py for x in pic.px]
        want = (outputs(dbg.program, params, X)[:, 0] >= 0.5).reshape(2 * rows, cols)
        assert (pic.classes == want).all()
        # trained XOR: (0, 1) and (1, 0) are class 1, (0, 0) and (1, 1) class 0 — as the samples' markers say
        lines = pane_lines(app, "boundary")
        for (row, col), (cls, i) in pic.markers.items():
            assert lines[1 + row][margin + col] == bd.GLYPHS[cls]
            r, c = pic.cell_of(*dbg.scenario.samples[i].x)
            assert pic.classes[r, c] == cls  # learned
        # the colours drawn are the model's: a plain row's half blocks, fg the upper point, bg the lower
        strip = view.render_line(1 + rows // 2)
        cells = [seg for seg in strip if seg.text == "▀"]
        r = rows // 2
        plain = [c for c in range(cols) if (r, c) not in pic.markers]
        for seg, c in zip(cells, plain):
            assert seg.style.color == bd.colour(int(pic.classes[2 * r, c]), int(pic.levels[2 * r, c]))
            assert seg.style.bgcolor == bd.colour(int(pic.classes[2 * r + 1, c]), int(pic.levels[2 * r + 1, c]))
        text = "\n".join(lines)
        assert "○ target < 0.5" in text and "× target ≥ 0.5" in text and "→ x1" in text and "x2 ↑" in text
        await pilot.press("d")
        await pilot.pause()
        assert app.slot == NETWORK


async def test_the_boundary_follows_steps_and_a_run():
    app = NNStepApp("two-moons")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("d")
        view = await boundary_ready(app, pilot)
        before = view.params
        assert before == tuple(app.dbg.parameters().values())
        await pilot.press("s")  # one sample: its updates change the parameters
        view = await boundary_ready(app, pilot)
        assert view.params == tuple(app.dbg.parameters().values()) != before
        # a run passes its parameters to the view (as the app does, at most 5 times a second)
        params = {k: v + 0.5 for k, v in app.dbg.parameters().items()}
        view.sync_run([], params)
        view = await boundary_ready(app, pilot)
        assert view.params == tuple(params.values())


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
@pytest.mark.parametrize("name", ["note-network", "relu-softmax"])
async def test_the_boundary_fits(size, name):
    app = NNStepApp(name)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        await pilot.press("d")
        view = await boundary_ready(app, pilot)
        region = view.region
        assert region.right <= size[0] and region.bottom <= size[1] - 1  # above the footer
        margin, cols, rows = view.plane_size()
        assert view.picture is not None and cols >= 20 and rows >= 3
        lines = pane_lines(app, "boundary")
        legend = lines[0]
        names = app.dbg.program.scenario.outputs
        assert all(n in legend for n in names) and "target" in legend
        assert "→ x1" in lines[rows + 2]


async def test_other_input_counts_say_why_there_is_no_boundary():
    app = NNStepApp("iris")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("d")
        view = await boundary_ready(app, pilot)
        text = " ".join(line.strip() for line in pane_lines(app, "boundary"))
        assert "exactly two inputs" in text and "has 4 inputs" in text
        assert view.picture is None


async def test_opening_another_scenario_redraws_the_shown_view_for_it():
    app = NNStepApp("xor")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("d")
        await boundary_ready(app, pilot)
        app.open_bundled("iris")  # while nothing is computing, and again while it may be
        await wait_idle(app, pilot)
        await settle(app, pilot)
        view = await boundary_ready(app, pilot)
        assert app.slot == "boundary" and view.picture is None and "has 4 inputs" in (view.reason or "")
        app.open_bundled("relu-softmax")
        await wait_idle(app, pilot)
        await settle(app, pilot)
        view = await boundary_ready(app, pilot)
        assert view.program is app.dbg.program and view.reason is None
        assert view.params == tuple(app.dbg.parameters().values())
        assert view.picture.values.shape[-1] == 2  # hike, home


async def test_zoom_redraws_the_boundary_at_the_new_size():
    app = NNStepApp("xor")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("d")
        view = await boundary_ready(app, pilot)
        cols = view.picture.cols
        view.focus()
        await pilot.press("z")
        view = await boundary_ready(app, pilot)
        assert view.picture.cols > cols and (view.picture.cols, view.picture.rows) == view.plane_size()[1:]


async def test_help_and_palette_list_the_views():
    from nnstep.tui.commands import TITLES
    from nnstep.tui.keys import KEYS

    actions = {k.action: k.keys for k in KEYS}
    assert actions["show_view('loss')"] == "l" and actions["show_view('boundary')"] == "d"
    assert TITLES["show_view('loss')"] == "Loss curve" and TITLES["show_view('boundary')"] == "Decision boundary"
    app = NNStepApp("xor")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        from rich.console import Console

        from nnstep.tui.screens.help import HelpScreen, help_text

        assert isinstance(app.screen, HelpScreen)  # the help screen shows help_text(), scrolled
        console = Console(width=116, record=True, file=io.StringIO())
        console.print(help_text())
        text = " ".join(console.export_text().split())
        assert "Loss curve of the epochs so far" in text and "Decision boundary: the two inputs" in text


def test_snapshot_of_xor_learned(snap_compare):
    """The boundary after XOR's 500 epochs: blue where the network says 1, orange where 0."""
    pytest.importorskip("pytest_textual_snapshot")

    async def run_before(pilot) -> None:
        app = pilot.app
        await settle(app, pilot)
        app.dbg.goto(app.dbg.total)
        app.refresh_panes()
        await pilot.press("d")
        await boundary_ready(app, pilot)

    assert snap_compare(NNStepApp("xor"), terminal_size=(120, 36), run_before=run_before)


run_async_tests(globals())
