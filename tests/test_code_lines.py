"""The program's lines are what a learner writes: no SymPy names in any op's code line
(a formula graph's derived partials included), for every bundled scenario and a graph
with |x|, max and a direct path."""

from __future__ import annotations

import re

import pytest

import nnstep
from nnstep.scenario import bundled, parse_scenario

from graphs import DIRECT_PATH

SYMPY_NAMES = re.compile(r"\b(Heaviside|heaviside|sign|Abs|Max|Min|Piecewise|DiracDelta|re|im)\(")


def scenarios():
    return [pytest.param(p, id=p.stem) for p in bundled()] + [pytest.param(None, id="direct")]


@pytest.mark.parametrize("path", scenarios())
def test_code_lines_carry_no_sympy_names(path):
    sc = nnstep.load_scenario(path) if path is not None else parse_scenario(DIRECT_PATH, "direct.toml")
    for op in nnstep.build_program(sc).ops:
        assert not SYMPY_NAMES.search(op.code), op.code


def test_steps_read_as_comparisons():
    codes = {op.name: op.code for op in nnstep.build_program(parse_scenario(DIRECT_PATH, "direct.toml")).ops}
    assert codes["d_d_d_x"] == "d_d_d_x = ((x - y > 0) - (x - y < 0))"
