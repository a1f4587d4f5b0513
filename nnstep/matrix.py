"""A layer of a layered network in matrix form, as the study note writes the forward
pass before it goes scalar: ``s = W·x + b``, then ``h = f(s)``; in the backward phase
``∂L/∂W = δ·xᵀ``; in the update phase ``W ← W − η·∂L/∂W``.

Every entry of every matrix and vector *is* a name of the program: a parameter, an
input, or the op that computes it (``sum_h1``, ``d_L_d_w1``), so a view shows
``dbg.value(name)`` for each and can highlight the current op's entry.  δ, the
gradient of the loss with respect to a layer's sums, is the program's bias gradient
``d_L_d_b1``: the chain product for ``b1`` ends in ``d_h1_d_b1 = f'(sum_h1)``, so it is
∂L/∂sum_h1 (a layer without biases has no op for δ).  No maths here: names only.
"""

from __future__ import annotations

from dataclasses import dataclass

from .names import sum_name, total_name
from .program import Op, Program


@dataclass(frozen=True)
class LayerForm:
    """The names that make up one layer's matrix form (rows: its neurons; columns: its inputs)."""

    index: int  # the layer, from 0
    activation: str
    neurons: tuple[str, ...]
    inputs: tuple[str, ...]  # x: the previous layer's outputs, or the network's inputs
    weights: tuple[tuple[str, ...], ...]  # W[i][j]: the weight of neuron i on input j
    biases: tuple[str, ...]  # b (empty for a layer without biases)
    sums: tuple[str, ...]  # s = W·x + b: the ops sum_<neuron>
    outputs: tuple[str, ...]  # f(s): the activation ops
    gradients: tuple[tuple[str, ...], ...]  # ∂L/∂W[i][j]: the ops d_L_d_w<k>
    deltas: tuple[str, ...]  # δ = ∂L/∂s: the ops d_L_d_b<k> (empty without biases)

    def names(self) -> set[str]:
        out = {*self.inputs, *self.biases, *self.sums, *self.outputs, *self.deltas}
        for row in (*self.weights, *self.gradients):
            out.update(row)
        return out


def layer_forms(program: Program) -> tuple[LayerForm, ...]:
    """Each layer's matrix form (empty for a formula graph)."""
    sc = program.scenario
    if sc.graph is not None:
        return ()
    by_layer: dict[int, list] = {}
    for n in sc.neurons:
        by_layer.setdefault(n.layer, []).append(n)
    forms = []
    for li, layer in enumerate(sc.layers):
        neurons = by_layer[li]
        inputs = tuple(a for _, a in neurons[0].weights)
        weights = []
        for n in neurons:
            into = dict((a, w) for w, a in n.weights)
            weights.append(tuple(into[a] for a in inputs))
        biases = tuple(n.bias for n in neurons if n.bias) if layer.bias else ()
        forms.append(LayerForm(
            index=li, activation=layer.activation, neurons=tuple(n.name for n in neurons), inputs=inputs,
            weights=tuple(weights), biases=biases, sums=tuple(sum_name(n.name) for n in neurons),
            outputs=tuple(n.name for n in neurons),
            gradients=tuple(tuple(total_name(w) for w in row) for row in weights),
            deltas=tuple(total_name(b) for b in biases)))
    return tuple(forms)


def layer_of(forms: tuple[LayerForm, ...], op: Op | None) -> int:
    """The layer ``op`` belongs to: its neuron's, or its parameter's; the output layer for
    the loss; the first layer before any op."""
    if op is None or not forms:
        return 0
    for form in forms:
        if op.node in form.neurons or op.node in form.biases or any(op.node in row for row in form.weights):
            return form.index
    return len(forms) - 1  # L, y_pred: the output layer's


def form_for(phase: str) -> str:
    """Which form a phase shows: ``forward`` (s = W·x + b), ``backward`` (∂L/∂W = δ·xᵀ)
    or ``update`` (W ← W − η·∂L/∂W)."""
    return phase if phase in ("backward", "update") else "forward"
