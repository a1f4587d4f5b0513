"""The study note's training loop written the note's way (NumPy scalars, one
sample at a time), for the 2-2-1 sigmoid network: the baseline nnstep's training
is checked and timed against.  Only NumPy is imported here."""

from __future__ import annotations

import numpy as np


def note_style_train(data, y_trues, params, epochs, learn_rate=0.1):
    """The note's loop: returns (loss after each epoch, final params dict)."""
    w1, w2, w3, w4, w5, w6, b1, b2, b3 = (np.float64(params[k]) for k in
                                          ("w1", "w2", "w3", "w4", "w5", "w6", "b1", "b2", "b3"))

    def sig(x):
        return 1 / (1 + np.exp(-x))

    def dsig(x):
        fx = sig(x)
        return fx * (1 - fx)

    losses = []
    for _ in range(epochs):
        for x, y_true in zip(data, y_trues):
            sum_h1 = w1 * x[0] + w2 * x[1] + b1
            h1 = sig(sum_h1)
            sum_h2 = w3 * x[0] + w4 * x[1] + b2
            h2 = sig(sum_h2)
            sum_o1 = w5 * h1 + w6 * h2 + b3
            y_pred = sig(sum_o1)
            d_L_d_ypred = -2 * (y_true - y_pred)
            d_ypred_d_w5 = h1 * dsig(sum_o1)
            d_ypred_d_w6 = h2 * dsig(sum_o1)
            d_ypred_d_b3 = dsig(sum_o1)
            d_ypred_d_h1 = w5 * dsig(sum_o1)
            d_ypred_d_h2 = w6 * dsig(sum_o1)
            d_h1_d_w1 = x[0] * dsig(sum_h1)
            d_h1_d_w2 = x[1] * dsig(sum_h1)
            d_h1_d_b1 = dsig(sum_h1)
            d_h2_d_w3 = x[0] * dsig(sum_h2)
            d_h2_d_w4 = x[1] * dsig(sum_h2)
            d_h2_d_b2 = dsig(sum_h2)
            w1 -= learn_rate * (d_L_d_ypred * d_ypred_d_h1 * d_h1_d_w1)
            w2 -= learn_rate * (d_L_d_ypred * d_ypred_d_h1 * d_h1_d_w2)
            b1 -= learn_rate * (d_L_d_ypred * d_ypred_d_h1 * d_h1_d_b1)
            w3 -= learn_rate * (d_L_d_ypred * d_ypred_d_h2 * d_h2_d_w3)
            w4 -= learn_rate * (d_L_d_ypred * d_ypred_d_h2 * d_h2_d_w4)
            b2 -= learn_rate * (d_L_d_ypred * d_ypred_d_h2 * d_h2_d_b2)
            w5 -= learn_rate * (d_L_d_ypred * d_ypred_d_w5)
            w6 -= learn_rate * (d_L_d_ypred * d_ypred_d_w6)
            b3 -= learn_rate * (d_L_d_ypred * d_ypred_d_b3)
        total = 0.0
        for x, y_true in zip(data, y_trues):
            h1 = sig(w1 * x[0] + w2 * x[1] + b1)
            h2 = sig(w3 * x[0] + w4 * x[1] + b2)
            y_pred = sig(w5 * h1 + w6 * h2 + b3)
            total += (y_true - y_pred) ** 2
        losses.append(float(total / len(data)))
    final = dict(zip(("w1", "w2", "w3", "w4", "w5", "w6", "b1", "b2", "b3"),
                     (float(v) for v in (w1, w2, w3, w4, w5, w6, b1, b2, b3))))
    return losses, final
