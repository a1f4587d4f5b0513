"""Scenario texts several tests share."""

#: A formula graph with a direct path (f reads x both through d and directly) and
#: the non-smooth functions |x|, max and min.
DIRECT_PATH = """
name = "Direct path"
[graph]
parameters = ["x", "y"]
[graph.nodes]
d = "abs(x - y)"
f = "d * d + max(x, y) + min(x, d)"
[parameters]
x = 3
y = -1
[training]
learning_rate = 0.01
epochs = 5
"""
