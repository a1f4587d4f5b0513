"""Headless training of a 4-16-16-3 network (the Iris scenario), 100 epochs of
per-sample SGD: nnstep's fast path against the same per-sample loop in PyTorch
(float64, CPU) where PyTorch is installed, else against a NumPy matrix loop."""

from __future__ import annotations

import numpy as np

import nnstep
from nnstep.train import train

from _common import machine, median_time
from formulas import iris_like

EPOCHS = 100
sc = iris_like()
prog = nnstep.build_program(sc)
init = sc.initial_parameters()
p0 = [init[k] for k in prog.parameters]
X = np.array([s.x for s in sc.samples])
Y = np.array([s.y for s in sc.samples])


def layers(flat):
    """Weight matrices and bias vectors in nnstep's numbering (neuron by neuron)."""
    out, w, b = [], 0, sum(len(n.weights) for n in sc.neurons)
    n_in = len(sc.inputs)
    for layer in sc.layers:
        n = len(layer.neurons)
        out.append((flat[w : w + n * n_in].reshape(n, n_in), flat[b : b + n]))
        w, b, n_in = w + n * n_in, b + n, n
    return out


ACT = {"tanh": np.tanh, "relu": lambda s: np.maximum(s, 0), "sigmoid": lambda s: 1 / (1 + np.exp(-s))}


def numpy_loop():
    p = np.array(p0)
    for _ in range(EPOCHS):
        for x, y in zip(X, Y):
            Ls = layers(p)
            acts = [x]
            for (W, B), layer in zip(Ls, sc.layers):
                s = W @ acts[-1] + B
                if layer.activation == "softmax":
                    e = np.exp(s - s.max())
                    acts.append(e / e.sum())
                else:
                    acts.append(ACT[layer.activation](s))
            g = acts[-1] - y  # softmax + cross-entropy
            grads_w, grads_b = [], []
            for li in range(len(Ls) - 1, -1, -1):
                W, _ = Ls[li]
                grads_w.append(np.outer(g, acts[li]))
                grads_b.append(g)
                if li:
                    g = (W.T @ g) * (1 - acts[li] ** 2)  # tanh hidden layers
            flat_w = np.concatenate([gw.ravel() for gw in reversed(grads_w)])
            flat_b = np.concatenate(list(reversed(grads_b)))
            p = p - sc.learning_rate * np.concatenate([flat_w, flat_b])
    return p


def torch_loop(torch):
    p = torch.tensor(p0, dtype=torch.float64)
    xs = torch.tensor(X, dtype=torch.float64)
    ys = torch.tensor(Y, dtype=torch.float64)
    for _ in range(EPOCHS):
        for x, y in zip(xs, ys):
            q = p.clone().requires_grad_(True)
            a = x
            for (W, B), layer in zip(layers(q), sc.layers):
                s = W @ a + B
                a = torch.softmax(s, 0) if layer.activation == "softmax" else torch.tanh(s)
            loss = -(y * torch.log(a)).sum()
            loss.backward()
            with torch.no_grad():
                p = q - sc.learning_rate * q.grad
    return p


if __name__ == "__main__":
    print(f"machine: {machine()}")
    print(f"{sc.name}: {len(prog.parameters)} parameters, {len(sc.samples)} samples, {EPOCHS} epochs")
    ours = train(prog, p0, EPOCHS)
    t_ours = median_time(lambda: train(prog, p0, EPOCHS), repeat=3)
    print(f"nnstep train (fast path, exact): {t_ours:.2f} s; final loss {ours.losses[-1]:.6f}")
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None and all(L.activation in ("tanh", "softmax") for L in sc.layers):
        torch.set_num_threads(1)
        final = torch_loop(torch).detach().numpy()
        diff = np.max(np.abs(final - np.array(list(ours.parameters.values()))))
        t_ref = median_time(lambda: torch_loop(torch), repeat=3)
        print(f"PyTorch {torch.__version__} per-sample loop (float64, CPU): {t_ref:.2f} s; "
              f"parameters agree to {diff:.1e}")
        print(f"ratio (PyTorch / nnstep): {t_ref / t_ours:.2f}x faster")
    else:
        t_ref = median_time(numpy_loop, repeat=3)
        print(f"NumPy matrix loop: {t_ref:.2f} s")
        print(f"ratio (NumPy loop / nnstep): {t_ref / t_ours:.2f}x faster")
