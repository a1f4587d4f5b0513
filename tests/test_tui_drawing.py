"""The network drawing: every size from 100x30 drawn, edges that can be traced back
to their inputs, a layout that holds within a sample, digits that tell values apart."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

import nnstep
from nnstep.tui.app import NNStepApp
from nnstep.tui.components.drawing import Layout, layout
from nnstep.tui.components.labels import Numbers
from nnstep.tui.components.network import NetworkModel, NetworkView, Scene, draw, heatmap
from nnstep.tui.components.program import ProgramView
from nnstep.tui.testing import run_async_tests, settle

THREE = """
name = "three inputs"
[network]
inputs = ["study", "sleep", "coffee"]
layers = [
  { neurons = ["h1", "h2", "h3"], activation = "sigmoid" },
  { neurons = ["o1"], activation = "sigmoid" },
]
loss = "mse"
[parameters]
seed = 1
[[samples]]
name = "Ann"
x = [8, 7, 2]
y = [1]
"""

FOUR = """
name = "four inputs"
[network]
inputs = ["a", "b", "c", "d"]
layers = [
  { neurons = 2, activation = "tanh" },
  { neurons = 2, activation = "sigmoid" },
]
loss = "mse"
[parameters]
seed = 2
[[samples]]
x = [0.5, -1.25, 3, 1]
y = [1, 0]
"""

BRAILLE = range(0x2800, 0x2900)
# the directions a box-drawing character's line leaves its cell by
DIRS = {"─": "EW", "│": "NS", "└": "NE", "┘": "NW", "┌": "SE", "┐": "SW", "├": "NSE", "┤": "NSW",
        "┬": "EWS", "┴": "EWN", "┼": "NSEW"}


def scenario_file(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def grid(lines: list[str], width: int) -> list[str]:
    return [line.ljust(width) for line in lines]


def trace(rows: list[str], y: int, x: int) -> tuple[int, int] | None:
    """Follow the edge that ends just left of column ``x`` on row ``y`` back to where it
    starts: level to its lane, along the lane to the one join that comes from the
    left, then level to its source.  Returns (x, y) of the source's end, or None."""
    x -= 1
    while x >= 0 and rows[y][x] == "─":  # the branch, over other lanes
        x -= 1
    if x >= 0 and rows[y][x] not in DIRS:  # a straight line from the source
        return (x, y)
    if x < 0 or "E" not in DIRS.get(rows[y][x], ""):
        return None
    lane = x
    joins = []
    for step, back in ((-1, "S"), (1, "N")):
        yy = y
        while True:
            if "W" in DIRS[rows[yy][lane]] and rows[yy][lane] != "─":
                joins.append(yy)
            if ("N" if step < 0 else "S") not in DIRS.get(rows[yy][lane], ""):
                break
            nxt = yy + step
            while rows[nxt][lane] == "─":  # level lines crossing over the lane
                nxt += step
            if back not in DIRS.get(rows[nxt][lane], ""):
                return None
            yy = nxt
    joins = sorted(set(joins))
    if len(joins) != 1:
        return None
    y = joins[0]
    x = lane - 1
    while x >= 0 and rows[y][x] == "─":
        x -= 1
    return (x, y)


def edges_trace_back(model: NetworkModel, lay: Layout, lines: list[str], width: int) -> None:
    """Every weight's edge, followed from its port, ends at the node it comes from."""
    rows = grid(lines, width)
    for ci in range(len(lay.columns) - 2):
        for unit in lay.columns[ci + 1]:
            for k, (w, src) in enumerate(model.neurons[unit].weights):
                y = lay.top[unit] + k
                x = lay.port_x[ci + 1]
                assert rows[y][x:].lstrip("∂─").startswith(f"{w} "), (w, rows[y])
                assert trace(rows, y, x) == lay.anchor[src], (w, src, "\n".join(rows))


def first_sample(dbg: nnstep.Debugger):
    for t in range(dbg.op_count + 1):
        dbg.goto(t)
        yield t


# --------------------------------------------------------------------------- Pilot


