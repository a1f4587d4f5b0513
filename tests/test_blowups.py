"""Numbers that blow up: shown, flagged and caught; never a crash or a warning."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import warnings
from dataclasses import replace

import numpy as np
import pytest

import nnstep
from nnstep.debugger import Debugger
from nnstep.scenario import bundled


def test_stop_on_nonfinite_lands_on_the_first_one_and_back_works():
    sc = nnstep.load_scenario("diverging")
    dbg = Debugger(sc)
    dbg.stop_on_nonfinite = True
    stop = dbg.run_to_end()
    assert stop.reason == "nonfinite"
    first = dbg.t
    assert math.isinf(dbg.value(dbg.current_op.name))
    # no op before it was non-finite
    walk = Debugger(sc)
    for _ in range(first - 1):
        walk.step()
        assert math.isfinite(walk.value(walk.current_op.name)), walk.current_op.code
    before = dbg.state()
    dbg.back()
    assert math.isfinite(dbg.value(dbg.current_op.name))
    dbg.step()
    assert dbg.state() == before
    # it keeps going into nan, and the end is reachable
    dbg.stop_on_nonfinite = False
    assert dbg.run_to_end().reason == "end"
    assert math.isnan(dbg.parameters()["w1"])
    assert math.isnan(dbg.epoch_losses()[-1])


@pytest.mark.parametrize("path", bundled(), ids=lambda p: p.stem)
def test_absurd_learning_rates_never_warn_or_raise(path):
    sc = nnstep.load_scenario(path)
    wild = replace(sc, learning_rate=1e12)
    old = np.seterr(all="raise")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            dbg = Debugger(wild, epochs=3)
            dbg.run_to_end()
            dbg.epoch_losses()
            dbg.back(dbg.op_count + 3)
            dbg.stop_on_nonfinite = True
            dbg.restart()
            dbg.run_to_end()
            dbg.values()
    finally:
        np.seterr(**old)


def test_trace_flags_nonfinite_values():
    out = subprocess.run([sys.executable, "-W", "error", "-m", "nnstep", "trace", "diverging", "--samples", "172",
                          "--format", "jsonl"], capture_output=True, text=True, check=True).stdout
    rows = [json.loads(line) for line in out.splitlines()]
    bad = [r for r in rows if not r["finite"]]
    assert bad and bad[0]["name"] == "L" and bad[0]["value"] == "inf"
    assert all(isinstance(r["value"], float) for r in rows if r["finite"])
