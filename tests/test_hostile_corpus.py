"""The hostile corpus (tests/corpus/hostile): files written to hurt, each run through
``nnstep check``, ``trace`` in every format and ``train`` in a child process with a
memory limit and a timeout, in an empty working directory.

Each file's first line says what must happen:

- ``# expect: ok`` — every command exits 0 with a bounded, correct run;
- ``# expect: error KEY`` — every command exits 2 with one line ``FILE:LINE: KEY...: ...``;
- ``# expect: refused`` — every command exits 2 with one line naming the file;
- ``# expect: ok-or-refused`` — either of the two, the same for every command.

Always: no traceback, no raw control character (C0 but newline, DEL, C1, ESC, BEL)
or bidirectional override in any output, and nothing written to the working
directory.  A second line ``# needs: HELPER`` marks a file whose final behaviour
lands from another branch (an expected failure until it is merged).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import nnstep
from nnstep.build import build_program
from nnstep.text import visible

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = sorted((ROOT / "tests" / "corpus" / "hostile").glob("*.toml"))
#: Address space of the child process: the corpus needs well under half of it.
MEMORY_LIMIT = 1024 * 2**20
#: C0 but newline, DEL, C1, and the bidirectional embeddings, overrides and isolates.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

COMMANDS = {
    "check": ("check", []),
    "trace text": ("trace", ["--format", "text"]),
    "trace jsonl": ("trace", ["--format", "jsonl"]),
    "trace csv": ("trace", ["--format", "csv"]),
    "trace markdown": ("trace", ["--format", "markdown"]),
    "train": ("train", ["--epochs", "2"]),
    "train json": ("train", ["--epochs", "2", "--format", "json"]),
    "export markdown": ("export", ["--format", "markdown"]),
    "export latex": ("export", ["--format", "latex"]),
    "export html": ("export", ["--format", "html"]),
}

# Runs every command on every file in one process (one start-up, one SymPy import),
# each through nnstep.cli.main with its own stdout and stderr; prints them as JSON.
DRIVER = """
import contextlib, io, json, resource, sys, traceback
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from nnstep.cli import main

results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except BaseException:
            rc = "traceback"
            err.write(traceback.format_exc())
    results.append({{"argv": argv, "rc": rc, "out": out.getvalue(), "err": err.getvalue()}})
sys.__stdout__.write(json.dumps(results))
"""


def expectation(path: Path) -> tuple[str, str | None, str | None]:
    """(outcome, key, helper) from the file's first two lines."""
    head = path.read_text(encoding="utf-8").splitlines()[:2]
    m = re.fullmatch(r"# expect: (ok-or-refused|ok|refused|error)(?: (.+))?", head[0])
    assert m, f"{path.name}: first line must say '# expect: ...'"
    needs = re.fullmatch(r"# needs: (\w+)", head[1]) if len(head) > 1 else None
    return m.group(1), m.group(2) or None, needs.group(1) if needs else None


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, dict[str, dict]]:
    cwd = tmp_path_factory.mktemp("hostile-cwd")
    argvs = [[command, str(path), *flags] for path in HOSTILE for command, flags in COMMANDS.values()]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "error"}
    res = subprocess.run([sys.executable, "-c", DRIVER.format(limit=MEMORY_LIMIT), json.dumps(argvs)],
                         capture_output=True, text=True, timeout=240, cwd=cwd, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stderr == ""
    assert list(cwd.iterdir()) == [], "the runs wrote to the working directory"
    by_file: dict[str, dict[str, dict]] = {}
    results = iter(json.loads(res.stdout))
    for path in HOSTILE:
        by_file[str(path)] = {label: next(results) for label in COMMANDS}
    return by_file


def test_the_corpus_covers_every_class():
    stems = {p.stem.split("-")[0] for p in HOSTILE}
    assert {"tower", "power", "wide", "dense", "markup", "escape", "clash", "root"} <= stems


def _marks(path: Path) -> list[pytest.MarkDecorator]:
    helper = expectation(path)[2]
    return [pytest.mark.xfail(strict=False, reason=f"needs the {helper} helper's branch")] if helper else []


@pytest.mark.parametrize("path", [pytest.param(p, marks=_marks(p), id=p.stem) for p in HOSTILE])
def test_hostile_file(path, runs):
    outcome, key, _ = expectation(path)
    results = runs[str(path)]
    for what, r in results.items():
        assert r["rc"] in (0, 2), f"{what}: {r['err'][-2000:]}"
        assert "Traceback" not in r["err"], what
        for stream in ("out", "err"):
            raw = RAW_CONTROL.search(r[stream])
            assert raw is None, f"{what}: raw {raw.group()!r} on std{stream}"
    codes = {r["rc"] for r in results.values()}
    if outcome == "ok-or-refused":
        assert len(codes) == 1, f"some commands accept the file and some refuse it: {results}"
        outcome = "ok" if codes == {0} else "refused"
    if outcome == "ok":
        check_correct_runs(path, results)
        return
    for what, r in results.items():
        # nothing on stdout but, for a table, perhaps its header (the trace streams)
        assert r["rc"] == 2 and len(r["out"].splitlines()) <= (2 if what.startswith("trace") else 0), what
        # one located line per problem
        lines = r["err"].splitlines()
        assert lines and r["err"].endswith("\n"), f"{what}: {r['err']}"
        assert all(line.startswith(f"{path}:") and len(line) < 500 for line in lines), f"{what}: {r['err']}"
        if key is not None:
            assert re.match(rf"{re.escape(str(path))}:\d+: {re.escape(key)}", lines[0]), f"{what}: {lines[0]}"


def check_correct_runs(path: Path, out: dict[str, dict]) -> None:
    """Every command succeeded, and what it printed is the program's run."""
    sc = nnstep.load_scenario(path)
    program = build_program(sc)
    assert all(r["rc"] == 0 and r["err"] == "" for r in out.values()), out
    assert out["check"]["out"] == f"{path}: ok\n"
    # one sample's training step, in four formats: the same ops, the first sample's name
    rows = [json.loads(line) for line in out["trace jsonl"]["out"].splitlines()]
    assert [r["name"] for r in rows] == [op.name for op in program.ops]
    first = sc.samples[0].name
    assert {r["sample_name"] for r in rows} == {first}
    table = list(csv.DictReader(io.StringIO(out["trace csv"]["out"])))
    assert [r["name"] for r in table] == [op.name for op in program.ops]
    assert visible(first) in out["trace text"]["out"]
    body = [line for line in out["trace markdown"]["out"].splitlines() if line.startswith("|")]
    assert len(body) == 2 + len(program.ops)  # header, rule, one row per op
    # training: two epochs, every parameter
    trained = json.loads(out["train json"]["out"])
    assert len(trained["losses"]) == 2 and list(trained["parameters"]) == list(program.parameters)
    assert all(f"{p} = " in out["train"]["out"] for p in program.parameters)
    # the handout: every op, in each format
    assert f"The step has {len(program.ops):,} ops" in out["export markdown"]["out"]
    assert out["export latex"]["out"].count("\\paragraph{") == len(program.ops)
    assert out["export html"]["out"].count('<div class="op">') == len(program.ops)
