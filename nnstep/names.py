"""How a layered network's program names its quantities: one place for the rules.

A leaf module (it imports nothing from nnstep), so that the scenario loader can
work out every op name a network will get, and refuse two quantities sharing
one, without building a program; :mod:`nnstep.program` names its ops with the
same functions.
"""

from __future__ import annotations

#: What the single output is called where the loss reads it, and in partials.
OUTPUT_VALUE = "y_pred"
OUTPUT_PARTIAL = "ypred"
LOSS = "L"
LEARN_RATE = "learn_rate"
#: A chain-rule term is inlined into the next product while it stays this short
#: (layered networks and formula graphs alike).
MAX_INLINE_FACTORS = 4


def sum_name(neuron: str) -> str:
    """The weighted sum a neuron applies its activation to: ``sum_h1``."""
    return f"sum_{neuron}"


def partial_name(of: str, wrt: str) -> str:
    """A local partial derivative: ``d_h1_d_w1`` is ∂h1/∂w1."""
    return f"d_{of}_d_{wrt}"


def total_name(wrt: str) -> str:
    """The loss's total derivative with respect to a quantity: ``d_L_d_w1``."""
    return partial_name(LOSS, wrt)


def target_names(outputs: tuple[str, ...]) -> tuple[str, ...]:
    """The targets a sample gives: ``y_true`` for one output, else ``y_true_<output>``."""
    return ("y_true",) if len(outputs) == 1 else tuple(f"y_true_{o}" for o in outputs)
