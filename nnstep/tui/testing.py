"""Helpers for driving :class:`~nnstep.tui.NNStepApp` headlessly (tests, benchmarks).

    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)          # SymPy loaded and every formula rendered
        await pilot.press("n")

and :func:`run_async_tests` lets a test module write ``async def test_…`` without
pytest-asyncio.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from .app import NNStepApp


async def settle(app: NNStepApp, pilot: Pilot, timeout: float = 60.0, *, expanded: bool = False) -> None:
    """Wait until the formula worker has rendered every op (with ``expanded``, the
    expanded views too, for small programs) and any long run has finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        book = app.book
        done = book is None or book.failed or (book.complete and (not expanded or _expanded_done(book)))
        if done and not app.busy:
            break
        await asyncio.sleep(0.02)
    else:  # pragma: no cover - a hung worker
        raise TimeoutError("the app did not settle")
    await pilot.pause()
    app.update_formula(reset=False)
    await pilot.pause()


def _expanded_done(book) -> bool:
    from .formulas import PRE_EXPAND

    n = len(book.ops)
    return n > PRE_EXPAND or all(book.get_expanded(i) is not None for i in range(n))


def working(app: NNStepApp) -> bool:
    """Whether a run, the opening of a scenario, or a dialog's reading of a file is going on."""
    return bool(app.busy) or getattr(app.screen, "job", None) is not None


async def wait_idle(app: NNStepApp, pilot: Pilot, timeout: float = 60.0) -> None:
    """Wait for a long run (a worker), a scenario being opened, or a file being read
    by the open dialog, to finish (and for what it starts next: a dialog's file, once
    read, is opened by the app)."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2 and time.monotonic() < deadline:
        await pilot.pause()
        if working(app):
            quiet = 0
            await asyncio.sleep(0.02)
        else:
            quiet += 1


def toasts(app: NNStepApp) -> list[str]:
    """The messages of the toasts shown so far."""
    return [n.message for n in app._notifications]


async def toasted(app: NNStepApp, pilot: Pilot, test: Callable[[str], bool]) -> str:
    """The last toast for which ``test`` is true, waiting for it (toasts arrive as messages)."""
    for _ in range(500):
        found = [m for m in toasts(app) if test(m)]
        if found:
            return found[-1]
        await asyncio.sleep(0.02)
        await pilot.pause()
    raise AssertionError(f"no such toast among {toasts(app)}")


def run_async_tests(namespace: dict[str, Any]) -> None:
    """Wrap every ``async def test_*`` in a module's ``namespace`` (its ``globals()``)
    so that pytest runs it with :func:`asyncio.run` (no pytest-asyncio needed).
    Call it at the end of the module, after the tests are defined."""
    for name, obj in list(namespace.items()):
        if name.startswith("test_") and inspect.iscoroutinefunction(obj):
            namespace[name] = _synchronous(obj)


def _synchronous(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return asyncio.run(fn(*args, **kwargs))

    return wrapper
