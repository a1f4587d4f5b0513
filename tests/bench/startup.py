"""Start-up: `nnstep --help` as a whole process (and that it imports neither SymPy
nor Textual), and the debugger's first frame on the default scenario."""

from __future__ import annotations

import subprocess
import sys

from _common import ROOT, machine, wall

HELP = [sys.executable, "-m", "nnstep", "--help"]
FIRST_FRAME = r"""
import time, sys
from nnstep.tui import NNStepApp
app = NNStepApp(None)
def ready():
    sys.stdout.write("first-frame\n"); sys.stdout.flush()
    app.exit()
app.call_after_refresh(ready)
app.run(headless=True, size=(120, 36))
"""


if __name__ == "__main__":
    print(f"machine: {machine()}")
    bare = wall([sys.executable, "-c", "pass"], 9)
    helped = wall(HELP, 9)
    probe = ("import sys, contextlib, io\nfrom nnstep.cli import main\n"
             "with contextlib.redirect_stdout(io.StringIO()):\n    try: main(['--help'])\n    except SystemExit: pass\n"
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'sympy', 'textual', 'numpy'}))")
    heavy = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    print(f"python -c pass: {bare * 1e3:.0f} ms; nnstep --help: {helped * 1e3:.0f} ms (median of 9); "
          f"heavy modules imported: {heavy}")
    try:
        frame = wall([sys.executable, "-c", FIRST_FRAME], 5)
        print(f"TUI first frame (process start to first refresh, headless 120x36): {frame * 1e3:.0f} ms (median of 5)")
    except subprocess.CalledProcessError as exc:  # pragma: no cover
        print(f"TUI first frame: could not measure ({exc})")
        frame = float("nan")
    print(f"ratio to targets: --help {helped / 0.15:.2f} of 0.15 s; first frame {frame / 0.8:.2f} of 0.8 s")