async def test_note_network_and_relu_softmax_drawn_at_100x30():
    for name in ("note-network", "relu-softmax"):
        app = NNStepApp(name)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            net = app.query_one(NetworkView)
            model = app.network_model
            for _ in range(app.dbg.op_count):
                await pilot.press("n")
                assert net.showing == "drawing" == net.border_subtitle, (name, app.dbg.t)
                text = net.plain()
                assert not any(ord(c) in BRAILLE for c in text)
                for p in model.parameters:  # every weight and bias labelled
                    assert f"{p} " in text, (name, p, text)
                lines = text.splitlines()
                edges_trace_back(model, net.drawing_layout, lines, net.size.width)


async def test_three_and_four_inputs_keep_every_edge_apart(tmp_path):
    for text, name in ((THREE, "three"), (FOUR, "four")):
        app = NNStepApp(scenario_file(tmp_path, text, name))
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(app, pilot)
            net = app.query_one(NetworkView)
            model = app.network_model
            assert len(model.inputs) == len(text.split("inputs = [")[1].split("]")[0].split(","))
            for _ in range(app.dbg.op_count):
                await pilot.press("n")
                assert net.showing == "drawing", (name, app.dbg.t)
                shown = net.plain()
                assert not any(ord(c) in BRAILLE for c in shown)  # no merged braille bus
                for p in model.parameters:
                    assert f"{p} " in shown, (name, p)
                edges_trace_back(model, net.drawing_layout, shown.splitlines(), net.size.width)


async def test_layout_holds_through_a_sample(tmp_path):
    for scenario, size in (("note-network", (100, 30)), ("note-network", (120, 36)),
                           ("relu-softmax", (100, 30)), (scenario_file(tmp_path, THREE, "three"), (120, 36))):
        app = NNStepApp(scenario)
        async with app.run_test(size=size) as pilot:
            await settle(app, pilot)
            net = app.query_one(NetworkView)
            layouts, columns = set(), set()
            for _ in range(app.dbg.op_count - 1):
                await pilot.press("n")
                layouts.add(net.drawing_layout.signature())
                # where w1's label and the output's name sit, read off the screen
                lines = net.plain().splitlines()
                w1 = [(y, m.start()) for y, line in enumerate(lines) for m in re.finditer(r"(?<!\w)w1 ", line)]
                out = app.network_model.outputs[0]
                columns.add((tuple(w1), tuple((y, line.index(out)) for y, line in enumerate(lines)
                                               if f"{out} " in line and "→" not in line)))
            assert len(layouts) == 1, (scenario, size)
            assert len(columns) == 1, (scenario, size, columns)


async def test_zoomed_network_shows_full_precision():
    app = NNStepApp()
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(app, pilot)
        for _ in range(25):
            await pilot.press("n")
        net = app.query_one(NetworkView)
        normal = net.plain()
        net.focus()
        await pilot.press("z")
        await pilot.pause()
        assert net.is_maximized
        zoomed = net.plain()
        dbg = app.dbg
        for name in ("h1", "sum_h2", "d_L_d_w1", "L"):
            x = dbg.value(name)
            assert repr(x) in zoomed and repr(x) not in normal, name
            # read back: the number drawn is the float itself
            assert any(math.isclose(float(tok), x, rel_tol=0, abs_tol=0)
                       for tok in zoomed.replace("─", " ").split() if tok.lstrip("+-").startswith(repr(abs(x))[:4]))
        assert "full precision" in zoomed
        await pilot.press("z")
        await pilot.pause()
        assert net.plain() == normal


async def test_heat_map_marks_the_current_ops_node():
    app = NNStepApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        app.action_toggle_heatmap()
        dbg = app.dbg
        dbg.goto(dbg.program.by_name["d_L_d_w1"].index + 1)
        app.refresh_panes()
        await pilot.pause()
        net = app.query_one(NetworkView)
        text = net.plain()
        assert net.showing == "heat map"
        assert "op d_L_d_w1 writes w1" in text
        layer1 = next(line for line in text.splitlines() if "(w1…w4)" in line)
        layer2 = next(line for line in text.splitlines() if "(w5…w6)" in line)
        assert "◆ w1" in layer1 and "◆" not in layer2  # w5 is only read
        assert "◇ w5" in layer2


