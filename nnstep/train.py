"""Headless training: the whole run without stepping, on the same kernels.

``train`` executes exactly the ops the debugger steps through, so its losses
and parameters are the debugger's to the last bit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .program import Program


@dataclass
class TrainResult:
    losses: list[float]  # after each epoch: mean over samples of the sample loss
    parameters: dict[str, float]


def run_samples(program: Program, params: Sequence[float], samples: range | Sequence[int],
                v: list[float] | None = None) -> list[float]:
    """Train on the given sample indices in order; returns the new parameters."""
    v = v if v is not None else program.new_slots()
    params = list(params)
    kernels = program.kernels
    load, params_of = program.load, program.params_of
    for i in samples:
        load(v, params, i)
        for out, fn in kernels:
            v[out] = fn(v)
        params = params_of(v)
    return params


def epoch_loss(program: Program, params: Sequence[float], v: list[float] | None = None) -> float:
    """The note's epoch loss: the mean over samples of each sample's loss."""
    v = v if v is not None else program.new_slots()
    n = len(program.scenario.samples)
    total = 0.0
    for i in range(n):
        total += program.sample_loss(params, i, v)
    return total / n


def train(program: Program, params: Sequence[float], epochs: int,
          on_epoch: Callable[[int, float], None] | None = None) -> TrainResult:
    """Train ``epochs`` epochs of per-sample gradient descent from ``params``."""
    v = program.new_slots()
    order = range(len(program.scenario.samples))
    losses = []
    for e in range(epochs):
        params = run_samples(program, params, order, v)
        loss = epoch_loss(program, params, v)
        losses.append(loss)
        if on_epoch is not None:
            on_epoch(e, loss)
    return TrainResult(losses, dict(zip(program.parameters, params)))
