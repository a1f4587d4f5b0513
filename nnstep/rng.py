"""NumPy's legacy ``RandomState(seed).normal()`` stream without importing NumPy.

The study note draws its initial weights with ``np.random.normal()``; nnstep draws
them the same way so that a seed means the same numbers.  Importing NumPy costs a
process more than the whole of training the note's network, so this reproduces
the stream with the standard library: the Mersenne Twister seeded as NumPy's
legacy seeding does (``init_genrand``), the same 53-bit doubles (Python's
``random.random`` computes them exactly as NumPy does), and NumPy's legacy polar
method for Gaussians, which hands out the second value of each pair next time.
A test checks it against NumPy bit for bit.
"""

from __future__ import annotations

import math
import random

_N = 624


def legacy_normals(seed: int, count: int) -> list[float]:
    """The first ``count`` values of ``numpy.random.RandomState(seed).normal()``."""
    if not 0 <= seed < 2**32:
        raise ValueError("seed must be between 0 and 2**32 - 1")
    key = [seed]
    for i in range(1, _N):
        prev = key[-1]
        key.append((1812433253 * (prev ^ (prev >> 30)) + i) & 0xFFFFFFFF)
    gen = random.Random()
    gen.setstate((3, (*key, _N), None))  # position 624: the next draw regenerates, as in NumPy
    uniform = gen.random
    out: list[float] = []
    while len(out) < count:
        while True:
            x1 = 2.0 * uniform() - 1.0
            x2 = 2.0 * uniform() - 1.0
            r2 = x1 * x1 + x2 * x2
            if r2 < 1.0 and r2 != 0.0:
                break
        f = math.sqrt(-2.0 * math.log(r2) / r2)
        out.append(f * x2)
        out.append(f * x1)  # NumPy keeps this one for the next call
    return [0.0 + 1.0 * z for z in out[:count]]  # normal(loc=0, scale=1) = loc + scale * gauss
