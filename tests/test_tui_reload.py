"""Reloading the scenario file (ctrl+r, issue #14 item 2): breakpoints and conditions kept,
the position kept where the program's shape is, a broken file keeps the run, esc abandons,
and a changed file is noticed."""

from __future__ import annotations

import contextlib
import io
import threading
from pathlib import Path

import pytest

pytest.importorskip("textual")

from nnstep import cli  # noqa: E402
from nnstep.debugger import Debugger  # noqa: E402
from nnstep.tui import NNStepApp  # noqa: E402
from nnstep.tui import opening as opening_module  # noqa: E402
from nnstep.tui.components.status import StatusBar  # noqa: E402
from nnstep.tui.testing import run_async_tests, settle, toasted, toasts, wait_idle  # noqa: E402

SIZE = (120, 36)
NOTE = Path(__file__).resolve().parent.parent / "scenarios" / "note-network.toml"


def copy_note(tmp_path: Path) -> Path:
    path = tmp_path / "net.toml"
    path.write_text(NOTE.read_text())
    return path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))




async def reload(app: NNStepApp, pilot) -> None:
    await pilot.press("ctrl+r")
    await wait_idle(app, pilot)
    await pilot.pause()


async def test_reload_keeps_position_breakpoints_and_conditions_and_reads_the_new_file(tmp_path):
    path = copy_note(tmp_path)
    app = NNStepApp(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        old = app.dbg
        old.goto(130)  # epoch 1, sample 4 (Diana), op 10
        app.moved()
        old.toggle_breakpoint("h1")
        old.add_condition("abs(d_L_d_w1) > 0.04")
        old.stop_on_nonfinite = True
        edit(path, "learning_rate = 0.1", "learning_rate = 0.5")
        await reload(app, pilot)
        new = app.dbg
        assert new is not old and new.scenario.learning_rate == 0.5
        assert new.t == 130 and new.position() == (0, 3, 9)
        assert new.breakpoints == {"h1"}
        assert [c.text for c in new.conditions] == ["abs(d_L_d_w1) > 0.04"]
        assert new.stop_on_nonfinite
        # the new file's run at the same place, bit for bit
        fresh = Debugger(str(path))
        fresh.goto(130)
        assert new.state() == fresh.state()
        assert "reloaded · position kept" in app.query_one(StatusBar).plain
        await toasted(app, pilot, lambda t: t.startswith("Reloaded · position kept"))
        # the panes show the new run (its loss differs from the old run's here)
        assert f"L {fresh.sample_loss():.4f}" in app.query_one(StatusBar).plain
        assert f"{fresh.sample_loss():.4f}" != f"{old.sample_loss():.4f}"


async def test_reload_of_a_changed_program_drops_what_no_longer_exists_and_starts_over(tmp_path):
    path = copy_note(tmp_path)
    app = NNStepApp(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.dbg.goto(12)
        app.moved()
        app.dbg.toggle_breakpoint("h1")
        app.dbg.toggle_breakpoint("h2")
        app.dbg.add_condition("h2 > 0.5")
        app.dbg.add_condition("L < 0.01")
        edit(path, '{ neurons = ["h1", "h2"]', '{ neurons = ["h1"]')
        await reload(app, pilot)
        dbg = app.dbg
        assert "h2" not in dbg.program.by_name and dbg.t == 0
        assert dbg.breakpoints == {"h1"}
        assert [c.text for c in dbg.conditions] == ["L < 0.01"]
        said = await toasted(app, pilot, lambda t: t.startswith("Reloaded ·"))
        assert said.splitlines() == [
            "Reloaded · the program's ops changed: back to the start",
            "breakpoints dropped (no such op now): h2",
            "conditions dropped (they name what no longer exists): h2 > 0.5",
        ]
        assert "the program's ops changed" in app.query_one(StatusBar).plain


async def test_reload_with_other_samples_or_epochs_starts_over_and_says_why(tmp_path):
    path = copy_note(tmp_path)
    app = NNStepApp(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.dbg.goto(50)
        app.moved()
        text = path.read_text()
        path.write_text(text + '\n[[samples]]\nname = "Eve"\nx = [1, 2]\ny = [1]\n')
        await reload(app, pilot)
        assert app.dbg.t == 0 and app.dbg.sample_count == 5
        await toasted(app, pilot, lambda t: "5 samples now, not 4: back to the start" in t)
        app.dbg.goto(app.dbg.op_count * 5 * 3 + 1)  # epoch 4
        app.moved()
        edit(path, "epochs = 1000", "epochs = 2")
        await reload(app, pilot)
        assert app.dbg.t == 0 and app.dbg.epochs == 2
        await toasted(app, pilot, lambda t: "the run has 2 epochs now: back to the start" in t)


async def test_a_broken_file_keeps_the_run_and_shows_the_one_line_error(tmp_path):
    path = copy_note(tmp_path)
    app = NNStepApp(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        old = app.dbg
        old.goto(7)
        app.moved()
        before = old.state()
        edit(path, "learning_rate = 0.1", "learning_rate = -1")
        await reload(app, pilot)
        assert app.dbg is old and old.state() == before
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            assert cli.main(["check", str(path)]) == 2
        line = err.getvalue().strip()
        assert line.startswith(f"{path}:20: training.learning_rate")
        await toasted(app, pilot, lambda t: t == f"{line}\nThe run goes on as it was.")
        said = toasts(app).count("file changed: ctrl+r reloads")
        app.poll_file()  # the failed reload read this version: no "file changed" for it
        await pilot.pause()
        assert toasts(app).count("file changed: ctrl+r reloads") == said
        # fixed again: the reload goes through
        edit(path, "learning_rate = -1", "learning_rate = 0.1")
        await reload(app, pilot)
        assert app.dbg is not old and app.dbg.state() == before


async def test_esc_abandons_a_reload_and_keeps_the_run(tmp_path, monkeypatch):
    path = copy_note(tmp_path)
    gate = threading.Event()
    real = opening_module.load_scenario

    def slow(arg):
        if str(arg) == str(path) and reloading[0]:
            gate.wait(10)
        return real(arg)

    reloading = [False]
    monkeypatch.setattr(opening_module, "load_scenario", slow)
    app = NNStepApp(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        old = app.dbg
        old.goto(3)
        app.moved()
        reloading[0] = True
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert app.busy == "reloading The note's 2-2-1 network"
        assert app.check_action("step", ()) is None  # moves wait for it
        await pilot.press("escape")
        await pilot.pause()
        gate.set()
        await wait_idle(app, pilot)
        assert not app.busy and app.dbg is old and old.t == 3
        await toasted(app, pilot, lambda t: t == "reloading The note's 2-2-1 network was interrupted")
        await pilot.press("n")
        assert app.dbg.t == 4


async def test_a_bundled_scenario_reloads_and_the_palette_has_it():
    from tests.test_tui import run_palette

    app = NNStepApp("xor")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n", "n", "n")
        old = app.dbg
        await run_palette(app, pilot, "Reload the scenario file")
        await wait_idle(app, pilot)
        assert app.dbg is not old and app.dbg.t == 3 and app.dbg.scenario == old.scenario


async def test_flags_are_kept_across_a_reload(tmp_path):
    path = copy_note(tmp_path)
    app = NNStepApp(path, seed=3, epochs=5)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert (app.dbg.seed, app.dbg.epochs) == (3, 5)
        await reload(app, pilot)
        assert (app.dbg.seed, app.dbg.epochs) == (3, 5)
        assert app.dbg.initial == Debugger(str(path), seed=3).initial


async def test_reload_after_a_failed_open_tries_again(tmp_path):
    path = tmp_path / "net.toml"
    path.write_text("name = \n")
    app = NNStepApp(path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_idle(app, pilot)
        assert app.dbg is None and app.load_error is not None
        path.write_text(NOTE.read_text())
        await reload(app, pilot)
        await settle(app, pilot)
        assert app.dbg is not None and app.dbg.scenario.name == "The note's 2-2-1 network"


async def test_a_changed_file_is_noticed_once(tmp_path):
    path = copy_note(tmp_path)
    app = NNStepApp(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.poll_file()
        await pilot.pause()
        assert "file changed: ctrl+r reloads" not in toasts(app)
        path.write_text(path.read_text() + "\n# edited\n")
        app.poll_file()
        app.poll_file()
        await toasted(app, pilot, lambda t: t == "file changed: ctrl+r reloads")
        assert toasts(app).count("file changed: ctrl+r reloads") == 1
        await reload(app, pilot)
        app.poll_file()  # the reload read this version
        await pilot.pause()
        assert toasts(app).count("file changed: ctrl+r reloads") == 1


run_async_tests(globals())
