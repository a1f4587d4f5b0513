"""A 2-2-1 sigmoid network trained one sample at a time, every quantity a named
scalar, the way the study note teaches it.  Written for nnstep's compare tests:
the tests run it as it is and as one-line mutants of it."""

import math
import random


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def sigmoid_prime(z):
    s = sigmoid(z)
    return s * (1.0 - s)


def predict(params, point):
    w1, w2, w3, w4, w5, w6, b1, b2, b3 = params
    a = sigmoid(w1 * point[0] + w2 * point[1] + b1)
    b = sigmoid(w3 * point[0] + w4 * point[1] + b2)
    return sigmoid(w5 * a + w6 * b + b3)


def train(rows, targets, epochs, learn_rate=0.1, seed=7):
    rng = random.Random(seed)
    w1, w2, w3, w4, w5, w6 = (rng.gauss(0.0, 1.0) for _ in range(6))
    b1, b2, b3 = (rng.gauss(0.0, 1.0) for _ in range(3))
    for epoch in range(epochs):
        seen_loss = 0.0
        for i in range(len(rows)):
            x1, x2 = rows[i]
            y_true = targets[i]

            sum_h1 = w1 * x1 + w2 * x2 + b1
            h1 = sigmoid(sum_h1)
            sum_h2 = w3 * x1 + w4 * x2 + b2
            h2 = sigmoid(sum_h2)
            sum_o1 = w5 * h1 + w6 * h2 + b3
            o1 = sigmoid(sum_o1)
            y_pred = o1
            L = (y_true - y_pred) ** 2
            seen_loss += L

            d_L_d_ypred = -2 * (y_true - y_pred)

            d_ypred_d_w5 = h1 * sigmoid_prime(sum_o1)
            d_ypred_d_w6 = h2 * sigmoid_prime(sum_o1)
            d_ypred_d_b3 = sigmoid_prime(sum_o1)
            d_L_d_w5 = d_L_d_ypred * d_ypred_d_w5
            d_L_d_w6 = d_L_d_ypred * d_ypred_d_w6
            d_L_d_b3 = d_L_d_ypred * d_ypred_d_b3

            d_ypred_d_h1 = w5 * sigmoid_prime(sum_o1)
            d_ypred_d_h2 = w6 * sigmoid_prime(sum_o1)
            d_L_d_h1 = d_L_d_ypred * d_ypred_d_h1
            d_L_d_h2 = d_L_d_ypred * d_ypred_d_h2

            d_h1_d_w1 = x1 * sigmoid_prime(sum_h1)
            d_h1_d_w2 = x2 * sigmoid_prime(sum_h1)
            d_h1_d_b1 = sigmoid_prime(sum_h1)
            d_h2_d_w3 = x1 * sigmoid_prime(sum_h2)
            d_h2_d_w4 = x2 * sigmoid_prime(sum_h2)
            d_h2_d_b2 = sigmoid_prime(sum_h2)

            d_L_d_w1 = d_L_d_h1 * d_h1_d_w1
            d_L_d_w2 = d_L_d_h1 * d_h1_d_w2
            d_L_d_b1 = d_L_d_h1 * d_h1_d_b1
            d_L_d_w3 = d_L_d_h2 * d_h2_d_w3
            d_L_d_w4 = d_L_d_h2 * d_h2_d_w4
            d_L_d_b2 = d_L_d_h2 * d_h2_d_b2

            w1 -= learn_rate * d_L_d_w1
            w2 -= learn_rate * d_L_d_w2
            b1 -= learn_rate * d_L_d_b1
            w3 -= learn_rate * d_L_d_w3
            w4 -= learn_rate * d_L_d_w4
            b2 -= learn_rate * d_L_d_b2
            w5 -= learn_rate * d_L_d_w5
            w6 -= learn_rate * d_L_d_w6
            b3 -= learn_rate * d_L_d_b3

        if epoch % 5 == 0:
            params = (w1, w2, w3, w4, w5, w6, b1, b2, b3)
            loss = sum((t - predict(params, r)) ** 2 for r, t in zip(rows, targets)) / len(rows)
            print(f"epoch {epoch}: mean loss {loss:.4f} (during the epoch: {seen_loss / len(rows):.4f})")
    return w1, w2, w3, w4, w5, w6, b1, b2, b3


if __name__ == "__main__":
    people = [[-2, -1], [25, 6], [17, 4], [-15, -6]]  # Alice, Bob, Charlie, Diana
    is_female = [1, 0, 0, 1]
    train(people, is_female, epochs=300)
