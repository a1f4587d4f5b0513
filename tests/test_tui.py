"""Pilot tests for the TUI: every key and palette command, asserting on the
engine's position and on what the panes show."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

pytest.importorskip("textual")

from textual import events  # noqa: E402
from textual.widgets import Footer  # noqa: E402
from textual.widgets._footer import FooterKey  # noqa: E402

from nnstep.tui import NNStepApp  # noqa: E402
from nnstep.tui.components.formula import FormulaView  # noqa: E402
from nnstep.tui.components.network import NetworkView  # noqa: E402
from nnstep.tui.components.program import ProgramView  # noqa: E402
from nnstep.tui.components.status import StatusBar  # noqa: E402
from nnstep.tui.components.values import ValuesView  # noqa: E402
from nnstep.tui.fmt import short  # noqa: E402
from nnstep.tui.formulas import FormulaBook  # noqa: E402
from nnstep.tui.runs import SPEEDS  # noqa: E402
from nnstep.tui.screens.breakpoints import BreakpointsScreen  # noqa: E402
from nnstep.tui.screens.goto import GotoScreen  # noqa: E402
from nnstep.tui.screens.help import HelpScreen  # noqa: E402
from nnstep.tui.screens.open import OpenScreen  # noqa: E402
from nnstep.tui.testing import run_async_tests, settle, wait_idle  # noqa: E402

SIZE = (120, 36)
NOTE = Path(__file__).resolve().parent.parent / "scenarios" / "note-network.toml"


def current_line(app: NNStepApp) -> str:
    pv = app.query_one(ProgramView)
    row = pv.row_of[pv.current]
    return pv.row_text(row, 70).plain


def formula(app: NNStepApp) -> str:
    return app.query_one(FormulaView).plain


def status(app: NNStepApp) -> str:
    return app.query_one(StatusBar).plain


def footer_key(app: NNStepApp, key: str) -> FooterKey:
    for fk in app.query_one(Footer).query(FooterKey):
        if fk.key == key:
            return fk
    raise AssertionError(f"no footer key {key}")


def note_variant(tmp_path: Path, **training: object) -> Path:
    text = NOTE.read_text()
    for key, value in training.items():
        text = text.replace(f"{key} = ", f"{key} = {value}  # was ", 1)
    path = tmp_path / "variant.toml"
    path.write_text(text)
    return path


# --------------------------------------------------------------------------- start-up


async def test_first_frame_does_not_wait_for_sympy(monkeypatch):
    gate = threading.Event()
    real_run = FormulaBook.run

    def slow_run(self, cancelled, ready):
        gate.wait(10)
        real_run(self, cancelled, ready)

    monkeypatch.setattr(FormulaBook, "run", slow_run)
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        pv = app.query_one(ProgramView)
        assert "sum_h1 = w1 * x1 + w2 * x2 + b1" in "\n".join(pv.text_lines())
        assert "deriving the formula with SymPy" in formula(app)
        await pilot.press("n")
        assert app.dbg.t == 1
        assert "0.0484" not in current_line(app)  # sum_h1 executed, its value shown
        assert "-2.97817" in current_line(app)
        gate.set()
        await settle(app, pilot)
        assert "sum_h1 = w1⋅x1 + w2⋅x2 + b1" in formula(app)


async def test_opens_default_and_named_scenarios():
    for arg in (None, "note-network", str(NOTE)):
        app = NNStepApp(arg)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert app.dbg is not None
            assert app.dbg.scenario.name == "The note's 2-2-1 network"
            assert "The note's 2-2-1 network" in status(app)


async def test_bad_scenario_shows_error_and_lets_you_open_another(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(NOTE.read_text().replace('activation = "sigmoid" },\n  { neurons = ["o1"]',
                                            'activation = "sigmoidd" },\n  { neurons = ["o1"]'))
    app = NNStepApp(str(bad))
    async with app.run_test(size=SIZE) as pilot:
        await wait_idle(app, pilot)
        assert app.dbg is None
        shown = app.query_one("#error").plain
        assert str(bad) in shown
        assert "network.layers #1: activation" in shown
        assert "unknown activation 'sigmoidd'" in shown
        assert "line" in shown and "sigmoidd" in shown
        assert "Traceback" not in shown
        assert not app.query_one("#panes").display
        await pilot.press("n")  # nothing to step: no crash
        assert app.dbg is None
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, OpenScreen)
        await pilot.press("enter")  # the highlighted bundled scenario: note-network
        await wait_idle(app, pilot)
        assert app.dbg is not None and app.query_one("#panes").display


async def test_missing_file_error():
    app = NNStepApp("/no/such/file.toml")
    async with app.run_test(size=SIZE) as pilot:
        await wait_idle(app, pilot)
        assert "no such file" in app.query_one("#error").plain


# --------------------------------------------------------------------------- stepping keys


@pytest.mark.parametrize("key", ["n", "right"])
async def test_next(key):
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press(key)
        assert app.dbg.t == 1 and app.dbg.current_op.name == "sum_h1"
        assert "▶ sum_h1 = w1 * x1 + w2 * x2 + b1" in current_line(app)
        assert "sum_h1 = w1⋅x1 + w2⋅x2 + b1" in formula(app)
        assert "= 1.76405⋅(-2) + 0.400157⋅(-1) + 0.950088" in formula(app)
        assert "-2.97817" in formula(app)
        await pilot.press(key, key)
        assert app.dbg.current_op.name == "sum_h2"
        assert "op 3/40" in status(app)


@pytest.mark.parametrize("key", ["p", "left"])
async def test_previous(key):
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.check_action("back", ()) is None  # dimmed at the very start
        assert footer_key(app, "p").has_class("-disabled")
        await pilot.press(key)
        assert app.dbg.t == 0
        await pilot.press("n", "n", "n", key)
        assert app.dbg.t == 2 and app.dbg.current_op.name == "h1"
        assert "h1 = σ(sum_h1)" in formula(app)
        assert not footer_key(app, "p").has_class("-disabled")


async def test_finish_phase_sample_epoch():
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f")
        assert app.dbg.current_op.name == "y_pred" and app.dbg.phase == "forward"
        await pilot.press("f")
        assert app.dbg.current_op.name == "L"
        await pilot.press("f")
        assert app.dbg.phase == "backward" and app.dbg.current_op.name == "d_L_d_b2"
        await pilot.press("f")
        assert app.dbg.current_op.name == "b3" and app.dbg.t == 40
        await pilot.press("n", "s")
        assert app.dbg.t == 80 and app.dbg.sample.name == "Bob"
        assert "sample 2/4 Bob" in status(app)
        await pilot.press("e")
        assert app.dbg.t == 160 and app.dbg.epochs_done == 1
        spark = app.query_one("#sparkline")
        assert list(spark.data) == [app.dbg.epoch_loss(0)]
        assert "epoch loss" in status(app)


async def test_breakpoint_on_selected_op_and_continue():
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        pv = app.query_one(ProgramView)
        target = app.dbg.program.by_name["d_L_d_w1"].index
        await pilot.press(*["down"] * target)
        assert pv.selected == target and app.dbg.t == 0  # the selection moved, not the execution point
        assert "∂L/∂w1 = ∂L/∂ŷ⋅∂ŷ/∂h1⋅∂h1/∂w1" in formula(app)  # the selected op's formula
        await pilot.press("b")
        assert app.dbg.breakpoints == {"d_L_d_w1"}
        assert pv.row_text(pv.row_of[target], 70).plain.startswith("●")
        await pilot.press("c")
        await wait_idle(app, pilot)
        assert app.dbg.current_op.name == "d_L_d_w1" and app.dbg.t == target + 1
        assert "breakpoint at d_L_d_w1" in status(app)
        assert "▶ d_L_d_w1 = d_L_d_ypred * d_ypred_d_h1 * d_h1_d_w1" in current_line(app)
        text = formula(app)
        assert "(-1.01262)⋅0.466815⋅(-0.0921541)" in text
        assert "finite difference 0.0435619" in text and "✓ agree" in text
        await pilot.press("c")
        await wait_idle(app, pilot)
        assert app.dbg.t == 40 + target + 1 and app.dbg.sample.name == "Bob"
        await pilot.press("b")  # the selection is on the current op: removes it
        assert app.dbg.breakpoints == set()


async def test_narrow_status_bar_keeps_the_stop_and_a_cut_scenario_name():
    app = NNStepApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.dbg.toggle_breakpoint("d_L_d_b1")
        await pilot.press("c")
        await wait_idle(app, pilot)
        bar = app.query_one(StatusBar)
        text = bar.query_one("#status-text").content.plain
        assert text.startswith("The note") and "…" in text and text.endswith("● d_L_d_b1")
        assert len(text) <= bar.query_one("#status-text").content_region.width - 2  # a gap before the loss part
        for _ in range(4):  # an epoch later: the loss part and the sparkline take their room too
            await pilot.press("c")
            await wait_idle(app, pilot)
        assert app.dbg.epochs_done == 1 and app.dbg.sample.name == "Alice"
        text = bar.query_one("#status-text").content.plain
        assert text.startswith("The n") and text.endswith("● d_L_d_b1")
        assert len(text) <= bar.query_one("#status-text").content_region.width - 2
        assert status(app).endswith(f"loss {short(app.dbg.epoch_loss(0), 6)}")


async def test_continue_runs_in_a_worker_to_the_end():
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("c")
        await wait_idle(app, pilot)
        assert app.last_run_threaded  # 160 000 ops: off the UI thread
        assert app.dbg.at_end
        assert not app.query_one("#run").display
        assert "end of training" in status(app)
        data = app.query_one("#sparkline").data
        assert len(data) == 200 and data[-1] == app.dbg.epoch_loss(999)  # thinned, the last epoch kept
        assert app.check_action("step", ()) is None and footer_key(app, "n").has_class("-disabled")
        await pilot.press("n")
        assert app.dbg.at_end


async def test_escape_interrupts_a_long_run(tmp_path):
    app = NNStepApp(str(note_variant(tmp_path, epochs=5_000_000)))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.check_action("interrupt", ()) is False  # hidden when idle
        await pilot.press("c")
        assert app.busy
        assert app.query_one("#run").display  # the progress bar
        assert app.check_action("step", ()) is None  # keys dimmed while it runs
        await asyncio.sleep(0.3)
        await pilot.press("escape")
        await wait_idle(app, pilot)
        assert not app.busy
        assert app.last_stop.reason == "cancelled"
        assert 0 < app.dbg.t < app.dbg.total
        assert "interrupted" in status(app)
        await pilot.press("n")  # usable again
        assert app.dbg.t > 0


async def test_play_pause_and_speed():
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("plus", "plus", "plus")  # 4 -> 32 op/s, then back to 16
        await pilot.press("minus")
        assert app.speed_index == 5
        await pilot.press("space")
        assert app.playing
        assert "playing 16 op/s" in status(app)
        await asyncio.sleep(0.5)
        await pilot.press("space")
        assert not app.playing
        t = app.dbg.t
        assert t >= 3
        await asyncio.sleep(0.2)
        await pilot.pause()
        assert app.dbg.t == t


async def test_play_stops_at_a_breakpoint():
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.dbg.toggle_breakpoint("L")
        app.speed_index = len(SPEEDS) - 1
        await pilot.press("space")
        for _ in range(100):
            await asyncio.sleep(0.02)
            if not app.playing:
                break
        assert not app.playing and app.dbg.current_op.name == "L"


async def test_conditional_breakpoints_dialog():
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("B")
        await pilot.pause()
        assert isinstance(app.screen, BreakpointsScreen)
        inp = app.screen.query_one("#bp-input")
        await pilot.press(*"abs(d_L_d_w")
        await pilot.pause()
        await pilot.press("right")  # accepts the completion of the name being typed
        await pilot.pause()
        assert inp.value == "abs(d_L_d_w1"
        inp.value = "abs(d_L_d_w1) >"
        await pilot.press("enter")
        assert "✗" in str(app.screen.query_one("#bp-error").content)
        inp.value = "abs(d_L_d_w1) > 0.04"
        await pilot.press("enter")
        await pilot.pause()
        assert [c.text for c in app.dbg.conditions] == ["abs(d_L_d_w1) > 0.04"]
        inp.value = "d_L_d_b2"
        await pilot.press("enter")
        assert app.dbg.breakpoints == {"d_L_d_b2"}
        app.screen.query_one("#bp-nonfinite").toggle()
        await pilot.pause()
        assert app.dbg.stop_on_nonfinite
        ol = app.screen.query_one("#bp-list")
        ol.focus()
        ol.highlighted = 0  # the op breakpoint
        await pilot.press("delete")
        assert app.dbg.breakpoints == set()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, BreakpointsScreen)
        await pilot.press("c")
        await wait_idle(app, pilot)
        assert app.last_stop.reason == "condition"
        assert app.dbg.current_op.name == "d_L_d_w1" and abs(app.dbg.value("d_L_d_w1")) > 0.04
        assert "condition true: abs(d_L_d_w1) > 0.04" in status(app)


async def test_goto_dialog():
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, GotoScreen)
        app.screen.query_one("#goto-epoch").value = "9999"
        await pilot.press("enter")
        assert "epoch: 9999 is not between 1 and 1000" in str(app.screen.query_one("#goto-error").content)
        app.screen.query_one("#goto-epoch").value = "2"
        app.screen.query_one("#goto-sample").value = "bob"
        app.screen.query_one("#goto-op").value = "d_L_d_w1"
        await pilot.press("enter")
        await pilot.pause()
        assert app.dbg.position() == (1, 1, 24)
        assert "2/1000" in status(app) and "Bob 2/4" in status(app) or "2/4 Bob" in status(app)
        assert "d_L_d_w1" in current_line(app)
        await pilot.press("g")
        await pilot.pause()
        app.screen.query_one("#goto-epoch").value = "1"
        app.screen.query_one("#goto-sample").value = "1"
        app.screen.query_one("#goto-op").value = "3"
        await pilot.press("enter")
        await pilot.pause()
        assert app.dbg.position() == (0, 0, 2)
        await pilot.press("g")
        await pilot.press("escape")
        await pilot.pause()
        assert app.dbg.position() == (0, 0, 2)
        await pilot.press("g")  # far ahead: off the UI thread
        await pilot.pause()
        app.screen.query_one("#goto-epoch").value = "900"
        await pilot.press("enter")
        await wait_idle(app, pilot)
        assert app.dbg.position() == (899, 0, 2) and app.last_run_threaded
        assert len(app.query_one("#sparkline").data) == 200


async def test_restart():
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.check_action("restart", ()) is None
        await pilot.press("s", "s", "n")
        assert app.dbg.t == 81
        app.dbg.toggle_breakpoint("h1")
        await pilot.press("r")
        assert app.dbg.t == 0 and app.dbg.breakpoints == {"h1"}
        assert "op 0/40" in status(app)
        assert "restarted" in status(app)


async def test_p_right_after_a_restart_returns_to_where_it_was():
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("s", "s", "n")
        where = app.dbg.position()
        await pilot.press("r")
        assert app.dbg.t == 0 and "p returns" in status(app)
        assert app.check_action("back", ()) is True  # p is live at the very start: it undoes the restart
        await pilot.press("p")
        await wait_idle(app, pilot)
        assert app.dbg.t == 81 and app.dbg.position() == where
        assert "restarted" not in status(app)
        await pilot.press("p")  # then p steps back as ever
        assert app.dbg.t == 80
        await pilot.press("r", "n", "p")  # a move after the restart forgets it: p is a step back
        assert app.dbg.t == 0
        assert app.check_action("back", ()) is None


async def test_undoing_a_restart_far_from_the_start_replays_in_the_worker():
    app = NNStepApp()  # 1000 epochs
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("c")
        await wait_idle(app, pilot)
        end = app.dbg.t
        assert app.dbg.at_end and end > 20_000
        await pilot.press("r")
        assert app.dbg.t == 0
        await pilot.press("p")
        await wait_idle(app, pilot)
        assert app.dbg.t == end and app.last_run_threaded


async def test_screenshot_saves_in_the_working_directory_and_says_where(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n", "n")
        e, s, o = app.dbg.position()
        await run_palette(app, pilot, "Screenshot")
        for _ in range(200):  # the palette saves it once it has closed (a timer)
            if not any(app._notifications):
                await pilot.pause(0.05)
        saved = list(tmp_path.iterdir())
        assert [p.name for p in saved] == [f"nnstep-The-note-s-2-2-1-network-epoch{e + 1}-sample{s + 1}-op{o + 1}.svg"]
        assert saved[0].read_text().startswith("<svg")
        messages = [n.message for n in app._notifications]
        assert f"Screenshot saved to {saved[0]}" in messages


async def test_open_dialog(tmp_path):
    other = note_variant(tmp_path, learning_rate=0.5)
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n", "n")
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, OpenScreen)
        path = app.screen.query_one("#open-path")
        path.value = str(tmp_path / "nope.toml")
        path.focus()
        await pilot.press("enter")
        await wait_idle(app, pilot)
        assert "no such file" in app.screen.query_one("#open-error").content.plain
        assert app.dbg.t == 2  # the session is untouched
        path.value = str(other)
        await pilot.press("enter")
        await wait_idle(app, pilot)
        assert not isinstance(app.screen, OpenScreen)
        assert app.dbg.t == 0 and app.dbg.scenario.learning_rate == 0.5
        await settle(app, pilot)
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.dbg.scenario.learning_rate == 0.5


async def test_formula_view_cycles():
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n", "n")  # h1
        assert app.view == "symbols" and "h1 = σ(sum_h1)" in formula(app)
        await pilot.press("t")
        assert app.view == "expanded"
        await settle(app, pilot, expanded=True)
        assert "h1 = σ(b1 + w1⋅x1 + w2⋅x2)" in formula(app)
        await pilot.press("t")
        assert app.view == "latex" and r"h_{1} = \sigma\left(\mathrm{sum}_{h_{1}}\right)" in formula(app)
        await pilot.press("t")
        assert app.view == "symbols"
        await pilot.press("s")  # the last update; expanded view of an update op
        await pilot.press("t")
        await settle(app, pilot, expanded=True)
        assert "new b3 = b3 - learn_rate" in formula(app)


async def test_help_screen():
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("n")  # the help screen swallows it
        assert app.dbg.t == 0
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


def test_help_names_the_formula_panes_sideways_keys_as_bound():
    from rich.console import Console

    from nnstep.tui.screens.help import help_text

    console = Console(width=140, record=True)
    console.print(help_text())
    text = console.export_text()
    assert "shift+← shift+→  h l" in text and "→ more" in text
    keys = {b.key: b.action for b in FormulaView.BINDINGS}
    assert keys["shift+left,h"] == "scroll_left" and keys["shift+right,l"] == "scroll_right"


async def test_quit():
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert not app.is_running


async def test_narrow_screen_values_toggle():
    app = NNStepApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.narrow
        assert not app.query_one(ValuesView).display or not app.query_one(ValuesView).region.width
        await pilot.press("n")
        await pilot.press("v")
        await pilot.pause()
        assert app.query_one(ValuesView).region.width > 0
        assert app.query_one(NetworkView).region.width == 0
        await pilot.press("v")
        await pilot.pause()
        assert app.query_one(NetworkView).region.width > 0
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.check_action("toggle_values", ()) is False


async def test_zoom_and_focus():
    app = NNStepApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("n", "tab")  # focus the formula pane
        assert app.focused is app.query_one(FormulaView)
        await pilot.press("z")
        assert app.screen.maximized is app.query_one(FormulaView)
        assert app.query_one(FormulaView).region.width == 80
        await pilot.press("right")  # the arrows still step with a scrolling pane focused
        assert app.dbg.t == 2
        await pilot.press("z")
        assert app.screen.maximized is None
        await pilot.press("tab", "tab", "z")
        assert app.screen.maximized is not None
        await pilot.press("z")


def formula_fits(app: NNStepApp) -> list[str]:
    """The formula pane's lines, each checked to fit the pane's width."""
    pane = app.query_one(FormulaView)
    width = pane.scrollable_content_region.width
    lines = [line.cell_len for line in pane.lines]
    assert lines and max(lines) <= width, (max(lines), width, pane.plain)
    return pane.plain.splitlines()


async def test_narrow_formula_pane_wraps_long_steps_at_their_operators():
    # 80x24: the formula pane is 33 columns; the chain rule at d_L_d_w2 is wider than that
    app = NNStepApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press(*"n" * 26)
        assert app.dbg.ops[app.shown_op].name == "d_L_d_w2"
        lines = formula_fits(app)
        text = "\n".join(lines)
        for name in ("d_L_d_ypred", "d_ypred_d_h1", "d_h1_d_w2"):
            assert text.count(name) == 2, name  # in the code line and in the formula
        for name in ("∂L/∂ŷ", "∂ŷ/∂h1", "∂h1/∂w2"):
            assert name in text, name
        for number in ("-1.01262", "0.466815", "-0.0460771", "0.021780952"):
            assert number in text, number
        # the '=' signs stay in one column; continuation lines start under the right-hand side
        assert "∂L/∂w2 = ∂L/∂ŷ⋅∂ŷ/∂h1⋅∂h1/∂w2" in lines
        assert "       = d_L_d_ypred⋅d_ypred_d_h1" in lines and "         ⋅d_h1_d_w2" in lines
        assert "       = (-1.01262)⋅0.466815" in lines and "         ⋅(-0.0460771)" in lines
        assert lines[:2] == ["d_L_d_w2 = d_L_d_ypred", "    * d_ypred_d_h1 * d_h1_d_w2"]
        # every one-line step of a whole sample fits (the first one-line op: a sum)
        await pilot.press("r", "n")
        lines = formula_fits(app)
        assert "       = 1.76405⋅(-2)" in lines and "         + 0.400157⋅(-1)" in lines
        # a resize lays the pane out again for the new width
        await pilot.resize_terminal(120, 36)
        for _ in range(5):
            await pilot.pause(0.1)
        assert "       = 1.76405⋅(-2) + 0.400157⋅(-1) + 0.950088" in formula_fits(app)


async def test_narrow_formula_pane_wraps_long_sums():
    app = NNStepApp("iris")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.dbg.goto_position(0, 0, "d_L_d_h1_16")
        app.refresh_panes()
        await pilot.pause()
        lines = formula_fits(app)
        text = "\n".join(lines)
        for k in range(1, 17):  # a term per line, its second factor on the next one
            for name in (f"∂L/∂h2_{k}", f"⋅∂h2_{k}/∂h1_16", f"d_L_d_h2_{k}", f"⋅d_h2_{k}_d_h1_16"):
                assert name in text, name
        indent = " " * len("∂L/∂h1_16 = ")
        assert sum(line.startswith(indent + "+ ") for line in lines) == 3 * 15
        assert "          = -1.5337337" in lines


async def test_values_and_formula_panes_scroll_with_their_keys():
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        values = app.query_one(ValuesView)
        values.focus()
        await pilot.press("end")
        bottom = values.scroll_offset.y
        assert bottom == values.max_scroll_y > 0
        await pilot.press("k")
        assert values.scroll_offset.y == bottom - 1
        await pilot.press("home")
        assert values.scroll_offset.y == 0
        await pilot.press("pagedown")
        assert values.scroll_offset.y > 1
        assert app.dbg.t == 0  # scrolling moves nothing in the debugger
        pane = app.query_one(FormulaView)
        pane.focus()
        await pilot.press("l")
        assert pane.scroll_offset.x == 0  # every line fits the pane: nothing to scroll to
        await pilot.press("shift+left", "shift+left", "shift+left")
        assert pane.scroll_offset.x == 0
        await pilot.press("j")
        assert pane.scroll_offset.y == 0  # and every line is in sight: nothing below
        assert "more" not in str(pane.border_subtitle)
        # Bob's d_L_d_w1 says in words why its check cannot be measured: taller than the pane
        app.dbg.toggle_breakpoint("d_L_d_w1")
        for _ in range(2):
            app.action_finish("continue")
            await wait_idle(app, pilot)
        assert app.dbg.current_op.name == "d_L_d_w1" and app.dbg.sample.name == "Bob"
        below = len(pane.lines) - pane.scrollable_content_region.height
        assert below > 0 and f"↓ {below} more" in str(pane.border_subtitle)
        assert not pane.show_vertical_scrollbar  # the border says it, no scrollbar
        pane.focus()
        await pilot.press("j")
        assert pane.scroll_offset.y == 1 and str(pane.border_subtitle).startswith("↑ 1")
        await pilot.press("end", "j")
        assert pane.scroll_offset.y == pane.max_scroll_y == below  # as far as the text goes, no further
        assert "↓" not in str(pane.border_subtitle) and f"↑ {below}" in str(pane.border_subtitle)
        assert pane.render_line(pane.scrollable_content_region.height - 1).text.strip() == pane.lines[-1].plain.strip()
        # the mouse wheel scrolls it too (Textual asks allow_vertical_scroll, which says yes)
        pane.post_message(events.MouseScrollUp(pane, 3, 3, 0, -1, 0, False, False, False))
        await pilot.pause()
        assert pane.scroll_offset.y < below


async def test_program_pane_selection_keys_and_jump():
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        pv = app.query_one(ProgramView)
        await pilot.press("end")
        assert pv.selected == 39 and app.dbg.t == 0
        assert "new b3 = b3 - learn_rate⋅d_L_d_b3" in formula(app)
        assert "not run yet" in formula(app)
        await pilot.press("home", "down", "down", "enter")
        assert app.dbg.t == 3 and app.dbg.current_op.name == "sum_h2"
        await pilot.press("up", "enter")  # jumping back within the sample
        assert app.dbg.t == 2
        await pilot.press("pagedown")
        assert pv.selected == 11


async def test_click_selects_and_double_click_jumps():
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        pv = app.query_one(ProgramView)
        # row 0 is the forward heading, rows 1.. the ops (plus 1 for the border)
        await pilot.click(ProgramView, offset=(10, 4))
        assert pv.selected == 2 and app.dbg.t == 0
        assert "sum_h2 = w3⋅x1 + w4⋅x2 + b2" in formula(app)
        await pilot.double_click(ProgramView, offset=(10, 5))
        assert app.dbg.t == 4 and app.dbg.current_op.name == "h2"


async def test_network_pane_shows_values_and_gradients():
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        net = app.query_one(NetworkView)
        text = net.plain()
        assert "x1 -2" in text and "w1 +1.764" in text and "h1 σ" in text
        await pilot.press("f", "f")
        assert "L 0.256351" in net.plain()
        app.dbg.goto(25)  # d_L_d_w1
        app.refresh_panes()
        await pilot.pause()
        text = net.plain()
        assert "∂w1 +0.04356" in text  # the gradient on the edge
        assert "∂ -0.47271" in text  # d_L_d_h1 on the node
        assert "∂L/∂" in text
        scene = app.network_model.scene(app.dbg)
        assert scene.writes == {"w1"} and {"o1", "w5"} <= scene.reads


async def test_network_border_names_what_the_pane_shows():
    app = NNStepApp("relu-softmax")  # at 100x30 drawn in every phase (the heat map only when forced)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        net = app.query_one(NetworkView)
        seen = set()
        for _ in range(app.dbg.op_count):
            await pilot.press("n")
            await pilot.pause()
            assert net.border_subtitle == net.showing
            assert net.plain().startswith("heat map") == (net.showing == "heat map")
            seen.add(net.showing)
        assert seen == {"drawing"}
        await pilot.press("tab", "tab")
        app.action_toggle_heatmap()
        await pilot.pause()
        assert net.showing == "heat map" == net.border_subtitle and net.plain().startswith("heat map")


async def test_relu_softmax_is_drawn_in_every_phase_at_120x36():
    # the backward phase's ∂ labels used to make the drawing 3 columns too wide for the
    # 74-column pane, so the pane flipped to the heat map and back while stepping
    app = NNStepApp("relu-softmax")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        net = app.query_one(NetworkView)
        phases = set()
        layouts = set()
        for _ in range(app.dbg.op_count):
            await pilot.press("n")
            await pilot.pause()
            assert net.showing == "drawing" and net.border_subtitle == "drawing", (app.dbg.t, app.dbg.phase)
            text = net.plain()
            assert "L " in text and "hike" in text and "home" in text and "w8" in text
            layouts.add(net.drawing_layout.signature())
            phases.add(app.dbg.phase)
        assert phases == {"forward", "loss", "backward", "update"}
        assert len(layouts) == 1  # one layout for the whole sample


async def test_values_pane_old_to_new():
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f", "f", "f", "n")  # the update of w1
        vv = app.query_one(ValuesView)
        lines = vv.text_lines()
        w1 = next(line for line in lines if line.strip().startswith("w1 "))
        assert "1.76405 → 1.7597" in w1
        w2 = next(line for line in lines if line.strip().startswith("w2 "))
        assert "→" not in w2
        assert vv.changed == "w1"


# --------------------------------------------------------------------------- palette


def palette_titles() -> list[str]:
    from nnstep.tui.commands import EXTRA, TITLES

    return list(TITLES.values()) + [title for _, title, _ in EXTRA]


async def run_palette(app: NNStepApp, pilot, text: str) -> None:
    from textual.command import CommandInput, CommandPalette

    await pilot.press("ctrl+p")
    await pilot.pause()
    assert isinstance(app.screen, CommandPalette)
    await pilot.press(*text[:3])  # typed, as a user would start
    app.screen.query_one(CommandInput).value = text  # and the rest at once
    for _ in range(50):
        await asyncio.sleep(0.02)
        await pilot.pause()
        ol = app.screen.query_one("CommandList")
        if ol.option_count and str(ol.get_option_at_index(0).prompt).startswith(text[:6]):
            break
    await pilot.press("enter")
    await pilot.pause()
    await pilot.pause()


PALETTE_CASES = {
    "Next op": lambda app: app.dbg.t == 3,
    "Previous op (step back)": lambda app: app.dbg.t == 1,
    "Finish phase": lambda app: app.dbg.current_op.name == "y_pred",
    "Finish sample": lambda app: app.dbg.t == 40,
    "Finish epoch": lambda app: app.dbg.t == 160,
    "Continue to next breakpoint or the end": lambda app: app.dbg.at_end,
    "Play / pause": lambda app: app.playing,
    "Play faster": lambda app: app.speed_index == 4,
    "Play slower": lambda app: app.speed_index == 2,
    "Toggle breakpoint on selected op": lambda app: app.dbg.breakpoints == {"h1"},
    "Conditional breakpoints…": lambda app: isinstance(app.screen, BreakpointsScreen),
    "Go to epoch / sample / op…": lambda app: isinstance(app.screen, GotoScreen),
    "Restart": lambda app: app.dbg.t == 0,
    "Open scenario…": lambda app: isinstance(app.screen, OpenScreen),
    "Cycle formula view (symbols / expanded / LaTeX)": lambda app: app.view == "expanded",
    "Help: keys and panes": lambda app: isinstance(app.screen, HelpScreen),
    "Quit": lambda app: not app.is_running or app._exit_renderables is not None,
    "Interrupt the running command": lambda app: not app.busy,
    "Show values / network (narrow screens)": lambda app: True,
    "Clear all breakpoints": lambda app: not app.dbg.breakpoints and not app.dbg.conditions,
    "Network pane: circuit / table, drawing / heat map": lambda app: app.query_one(NetworkView).compact,
    "Zoom the focused pane": lambda app: app.screen.maximized is app.query_one(ProgramView),
    "Reload the scenario file": lambda app: app.dbg.t == 2 and app.message == "reloaded · position kept",
    # issue #14 (tests/test_tui_edits.py has the rest)
    "Set a value (what if)…": lambda app: type(app.screen).__name__ == "EditScreen",
    "Watch expressions…": lambda app: type(app.screen).__name__ == "WatchesScreen",
    "Save session": lambda app: app.session_file is not None and app.session_file.is_file()
    and app.session_file.unlink() is None,
    "Remove all what-if edits": lambda app: not app.dbg.edits and app.dbg.t == 2,
    "Show predictions and accuracy (or the network)": lambda app: app.slot == "predictions",
    "Show network health: saturated, dead, vanishing (or the network)": lambda app: app.slot == "health",
    "Export this step…": lambda app: any(m.startswith("Handout saved to ") for m in (n.message for n in app._notifications)),
    "Export this step as LaTeX…": lambda app: any(p.suffix == ".tex" for p in Path.cwd().iterdir()),
    "Export this step as HTML…": lambda app: any(p.suffix == ".html" for p in Path.cwd().iterdir()),
    "Matrix view of the current layer (s = W·x + b, ∂L/∂W = δ·xᵀ)": lambda app: app.slot == "matrix",
    "Loss curve": lambda app: app.slot == "loss",
    "Decision boundary": lambda app: app.slot == "boundary",
    "Loss curve: log scale": lambda app: app.slot == "loss" and app.query_one("#loss").log_scale,
}


def test_every_palette_command_has_a_case():
    assert set(palette_titles()) == set(PALETTE_CASES)


@pytest.mark.parametrize("title", sorted(PALETTE_CASES))
async def test_palette_command(title, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # what a command writes (a handout) goes here
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n", "n")
        app.dbg.toggle_breakpoint("L") if title == "Clear all breakpoints" else None
        app.dbg.edit("w1", "0") if title == "Remove all what-if edits" else None
        await run_palette(app, pilot, title)
        await wait_idle(app, pilot)
        assert PALETTE_CASES[title](app), title
        if app.is_running and app.playing:
            await pilot.press("space")


async def test_palette_jump_to_op_and_sample():
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await run_palette(app, pilot, "Jump to op d_L_d_w1")
        assert app.dbg.position() == (0, 0, 24)
        await run_palette(app, pilot, "Jump to sample Charlie")
        assert app.dbg.position() == (0, 2, 0) and app.dbg.sample.name == "Charlie"
        await run_palette(app, pilot, "Breakpoint on op d_L_d_b1")
        assert app.dbg.breakpoints == {"d_L_d_b1"}
        await run_palette(app, pilot, "Open scenario note-network")
        assert app.dbg.t == 0 and not app.dbg.breakpoints


# --------------------------------------------------------------------------- forward, then back


async def test_forward_through_a_sample_then_back_finds_every_pane_as_it_was():
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        seen = []
        for _ in range(app.dbg.op_count):
            # every pane's text at every op; the whole screen (styles too) at every 3rd
            seen.append((app.dbg.t, app.pane_texts(), app.export_screenshot() if app.dbg.t % 3 == 0 else None))
            await pilot.press("n")
        assert app.dbg.t == app.dbg.op_count
        for t, panes, screen in reversed(seen):
            await pilot.press("p")
            assert app.dbg.t == t
            now = app.pane_texts()
            for name in panes:
                assert now[name] == panes[name], f"{name} differs at t={t}"
            if screen is not None:
                assert app.export_screenshot() == screen, f"screen differs at t={t}"


# --------------------------------------------------------------------------- async tests without a plugin


run_async_tests(globals())
