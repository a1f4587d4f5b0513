"""Key latency in the TUI: a step key (n, then p) to the updated screen, headless
at 120x36, on the default scenario and on Iris.

Textual's test pilot waits for the app to be idle after every key, and that wait
has a floor of its own; a key with no binding measures it, and the difference is
what nnstep's handling and redrawing of the panes cost."""

from __future__ import annotations

import asyncio
import statistics
import time

from nnstep.tui import NNStepApp
from nnstep.tui.testing import settle

from _common import machine


async def measure(name: str, presses: int = 40) -> tuple[float, float]:
    app = NNStepApp(name)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        idle, step = [], []
        for i in range(presses):
            t = time.perf_counter()
            await pilot.press("f12")  # bound to nothing: the pilot's own floor
            idle.append(time.perf_counter() - t)
            key = "n" if i % 3 else "p"
            t = time.perf_counter()
            await pilot.press(key)
            step.append(time.perf_counter() - t)
        return statistics.median(step), statistics.median(idle)


if __name__ == "__main__":
    print(f"machine: {machine()}")
    for name, target in (("note-network", 0.010), ("iris", 0.030)):
        step, idle = asyncio.run(measure(name))
        ours = max(step - idle, 0.0)
        print(f"{name}: median step key {step * 1e3:.1f} ms through the pilot, its idle floor {idle * 1e3:.1f} ms, "
              f"nnstep's share {ours * 1e3:.1f} ms; ratio to the {target * 1e3:.0f} ms target: {ours / target:.2f}")
