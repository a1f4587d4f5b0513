"""nnstep.rng reproduces NumPy's legacy RandomState(seed).normal() stream."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnstep
from nnstep.rng import legacy_normals


def numpy_normals(seed: int, count: int) -> list[float]:
    rng = np.random.RandomState(seed)
    return [float(rng.normal()) for _ in range(count)]


@pytest.mark.parametrize("seed", [0, 1, 42, 2**31, 2**32 - 1])
def test_the_stream_equals_numpy_to_the_bit(seed):
    assert legacy_normals(seed, 2001) == numpy_normals(seed, 2001)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 40))
def test_any_seed_and_count(seed, count):
    assert legacy_normals(seed, count) == numpy_normals(seed, count)


def test_out_of_range_seeds_are_refused():
    for seed in (-1, 2**32):
        with pytest.raises(ValueError):
            legacy_normals(seed, 1)


def test_initial_parameters_are_the_notes_draws_and_need_no_numpy():
    sc = nnstep.load_scenario()
    names = sc.parameter_names
    rng = np.random.RandomState(sc.seed)
    want = {n: sc.given.get(n, float(rng.normal())) for n in names}
    assert sc.initial_parameters() == want
    code = ("import sys, nnstep\nfrom nnstep.train import train\nsc = nnstep.load_scenario()\n"
            "d = nnstep.Debugger(sc)\ntrain(d.program, d.initial, 2)\nprint('numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
