"""Shared helpers for the benchmark scripts (run them as ``python tests/bench/<name>.py``)."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def median_time(fn: Callable[[], object], repeat: int = 5) -> float:
    """Median wall time of ``fn()`` over ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def wall(cmd: list[str], repeat: int = 9) -> float:
    """Median wall time of the process ``cmd`` (run from the project root), with
    byte-code caching on as in an installed package (some shells switch it off)."""
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True, cwd=ROOT, env=env)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def machine() -> str:
    import os
    import platform

    impl = f"{platform.python_implementation()} {platform.python_version()}"
    return f"{impl}, {os.cpu_count()} cores, {platform.machine()}"
