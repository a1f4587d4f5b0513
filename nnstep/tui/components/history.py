"""Which epochs' losses the status bar's sparkline and the loss curve show."""

from __future__ import annotations

#: The sparkline shows at most this many epoch losses (evenly spaced, the last included).
SPARK_POINTS = 200


def history_epochs(done: int) -> list[int]:
    """The epochs (0-based) whose losses are shown after ``done`` completed epochs: all of
    them, or :data:`SPARK_POINTS` evenly spaced ones (the first and last included)."""
    if done <= SPARK_POINTS:
        return list(range(done))
    return sorted({round(i * (done - 1) / (SPARK_POINTS - 1)) for i in range(SPARK_POINTS)})
