"""Formula graphs drawn as circuits: the parts and the numbers on their wires (checked
against the debugger and against arithmetic done here), what the pane shows at
120x36 and 80x24 (the table, saying what size the circuit needs, until zoomed), the
current op's nodes highlighted, the palette's switch to the table and back."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

import nnstep
from nnstep.circuit import build_circuit, wire_gradients, wire_values
from nnstep.tui.app import NNStepApp
from nnstep.tui.components.circuit import LABEL_WIDTHS, circuits, fits, geometry
from nnstep.tui.components.labels import WRITE
from nnstep.tui.components.network import NetworkView
from nnstep.tui.testing import run_async_tests, settle

NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?|nan|-?inf")


def close(shown: str, value: float) -> bool:
    """``shown`` is ``value`` to the digits it has (a number rounded to fit a label)."""
    got = float(shown)
    digits = len(re.sub(r"[^0-9]", "", shown.split("e")[0]).lstrip("0")) or 1
    return math.isclose(got, value, rel_tol=6 * 10.0 ** -digits, abs_tol=10.0 ** -(digits + 1))


def test_parts_of_the_bundled_graphs():
    fine = build_circuit(nnstep.load_scenario("circuit"))
    assert [(p.label, p.kind, p.name, p.depth) for p in fine.parts] == [
        ("x", "parameter", "x", 0), ("y", "parameter", "y", 0), ("z", "parameter", "z", 0),
        ("+", "op", "q", 1), ("*", "op", "f", 2)]
    assert fine.parts[3].args == (0, 1) and fine.parts[4].args == (3, 2)
    sig = build_circuit(nnstep.load_scenario("sigmoid-neuron"))
    ops = [p.label for p in sig.parts if p.kind == "op"]
    assert ops == ["*", "*", "+", "+", "-x", "exp", "+1", "1/x", "-", "**2"]
    assert [p.name for p in sig.parts if p.kind == "op" and p.name] == ["f", "L"]
    coarse = build_circuit(nnstep.load_scenario("sigmoid-neuron"), fine=False)
    assert [p.label for p in coarse.parts if p.kind == "op"] == ["f", "L"]
    assert build_circuit(nnstep.load_scenario("xor")) is None  # a layered network has no circuit


def test_wire_numbers_are_the_debuggers_and_the_formulas():
    sc = nnstep.load_scenario("sigmoid-neuron")
    dbg = nnstep.Debugger(sc)
    c = build_circuit(sc)
    dbg.finish_phase(), dbg.finish_phase()  # forward, then the loss
    values = wire_values(c, dbg.value)
    by_label = {p.label: values[p.index] for p in c.parts}
    w0, w1, w2 = (dbg.value(n) for n in ("w0", "w1", "w2"))
    x0, x1 = sc.samples[0].x[:2]
    s = w0 * x0 + w1 * x1 + w2
    assert by_label["-x"] == -s and by_label["exp"] == math.exp(-s) and by_label["+1"] == 1 + math.exp(-s)
    assert by_label["1/x"] == dbg.value("f") and math.isclose(dbg.value("f"), 1 / (1 + math.exp(-s)))
    assert by_label["**2"] == dbg.value("L")
    before = wire_gradients(c, dbg.value, False)
    assert set(before.values()) == {None} and {c.parts[i].name for i in before} == {"w0", "w1", "w2", "f", "L"}
    dbg.finish_phase()  # backward
    grads = wire_gradients(c, dbg.value, True)
    named = {c.parts[i].name: g for i, g in grads.items()}
    assert named == {"w0": dbg.value("d_L_d_w0"), "w1": dbg.value("d_L_d_w1"), "w2": dbg.value("d_L_d_w2"),
                     "f": dbg.value("d_L_d_f"), "L": 1.0}
    # the chain rule by hand: ∂L/∂w0 = -2(y - f) · f(1 - f) · x0
    f, y = dbg.value("f"), sc.samples[0].x[2]
    assert math.isclose(named["w0"], -2 * (y - f) * f * (1 - f) * x0)


def picture(app: NNStepApp) -> tuple[list[str], NetworkView]:
    net = app.query_one(NetworkView)
    return net.plain().splitlines(), net


def check_picture(app: NNStepApp) -> None:
    """Every number on the picture's wires reads back as the debugger's (or the formula's) number."""
    dbg = app.dbg
    lines, net = picture(app)
    assert net.showing == "circuit" and lines[0].startswith("circuit · ")
    fine, coarse = circuits(app.network_model)
    circuit = fine if "one node per operation" in lines[0] else coarse
    width, height = net.size.width, net.size.height
    geo = next(g for g in (geometry(circuit, w) for w in LABEL_WIDTHS) if fits(g, width, height))
    old = dbg.old_parameters() if dbg.phase == "update" else {}

    def value(n: str) -> float | None:
        return old[n] if n in old else dbg.value(n)

    values = wire_values(circuit, value)
    grads = wire_gradients(circuit, value, dbg.phase in ("backward", "update"))
    for p in circuit.parts:
        x = geo.col_x[0] + geo.col_w[0] + 1 if p.depth == 0 else geo.x[p.index] + len(geo.text[p.index]) + 1
        y = geo.mid(p.index)
        assert lines[y][geo.x[p.index]:].startswith(geo.text[p.index])
        above = lines[y - 1][x:x + geo.label_w].split("│")[0].strip()
        below = lines[y + 1][x:x + geo.label_w].split("│")[0].strip() if y + 1 < len(lines) else ""
        v = values[p.index]
        assert (above == "·") if v is None else close(above, v), (p, above, v)
        g = grads.get(p.index)
        if g is None:
            assert not NUMBER.fullmatch(below), (p, below)
        else:
            assert close(below, g), (p, below, g)


async def test_circuit_scenario_every_op_at_120x36():
    app = NNStepApp("circuit")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        dbg = app.dbg
        seen_grads = False
        for _ in range(dbg.op_count + 2):
            await pilot.press("n")
            await pilot.pause()
            check_picture(app)
            lines, net = picture(app)
            seen_grads |= dbg.phase == "backward" and lines[3].split()[0] == "-4"  # ∂f/∂x under x
            # the current op's formula (or parameter) is highlighted
            op = dbg.current_op
            element = app.network_model.element(op.name)
            circuit = circuits(app.network_model)[0]
            lit = [p for p in circuit.parts if (p.formula or p.name) == element]
            strips = net._lines
            geo = next(g for g in (geometry(circuit, w) for w in LABEL_WIDTHS) if fits(g, *net.size))
            for p in lit:
                line = strips[geo.mid(p.index)]
                styles = [s.style for s in line.spans if s.start <= geo.x[p.index] < s.end]
                assert WRITE in styles, (op.name, p)
        assert seen_grads


async def test_sigmoid_neuron_needs_zoom_and_says_so():
    app = NNStepApp("sigmoid-neuron")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("f", "f", "f")  # forward, loss, backward
        await pilot.pause()
        lines, net = picture(app)
        assert net.showing == "formula graph"
        need = re.search(r"the circuit needs (\d+)×(\d+) cells: z zooms the pane", net.plain())
        assert need, net.plain()
        assert int(need[1]) > net.size.width or int(need[2]) > net.size.height
        net.focus()
        await pilot.press("z")
        await pilot.pause()
        lines, net = picture(app)
        assert "one node per operation" in lines[0]
        assert int(need[1]) <= net.size.width and int(need[2]) <= net.size.height
        check_picture(app)
        for label in ("exp", "1/x", "(+1)", "(-x)", "**2", "(*)"):
            assert label in net.plain()


async def test_80x24_zoomed_draws_one_node_per_formula():
    app = NNStepApp("sigmoid-neuron")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("f", "f", "n", "n")
        net = app.query_one(NetworkView)
        net.focus()
        await pilot.press("z")
        await pilot.pause()
        lines, net = picture(app)
        assert lines[0].startswith("circuit · one node per formula (per operation: ")
        assert "[f]" in net.plain() and "[L]" in net.plain()
        check_picture(app)


async def test_the_palette_switches_to_the_table_and_back_and_update_says_old_to_new():
    app = NNStepApp("circuit")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("s")  # the whole sample: every update done
        await pilot.pause()
        lines, net = picture(app)
        dbg = app.dbg
        old, new = dbg.old_parameters(), dbg.parameters()
        update = next(line for line in lines if line.startswith("updated: "))
        for name in ("x", "y", "z"):
            m = re.search(rf"\b{name} ([^ ,]+) → ([^ ,]+)", update)
            assert m and close(m[1], old[name]) and close(m[2], new[name]), update
        check_picture(app)  # the wires keep the forward pass's values
        app.action_toggle_heatmap()
        await pilot.pause()
        assert net.showing == "formula graph" and "the circuit: ctrl+p" in net.plain()
        app.action_toggle_heatmap()
        await pilot.pause()
        assert net.showing == "circuit"


async def test_long_names_are_cut_and_shown_as_text(tmp_path: Path):
    name = "a" * 30
    path = tmp_path / "long.toml"
    path.write_text(f'[graph]\nparameters = ["{name}", "b"]\n[graph.nodes]\nf = "{name} * b"\n'
                    f'[parameters]\n{name} = 2\nb = 3\n')
    app = NNStepApp(path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await pilot.pause()
        lines, net = picture(app)
        assert net.showing == "circuit"
        assert "a" * 11 + "…" in net.plain() and name not in net.plain()
        check_picture(app)


@pytest.mark.parametrize("fine", [True, False])
def test_geometry_tracks_never_share_a_cell(fine):
    """Two parts never sit on the same track in the same column, and an operation sits on
    the track of an input only if that input's wire ends there."""
    for stem in ("circuit", "sigmoid-neuron"):
        c = build_circuit(nnstep.load_scenario(stem), fine=fine)
        geo = geometry(c, 7)
        seen = {(p.depth, geo.track[p.index]) for p in c.parts}
        assert len(seen) == len(c.parts)


run_async_tests(globals())
