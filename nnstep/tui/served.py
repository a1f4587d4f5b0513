"""The served app's side of ``nnstep serve``: stdlib only, imported by ``python -m nnstep.tui``
(and by the open dialog); the TUI's own module, so the TUI never imports :mod:`nnstep.serve`.

The server starts each session as ``python -P -m nnstep.tui SCENARIO`` with a reduced
environment that carries two variables read here:

- ``NNSTEP_SERVE_PARENT``: the server's pid. :func:`guard` makes this process end
  when the server ends, however it ends (SIGKILL too): on Linux the kernel sends
  SIGTERM at the parent's death (``prctl(PR_SET_PDEATHSIG)``); everywhere a daemon
  thread also checks twice a second that the parent is still the same process.
- ``NNSTEP_OPEN_ROOTS``: the folders (``os.pathsep``-separated) that ``o`` may open
  files from; :func:`open_refusal` says why a path is outside them.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

PARENT_VAR = "NNSTEP_SERVE_PARENT"
ROOTS_VAR = "NNSTEP_OPEN_ROOTS"
_PR_SET_PDEATHSIG = 1


def guard() -> None:
    """End this process when the serving process ends (a no-op when not served)."""
    text = os.environ.get(PARENT_VAR)
    if not text:
        return
    parent = int(text)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - the watchdog below still runs
            pass
    if os.getppid() != parent:  # the server died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="nnstep-serve-watchdog", daemon=True).start()


def open_roots() -> list[Path] | None:
    """The folders ``o`` may open from, or None when unrestricted (not served)."""
    text = os.environ.get(ROOTS_VAR)
    if text is None:
        return None
    return [Path(p).resolve() for p in text.split(os.pathsep) if p]


def inside_roots(path: str | os.PathLike[str], roots: list[Path]) -> bool:
    """Whether *path* (symlinks resolved) lies in one of *roots* or below."""
    real = Path(os.path.expanduser(path)).resolve()
    return any(real == root or real.is_relative_to(root) for root in roots)


def open_refusal(arg: str) -> str | None:
    """Why ``o`` may not open *arg* in a served session, or None when it may."""
    roots = open_roots()
    if roots is None:
        return None
    from nnstep.scenario import resolve

    if inside_roots(resolve(arg), roots):
        return None
    return "this served session opens only the bundled scenarios and files in " + ", ".join(
        str(r) for r in roots)
