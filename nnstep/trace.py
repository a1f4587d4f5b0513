"""Traces and training reports: views of the op list for scripts and files."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TextIO

from .debugger import Debugger
from .errors import NNStepError
from .predict import parse_input, predict_new, predictions, text_lines, to_json, write_csv
from .program import Program
from .scenario import Scenario, load_scenario
from .text import csv_cell, json_number, markdown_cell, visible
from .train import train


@dataclass(frozen=True)
class TraceRow:
    """One executed op.  ``epoch``, ``sample`` and ``step`` count from 1, as everything
    nnstep shows does (the study note's ``Epoch 0`` is epoch 1 here)."""

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


def _scenario(scenario: Scenario | str | None) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def trace_rows(scenario: Scenario | str | None = None, *, epochs: int | None = None,
               samples: int | None = None, steps: int | None = None,
               seed: int | None = None) -> Iterator[TraceRow]:
    """Execute ops one by one and yield each with its value and formula.

    By default one sample's training step; ``epochs``/``samples``/``steps`` widen it."""
    from .symbolic import shared_symbolic

    dbg = Debugger(_scenario(scenario), seed=seed)
    K, M = dbg.op_count, dbg.sample_count
    if steps is not None:
        limit = steps
    elif epochs is not None:
        limit = epochs * M * K
    else:
        limit = (samples or 1) * K
    limit = min(limit, dbg.total)
    sy = shared_symbolic(dbg.program)
    while dbg.t < limit:
        dbg.step()
        op = dbg.current_op
        f = sy.formula(op)
        yield TraceRow(dbg.epoch + 1, dbg.sample_index + 1, dbg.sample.name, op.index + 1, op.phase, op.name,
                       op.code, dbg.value(op.name), f.text, f.latex)


def format_value(x: float) -> str:
    """Full precision, and non-finite values spelled out and flagged."""
    if math.isfinite(x):
        return repr(x)
    return f"{x} (non-finite!)"


def _json(obj: object) -> str:
    """JSON with every non-ASCII character escaped: no control, bidi or other
    invisible character from a file reaches the output raw."""
    return json.dumps(obj, ensure_ascii=True)


def seed_note(scenario: Scenario, seed: int | None) -> str | None:
    """What to tell a user whose ``--seed`` cannot change anything, or None."""
    if seed is None or any(p not in scenario.given for p in scenario.parameter_names):
        return None
    return (f"nnstep: note: --seed {seed} changes nothing: every parameter of '{visible(scenario.name)}' "
            "is given, so none is drawn")


def trace(scenario: Scenario | str | None = None, *, epochs: int | None = None, samples: int | None = None,
          steps: int | None = None, seed: int | None = None, fmt: str = "text", out: TextIO) -> None:
    """Write a trace.  Every piece of file text goes through :mod:`nnstep.text`; epochs,
    samples and steps count from 1."""
    rows = trace_rows(scenario, epochs=epochs, samples=samples, steps=steps, seed=seed)
    if fmt == "jsonl":
        for r in rows:
            rec = {"epoch": r.epoch, "sample": r.sample, "sample_name": r.sample_name, "step": r.step,
                   "phase": r.phase, "name": r.name, "value": json_number(r.value),
                   "finite": math.isfinite(r.value), "code": r.code, "formula": r.formula, "latex": r.latex}
            out.write(_json(rec) + "\n")
    elif fmt == "csv":
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["epoch", "sample", "sample_name", "step", "phase", "name", "value", "code", "formula"])
        for r in rows:
            w.writerow([csv_cell(c) for c in (r.epoch, r.sample, r.sample_name, r.step, r.phase, r.name,
                                               repr(r.value), r.code, r.formula)])
    elif fmt == "markdown":
        out.write("| epoch | sample | step | phase | line | value | formula |\n")
        out.write("|---:|---|---:|---|---|---:|---|\n")
        for r in rows:
            cells = [str(r.epoch), f"{r.sample} {r.sample_name}", str(r.step), r.phase, r.code,
                     format_value(r.value), r.formula]
            out.write("| " + " | ".join(markdown_cell(c) for c in cells) + " |\n")
    else:
        last = None
        for r in rows:
            head = (r.epoch, r.sample)
            if head != last:
                out.write(f"# epoch {r.epoch}, sample {r.sample} ({visible(r.sample_name)})\n")
                last = head
            out.write(f"{r.step:>4}  {r.phase:<8}  {visible(r.code):<52}  {format_value(r.value)}\n")
            out.write(f"{'':>16}{visible(r.formula)}\n")


