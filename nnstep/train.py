"""Headless training: the whole run without stepping.

It takes the fast path of :mod:`nnstep.fast`, which performs the op kernels'
arithmetic in the same order, so its losses and parameters are the
debugger's to the last bit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .fast import fused_fits, whole_samples
from .program import Program


@dataclass
class TrainResult:
    losses: list[float]  # after each epoch: mean over samples of the sample loss
    parameters: dict[str, float]


def epoch_loss(program: Program, params: Sequence[float], v: list[float] | None = None) -> float:
    """The note's epoch loss: the mean over samples of each sample's loss (op kernels)."""
    v = v if v is not None else program.new_slots()
    n = len(program.scenario.samples)
    total = 0.0
    for i in range(n):
        total += program.sample_loss(params, i, v)
    return total / n


def train(program: Program, params: Sequence[float], epochs: int,
          on_epoch: Callable[[int, float], None] | None = None, keep_losses: bool = True) -> TrainResult:
    """Train ``epochs`` epochs of per-sample gradient descent from ``params``
    (within the memory budget of :mod:`nnstep.fast`).

    ``keep_losses=False`` (with ``on_epoch``, which sees each loss) keeps none of them."""
    if fused_fits(program):
        # generated code for the whole run; with a callback, one epoch per call
        fused = program.fused
        if on_epoch is None:
            params, losses = fused.train(params, epochs)
        else:
            losses = []
            for e in range(epochs):
                params, (loss,) = fused.train(params, 1)
                if keep_losses:
                    losses.append(loss)
                on_epoch(e, loss)
        return TrainResult(losses, dict(zip(program.parameters, params)))
    step, loss_of = whole_samples(program)
    order = range(len(program.scenario.samples))
    params = list(params)
    losses = []
    for e in range(epochs):
        for i in order:
            params = step(params, i)
        loss = loss_of(params)
        if keep_losses:
            losses.append(loss)
        if on_epoch is not None:
            on_epoch(e, loss)
    return TrainResult(losses, dict(zip(program.parameters, params)))
