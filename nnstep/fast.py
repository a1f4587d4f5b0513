"""The fast paths: whole samples without stepping op by op, exact to the bit.

Two ways to run a whole sample, both the op kernels' arithmetic in the same
order: code generated from the op program (:mod:`nnstep.codegen`, the fastest up
to a few thousand ops per sample) and NumPy per layer for wider layered networks
(:mod:`nnstep.vector`, imported only then).
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
    if len(program.ops) <= FUSED_MAX_OPS:
        return None
    from .vector import VectorNetwork

    return VectorNetwork(program) if VectorNetwork.supports(program) else None


def whole_samples(program: Program) -> tuple[Callable[[Sequence[float], int], list[float]],
                                              Callable[[Sequence[float]], float]]:
    """(parameters, sample index) -> parameters after that sample's step, and
    parameters -> the mean sample loss: both by the fastest exact path."""
    net = vector_network(program)
    if net is None:
        return program.fused.step, program.fused.loss
    return net.runner(), net.loss_function()


def sample_runner(program: Program) -> Callable[[Sequence[float], int], list[float]]:
    """A function (parameters, sample index) -> parameters after that sample's step."""
    return whole_samples(program)[0]


def epoch_loss_function(program: Program) -> Callable[[Sequence[float]], float]:
    """A function parameters -> the mean sample loss."""
    return whole_samples(program)[1]
