"""Every formula segment nnstep shows is true (issue #11 item 1).

Each formula is a chain ``lhs = seg1 = seg2 = …``.  Read back as ordinary maths
(tests/formula_reader.py, a reader of the notation written for these tests) with
this sample's values, every segment equals the op's value: for every op of every
bundled scenario and of a graph with a direct path, at the first sample and at a
later epoch, in the text that ``nnstep trace`` prints (text, markdown, jsonl and
csv all carry :attr:`Formula.text`) and in the formula pane's one-line steps
(node symbols, and with this sample's numbers).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

import nnstep
from nnstep.debugger import Debugger

sp = pytest.importorskip("sympy")

from nnstep.symbolic import Symbolic, shared_symbolic  # noqa: E402
from nnstep.symbolic.views import Renderer  # noqa: E402
from nnstep.tui.formulas import pane_renderer  # noqa: E402

from formula_reader import segments, value  # noqa: E402
from graphs import DIRECT_PATH  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = sorted(p.name for p in (ROOT / "scenarios").glob("*.toml"))




def value_of(text: str, values: dict[str, float]) -> float | None:
    """A segment read back and evaluated at ``values`` (None at a step's tie)."""
    return value(text, values)


def _close(got: float, want: float, rel: float, scale: float = 0.0) -> bool:
    if math.isnan(want):
        return math.isnan(got)
    return math.isclose(got, want, rel_tol=rel, abs_tol=max(1e-12, rel * scale))


def _values(dbg: Debugger, titles: dict[str, str], names: list[str]) -> dict[str, float]:
    """Every name's value as the op's formula reads it: parameters as at the sample's
    start; every partial and total also under its Leibniz title."""
    values = {n: v for n in names if (v := dbg.value(n)) is not None}
    values.update(dbg.old_parameters())
    values.update({title: values[n] for n, title in titles.items() if n in values})
    return values


def _check_op(dbg: Debugger, sy: Symbolic, renderer: Renderer | None, op, counts: dict[str, int],
              titles: dict[str, str]) -> None:
    value = dbg.value(op.name)
    names = sorted({s.name for s in sy.formula(op).shown.free_symbols | sy.formula(op).shown_definition.free_symbols}
                   | {*op.reads, op.name, *dbg.program.parameters})
    values = _values(dbg, titles, names)
    if op.kind == "update":
        values["new " + op.name] = value
    f = sy.formula(op)
    # the one-line text: nnstep trace (every format) and the TUI's LaTeX view's neighbour
    lhs, *rest = segments(f.text)
    assert lhs == f.lhs
    assert value_of(lhs, values) == pytest.approx(value, rel=1e-12, nan_ok=True), (op.name, f.text)
    for seg in rest:
        got = value_of(seg, values)
        if got is None:
            counts["ties"] += 1
            continue
        assert _close(got, value, 1e-7), (op.name, f.text, seg, got, value)
        counts["segments"] += 1
    # the formula pane: its one-line steps in node symbols, then with this sample's numbers
    if renderer is None:
        return
    of = renderer.formulas(op)
    assert of.lhs == f.lhs
    for step in of.steps:
        if len(step.form.lines) == 1:
            got = value_of(step.form.lines[0], values)
            if got is not None:
                assert _close(got, value, 1e-7), (op.name, step.caption, step.form.lines[0], got, value)
                counts["pane"] += 1
    if of.numbers is not None:
        filled = of.numbers.fill(values)
        if len(filled.lines) == 1 and not any(w in filled.lines[0] for w in ("nan", "inf", "?")):
            got = value_of(filled.lines[0], {})
            # 6 significant digits per number: the rounding scales with the numbers' sizes
            scale = sum(abs(float(n)) for n in re.findall(r"\d+(?:\.\d*)?(?:e[-+]?\d+)?", filled.lines[0]))
            if got is not None:
                assert _close(got, value, 1e-4, scale + abs(value)), (op.name, filled.lines[0], got, value)
                counts["numbers"] += 1


def _scenario(name: str, tmp_path: Path):
    if name == "direct":
        path = tmp_path / "direct.toml"
        path.write_text(DIRECT_PATH)
        return nnstep.load_scenario(str(path))
    return nnstep.load_scenario(str(ROOT / "scenarios" / name))


@pytest.mark.parametrize("name", [*BUNDLED, "direct"])
def test_every_segment_of_every_op_is_true(name, tmp_path):
    dbg = Debugger(_scenario(name, tmp_path))
    sy = shared_symbolic(dbg.program)  # what the pane, trace and export use
    renderer = pane_renderer(sy)
    counts = {"segments": 0, "pane": 0, "numbers": 0, "ties": 0}
    titles = {op.name: sy.title(op) for op in dbg.ops if op.kind in ("partial", "total")}
    positions = [(0, 0)]
    if dbg.epochs > 3:
        positions.append((3, min(1, dbg.sample_count - 1)))
    # Iris has 1,631 ops: every one's text at the first sample, the pane's for a fifth of
    # them (the ops of one layer share their forms), so that the suite stays quick
    big = len(dbg.ops) > 1000
    if big:
        positions = positions[:1]
    for epoch, sample in positions:
        dbg.goto_position(epoch, sample, 0)
        for k, op in enumerate(dbg.ops):
            if k:
                dbg.step()
            _check_op(dbg, sy, None if big and k % 5 else renderer, op, counts, titles)
    assert counts["segments"] >= len(dbg.ops) * len(positions), counts
    assert counts["pane"] and counts["numbers"], counts
