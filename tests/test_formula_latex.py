"""Every op's LaTeX typesets as maths (issue #11 item 5) and the trace formats carry
the very formula text that tests/test_formula_truth.py proves true."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

import nnstep
from nnstep.debugger import Debugger

sp = pytest.importorskip("sympy")
converter = pytest.importorskip("latex2mathml.converter")

from test_formula_truth import BUNDLED  # noqa: E402

from nnstep.symbolic import shared_symbolic  # noqa: E402
from nnstep.trace import trace  # noqa: E402

from graphs import DIRECT_PATH as DIRECT  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _program(name: str, tmp_path: Path):
    if name == "direct":
        path = tmp_path / "direct.toml"
        path.write_text(DIRECT)
        return Debugger(nnstep.load_scenario(str(path))).program
    return Debugger(nnstep.load_scenario(str(ROOT / "scenarios" / name))).program


def _italic_runs(tex: str) -> list[str]:
    """Runs of two or more letters set in italic: outside \\mathrm{…}/\\text{…} and not a command."""
    plain = re.sub(r"\\(mathrm|text|operatorname)\{[^{}]*\}", " ", tex)
    plain = re.sub(r"\\[A-Za-z]+", " ", plain)
    return re.findall(r"[A-Za-z]{2,}", plain)


@pytest.mark.parametrize("name", [*BUNDLED, "direct"])
def test_every_ops_latex_typesets_with_names_as_maths(name, tmp_path):
    program = _program(name, tmp_path)
    sy = shared_symbolic(program)
    identifiers = {n for n in program.slot if n.startswith("d_") or n == "learn_rate"}
    for op in program.ops:
        tex = sy.formula(op).latex
        mathml = converter.convert(tex)
        assert "<merror" not in mathml, (op.name, tex)
        assert not _italic_runs(tex), (op.name, tex, _italic_runs(tex))
        assert r"\mathrm{d\_" not in tex and "learn" not in tex, (op.name, tex)
        for ident in identifiers:
            if ident.startswith("d_") or ident == "learn_rate":
                assert ident not in tex and ident.replace("_", r"\_") not in tex, (op.name, tex)
        if op.kind in ("partial", "total"):
            assert tex.startswith(r"\frac{\partial ") or tex.startswith(r"\left.\frac{\partial "), tex
        if op.kind == "update":
            assert re.fullmatch(r"(\S+) \\leftarrow \1 - \\eta \\, \\frac\{\\partial [^{}]+\}\{\\partial .+\}", tex), tex


def test_latex_marks_the_direct_partial(tmp_path):
    program = _program("direct", tmp_path)
    sy = shared_symbolic(program)
    local, total = program.by_name["d_f_d_x_local"], program.by_name["d_f_d_x"]
    assert sy.formula(local).latex.startswith(r"\left.\frac{\partial f}{\partial x}\right|_{\text{direct}} = ")
    assert sy.formula(total).latex.startswith(r"\frac{\partial f}{\partial x} = ")
    assert r"\right|_{\text{direct}}" in sy.formula(total).latex  # its last term is the direct path


@pytest.mark.parametrize("name", ["note-network.toml", "relu-softmax.toml", "direct"])
def test_trace_formats_carry_the_formula_text(name, tmp_path):
    """text, markdown, jsonl and csv print Formula.text, the line the truth test reads."""
    program = _program(name, tmp_path)
    sy = shared_symbolic(program)
    path = str(tmp_path / "direct.toml") if name == "direct" else str(ROOT / "scenarios" / name)
    want = [sy.formula(op).text for op in program.ops]
    out = io.StringIO()
    trace(path, fmt="jsonl", out=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["formula"] for r in rows] == want
    assert [r["latex"] for r in rows] == [sy.formula(op).latex for op in program.ops]
    out = io.StringIO()
    trace(path, fmt="csv", out=out)
    got = [r["formula"] for r in csv.DictReader(io.StringIO(out.getvalue()))]
    assert [g.lstrip("'") for g in got] == want  # a leading ' may neutralise a spreadsheet formula
    out = io.StringIO()
    trace(path, fmt="text", out=out)
    lines = [line.strip() for line in out.getvalue().splitlines()]
    for text in want:
        assert text in lines, text
    out = io.StringIO()
    trace(path, fmt="markdown", out=out)
    cells = [re.sub(r"\\(.)", r"\1", re.split(r"(?<!\\)\|", line)[-2].strip())  # Markdown escapes undone
             for line in out.getvalue().splitlines()[2:]]
    assert cells == want
    for text in want:
        for word in ("Heaviside", "Abs", "Max(", "θ", "sign("):
            assert word not in text, text
