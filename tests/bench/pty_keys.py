"""Key to screen through a real pseudo-terminal: the time from a step key (n / p) to
the last byte nnstep writes in answer, and the bytes it writes per step, at 120x36,
next to a minimal Textual app that redraws one line per key (the framework's floor),
measured in the same run.

    python tests/bench/pty_keys.py [--reps 40] [--rounds 3] [--root CHECKOUT]

It drives ``pty_latency.py`` (from the shared tools: ``$NNSTEP_PTY_TOOLS``, or
``../shared/tools`` next to the checkout or its parent) for each app in turn; the
keys cycle ``nnnp`` so the steps walk forward through the sample with a step back
every fourth key.  The apps take turns, ``--rounds`` times (``--reps`` keys each
turn), so that a machine that slows down for a while slows them all: each time is
the median of an app's rounds, and the ratio to the minimal app is the median of the
rounds' ratios (each printed too).  SymPy is imported before nnstep starts (see below).  ``--root`` measures another checkout of nnstep (e.g. an older
commit unpacked with ``git archive``) with this Python.  The last lines are the
ratios to the targets (issue #13): median key-to-last-byte at most 3x the minimal
app's, at most 9 KB per step on the note's network; Iris is reported too."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from _common import ROOT, machine

SIZE = "120x36"
KEYS = "nnnp"
LATENCY_TARGET = 3.0  # x the minimal app's median key-to-last-byte
BYTES_TARGET = 9 * 1024  # per step, the note's network


def tools() -> Path:
    candidates = [Path(p) for p in [os.environ.get("NNSTEP_PTY_TOOLS", "")] if p]
    candidates += [ROOT.parent / "shared" / "tools", ROOT.parents[1] / "shared" / "tools"]
    for path in candidates:
        if (path / "pty_latency.py").is_file() and (path / "minimal_textual_app.py").is_file():
            return path
    sys.exit("pty_keys.py: pty_latency.py not found; set NNSTEP_PTY_TOOLS to the shared tools folder")


def measure(tool: Path, cmd: list[str], reps: int, keys: str, root: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(root))
    out = subprocess.run([sys.executable, str(tool / "pty_latency.py"), "--size", SIZE, "--keys", keys,
                          "--reps", str(reps), "--", *cmd], capture_output=True, text=True, check=True,
                         env=env, cwd=root)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args()
    tool = tools()
    root = args.root.resolve()
    print(f"machine: {machine()}; terminal {SIZE}; keys {KEYS!r} cycling, {args.reps} per app and round, "
          f"{args.rounds} rounds; nnstep from {root}")
    # SymPy imported before the app starts, so that its import (which holds the GIL for
    # a second or more) is over when the keys come, as it is a moment after startup
    nnstep = [sys.executable, "-c", "import sys, runpy, sympy; sys.argv[0] = 'nnstep'; "
              "runpy.run_module('nnstep', run_name='__main__')"]
    runs = {
        "minimal Textual app": [sys.executable, str(tool / "minimal_textual_app.py")],
        "nnstep note-network": nnstep,
        "nnstep iris": [*nnstep, "iris"],
    }
    got: dict[str, list[dict]] = {name: [] for name in runs}
    for k in range(args.rounds):
        for name, cmd in runs.items():
            keys = "n" if name.startswith("minimal") else KEYS
            got[name].append(measure(tool, cmd, args.reps, keys, root))
        floor_k = got["minimal Textual app"][-1]["last_ms_median"]
        print(f"round {k + 1}: " + ", ".join(f"{name} {got[name][-1]['last_ms_median']:.1f} ms"
                                               for name in runs) +
              f"; note-network {got['nnstep note-network'][-1]['last_ms_median'] / floor_k:.1f}x")
    summary = {name: {key: statistics.median(r[key] for r in rs) for key in
                      ("first_ms_median", "last_ms_median", "last_ms_p90", "bytes_median")}
               for name, rs in got.items()}
    for name, r in summary.items():
        answered = sum(x["answered"] for x in got[name])
        print(f"{name:22} answered {answered}/{args.reps * args.rounds}  first byte {r['first_ms_median']:6.1f} ms"
              f"  last byte {r['last_ms_median']:6.1f} ms (p90 {r['last_ms_p90']:6.1f})"
              f"  {r['bytes_median'] / 1024:5.1f} KB per key")
    for name in ("nnstep note-network", "nnstep iris"):
        r = summary[name]
        # each round's ratio is to the minimal app measured just before it: drift cancels
        latency = statistics.median(x["last_ms_median"] / m["last_ms_median"]
                                    for x, m in zip(got[name], got["minimal Textual app"]))
        size = r["bytes_median"] / BYTES_TARGET
        target = " (targets: ≤ 1.00)" if name.endswith("note-network") else " (reported)"
        pooled = r["last_ms_median"] / summary["minimal Textual app"]["last_ms_median"]
        print(f"{name}: latency {latency / LATENCY_TARGET:.2f} of target ({latency:.1f}x the minimal app; "
              f"{pooled:.1f}x from the two medians), "
              f"bytes {size:.2f} of target ({r['bytes_median'] / 1024:.1f} KB per step){target}")


if __name__ == "__main__":
    main()