async def test_program_value_column_keeps_the_formula_panes_digits():
    app = NNStepApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        dbg = app.dbg
        dbg.goto(dbg.program.by_name["d_L_d_w6"].index + 1)
        app.refresh_panes()
        await pilot.pause()
        program = app.query_one(ProgramView)
        x = dbg.value("d_L_d_w6")
        nine = f"{x:.9g}"
        line = next(t for t in program.text_lines() if t.lstrip("●▶ ").startswith("d_L_d_w6 ="))
        assert line.split()[-1] == nine  # the room it has: as many digits as the formula pane
        program.focus()
        await pilot.press("z")
        await pilot.pause()
        line = next(t for t in program.text_lines() if t.lstrip("●▶ ").startswith("d_L_d_w6 ="))
        assert line.split()[-1] == nine and float(nine) == float(f"{x:.9g}")


# --------------------------------------------------------------------------- units


def scene_with(model: NetworkModel, dbg: nnstep.Debugger, **values: float) -> Scene:
    scene = model.scene(dbg)
    scene.values.update(values)
    return scene


def test_node_values_keep_enough_digits():
    dbg = nnstep.Debugger(nnstep.load_scenario("note-network"))
    model = NetworkModel(dbg)
    dbg.goto(25)
    scene = scene_with(model, dbg, h1=-1.508e154, h2=0.99997, o1=1.0)
    text = "\n".join(t.plain for t in draw(model, scene, 74, 14))
    assert "= -1.51e154" in text and "-2e+154" not in text
    assert "= 0.99997" in text and Numbers()(1.0) == "1" != Numbers()(0.99997)
    for value in (-1.508e154, 0.99997, -0.0921541036, -3.2e-5, 1e-300, 123456.789):
        shown = Numbers()(value)
        assert len(shown) <= Numbers().width + 1
        digits = len(shown.split("e")[0].lstrip("-").replace(".", "").lstrip("0"))
        assert digits >= 3 or float(shown) == value  # never fewer than 3 significant digits
        assert math.isclose(float(shown), value, rel_tol=5e-3)


def test_every_number_format_fits_its_layout():
    """Painting a scene whose numbers are as wide as they get keeps every text inside
    the columns the layout gave it (a number never runs into a port's bracket)."""
    dbg = nnstep.Debugger(nnstep.load_scenario("note-network"))
    model = NetworkModel(dbg)
    for t in first_sample(dbg):
        scene = model.scene(dbg)
        wide = {n: (v if n in (*model.inputs, *model.targets) or v is None else -1.2345678e-123)
                for n, v in scene.values.items()}
        scene.values.update(wide)
        lay = layout(model, scene, 74, 14)
        assert lay is not None
        lines = grid([line.plain for line in draw(model, scene, 74, 14)], 74)
        for ci in range(1, len(lay.columns) - 1):
            for unit in lay.columns[ci]:
                for k in range(len(model.neurons[unit].weights)):
                    bracket = lines[lay.top[unit] + k][lay.port_x[ci] + lay.port_w[ci] + 1]
                    assert bracket in "┐┤┘─", (t, unit, k)


@pytest.mark.parametrize("size", [(62, 12), (74, 14), (118, 33), (198, 46)])
def test_drawn_edges_trace_back_at_every_size(size):
    for name in ("note-network", "relu-softmax", "feed-forward", "xor"):
        dbg = nnstep.Debugger(nnstep.load_scenario(name))
        model = NetworkModel(dbg)
        for _ in first_sample(dbg):
            scene = model.scene(dbg)
            lay = layout(model, scene, *size)
            if lay is None:
                assert name == "xor" and size[0] < 100, (name, size)  # 2-4-1: too many ports below 100 columns
                continue
            lines = [t.plain for t in draw(model, scene, *size)]
            edges_trace_back(model, lay, lines, size[0])


def test_heatmap_lists_writes_and_reads_apart():
    dbg = nnstep.Debugger(nnstep.load_scenario("note-network"))
    model = NetworkModel(dbg)
    dbg.goto(dbg.program.by_name["d_L_d_w1"].index + 1)
    text = "\n".join(t.plain for t in heatmap(model, model.scene(dbg), 60, 12))
    assert "op d_L_d_w1 writes w1" in text and "◆ w1" in text and "◇ w5" in text


run_async_tests(globals())
