"""The fast paths: whole samples without stepping op by op, exact to the bit.

Three ways to run a whole sample, all the op kernels' arithmetic in the same
order: code generated from the op program (:mod:`nnstep.codegen`, the fastest up
to a few thousand ops per sample), NumPy per layer for wider layered networks
(:mod:`nnstep.vector`, imported only then), and the op kernels themselves, one
after another, for whatever is left.

Memory budget.  Generated code is made only for a program of at most
:data:`FUSED_MAX_OPS` ops whose numeric trees have at most :data:`FUSED_MAX_NODES`
nodes in all: compiling it takes about 2.5 KB per node, so at most about 130 MB
while it compiles and a few MB kept.  That holds for every generated function
(the sample step, the epoch loss, training runs and the debugger's
condition/non-finite watcher).  Larger programs run on NumPy (layered networks
with built-in activations, whose memory is a few arrays the size of the
parameters) or op by op through the kernels (one list of values), so running a
program never takes much more memory than building it (about 2.5 KB per op: at
most about 250 MB at :data:`nnstep.program.MAX_OPS`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .codegen import fused
from .program import Program, epoch_loss

if TYPE_CHECKING:
    from .vector import VectorNetwork

#: Up to this many ops per sample the generated straight-line code
#: (:mod:`nnstep.codegen`) is faster than NumPy per layer, and quick to compile.
FUSED_MAX_OPS = 5000
#: Generated code is made for at most this many numeric-tree nodes (Iris has 9,165).
FUSED_MAX_NODES = 50_000


def fused_fits(program: Program) -> bool:
    """Whether generated code for ``program`` stays within the memory budget."""
    return len(program.ops) <= FUSED_MAX_OPS and program.numeric_size <= FUSED_MAX_NODES


def vector_network(program: Program) -> VectorNetwork | None:
    """The vectorised path where it is the faster one (wide layered networks), else None."""
    if fused_fits(program):
        return None
    from .vector import VectorNetwork

    return VectorNetwork(program) if VectorNetwork.supports(program) else None


def whole_samples(program: Program) -> tuple[Callable[[Sequence[float], int], list[float]],
                                              Callable[[Sequence[float]], float]]:
    """(parameters, sample index) -> parameters after that sample's step, and
    parameters -> the mean sample loss: both by the fastest exact path within the
    memory budget."""
    if fused_fits(program):
        made = fused(program)
        return made.step, made.loss
    net = vector_network(program)
    if net is not None:
        return net.runner(), net.loss_function()
    return kernel_samples(program)


def kernel_samples(program: Program) -> tuple[Callable[[Sequence[float], int], list[float]],
                                               Callable[[Sequence[float]], float]]:
    """:func:`whole_samples` by the op kernels, one after another, on one list of values."""
    v = program.new_slots()

    def step(params: Sequence[float], sample: int) -> list[float]:
        program.load(v, params, sample)
        program.run(v)
        return program.params_of(v)

    return step, lambda params: epoch_loss(program, params, v)


def sample_runner(program: Program) -> Callable[[Sequence[float], int], list[float]]:
    """A function (parameters, sample index) -> parameters after that sample's step."""
    return whole_samples(program)[0]


def epoch_loss_function(program: Program) -> Callable[[Sequence[float]], float]:
    """A function parameters -> the mean sample loss."""
    return whole_samples(program)[1]
