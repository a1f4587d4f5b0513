"""The finite-difference check of a parameter's gradient, honest about what it can tell.

A central difference ``(L(p + h) - L(p - h)) / 2h`` of one sample's loss is an
independent estimate of ``d_L_d_p``, but not an exact one: it is off by the
truncation of the difference (about ``h² L'''/6``) and by the loss's own rounding
(each loss is computed in float64, so each carries an absolute error ``δ`` and the
difference up to ``δ / h``).  A gradient of 1e-20 cannot be told from 0 that way.

So the check measures both before it judges:

- the step is relative to the parameter's size, ``h = ∛ε · max(|p|, 1)`` (the step
  that balances the two errors for a loss of ordinary size); when that step cannot
  resolve the gradient, ``STEPS`` longer ones are tried and the one with the smallest
  error bound is used;
- the loss is evaluated at ``p ± h``, ``p ± 2h`` and ``p ± 3h``.  The disagreement of
  the differences with steps ``h`` and ``2h`` bounds the truncation; the
  higher-order differences of the seven losses, which are pure noise for a smooth
  loss at such a small step, measure ``δ`` (Moré and Wild's noise estimate; at a
  longer step they also hold some curvature, which only makes the bound larger), and
  ``δ`` is never taken below the float64 spacing of the loss itself;
- the tolerance is ``SAFETY`` times the sum of both bounds (an absolute tolerance,
  which matters near 0) plus ``RELATIVE`` times the gradient (which matters
  elsewhere).

The verdict is ``agree`` when the chain rule's value is within the tolerance of the
difference and the tolerance is small next to the value (or both are exactly 0);
``differ`` when it is beyond the tolerance; otherwise ``unmeasurable``, with the
reason in words: the loss does not change in float64 at that step, or the smallest
gradient a central difference can tell here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .program import Program

#: Multiplies the measured error bounds before the difference counts as real.
SAFETY = 16.0
#: Relative part of the tolerance: what float64 gradients and differences share anyway.
RELATIVE = 1e-7
#: "agree" only when the tolerance is at most this fraction of the gradient: a check
#: that would also accept 0 (or twice the value) confirms nothing.
RESOLVES = 0.1

#: Multiples of the base step tried when the base step cannot resolve the gradient.
STEPS = (1.0, 64.0, 4096.0)

_EPS = 2.0**-52
_STEP = _EPS ** (1 / 3)

AGREE, DIFFER, UNMEASURABLE = "agree", "differ", "unmeasurable"


@dataclass(frozen=True)
class GradientCheck:
    """The chain rule's gradient next to a central finite difference of the loss."""

    param: str
    value: float  # the chain rule's d_L_d_<param>
    step: float  # h
    estimate: float  # (L(p + h) - L(p - h)) / 2h
    difference: float  # value - estimate
    tolerance: float  # how far apart the two may be from the difference's own errors
    verdict: str  # agree | differ | unmeasurable
    words: str  # the verdict as a sentence for the learner


def _noise(fs: Sequence[float]) -> float:
    """The rounding noise of equally spaced losses: the largest estimate from their
    3rd to 6th differences (each scaled so that independent noise of size σ gives σ)."""
    best = 0.0
    diff = list(fs)
    for k in range(1, len(fs)):
        diff = [b - a for a, b in zip(diff, diff[1:])]
        if k >= 3 and diff:
            gamma = math.factorial(k) ** 2 / math.factorial(2 * k)
            best = max(best, math.sqrt(gamma * sum(d * d for d in diff) / len(diff)))
    return best


@dataclass(frozen=True)
class _Measure:
    h: float
    estimate: float
    tolerance: float
    noise: float
    rounding: float
    truncation: float
    flat: bool  # L(p + h) == L(p - h)
    finite: bool


def _measure(program: Program, p: list[float], i: int, sample_index: int, h: float,
             v: list[float], value: float) -> _Measure:
    x = p[i]

    def loss(k: int) -> float:
        p[i] = x + k * h
        return program.sample_loss(p, sample_index, v)

    try:
        fs = [loss(k) for k in range(-3, 4)]
    finally:
        p[i] = x
    down1, up1, down2, up2 = fs[2], fs[4], fs[1], fs[5]
    h1 = (x + h) - (x - h)  # the step actually taken (x ± h is rounded)
    h2 = (x + 2 * h) - (x - 2 * h)
    d1 = (up1 - down1) / h1
    d2 = (up2 - down2) / h2
    if not (all(math.isfinite(f) for f in fs) and math.isfinite(d1) and math.isfinite(d2)):
        return _Measure(h, d1, math.inf, math.nan, math.nan, math.nan, up1 == down1, False)
    scale = max(abs(f) for f in fs)
    noise = max(_noise(fs), math.ulp(scale) if scale else 0.0)
    rounding = 2 * noise / h1
    truncation = abs(d1 - d2)
    tol = SAFETY * (rounding + truncation) + RELATIVE * max(abs(value), abs(d1))
    return _Measure(h, d1, tol, noise, rounding, truncation, up1 == down1, True)


def check_gradient(program: Program, params: Sequence[float], sample_index: int, param: str,
                   value: float, scratch: list[float] | None = None) -> GradientCheck:
    """Check ``value`` (the chain rule's ``d_L_d_<param>``) against a central difference of
    the sample's loss at ``params`` (the parameters at the start of the sample).

    The step is tried at ``STEPS`` multiples of the base step; the one whose own error
    bound is smallest is used (a tiny gradient may need a longer step to show)."""
    i = program.parameters.index(param)
    v = scratch if scratch is not None else program.new_slots()
    p = list(params)
    base = _STEP * max(abs(p[i]), 1.0)
    m = _measure(program, p, i, sample_index, base, v, value)
    if math.isfinite(value) and m.finite and m.tolerance > RESOLVES * abs(value):
        for k in STEPS[1:]:
            other = _measure(program, p, i, sample_index, base * k, v, value)
            if other.finite and other.tolerance < m.tolerance:
                m = other
    h, d1 = m.h, m.estimate
    diff = value - d1
    if not (m.finite and math.isfinite(value)):
        return GradientCheck(param, value, h, d1, diff, math.nan, UNMEASURABLE,
                             "cannot be measured: the loss or the gradient is not finite here")
    tol = m.tolerance
    if value == 0.0 and d1 == 0.0:
        return GradientCheck(param, value, h, d1, diff, tol, AGREE, "agree: both are exactly 0")
    if abs(diff) > tol:
        return GradientCheck(param, value, h, d1, diff, tol, DIFFER,
                             f"differ: by more than the difference's own error bound ({tol:.2g})")
    if tol <= RESOLVES * abs(value):
        return GradientCheck(param, value, h, d1, diff, tol, AGREE,
                             f"agree: within the difference's own error bound ({tol:.2g})")
    if m.flat:
        why = (f"the loss does not change in float64 when {param} moves by ±{h:.2g}, "
               f"so a gradient of {value:.2g} is too small to see")
    else:
        why = (f"a central difference of the loss can only tell gradients above about "
               f"{tol / RESOLVES:.2g} here (the loss's rounding ±{m.noise:.2g}, step {h:.2g})")
    return GradientCheck(param, value, h, d1, diff, tol, UNMEASURABLE, f"cannot be measured: {why}")


__all__ = ["AGREE", "DIFFER", "UNMEASURABLE", "GradientCheck", "check_gradient"]
