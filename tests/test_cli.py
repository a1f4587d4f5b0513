"""The headless CLI, run as a user runs it: in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import nnstep
from nnstep.debugger import Debugger
from nnstep.train import train

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nnstep", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, env={**os.environ, "PYTHONWARNINGS": "error"}, timeout=120)


def test_help_imports_neither_sympy_nor_textual():
    code = ("import sys, contextlib, io\n"
            "from nnstep.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try: main(['--help'])\n"
            "    except SystemExit: pass\n"
            "for sub in ('trace', 'train', 'check', 'list'):\n"
            "    with contextlib.redirect_stdout(io.StringIO()):\n"
            "        try: main([sub, '--help'])\n"
            "        except SystemExit: pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sympy', 'textual', 'numpy')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    help_text = run("--help").stdout
    for word in ("list", "check", "trace", "train"):
        assert f"nnstep {word}" in help_text


def test_list_shows_the_default_first():
    out = run("list").stdout.splitlines()
    assert out[0].startswith("note-network")
    assert "Alice" in out[0]


def test_trace_one_sample_in_the_notes_order():
    out = run("trace", "--format", "jsonl").stdout.splitlines()
    rows = [json.loads(line) for line in out]
    dbg = Debugger(nnstep.load_scenario())
    assert [r["name"] for r in rows] == [op.name for op in dbg.ops]
    assert {r["phase"] for r in rows} == {"forward", "loss", "backward", "update"}
    for r in rows:
        assert set(r) >= {"epoch", "sample", "step", "phase", "name", "value", "formula", "latex"}
        dbg.step()
        assert r["value"] == dbg.value(r["name"])  # json round-trips floats exactly
        # counted from 1, as the TUI counts
        assert (r["epoch"], r["sample"], r["step"]) == (1, 1, dbg.op_index + 1)
    w1 = next(r for r in rows if r["name"] == "d_h1_d_w1")
    assert w1["formula"].startswith("∂h1/∂w1 = ∂/∂w1 σ(") and "σ(sum_h1)" in w1["formula"]
    assert "\\sigma" in w1["latex"]


@pytest.mark.parametrize("flag,count", [("--samples", 2), ("--epochs", 1), ("--steps", 7)])
def test_trace_spans(flag, count):
    rows = [json.loads(x) for x in run("trace", flag, str(count), "--format", "jsonl").stdout.splitlines()]
    K = len(Debugger(nnstep.load_scenario()).ops)
    want = {"--samples": count * K, "--epochs": count * 4 * K, "--steps": count}[flag]
    assert len(rows) == want
    assert [r["sample"] for r in rows][-1] == (want - 1) // K % 4 + 1
    assert [r["step"] for r in rows][-1] == (want - 1) % K + 1


@pytest.mark.parametrize("fmt,marker,line", [
    ("text", "# epoch 1, sample 1 (Alice)", "d_L_d_w1 = d_L_d_ypred * d_ypred_d_h1 * d_h1_d_w1"),
    ("csv", "epoch,sample", "d_L_d_w1 = d_L_d_ypred * d_ypred_d_h1 * d_h1_d_w1"),
    ("markdown", "| epoch | sample |", r"d\_L\_d\_w1 = d\_L\_d\_ypred \* d\_ypred\_d\_h1 \* d\_h1\_d\_w1"),
])
def test_trace_formats(fmt, marker, line):
    out = run("trace", "--format", fmt).stdout
    assert marker in out
    assert line in out


def test_train_json_matches_the_engine():
    res = run("train", "--epochs", "30", "--seed", "3", "--format", "json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    dbg = Debugger(nnstep.load_scenario(), seed=3)
    want = train(dbg.program, dbg.initial, 30)
    assert data["losses"] == want.losses
    assert data["parameters"] == want.parameters
    assert data["losses"][-1] < data["losses"][0]


def test_train_text_prints_every_epoch():
    lines = run("train", "--epochs", "12").stdout.splitlines()
    epochs = [ln.split() for ln in lines if ln.startswith("epoch")]
    dbg = Debugger(nnstep.load_scenario())
    want = train(dbg.program, dbg.initial, 12)
    # epoch 1 .. 12, each with the engine's loss (repr round-trips)
    assert [int(e[1]) for e in epochs] == list(range(1, 13))
    assert [float(e[3]) for e in epochs] == want.losses
    assert "parameters:" in lines
    shown = dict(ln.strip().split(" = ") for ln in lines[lines.index("parameters:") + 1:])
    assert {k: float(v) for k, v in shown.items()} == want.parameters


def test_installed_layout_finds_bundled_scenarios_from_elsewhere(tmp_path):
    res = run("trace", "note-network", "--steps", "1", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "sum_h1" in res.stdout


@pytest.mark.parametrize("args,needle", [
    (["trace", "--epochs", "0"], "--epochs"),
    (["train", "--epochs", "10000001"], "at most 10000000"),
    (["trace", "--epochs", "1000000000000"], "at most 10000000"),
    (["train", "--epochs", "-1"], "at least 0"),
    (["trace", "--format", "xml"], "--format"),
    (["trace", "--seed", "x"], "--seed"),
    (["train", "--bogus"], "--bogus"),
    (["trace", "--epochs", "1", "--samples", "1"], "not allowed with"),
    (["trace", "nosuch"], "nosuch"),
    (["check"], "FILE"),
])
def test_bad_flags_give_one_line_and_exit_2(args, needle):
    res = run(*args)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]
    assert "Traceback" not in res.stderr


def test_tui_needs_a_terminal():
    res = run()
    assert res.returncode == 2 and "terminal" in res.stderr
