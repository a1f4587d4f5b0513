"""Traces and training reports: views of the op list for scripts and files."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from .debugger import Debugger
from .scenario import load_scenario
from .train import train


@dataclass(frozen=True)
class TraceRow:
    epoch: int
    sample: int
    sample_name: str
    step: int
    phase: str
    name: str
    code: str
    value: float
    formula: str
    latex: str


def trace_rows(scenario: str | None = None, *, epochs: int | None = None, samples: int | None = None,
               steps: int | None = None, seed: int | None = None) -> Iterator[TraceRow]:
    """Execute ops one by one and yield each with its value and formula.

    By default one sample's training step; ``epochs``/``samples``/``steps`` widen it."""
    from .symbolic import Symbolic

    dbg = Debugger(load_scenario(scenario), seed=seed)
    K, M = dbg.op_count, dbg.sample_count
    if steps is not None:
        limit = steps
    elif epochs is not None:
        limit = epochs * M * K
    else:
        limit = (samples or 1) * K
    limit = min(limit, dbg.total)
    sy = Symbolic(dbg.program)
    while dbg.t < limit:
        dbg.step()
        op = dbg.current_op
        f = sy.formula(op)
        yield TraceRow(dbg.epoch, dbg.sample_index, dbg.sample.name, op.index, op.phase, op.name,
                       op.code, dbg.value(op.name), f.text, f.latex)


def format_value(x: float) -> str:
    """Full precision, and non-finite values spelled out and flagged."""
    if math.isfinite(x):
        return repr(x)
    return f"{x} (non-finite!)"


def _json_value(x: float) -> float | str:
    return x if math.isfinite(x) else str(x)


def trace(scenario: str | None = None, *, epochs: int | None = None, samples: int | None = None,
          steps: int | None = None, seed: int | None = None, fmt: str = "text", out: TextIO) -> None:
    rows = trace_rows(scenario, epochs=epochs, samples=samples, steps=steps, seed=seed)
    if fmt == "jsonl":
        for r in rows:
            rec = {"epoch": r.epoch, "sample": r.sample, "sample_name": r.sample_name, "step": r.step,
                   "phase": r.phase, "name": r.name, "value": _json_value(r.value),
                   "finite": math.isfinite(r.value), "code": r.code, "formula": r.formula, "latex": r.latex}
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["epoch", "sample", "sample_name", "step", "phase", "name", "value", "code", "formula"])
        for r in rows:
            w.writerow([r.epoch, r.sample, r.sample_name, r.step, r.phase, r.name, repr(r.value), r.code, r.formula])
    elif fmt == "markdown":
        out.write("| epoch | sample | step | phase | line | value | formula |\n")
        out.write("|---:|---|---:|---|---|---:|---|\n")
        for r in rows:
            cells = [str(r.epoch), f"{r.sample} {r.sample_name}", str(r.step), r.phase, f"`{r.code}`",
                     format_value(r.value), r.formula.replace("|", "\\|")]
            out.write("| " + " | ".join(c.replace("|", "\\|") if i < 6 else c for i, c in enumerate(cells)) + " |\n")
    else:
        last = None
        for r in rows:
            head = (r.epoch, r.sample)
            if head != last:
                out.write(f"# epoch {r.epoch}, sample {r.sample} ({r.sample_name})\n")
                last = head
            out.write(f"{r.step:>4}  {r.phase:<8}  {r.code:<52}  {format_value(r.value)}\n")
            out.write(f"{'':>16}{r.formula}\n")


def train_report(scenario: str | None = None, *, epochs: int | None = None, seed: int | None = None,
                 fmt: str = "text", out: TextIO) -> None:
    sc = load_scenario(scenario)
    dbg = Debugger(sc, seed=seed, epochs=epochs)
    n = dbg.epochs
    if fmt == "json":
        result = train(dbg.program, dbg.initial, n)
        out.write(json.dumps({
            "scenario": sc.name,
            "epochs": n,
            "losses": [_json_value(x) for x in result.losses],
            "parameters": {k: _json_value(v) for k, v in result.parameters.items()},
        }) + "\n")
        return
    result = train(dbg.program, dbg.initial, n,
                   on_epoch=lambda e, loss: out.write(f"epoch {e:>{len(str(n))}} loss {format_value(loss)}\n"))
    out.write("parameters:\n")
    for k, v in result.parameters.items():
        out.write(f"  {k} = {format_value(v)}\n")
