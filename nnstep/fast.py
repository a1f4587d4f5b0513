"""The fast paths: whole samples without stepping op by op, exact to the bit.

Three ways to run a whole sample, all the op kernels' arithmetic in the same
order: code generated from the op program (:mod:`nnstep.codegen`, the fastest up
to a few thousand ops per sample), NumPy per layer for wider networks
(:mod:`nnstep.vector`, imported only then), and the op kernels one by one (where
neither applies: a program without numeric trees).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .program import Program

if TYPE_CHECKING:
    from .vector import VectorNetwork

#: Up to this many ops per sample the generated straight-line code
#: (:mod:`nnstep.codegen`) is faster than NumPy per layer, and quick to compile.
FUSED_MAX_OPS = 5000


def vector_network(program: Program) -> VectorNetwork | None:
    """The vectorised path where it is the faster one (wide layered networks), else None."""
    if program.fused is not None and len(program.ops) <= FUSED_MAX_OPS:
        return None
    from .vector import VectorNetwork

    return VectorNetwork(program) if VectorNetwork.supports(program) else None


def sample_runner(program: Program) -> Callable[[Sequence[float], int], list[float]]:
    """A function (parameters, sample index) -> parameters after that sample's step,
    by the fastest exact path for this program."""
    net = vector_network(program)
    if net is not None:
        return net.runner()
    if program.fused is not None:
        return program.fused.step
    v = program.new_slots()
    kernels = program.kernels

    def by_kernels(p: Sequence[float], i: int) -> list[float]:
        program.load(v, p, i)
        for out, fn in kernels:
            v[out] = fn(v)
        return program.params_of(v)

    return by_kernels


def epoch_loss_function(program: Program) -> Callable[[Sequence[float]], float]:
    """A function parameters -> the mean sample loss, by the fastest exact path."""
    net = vector_network(program)
    if net is not None:
        return net.loss_function()
    if program.fused is not None:
        return program.fused.loss
    v = program.new_slots()
    n = len(program.scenario.samples)

    def by_kernels(p: Sequence[float]) -> float:
        total = 0.0
        for i in range(n):
            total += program.sample_loss(p, i, v)
        return total / n

    return by_kernels