def train_report(scenario: Scenario | str | None = None, *, epochs: int | None = None, seed: int | None = None,
                 fmt: str = "text", out: TextIO) -> None:
    """Train and report: the loss after every epoch (1-based), written as it is computed,
    then the final parameters.  ``epochs=0`` reports the initial parameters."""
    sc = _scenario(scenario)
    dbg = Debugger(sc, seed=seed, epochs=epochs)
    n = dbg.epochs if epochs != 0 else 0
    if fmt == "json":
        # streamed: the losses are written as they come, not kept
        out.write(f'{{"scenario": {_json(sc.name)}, "epochs": {n}, "losses": [')
        sep = ""

        def write(e: int, loss: float) -> None:
            nonlocal sep
            out.write(sep + _json(json_number(loss)))
            sep = ", "

        params = _run(dbg, n, write)
        out.write('], "parameters": ' + _json({k: json_number(v) for k, v in params.items()})
                  + ', "predictions": ' + _json(to_json(predictions(dbg.program, list(params.values())))) + "}\n")
        return
    width = len(str(n))

    def line(e: int, loss: float) -> None:
        out.write(f"epoch {e + 1:>{width}} loss {format_value(loss)}\n")
        out.flush()

    params = _run(dbg, n, line)
    if n:  # what the trained network says, before its parameters
        out.write(f"predictions after epoch {n}:\n")
        for text in text_lines(predictions(dbg.program, list(params.values())), dbg.program.targets):
            out.write(text + "\n")
    out.write("parameters:\n" if n else "parameters (initial, before any epoch):\n")
    for k, v in params.items():
        out.write(f"  {visible(k)} = {format_value(v)}\n")


def _run(dbg: Debugger, epochs: int, on_epoch) -> dict[str, float]:
    if epochs == 0:
        return dict(zip(dbg.program.parameters, dbg.initial))
    return train(dbg.program, dbg.initial, epochs, on_epoch=on_epoch, keep_losses=False).parameters


def trained(program: Program, initial: Sequence[float], epochs: int) -> list[float]:
    """The parameters after ``epochs`` epochs of training from ``initial`` (0: ``initial``)."""
    if epochs == 0:
        return list(initial)
    return list(train(program, initial, epochs, keep_losses=False).parameters.values())


def predict_report(scenario: Scenario | str | None = None, *, epochs: int | None = None, seed: int | None = None,
                   inputs: Sequence[str] = (),
                   fmt: str = "text", out) -> None:
    """``nnstep predict``: train ``epochs`` epochs (default: the scenario's), then write every
    sample's prediction and those for ``inputs`` (``'x1=-7,x2=-3'`` each)."""
    dbg = Debugger(_scenario(scenario), seed=seed, epochs=epochs)
    program = dbg.program
    rows = []
    for k, text in enumerate(inputs):
        try:
            rows.append(parse_input(program, text))
        except NNStepError as exc:
            raise NNStepError(exc.reason, key=f"--input #{k + 1}") from None
    n = dbg.epochs if epochs != 0 else 0
    params = trained(program, dbg.initial, n)
    table = predictions(program, params)
    new = predict_new(program, params, rows)
    if fmt == "json":
        data = {"scenario": program.scenario.name, "epochs": n, **to_json(table, new)}
        out.write(json.dumps(data, ensure_ascii=True) + "\n")
    elif fmt == "csv":
        write_csv(table, program.targets, new, out)
    else:
        out.write(f"predictions after {n} epoch{'' if n == 1 else 's'}:\n" if n
                  else "predictions (initial parameters, before any epoch):\n")
        for line in text_lines(table, program.targets, new):
            out.write(line + "\n")
