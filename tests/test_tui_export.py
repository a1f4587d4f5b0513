"""Export this step from the TUI (``x``, the palette): the handout of the current epoch
and sample in the working directory, a toast saying where, the debugger left where it
was; esc stops it; errors are a toast, not a traceback (issue #16 item 5)."""

from __future__ import annotations

import asyncio
import time

import pytest

pytest.importorskip("textual")

from test_tui import run_palette  # noqa: E402

from nnstep import export  # noqa: E402
from nnstep.tui import NNStepApp, exporting  # noqa: E402
from nnstep.tui.screens.help import HelpScreen  # noqa: E402
from nnstep.tui.testing import run_async_tests, settle, wait_idle  # noqa: E402

SIZE = (120, 36)
NOTE = "nnstep-The-note-s-2-2-1-network"


def messages(app: NNStepApp) -> list[str]:
    return [n.message for n in app._notifications]


async def until(pilot, condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        await pilot.pause()
    assert condition()


async def test_x_writes_the_current_steps_handout_and_says_where(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n", "n")
        state, panes = app.dbg.state(), app.pane_texts()
        await pilot.press("x")
        await wait_idle(app, pilot)
        path = tmp_path / f"{NOTE}-epoch1-sample1.md"
        assert [p.name for p in tmp_path.iterdir()] == [path.name]
        assert path.read_text(encoding="utf-8") == export.export("note-network")
        assert f"Handout saved to {path}" in messages(app)
        assert app.dbg.state() == state  # put back where it was, bit for bit
        assert app.pane_texts()["program"] == panes["program"]


async def test_the_palette_exports_latex_and_html_of_another_sample(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.dbg.goto_position(1, 2, 4)  # epoch 2, sample 3 (Charlie), op 5
        app.moved()
        t = app.dbg.t
        await run_palette(app, pilot, "Export this step as LaTeX…")
        await wait_idle(app, pilot)
        tex = tmp_path / f"{NOTE}-epoch2-sample3.tex"
        assert tex.read_text(encoding="utf-8") == export.export("note-network", epoch=2, sample=3, fmt="latex")
        await run_palette(app, pilot, "Export this step as HTML…")
        await wait_idle(app, pilot)
        page = (tmp_path / f"{NOTE}-epoch2-sample3.html").read_text(encoding="utf-8")
        assert page == export.export("note-network", epoch=2, sample=3, fmt="html")
        await run_palette(app, pilot, "Export this step…")
        await wait_idle(app, pilot)
        assert (tmp_path / f"{NOTE}-epoch2-sample3.md").exists()
        assert app.dbg.t == t
        assert f"Handout saved to {tmp_path / f'{NOTE}-epoch2-sample3.md'}" in messages(app)


async def test_help_lists_the_key():
    from rich.console import Console

    from nnstep.tui.screens.help import help_text

    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
    console = Console(width=120, record=True, color_system=None)
    console.print(help_text())
    rows = [line.split() for line in console.export_text().splitlines()]
    assert any(row[:1] == ["x"] and " ".join(row[1:]).startswith("Export this step") for row in rows if row)


async def test_esc_stops_an_export(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    started = []

    def slow(step, fmt, *, cancel):  # a handout that takes until esc
        started.append(fmt)
        while not cancel():
            time.sleep(0.01)
        raise export.ExportCancelled

    monkeypatch.setattr(exporting, "render", slow)
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await pilot.press("x")
        await until(pilot, lambda: started and app.busy)
        assert "exporting this step" in app.busy
        await pilot.press("n")  # a move waits while the worker owns the debugger
        await pilot.press("escape")
        await wait_idle(app, pilot)
        assert not app.busy and app.dbg.t == 1
        assert "Interrupted" in messages(app)
        assert list(tmp_path.iterdir()) == []


async def test_a_step_too_large_is_a_toast(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(export, "MAX_EXPORT_OPS", 10)
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("x")
        await wait_idle(app, pilot)
        assert any("a handout is written for at most 10" in m for m in messages(app))
        assert list(tmp_path.iterdir()) == []
        assert app.is_running and app.dbg.t == 0


async def test_an_edited_run_says_so_in_the_handout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.dbg.edits = {"w1": 0.5}  # the what-if edits' hook
        await pilot.press("x")
        await wait_idle(app, pilot)
        assert "This run is edited (what-if)" in (tmp_path / f"{NOTE}-epoch1-sample1.md").read_text(encoding="utf-8")


run_async_tests(globals())
