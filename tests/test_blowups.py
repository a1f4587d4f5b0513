"""Numbers that blow up: shown, flagged and caught; never a crash or a warning."""

from __future__ import annotations

import json
import math
import os
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


# --- memory budget: big programs run op by op or on NumPy, never through huge generated code


def wide_softmax(outputs: int, activation: str) -> str:
    return ('[network]\ninputs = ["a"]\n'
            f'layers = [{{ neurons = 1, activation = {activation} }}, {{ neurons = {outputs}, activation = "softmax" }}]\n'
            'loss = "cross_entropy"\n[training]\nepochs = 1\n'
            f"[[samples]]\nx = [1]\ny = [1{', 0' * (outputs - 1)}]\n"
            f"[[samples]]\nx = [-2]\ny = [0, 1{', 0' * (outputs - 2)}]\n")


CUSTOM = '{ name = "soft", formula = "x / (1 + abs(x))" }'
#: Address space for the runs below: generating code for them took 750 MB.
MEMORY_LIMIT = 512 * 2**20

BOUNDED_RUN = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from nnstep.debugger import Debugger
from nnstep.fast import fused_fits
from nnstep.build import build_program
from nnstep.scenario import load_scenario
from nnstep.train import train

sc = load_scenario(sys.argv[1])
program = build_program(sc)
assert not fused_fits(program), "the program should be past the generated-code budget"
start = sc.initial_parameters()
trained = train(program, [start[p] for p in program.parameters], 1)
dbg = Debugger(sc, epochs=1, program=program)
dbg.stop_on_nonfinite = True
dbg.add_condition("L > 1e300")
stop = dbg.run_to_end()
print(json.dumps({{"ops": len(program.ops), "train": trained.parameters, "stop": stop.reason,
                  "stepped": dbg.parameters()}}))
"""


def bounded_subprocess(args: list[str], cwd, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env)


@pytest.mark.parametrize("activation", [CUSTOM, '"tanh"'], ids=["custom", "tanh"])
def test_a_program_past_the_codegen_budget_trains_and_watches_in_bounded_memory(tmp_path, activation):
    path = tmp_path / "wide.toml"
    path.write_text(wide_softmax(150, activation))
    script = BOUNDED_RUN.format(limit=MEMORY_LIMIT)
    res = bounded_subprocess([sys.executable, "-c", script, str(path)], tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    out = json.loads(res.stdout)
    assert out["ops"] > 20_000 and out["stop"] == "end"
    # the fallback paths are the kernels' arithmetic: training equals stepping, to the bit
    assert out["train"] == out["stepped"]
    assert all(math.isfinite(v) for v in out["train"].values())


def test_the_512_way_softmax_file_fails_fast_in_bounded_memory(tmp_path):
    from nnstep.program import MAX_OPS

    path = tmp_path / "wide.toml"
    path.write_text(wide_softmax(512, CUSTOM))
    limit = f"import resource, sys; resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT}))"
    res = bounded_subprocess([sys.executable, "-c", f"{limit}; from nnstep.cli import main; sys.exit(main())",
                              "train", str(path), "--epochs", "1"], tmp_path, timeout=60)
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert res.stderr.startswith(f"{path}:") and f"{MAX_OPS:,}" in res.stderr


def test_past_the_codegen_budget_the_debugger_stops_where_the_watcher_would(monkeypatch):
    from nnstep import debugger, fast, train

    sc = nnstep.load_scenario("diverging")
    watched = Debugger(sc)
    watched.stop_on_nonfinite = True
    assert watched._watcher(True) is not None
    stop = watched.run_to_end()
    monkeypatch.setattr(fast, "FUSED_MAX_NODES", 1)  # every program is past the budget now
    assert not debugger.fused_fits(watched.program) and not train.fused_fits(watched.program)
    plain = Debugger(sc)
    plain.stop_on_nonfinite = True
    assert plain._watcher(True) is None
    assert plain.run_to_end() == stop and plain.t == watched.t and plain.state() == watched.state()
    # training op by op gives the generated code's numbers
    program = plain.program
    start = [sc.initial_parameters()[p] for p in program.parameters]
    by_kernels = train.train(program, start, 3)
    monkeypatch.undo()
    assert train.train(program, start, 3) == by_kernels
