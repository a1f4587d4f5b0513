"""Long work off the UI thread (issue #10 item 6) and long runs visibly alive
(issue #13 item 1), driven through Pilot."""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("textual")

from textual.widgets import Footer  # noqa: E402

from nnstep.tui import NNStepApp  # noqa: E402
from nnstep.tui.components.status import StatusBar  # noqa: E402
from nnstep.tui.screens import open as open_module  # noqa: E402
from nnstep.tui.screens.open import OpenScreen  # noqa: E402
from nnstep.tui.testing import run_async_tests, settle, wait_idle  # noqa: E402

SIZE = (120, 36)
NOTE = Path(__file__).resolve().parent.parent / "scenarios" / "note-network.toml"


async def test_opening_a_fifo_never_blocks_the_ui(tmp_path, monkeypatch):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, OpenScreen)
        path = app.screen.query_one("#open-path")
        # a FIFO: refused by the loader without opening it for reading
        path.value = str(fifo)
        path.focus()
        started = time.monotonic()
        await pilot.press("enter")
        for _ in range(50):
            await pilot.pause(0.02)
            if "named pipe" in app.screen.query_one("#open-error").content.plain:
                break
        assert time.monotonic() - started < 2  # the UI answered at once
        assert "named pipe (FIFO)" in app.screen.query_one("#open-error").content.plain
        # whatever else could block (a slow disk, a device the loader did not foresee)
        # blocks a reader thread, never the UI: the dialog says so and esc stops waiting
        release = threading.Event()

        def blocked(arg):
            release.wait(10)
            raise OSError("released")

        monkeypatch.setattr(open_module, "load_scenario", blocked)
        path.value = str(tmp_path / "slow.toml")
        started = time.monotonic()
        await pilot.press("enter")
        await pilot.pause()
        assert time.monotonic() - started < 2
        assert "reading" in app.screen.query_one("#open-error").content.plain
        await pilot.press("escape")  # stop waiting: the dialog stays
        await pilot.pause()
        assert isinstance(app.screen, OpenScreen)
        assert "interrupted" in app.screen.query_one("#open-error").content.plain
        await pilot.press("escape")
        await pilot.pause()
        assert app.dbg.t == 1  # the session is untouched
        release.set()


async def test_opening_at_start_runs_off_the_ui_thread_and_esc_abandons_it(monkeypatch):
    import threading

    import nnstep.tui.opening as app_module

    gate = threading.Event()
    real = app_module.Debugger

    def slow(scenario, **kw):
        gate.wait(10)
        return real(scenario, **kw)

    monkeypatch.setattr(app_module, "Debugger", slow)
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.busy.startswith("opening") and app.query_one("#run").display
        assert "opening" in app.query_one(StatusBar).plain
        await pilot.press("escape")
        await pilot.pause()
        assert app.dbg is None and not app.busy
        assert "interrupted" in app.query_one("#error").plain
        gate.set()
        await asyncio.sleep(0.2)
        await pilot.pause()
        assert app.dbg is None  # the abandoned result is dropped


def epoch_of(app: NNStepApp) -> int:
    m = re.search(r"ep(?:och)? (\d+)/", app.query_one(StatusBar).plain)
    assert m, app.query_one(StatusBar).plain
    return int(m.group(1))


async def test_a_long_run_shows_its_progress_and_esc_stops_it(tmp_path):
    path = tmp_path / "long.toml"
    path.write_text(NOTE.read_text().replace("epochs = 1000", "epochs = 10000000"))
    app = NNStepApp(str(path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.dbg.epochs == 10_000_000
        await pilot.press("c")
        bar = app.query_one("#run")
        first = None
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            await pilot.pause()
            label = str(app.query_one("#run-label").content)
            if "epochs/s" in label:
                if first is None:
                    first = epoch_of(app)
                elif epoch_of(app) > first:
                    break
        assert bar.display and app.busy
        label = str(app.query_one("#run-label").content)
        m = re.search(r"epoch ([\d,]+)/10,000,000 · ([\d,]+) epochs/s · .+ left", label)
        assert m, label
        assert first is not None and epoch_of(app) > first  # the status line advances
        assert len(app.query_one("#sparkline").data) >= 1
        footer = app.query_one(Footer)
        assert bar.region.height == 1 and not bar.region.overlaps(footer.region)
        await pilot.press("escape")
        await wait_idle(app, pilot)
        assert not app.busy and not bar.display
        t = app.dbg.t
        assert 0 < t < app.dbg.total
        assert app.dbg.t == t and "interrupted" in app.query_one(StatusBar).plain


async def test_the_hidden_run_bar_does_not_animate():
    # opening a scenario shows an indeterminate bar (it animates 15 times a second); once
    # hidden, it must not go on animating, or it wakes the app and delays every key
    from textual.widgets import ProgressBar
    from textual.widgets._progress_bar import Bar

    app = NNStepApp("note-network")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await wait_idle(app, pilot)
        assert not app.query_one("#run").display
        assert app.query_one(ProgressBar).percentage is not None
        assert app.query_one(Bar).auto_refresh is None  # no animation timer
        await pilot.press("o")  # an open dialog, and opening another scenario: a busy spell again
        await pilot.pause()
        app.pop_screen()
        app.open_scenario("xor")
        await wait_idle(app, pilot)
        assert app.dbg.scenario.name == "XOR" and not app.query_one("#run").display
        assert app.query_one(Bar).auto_refresh is None


async def test_goto_takes_the_epoch_first():
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n", "n")
        await pilot.press("g")
        await pilot.pause()
        await pilot.press("9", "0", "0", "enter")  # typed over the pre-filled epoch
        await wait_idle(app, pilot)
        assert app.dbg.position() == (899, 0, 1)


async def test_a_key_after_the_open_dialog_gave_its_result_does_nothing():
    """The fuzz found it: a scenario read in the background closes the dialog, and an esc
    that arrives before the screen is gone must not dismiss it a second time."""
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("o")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, OpenScreen)
        screen.close(None)
        screen.action_cancel()  # esc, queued behind the result
        await pilot.pause()
        assert app.is_running and not isinstance(app.screen, OpenScreen)


async def test_the_sparkline_gets_each_finished_epoch_once_during_a_run():
    """Progress comes several times an epoch on a slow run: each epoch's loss is added once."""
    from rich.text import Text

    from nnstep.tui.runs import RunProgress

    app = NNStepApp("note-network")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        app._run_losses, app._run_done, app.busy = [], 0, "continuing"  # as run_in_worker leaves them
        for done, loss in [(0, None), (1, 0.5), (1, 0.5), (1, 0.5), (2, 0.4), (2, 0.4), (3, 0.3)]:
            app.on_run_progress(RunProgress(0.1, 0, Text("…"), loss, done, {}))
        assert app._run_losses == [0.5, 0.4, 0.3]
        app.busy = ""


run_async_tests(globals())
