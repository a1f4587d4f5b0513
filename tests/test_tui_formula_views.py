"""The formula pane reads correctly in every ``t`` view at 120x36 and 80x24 (issues #11
and #13): the note's network, two-moons, relu-softmax and a graph with a direct path.
No SymPy internals (Heaviside, Abs, Max, θ, sign), what is differentiated in
brackets, a legend where a step [a > b] appears, the direct partial and the total told
apart, and scrolling (no scrollbars) exactly as far as the text goes, the border saying
what is out of sight."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

pytest.importorskip("textual")
pytest.importorskip("sympy")

from nnstep.symbolic import IVERSON_LEGEND  # noqa: E402
from nnstep.tui import NNStepApp  # noqa: E402
from nnstep.tui.components.formula import VIEWS, FormulaView  # noqa: E402
from nnstep.tui.testing import run_async_tests, settle  # noqa: E402

from graphs import DIRECT_PATH as DIRECT  # noqa: E402

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
INTERNALS = ("Heaviside", "Abs(", "Max(", "Min(", "θ", "sign(")


def _ops_to_check(app: NNStepApp) -> list[int]:
    """Every op of a small program; of a larger one, two of each kind and the partials
    of the loss, the output, a hidden neuron and a softmax output (their forms differ)."""
    ops = app.dbg.ops
    if len(ops) <= 12:
        return list(range(len(ops)))
    seen: dict[str, int] = {}
    out = []
    for op in ops:
        special = op.kind == "partial" and op.of in ("ypred", "L", "h1", "hike") and seen.get(op.of, 0) < 2
        if seen.get(op.kind, 0) < 2 or special:
            out.append(op.index)
            seen[op.kind] = seen.get(op.kind, 0) + 1
            if special:
                seen[op.of] = seen.get(op.of, 0) + 1
    return out


async def _check(path: str, size: tuple[int, int]) -> dict[int, dict[str, str]]:
    app = NNStepApp(path)
    shown: dict[int, dict[str, str]] = {}
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        app.goto(app.dbg.op_count)  # the whole first sample has run: every op has its numbers
        await pilot.pause()
        pane = app.query_one(FormulaView)
        for index in _ops_to_check(app):
            op = app.dbg.ops[index]
            for view in VIEWS:
                app.shown_op, app.view = index, view
                app.update_formula(reset=True)
                await pilot.pause()
                for _ in range(600):  # the worker expands the op asked for next
                    if "expanding with SymPy" not in pane.plain:
                        break
                    await asyncio.sleep(0.05)
                    app.update_formula(reset=True)
                    await pilot.pause()
                # the maths, below the op's program line (code, e.g. sign(x - y)) and where it is
                lines = pane.plain.splitlines()
                head = next(k for k, line in enumerate(lines) if f"op {index + 1}/" in line)
                text = "\n".join(lines[head + 1:])
                shown.setdefault(index, {})[view] = text
                for word in INTERNALS:
                    assert word not in text, (path, size, op.name, view, text)
                if view == "symbols":
                    assert "deriving" not in text
                    if "[" in text and " > " in text:
                        assert "".join(IVERSON_LEGEND.split()) in "".join(text.split()), (op.name, text)
                # no scrollbar; scrolling goes exactly as far as the text, and the border
                # says what is out of sight
                widest = max(line.cell_len for line in pane.lines)
                room = pane.scrollable_content_region
                assert not (pane.show_horizontal_scrollbar or pane.show_vertical_scrollbar)
                assert pane.max_scroll_x == max(0, widest - room.width), (op.name, view, widest, room)
                assert pane.max_scroll_y == max(0, len(pane.lines) - room.height), (op.name, view)
                subtitle = str(pane.border_subtitle)
                assert ("→ more" in subtitle) == (widest > room.width), (op.name, view, subtitle)
                below = len(pane.lines) - room.height
                assert (f"↓ {below} more" in subtitle) == (below > 0), (op.name, view, subtitle)
    return shown


def _partials_bracketed(shown: dict[int, dict[str, str]], app_ops) -> None:
    for index, views in shown.items():
        op = app_ops[index]
        if op.kind == "partial":
            text = " ".join(views["symbols"].split())
            assert "∂" in text, text


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
@pytest.mark.parametrize("name", ["note-network.toml", "two-moons.toml", "relu-softmax.toml"])
async def test_bundled_formula_views_read_correctly(name, size):
    shown = await _check(str(SCENARIOS / name), size)
    # lines may wrap in a narrow pane: compare without spaces and line breaks
    texts = ["".join(t.split()) for views in shown.values() for t in views.values()]

    def seen(needle: str) -> bool:
        return any("".join(needle.split()) in t for t in texts)

    if name == "note-network.toml":
        assert seen("-2⋅(y_true - ŷ)")
        assert seen("x1⋅σ(sum_h1)⋅(1 - σ(sum_h1))")
        assert seen("sum_h1 = w1⋅x1 + w2⋅x2 + b1")
        assert seen(r"w_{1} \leftarrow w_{1} - \eta")
    if name == "relu-softmax.toml":
        assert seen("hike⋅(1 - hike)")
        assert seen("[sum_h1 > 0]")


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
async def test_direct_path_graph_tells_local_and_total_apart(size, tmp_path):
    path = tmp_path / "direct.toml"
    path.write_text(DIRECT)
    shown = await _check(str(path), size)
    from nnstep import load_scenario
    from nnstep.debugger import Debugger

    ops = Debugger(load_scenario(str(path))).ops
    local = next(op.index for op in ops if op.name == "d_f_d_x_local")
    total = next(op.index for op in ops if op.name == "d_f_d_x")
    local_text = "".join(shown[local]["symbols"].split())
    total_text = "".join(shown[total]["symbols"].split())
    assert "∂f/∂x|direct=" in local_text and "[x>y]" in local_text
    assert "∂f/∂x=∂f/∂d⋅∂d/∂x+∂f/∂x|direct" in total_text
    assert "│x-y│" in "".join(shown[0]["symbols"].split())
    assert r"\right|_{\text{direct}}" in "".join(shown[local]["latex"].split())


run_async_tests(globals())
