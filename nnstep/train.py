"""Headless training: the whole run without stepping.

It takes the fast path of :mod:`nnstep.fast`, which performs the op kernels'
arithmetic in the same order, so its losses and parameters are the
debugger's to the last bit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .codegen import fused
from .fast import fused_fits, whole_samples
from .program import Program, epoch_loss

__all__ = ["TrainResult", "epoch_loss", "train"]


@dataclass
class TrainResult:
    losses: list[float]  # after each epoch: mean over samples of the sample loss
    parameters: dict[str, float]


def train(program: Program, params: Sequence[float], epochs: int,
          on_epoch: Callable[[int, float], None] | None = None, keep_losses: bool = True) -> TrainResult:
    """Train ``epochs`` epochs of per-sample gradient descent from ``params``
    (within the memory budget of :mod:`nnstep.fast`).

    ``keep_losses=False`` (with ``on_epoch``, which sees each loss) keeps none of them."""
    if fused_fits(program):
        # generated code for the whole run; with a callback, one epoch per call
        code = fused(program)
        if on_epoch is None:
            params, losses = code.train(params, epochs)
        else:
            losses = []
            for e in range(epochs):
                params, (loss,) = code.train(params, 1)
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
