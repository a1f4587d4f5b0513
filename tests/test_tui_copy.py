"""Copying the shown formula (text as ``nnstep trace`` prints it, LaTeX as its jsonl has it)
and saving the slot view as SVG, from the palette (issue #16 item 6)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json

import pytest

from nnstep import cli

pytest.importorskip("textual")

from nnstep.tui import NNStepApp  # noqa: E402
from nnstep.tui.components.program import ProgramView  # noqa: E402
from nnstep.tui.testing import run_async_tests, settle, toasted, wait_idle  # noqa: E402
from tests.test_tui import run_palette  # noqa: E402

SIZE = (120, 36)


def trace(argv: list[str]) -> list[str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["trace", *argv]) == 0
    return out.getvalue().splitlines()




async def said(app: NNStepApp, pilot, head: str, copied: str) -> bool:
    """The last toast starting with ``head`` goes on with what was copied (cut short with … when long)."""
    last = await toasted(app, pilot, lambda t: t.startswith(head))
    shown = last[len(head):]
    return shown == copied or shown.endswith("…") and len(shown) == 200 and copied.startswith(shown[:-1])


@pytest.mark.parametrize("scenario", ["note-network", "circuit", "relu-softmax"])
async def test_copy_formula_as_text_and_latex_is_what_the_trace_prints(scenario):
    app = NNStepApp(scenario)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        dbg = app.dbg
        for step in sorted({1, dbg.op_count // 2, dbg.op_count - 1, dbg.op_count}):
            app.goto(step)
            await pilot.pause()
            # what the trace prints for this op: the text under its line, the jsonl's latex
            text_lines = trace([scenario, "--steps", str(step)])
            record = json.loads(trace([scenario, "--steps", str(step), "--format", "jsonl"])[-1])
            assert record["step"] == step and record["name"] == dbg.current_op.name
            await run_palette(app, pilot, "Copy formula as text")
            assert await said(app, pilot, f"{record['name']} as text:\n", record["formula"])
            assert app.clipboard == text_lines[-1].strip() == record["formula"]
            await run_palette(app, pilot, "Copy formula as LaTeX")
            assert await said(app, pilot, f"{record['name']} as LaTeX:\n", record["latex"])
            assert app.clipboard == record["latex"]


async def test_copy_takes_the_selected_op():
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press(*"n" * 5)
        await pilot.press("up", "up")  # the selection moves, the execution point stays
        selected = app.query_one(ProgramView).selected
        assert selected == 2 and app.dbg.t == 5
        await run_palette(app, pilot, "Copy formula as LaTeX")
        record = json.loads(trace(["--steps", "3", "--format", "jsonl"])[-1])
        assert record["name"] == app.dbg.ops[selected].name
        await toasted(app, pilot, lambda t: t.startswith(f"{record['name']} as LaTeX:"))
        assert app.clipboard == record["latex"]


async def test_copy_before_the_formula_is_rendered_says_so(monkeypatch):
    from nnstep.tui.formulas import FormulaBook

    monkeypatch.setattr(FormulaBook, "run", lambda self, cancelled, ready: None)  # SymPy never comes
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await wait_idle(app, pilot)
        await pilot.press("n")
        app.action_copy_formula("text")
        await pilot.pause()
        assert app.clipboard == ""
        await toasted(app, pilot, lambda t: t == "The formula of sum_h1 is still being rendered; try again in a moment")


async def wait_for_file(app: NNStepApp, pilot, folder) -> list:
    for _ in range(200):  # saved after the palette has closed and the zoomed view is drawn
        files = list(folder.iterdir())
        if files:
            return files
        await asyncio.sleep(0.02)
        await pilot.pause()
    raise AssertionError("nothing saved")


async def test_save_the_slot_view_as_svg(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n", "n", "n")
        await run_palette(app, pilot, "Save the slot view as SVG")
        (saved,) = await wait_for_file(app, pilot, tmp_path)
        assert saved.name == "nnstep-The-note-s-2-2-1-network-epoch1-sample1-op3-network.svg"
        svg = saved.read_text()
        assert svg.startswith("<svg")
        # the network pane alone, zoomed: its title, the drawing's h1 value, no other pane
        h1 = f"{app.dbg.value('h1'):.4f}"
        assert "Network" in svg and h1 in svg.replace("&#160;", " ")
        assert "Formula" not in svg and "Values" not in svg and "Program" not in svg
        await pilot.pause()
        assert app.screen.maximized is None  # back as it was
        await toasted(app, pilot, lambda t: t == f"Screenshot saved to {saved}")


async def test_save_a_zoomed_pane_as_svg(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = NNStepApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n", "z")
        assert app.screen.maximized is app.query_one(ProgramView)
        await run_palette(app, pilot, "Save the slot view as SVG")
        (saved,) = await wait_for_file(app, pilot, tmp_path)
        assert saved.name.endswith("-epoch1-sample1-op1-program.svg")
        svg = saved.read_text()
        assert "Program" in svg and "Network" not in svg
        assert app.screen.maximized is app.query_one(ProgramView)  # still zoomed


run_async_tests(globals())
