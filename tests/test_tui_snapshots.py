"""SVG snapshots of the main screens at fixed sizes (pytest-textual-snapshot).

Update after an intended visual change with ``pytest tests/test_tui_snapshots.py --snapshot-update``
and look at the report before committing."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytest_textual_snapshot")

from nnstep.tui import NNStepApp  # noqa: E402
from nnstep.tui.components.program import ProgramView  # noqa: E402
from nnstep.tui.testing import settle, wait_idle  # noqa: E402

NOTE = Path(__file__).resolve().parent.parent / "scenarios" / "note-network.toml"


def at(epoch: int, sample: int, op: str, breakpoint: str | None = None):
    async def run_before(pilot) -> None:
        app = pilot.app
        await settle(app, pilot)
        if breakpoint:
            app.dbg.toggle_breakpoint(breakpoint)
        app.dbg.goto_position(epoch, sample, op)
        app.refresh_panes()
        app.query_one(ProgramView).refresh()
        await pilot.pause()

    return run_before


def test_start_screen(snap_compare):
    async def run_before(pilot) -> None:
        await settle(pilot.app, pilot)

    assert snap_compare(NNStepApp(), terminal_size=(120, 36), run_before=run_before)


def test_backward_phase_with_breakpoint(snap_compare):
    # epoch 3, Alice, at d_L_d_w1: formula with finite-difference check, gradients on the
    # network, a breakpoint in the gutter and two epoch losses in the sparkline
    assert snap_compare(NNStepApp(), terminal_size=(120, 36), run_before=at(2, 0, "d_L_d_w1", "d_L_d_w1"))


def test_small_terminal_backward_phase(snap_compare):
    assert snap_compare(NNStepApp(), terminal_size=(80, 24), run_before=at(0, 1, "d_ypred_d_h1"))


def test_help_screen(snap_compare):
    async def run_before(pilot) -> None:
        await settle(pilot.app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(NNStepApp(), terminal_size=(120, 36), run_before=run_before)


def test_error_view(snap_compare, tmp_path, monkeypatch):
    (tmp_path / "broken.toml").write_text(NOTE.read_text().replace("learning_rate = 0.1", "learning_rate = -1"))
    monkeypatch.chdir(tmp_path)
    async def run_before(pilot) -> None:
        await wait_idle(pilot.app, pilot)  # the file is read off the UI thread

    assert snap_compare(NNStepApp("broken.toml"), terminal_size=(80, 24), run_before=run_before)
