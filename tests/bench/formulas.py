"""Building the program and deriving every op's formula for a 4-16-16-3 network
(the Iris scenario if bundled, else an equivalent generated network)."""

from __future__ import annotations

import time

import nnstep
from nnstep.scenario import parse_scenario

from _common import ROOT, machine


def iris_like():
    path = ROOT / "scenarios" / "iris.toml"
    if path.exists():
        return nnstep.load_scenario(path)
    samples = "\n".join(f"[[samples]]\nx = [{i % 5}, {i % 3}, {i % 7}, {i % 2}]\ny = [{int(i % 3 == 0)}, "
                        f"{int(i % 3 == 1)}, {int(i % 3 == 2)}]\n" for i in range(150))
    return parse_scenario(
        '[network]\ninputs = ["a", "b", "c", "d"]\nlayers = [{ neurons = 16, activation = "relu" }, '
        '{ neurons = 16, activation = "relu" }, { neurons = 3, activation = "softmax" }]\n'
        'loss = "cross_entropy"\n[training]\nlearning_rate = 0.01\nepochs = 100\n' + samples, "generated")


if __name__ == "__main__":
    t0 = time.perf_counter()
    sc = iris_like()
    t1 = time.perf_counter()
    prog = nnstep.build_program(sc)
    t2 = time.perf_counter()
    from nnstep.symbolic import Symbolic  # imports SymPy

    t3 = time.perf_counter()
    sy = Symbolic(prog)
    sy.derive_all()
    t4 = time.perf_counter()
    print(f"machine: {machine()}")
    print(f"{sc.name}: {len(prog.ops)} ops per sample, {len(prog.parameters)} parameters")
    print(f"load {t1 - t0:.3f} s, program {t2 - t1:.3f} s, import sympy {t3 - t2:.3f} s, "
          f"all formulas {t4 - t3:.3f} s")
    total = t4 - t1
    print(f"program + all formulas: {total:.2f} s; ratio to the 1.5 s target: {total / 1.5:.2f}")
